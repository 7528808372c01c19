"""An independent set of digit pictures the models never trained on (`holdout()`), for the browser tests and
`python -m bench.web`'s accuracy figure: 200 pictures from four sources, seeded."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

W, H = 600, 450  # the page's canvas

# Strokes per digit (points in the unit square, y down) as a person draws them with a mouse.
_RING = [(0.5 + 0.3 * math.sin(t * math.pi / 10), 0.5 - 0.45 * math.cos(t * math.pi / 10)) for t in range(21)]


_EIGHT = [(0.5 + 0.25 * math.sin(t * math.pi / 6), 0.5 - 0.45 * math.cos(t * math.pi / 12)) for t in range(25)]


_LOOP = [(0.5 + 0.22 * math.cos(a), 0.3 - 0.22 * math.sin(a)) for a in np.linspace(0, 2 * math.pi, 16)]


SKETCHES = {
    0: [_RING],
    1: [[(0.35, 0.2), (0.52, 0.05), (0.52, 0.95)]],
    2: [[(0.2, 0.3), (0.3, 0.1), (0.55, 0.05), (0.75, 0.15), (0.78, 0.35), (0.6, 0.55), (0.2, 0.95), (0.85, 0.95)]],
    3: [
        [
            (0.2, 0.1),
            (0.7, 0.08),
            (0.8, 0.25),
            (0.65, 0.45),
            (0.4, 0.48),
            (0.65, 0.52),
            (0.82, 0.7),
            (0.7, 0.9),
            (0.2, 0.92),
        ]
    ],
    4: [[(0.6, 0.05), (0.15, 0.65), (0.85, 0.65)], [(0.65, 0.3), (0.65, 0.95)]],
    5: [[(0.8, 0.08), (0.3, 0.08), (0.25, 0.45), (0.55, 0.4), (0.78, 0.55), (0.78, 0.78), (0.55, 0.95), (0.2, 0.88)]],
    6: [
        [
            (0.7, 0.05),
            (0.4, 0.3),
            (0.25, 0.6),
            (0.3, 0.88),
            (0.55, 0.95),
            (0.75, 0.8),
            (0.72, 0.6),
            (0.5, 0.52),
            (0.28, 0.65),
        ]
    ],
    7: [[(0.15, 0.1), (0.85, 0.1), (0.45, 0.95)]],
    8: [_EIGHT],
    9: [[(0.72, 0.3), *_LOOP, (0.7, 0.95)]],
}


FONTS = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf", "DejaVuSerif-Italic.ttf", "DejaVuSansMono.ttf",
         "DejaVuSans-Oblique.ttf", "cmr10.ttf", "cmss10.ttf", "STIXGeneral.ttf", "DejaVuSerif-Bold.ttf")  # fmt: skip


SOURCES = ("mnist-5k test digits on photographed paper", "UCI optical digits (8x8, other writers)",
           "printed digits (10 fonts, either polarity)", "mouse sketches (transparent or white canvas)")  # fmt: skip


def holdout(seed: int = 2026, per_class: int = 5) -> list[tuple[str, int, Image.Image]]:
    """(source, label, 600x450 picture) x 200: 50 from each source, 5 per digit, none seen in training.

    1. mnist-5k's held-out test digits (never trained on), enlarged, dark ink on uneven, noisy paper colours;
    2. scikit-learn's UCI optical digits: other writers, another scanner, 8x8, enlarged, on a transparent canvas;
    3. printed digits in ten fonts (Matplotlib's), rotated up to 10 degrees, dark on light or light on dark;
    4. mouse-like sketches from stroke skeletons, jittered, sheared, 6-30 px pens, on a transparent or white canvas.
    """
    rng = np.random.default_rng(seed)
    return (_mnist_on_paper(rng, per_class) + _uci_digits(rng, per_class) + _printed(rng, per_class)
            + _sketches(rng, per_class))  # fmt: skip


def _place(rng, width: int, height: int) -> tuple[int, int]:
    return int(rng.integers(10, W - width - 10)), int(rng.integers(10, H - height - 10))


def _mnist_on_paper(rng, per_class):
    from zoo.data import load_mnist5k

    data, out = load_mnist5k(), []
    for label in range(10):
        for i in rng.choice(np.flatnonzero(data.y_test == label), per_class, replace=False):
            size = int(rng.integers(90, 300))
            digit = (
                np.asarray(Image.fromarray(data.x_test[i]).resize((size, size), Image.BILINEAR), dtype=float)[..., None]
                / 255
            )
            paper = np.ones((H, W, 3)) * rng.integers(215, 256, 3) + rng.normal(0, 3, (H, W, 1))
            paper += np.linspace(-12, 12, W)[None, :, None] * rng.uniform(-1, 1)  # uneven light
            x, y = _place(rng, size, size)
            paper[y : y + size, x : x + size] = (
                paper[y : y + size, x : x + size] * (1 - digit) + rng.integers(10, 90, 3) * digit
            )
            out.append((SOURCES[0], label, Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))))
    return out


def _uci_digits(rng, per_class):
    from sklearn.datasets import load_digits

    digits, out = load_digits(), []
    for label in range(10):
        for i in rng.choice(np.flatnonzero(digits.target == label), per_class, replace=False):
            size = int(rng.integers(120, 300))
            alpha = Image.fromarray((digits.images[i] / 16 * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
            canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0))
            colour = (*(int(c) for c in rng.integers(0, 120, 3)), 255)
            canvas.paste(Image.new("RGBA", (size, size), colour), _place(rng, size, size), alpha)
            out.append((SOURCES[1], label, canvas))
    return out


def _printed(rng, per_class):
    import matplotlib

    fonts, out = Path(matplotlib.get_data_path()) / "fonts" / "ttf", []
    for label in range(10):
        for k in range(per_class):
            font = ImageFont.truetype(str(fonts / FONTS[(label + 3 * k) % len(FONTS)]), int(rng.integers(90, 260)))
            glyph = Image.new("L", (400, 400), 0)
            ImageDraw.Draw(glyph).text((200, 200), str(label), fill=255, font=font, anchor="mm")
            glyph = glyph.rotate(float(rng.uniform(-10, 10)), resample=Image.BILINEAR)
            glyph = glyph.crop(glyph.getbbox())
            background, ink = (
                tuple(int(c) for c in rng.integers(170, 256, 3)),
                tuple(int(c) for c in rng.integers(0, 90, 3)),
            )
            if k % 2:  # light ink on a dark background
                background, ink = tuple(255 - c for c in background), tuple(255 - c for c in ink)
            canvas = Image.new("RGB", (W, H), background)
            canvas.paste(Image.new("RGB", glyph.size, ink), _place(rng, *glyph.size), glyph)
            out.append((SOURCES[2], label, canvas))
    return out


def _sketches(rng, per_class):
    out = []
    for label in range(10):
        for k in range(per_class):
            height = float(rng.uniform(120, 380))
            width = height * rng.uniform(0.75, 1.05)
            angle, shear = rng.uniform(-0.2, 0.2), rng.uniform(-0.25, 0.1)
            x0, y0 = rng.uniform(20, W - width - 20), rng.uniform(20, H - height - 20)

            def to_pixels(u, v, angle=angle, shear=shear, x0=x0, y0=y0, width=width, height=height):
                u, v = u - 0.5 + rng.normal(0, 0.012), v - 0.5 + rng.normal(0, 0.012)
                u += shear * v
                u, v = u * math.cos(angle) - v * math.sin(angle), u * math.sin(angle) + v * math.cos(angle)
                return x0 + (u + 0.5) * width, y0 + (v + 0.5) * height

            canvas = Image.new("RGBA", (W, H), (0, 0, 0, 0) if k % 2 == 0 else (255, 255, 255, 255))
            draw, pen = ImageDraw.Draw(canvas), int(rng.integers(6, 30))
            for stroke in SKETCHES[label]:
                points = [to_pixels(u, v) for u, v in stroke]
                draw.line(points, fill=(0, 0, 0, 255), width=pen, joint="curve")
                for x, y in (points[0], points[-1]):  # round pen ends
                    draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=(0, 0, 0, 255))
            out.append((SOURCES[3], label, canvas))
    return out


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# Decode PNGs (passed as base64: no request leaves the page) to ImageData and classify each with zoo.js.
CLASSIFY_PICTURES_JS = """async ([pictures, model]) => {
  const zoo = window.zoo, labels = [];
  for (const b64 of pictures) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d");
    context.drawImage(bitmap, 0, 0);
    const result = await zoo.classifyDigit(context.getImageData(0, 0, bitmap.width, bitmap.height), model);
    labels.push(result.ink ? result.label : null);
  }
  return labels;
}"""
