"""The canvas corpus: pictures of digits in every form a canvas or an upload takes, plus blanks and specks.

It is what `python -m export --check` proves the canvas models on (against the reference recipe in
export/reference.py) and what tests/test_preprocess.py and tests/test_canvas.py draw. numpy + Pillow only.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw


@dataclass
class Sketch:
    name: str
    image: Image.Image | np.ndarray  # as an upload or a canvas gives it (any Pillow mode, or a numpy array)
    label: int | None  # None: no digit (blank or speck)
    group: str


def on_canvas(ink: np.ndarray, offset=(60, 200), size=(480, 640)) -> np.ndarray:
    """Place a digit (0..1 ink) off-centre on a bigger canvas, as a user's sketch looks."""
    canvas = np.zeros(size, dtype=np.float32)
    canvas[offset[0] : offset[0] + ink.shape[0], offset[1] : offset[1] + ink.shape[1]] = ink
    return canvas


FORMS: dict[str, Callable[[np.ndarray], Image.Image | np.ndarray]] = {
    # Gradio's Sketchpad: RGBA, transparent background, black strokes whose coverage is the alpha channel.
    "sketchpad rgba": lambda ink: Image.fromarray(np.dstack([np.zeros((*ink.shape, 3)), ink * 255]).astype(np.uint8), "RGBA"),
    "black on white": lambda ink: Image.fromarray(((1 - ink) * 255).astype(np.uint8), "L").convert("RGB"),
    "white on black": lambda ink: Image.fromarray((ink * 255).astype(np.uint8), "L"),
    "blue on yellow": lambda ink: Image.fromarray(
        (np.array([250, 220, 60]) * (1 - ink[..., None]) + np.array([20, 40, 200]) * ink[..., None]).astype(np.uint8), "RGB"),
    "palette": lambda ink: Image.fromarray(((1 - ink) * 255).astype(np.uint8), "L").convert("RGB").quantize(8),
    "palette transparent": lambda ink: Image.fromarray(
        np.dstack([np.zeros((*ink.shape, 3)), (ink > 0.5) * 255]).astype(np.uint8), "RGBA").quantize(4),
    "16-bit grey": lambda ink: Image.fromarray(((1 - ink) * 65535).astype(np.uint16)),
    "grey + alpha": lambda ink: Image.fromarray(np.dstack([np.full(ink.shape, 90), ink * 255]).astype(np.uint8), "LA"),
    "numpy float rgba": lambda ink: np.dstack([np.zeros((*ink.shape, 3)), ink]).astype(np.float32),
}  # fmt: skip


def page(digit: np.ndarray) -> Image.Image:
    """A 28x28 test digit drawn small (84 px) and off-centre, black on white, on an 800x600 page."""
    sheet = np.full((600, 800), 255, np.uint8)
    sheet[50:134, 500:584] = 255 - np.asarray(Image.fromarray(digit).resize((84, 84), Image.Resampling.BILINEAR))
    return Image.fromarray(sheet)


def sketchpad(digit: np.ndarray) -> Image.Image:
    """A 28x28 test digit as a 600x450 Sketchpad composite: transparent, the strokes (250 px tall) in alpha."""
    alpha = np.zeros((450, 600), np.uint8)
    alpha[120:370, 80:330] = np.asarray(Image.fromarray(digit).resize((250, 250), Image.Resampling.BILINEAR))
    return Image.fromarray(np.dstack([np.zeros((450, 600, 3), np.uint8), alpha]), "RGBA")


def photo(size=(4000, 3000)) -> Image.Image:
    """A large JPEG-decoded photo of a handwritten 3 on grey paper (the large-input path)."""
    rng = np.random.default_rng(0)
    w, h = size
    paper = np.clip(rng.normal(200, 6, (h, w)), 0, 255).astype(np.uint8)
    image = Image.fromarray(paper).convert("RGB")
    s = w / 4000
    points = [
        (1500 * s, 800 * s),
        (2300 * s, 800 * s),
        (1800 * s, 1450 * s),
        (2350 * s, 1800 * s),
        (1500 * s, 2300 * s),
    ]
    ImageDraw.Draw(image).line(points, fill=(30, 30, 40), width=max(1, int(60 * s)), joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return Image.open(io.BytesIO(buffer.getvalue()))


# Digits drawn with a fine pen (polylines) on big pages: the thickening path.
THIN = {1: [(500, 150), (500, 850)], 7: [(300, 200), (700, 200), (420, 850)],
        4: [(600, 850), (600, 150), (250, 600), (720, 600)], 2: [(300, 300), (450, 180), (650, 260), (620, 450), (300, 820), (720, 820)]}  # fmt: skip


def thin_pen(label: int, size=(1000, 1000), width: int = 2) -> Image.Image:
    sheet = Image.new("L", size, 255)
    sx, sy = size[0] / 1000, size[1] / 1000
    ImageDraw.Draw(sheet).line([(x * sx, y * sy) for x, y in THIN[label]], fill=0, width=width)
    return sheet


def no_digit() -> Iterator[Sketch]:
    """Blanks (uniform, faint noise) and specks: `ink` must be false, never a guess."""
    rng = np.random.default_rng(0)
    blanks = {
        "blank sketchpad": Image.new("RGBA", (400, 400), (0, 0, 0, 0)),
        "white page": Image.new("RGB", (400, 400), "white"),
        "black page": Image.new("L", (400, 400), 0),
        "blue page": Image.new("RGB", (400, 400), (30, 120, 200)),
        "faint noise": Image.fromarray(rng.integers(120, 135, (300, 300), dtype=np.uint8)),
        "1x1 transparent": Image.new("RGBA", (1, 1), (0, 0, 0, 0)),
        "1x1 black": Image.new("L", (1, 1), 0),
        "empty 1500x1200 sketchpad": Image.new("RGBA", (1500, 1200), (0, 0, 0, 0)),
    }
    for name, image in blanks.items():
        yield Sketch(name, image, None, "blank")
    speck = Image.new("L", (400, 400), 0)
    speck.putpixel((200, 200), 255)
    yield Sketch("one-pixel speck", speck, None, "speck")
    dot = Image.new("RGBA", (600, 450), (0, 0, 0, 0))
    ImageDraw.Draw(dot).ellipse([300, 200, 302, 202], fill=(0, 0, 0, 255))
    yield Sketch("3-px dot on a sketchpad", dot, None, "speck")


def corpus(x_test: np.ndarray, y_test: np.ndarray, forms_per_class: int = 1) -> list[Sketch]:
    """Every case of the proof: the test digits on pages and sketchpads, every form, fine pens, large photos,
    blanks and specks."""
    cases = [
        Sketch(f"test digit {i} on a page", page(x), int(y), "page")
        for i, (x, y) in enumerate(zip(x_test, y_test, strict=True))
    ]
    cases += [Sketch(f"test digit {i} on a sketchpad", sketchpad(x), int(y), "sketchpad")
              for i, (x, y) in enumerate(zip(x_test, y_test, strict=True))]  # fmt: skip
    for label in range(10):
        for pick in np.flatnonzero(y_test == label)[3 : 3 + forms_per_class]:
            ink = np.asarray(Image.fromarray(x_test[pick]).resize((280, 280), Image.Resampling.BILINEAR)) / 255
            for form, make in FORMS.items():
                cases.append(Sketch(f"{form}: test digit {pick}", make(on_canvas(ink.astype(np.float32))), label, form))
    for label in THIN:
        cases.append(Sketch(f"fine pen {label} on 1000x1000", thin_pen(label), label, "fine pen"))
        cases.append(
            Sketch(f"fine pen {label} on 2000x1500", thin_pen(label, (2000, 1500), 3), label, "fine pen, large")
        )
    # decoded first: the recipe's JPEG draft mode would otherwise hand the graph a 2000x1500 picture
    cases.append(Sketch("4000x3000 JPEG photo of a 3", photo().convert("RGB"), 3, "photo"))
    cases.append(
        Sketch("6000x4500 JPEG photo of a 3 (reduced 2x2 first)", photo((6000, 4500)).convert("RGB"), 3, "photo")
    )
    return cases + list(no_digit())
