"""Pictures of what happens inside a network, for the Gradio demo's Inside views (numpy + Pillow only).

Every picture uses one diverging colour map: blue below zero, white at zero, red above, symmetric about zero.
A digit layer has one scale for all its channels (so they compare), given by the legend under it; the text
heat maps share the fixed scale -1..1 (an RNN's or GRU's hidden state lies in that range). The layout comes
from the layers themselves (their op and shape, from the manifest), never from a model's name.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import math
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE = 56  # a channel's map is drawn about this many pixels a side
SMALL_TILE = 42  # in a layer of more than MANY channels
MANY = 32
FRAME_TILE = 168  # the single 28x28 input frame, larger
MAX_WIDTH = 590  # a layer's grid wraps to stay within this width (two layers side by side on a desktop)
GAP = 4
LABEL = 13  # height of the channel-number strip over each tile
MARGIN = 10
UNIT = 16  # a unit's cell in a 1-D strip or a text heat map
STRIP_ROW = 32  # units a row in a 1-D strip
MAX_CHARACTERS = 80  # a text heat map shows at most this many positions
BACKGROUND, GRID, INK, MUTED = (255, 255, 255), (190, 190, 190), (20, 20, 20), (95, 95, 95)
NOT_FINITE = (120, 120, 120)
# RdBu-like anchors from -1 to 1: dark blue, blue, white, red, dark red
_ANCHORS = np.array([(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)], np.float64)
_LUT = np.stack(
    [np.interp(np.linspace(0, 1, 256), np.linspace(0, 1, len(_ANCHORS)), _ANCHORS[:, c]) for c in range(3)], 1
).astype(np.uint8)


class LayerLike(Protocol):
    """What a picture needs of a layer (demo.runtime.Layer): its manifest entry and its values."""

    spec: dict
    values: np.ndarray

    @property
    def name(self) -> str: ...

    @property
    def op(self) -> str: ...


# DejaVu Sans where the system has it (Debian, most Linux images); else Pillow's own font, which has no
# glyphs beyond Latin-1: the text is then written in ASCII (x for the times sign, sqrt, sum, _ for a space).
_ASCII = str.maketrans({"\u00d7": "x", "\u2212": "-", "\u221a": "sqrt", "\u03a3": "sum", "\u2423": "_",
                        "\u23ce": "\\n", "\u21e5": "\\t", "\u2192": "->"})  # fmt: skip


@functools.lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def _say(text: str, size: int) -> str:
    return text if "DejaVu" in _font(size).getname()[0] else text.translate(_ASCII)


def _write(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill=None) -> None:
    draw.text(xy, _say(text, size), fill=fill or INK, font=_font(size))


def colours(values: np.ndarray, scale: float) -> np.ndarray:
    """values -> uint8 RGB through the diverging map, -scale (blue) .. 0 (white) .. +scale (red)."""
    finite = np.isfinite(values)
    t = np.clip(np.where(finite, values, 0) / scale, -1, 1)
    rgb = _LUT[np.round((t + 1) * 127.5).astype(np.int64)]
    rgb[~finite] = NOT_FINITE
    return rgb


def symmetric_scale(values: np.ndarray) -> float:
    """The largest |value| (finite ones), or 1 for an all-zero layer."""
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else 1.0


def _number(x: float) -> str:
    return f"{x:.3g}".replace("-", "\u2212")


def _text_width(text: str, size: int) -> int:
    return math.ceil(_font(size).getlength(_say(text, size)))


def _legend(scale: float, note: str, width: int) -> Image.Image:
    """A colour bar from -scale to +scale with its three numbers, and a note beside it."""
    bar_width, height = 200, 34
    legend = Image.new("RGB", (width, height), BACKGROUND)
    bar = np.repeat(_LUT[np.linspace(0, 255, bar_width).astype(np.int64)][None], 10, 0)
    legend.paste(Image.fromarray(bar), (MARGIN, 2))
    draw = ImageDraw.Draw(legend)
    draw.rectangle([MARGIN - 1, 1, MARGIN + bar_width, 12], outline=GRID)
    for text, x in ((_number(-scale), 0), ("0", bar_width / 2), ("+" + _number(scale), bar_width)):
        w = _text_width(text, 11)
        _write(draw, (MARGIN + x - w * (x / bar_width), 15), text, 11, INK)
    _write(draw, (MARGIN + bar_width + 14, 2), note, 11, MUTED)
    return legend


def _header(title: str, lines: list[str], width: int) -> Image.Image:
    height = 8 + 19 + 16 * len(lines)
    header = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(header)
    _write(draw, (MARGIN, 6), title, 15, INK)
    for k, line in enumerate(lines):
        _write(draw, (MARGIN, 25 + 16 * k), line, 12, MUTED)
    return header


def _stack(parts: list[Image.Image]) -> np.ndarray:
    width = max(p.width for p in parts)
    picture = Image.new("RGB", (width, sum(p.height for p in parts) + MARGIN), BACKGROUND)
    y = 0
    for part in parts:
        picture.paste(part, (0, y))
        y += part.height
    return np.asarray(picture)


def _shape_text(shape) -> str:
    return "\u00d7".join(str(n) for n in shape)


def describe(layer: LayerLike, before: list[int] | None) -> list[str]:
    """What the layer computes, with its numbers (the output-size formula for a convolution or a pooling)."""
    spec, op = layer.spec, layer.op
    if op in ("Conv2d", "MaxPool2d") and before is not None and len(before) == 3:
        (k, _), (s, _), (p, _) = spec["kernel"], spec["stride"], spec["padding"]
        size = before[1]
        what = (f"{spec['shape'][0]} kernels of {before[0]}\u00d7{k}\u00d7{k}, each a map" if op == "Conv2d"
                else f"the largest value of each {k}\u00d7{k} window, channel by channel")  # fmt: skip
        exact = (size - k + 2 * p) / s + 1
        out = f"{exact:g}" if exact.is_integer() else f"{exact:g}, rounded down: {math.floor(exact)}"
        return [
            f"{what}; stride {s}, padding {p}",
            f"output size = (input \u2212 kernel + 2\u00b7padding) / stride + 1 = ({size} \u2212 {k} + 2\u00b7{p}) / {s}"
            f" + 1 = {out}",
        ]
    if op == "BatchNorm2d":
        return [
            "per channel: (x \u2212 running mean) / \u221a(running var + eps) \u00b7 \u03b3 + \u03b2",
            "\u03b3, \u03b2: the module's weight and bias; mean and var: kept from training",
        ]
    if op == "ReLU":
        return ["max(0, x): every negative value becomes 0"]
    if op == "Linear":
        units = int(np.prod(before)) if before else "?"
        flat = f" ({_shape_text(before)}, flattened)" if before and len(before) > 1 else ""
        return [f"W\u00b7x + b: each of the {spec['shape'][0]} units weighs all {units} values before it{flat}"]
    if op == "Softmax":
        return ["e^z / \u03a3 e^z over the logits: probabilities that add up to 1"]
    if op == "Input":
        return ["the 28\u00d728 frame the network sees: 0 is background, 1 is ink"]
    return []


def _maps(values: np.ndarray, scale: float, tile: int) -> Image.Image:
    """[C, H, W] as a grid of C tiles, each numbered."""
    channels, height, width = values.shape
    k = max(1, round(tile / max(height, width)))
    th, tw = height * k, width * k
    columns = max(1, min(channels, (MAX_WIDTH - 2 * MARGIN + GAP) // (tw + GAP)))
    rows = math.ceil(channels / columns)
    numbered = channels > 1
    row_height = th + GAP + (LABEL if numbered else 0)
    grid = np.full((rows * row_height, columns * (tw + GAP) - GAP + 2 * MARGIN, 3), 255, np.uint8)
    rgb = colours(values, scale).repeat(k, axis=1).repeat(k, axis=2)
    for c in range(channels):
        r, q = divmod(c, columns)
        y, x = r * row_height + (LABEL if numbered else 0), MARGIN + q * (tw + GAP)
        grid[y : y + th, x : x + tw] = rgb[c]
    image = Image.fromarray(grid)
    draw = ImageDraw.Draw(image)
    for c in range(channels):
        r, q = divmod(c, columns)
        y, x = r * row_height + (LABEL if numbered else 0), MARGIN + q * (tw + GAP)
        draw.rectangle([x - 1, y - 1, x + tw, y + th], outline=GRID)
        if numbered:
            _write(draw, (x, y - LABEL), str(c), 10, MUTED)
    return image


def _strip(values: np.ndarray, scale: float, labels: list[str] | None) -> Image.Image:
    """[N] as a strip of cells (wrapped every STRIP_ROW units); with labels (10 digits), each cell named and
    its value written in it."""
    n = values.size
    if labels is not None and len(labels) == n:
        cell_w, cell_h = 54, 30
        image = Image.new("RGB", (2 * MARGIN + n * (cell_w + GAP), cell_h + 18), BACKGROUND)
        draw = ImageDraw.Draw(image)
        rgb = colours(values, scale)
        for i, (label, value) in enumerate(zip(labels, values, strict=True)):
            x = MARGIN + i * (cell_w + GAP)
            _write(draw, (x + cell_w / 2 - _text_width(label, 12) / 2, 0), label, 12, INK)
            draw.rectangle([x, 16, x + cell_w, 16 + cell_h], fill=tuple(int(v) for v in rgb[i]), outline=GRID)
            text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
            dark = abs(value) / scale > 0.6
            text = text.replace("-", "\u2212")
            _write(draw, (x + cell_w / 2 - _text_width(text, 12) / 2, 24), text, 12, (255, 255, 255) if dark else INK)
        return image
    per_row = min(n, STRIP_ROW)
    rows = math.ceil(n / per_row)
    index_width = _text_width(str(n - n % per_row or 0), 10) + 6
    left = MARGIN + index_width
    image = Image.new("RGB", (left + per_row * UNIT + MARGIN, rows * UNIT + 4), BACKGROUND)
    cells = np.full(rows * per_row, np.nan, np.float32)
    cells[:n] = values
    rgb = colours(cells.reshape(rows, per_row), scale)
    rgb[np.isnan(cells.reshape(rows, per_row))] = BACKGROUND
    image.paste(Image.fromarray(rgb.repeat(UNIT, 0).repeat(UNIT, 1)), (left, 2))
    draw = ImageDraw.Draw(image)
    for r in range(rows):
        _write(draw, (MARGIN, 2 + r * UNIT + 2), str(r * per_row), 10, MUTED)
    draw.rectangle([left - 1, 1, left + per_row * UNIT, 2 + rows * UNIT], outline=GRID)
    return image


def layer_picture(layer: LayerLike, before: list[int] | None = None, labels: list[str] | None = None) -> np.ndarray:
    """One layer as a picture: its name, op and shape, what it computes, every channel (a grid of maps) or every
    unit (a strip), and the colour scale. `before`: the shape of the layer before it (for the formulas);
    `labels`: the class names, written on a 10-unit layer (the logits, the probabilities)."""
    values = np.asarray(layer.values, np.float32)
    shape = list(values.shape)
    scale = symmetric_scale(values)
    if values.ndim == 3:
        body = _maps(values, scale, FRAME_TILE if shape[0] == 1 else TILE if shape[0] <= MANY else SMALL_TILE)
        kind = "channels" if shape[0] > 1 else "channel"
        note = f"one scale for all {shape[0]} {kind}; blue < 0 < red" if shape[0] > 1 else "blue < 0 < red"
    else:
        body = _strip(values.ravel(), scale, labels)
        note = f"one scale for all {values.size} units; blue < 0 < red"
    title = f"{layer.name} \u00b7 {layer.op} \u00b7 {_shape_text(shape)}"
    if layer.spec.get("module") is not None:
        title += f"   (PyTorch module {layer.spec['module']})"
    width = max(body.width, _text_width(title, 15) + 2 * MARGIN, 470)
    lines = describe(layer, before)
    width = max(width, *(_text_width(line, 12) + 2 * MARGIN for line in lines)) if lines else width
    return _stack([_header(title, lines, width), body, _legend(scale, note, width)])


def png_bytes(picture: np.ndarray) -> bytes:
    """A picture as PNG (fast compression: the pictures are remade at every answer)."""
    out = io.BytesIO()
    Image.fromarray(picture).save(out, "PNG", compress_level=1)
    return out.getvalue()


def pictures_html(pictures: list[tuple[np.ndarray, str]]) -> str:
    """Pictures as PNG images in the page, side by side where they fit, in order, each captioned (alt, title)."""
    figures = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(png_bytes(picture)).decode()}" alt="{html.escape(caption)}"'
        f' title="{html.escape(caption)}" style="max-width:100%;height:auto;border:1px solid #ddd">'
        for picture, caption in pictures
    )
    return f'<div class="inside-layers" style="display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start">{figures}</div>'


def layer_json(layer: LayerLike) -> dict:
    """A layer for the JSON API: the manifest's entry for it, its shape and its values (nested lists; Gradio's
    JSON component writes a NumPy array so, and a value that is not finite as null)."""
    extra = {k: v for k, v in layer.spec.items() if k not in ("name", "module", "op", "shape")}
    return {"name": layer.name, "module": layer.spec.get("module"), "op": layer.op, "shape": list(layer.values.shape),
            "values": np.ascontiguousarray(layer.values), **extra}  # fmt: skip


def caption(layer: LayerLike) -> str:
    return f"{layer.name} \u00b7 {layer.op} \u00b7 {_shape_text(layer.values.shape)}"


def digit_pictures(layers: list[LayerLike], labels: list[str]) -> list[tuple[np.ndarray, str]]:
    """Every layer of a digit probe as (picture, caption), in the order the network computes them."""
    pictures, before = [], None
    for layer in layers:
        shape = list(np.shape(layer.values))
        named = labels if shape == [len(labels)] else None
        pictures.append((layer_picture(layer, before, named), caption(layer)))
        before = shape
    return pictures


# ---------------------------------------------------------------------------------------------- text


def shown(character: str) -> str:
    """A character as a label: a space and a line break made visible."""
    return {" ": "\u2423", "\n": "\u23ce", "\t": "\u21e5"}.get(character, character)


def hidden_layers(layers: list[LayerLike]) -> list[LayerLike]:
    """The RNN/GRU hidden states among a text probe's layers (a layer that only repeats another is left out)."""
    return [layer for layer in layers if layer.op in ("RNN", "GRU") and "same_as" not in layer.spec]


def _formula(layer: LayerLike) -> list[str]:
    if layer.op == "GRU":
        return ["h_t = (1 \u2212 z_t)\u00b7n_t + z_t\u00b7h_(t\u22121), z_t the update gate, and the candidate",
                "n_t = tanh(W_in x_t + b_in + r_t\u00b7(W_hn h_(t\u22121) + b_hn)), r_t the reset gate"]  # fmt: skip
    activation = layer.spec.get("activation", "tanh")
    return [f"h_t = {activation}(W_ih x_t + b_ih + W_hh h_(t\u22121) + b_hh)"]


def text_heat_maps(
    layers: list[LayerLike], text: str, predicted: str, vocab: list[str], max_characters: int = MAX_CHARACTERS
) -> list[tuple[np.ndarray, str]]:
    """Every RNN/GRU layer's hidden state as a heat map (a row a unit, a column a character), as (picture,
    caption): the characters read above the map, the next character predicted below it, the scale under it."""
    t = min(len(text), max_characters)
    cell = 22 if t <= 20 else 18 if t <= 40 else UNIT - 2  # larger cells for a short text; two maps side by side
    outputs = {layer.spec["same_as"] for layer in layers if "same_as" in layer.spec}
    pictures = []
    for layer in hidden_layers(layers):
        values = np.asarray(layer.values, np.float32)[:t].T  # [units, characters]
        units = values.shape[0]
        is_output = layer.name in outputs
        row_labels = [shown(c) for c in vocab] if is_output else [str(u) for u in range(units)]
        label_width = max(_text_width("predicts", 11), *(_text_width(x, 11) for x in row_labels)) + 8
        left = MARGIN + label_width
        top = 18
        body = Image.new("RGB", (left + t * cell + MARGIN, top + units * cell + 20), BACKGROUND)
        body.paste(Image.fromarray(colours(values, 1.0).repeat(cell, 0).repeat(cell, 1)), (left, top))
        draw = ImageDraw.Draw(body)
        draw.rectangle([left - 1, top - 1, left + t * cell, top + units * cell], outline=GRID)
        _write(draw, (MARGIN, 2), "reads", 11, MUTED)
        _write(draw, (MARGIN, top + units * cell + 3), "predicts", 11, MUTED)
        for k in range(t):
            x = left + k * cell + cell / 2
            for character, y, colour in ((text[k], 1, INK), (predicted[k], top + units * cell + 2, MUTED)):
                label = shown(character)
                _write(draw, (x - _text_width(label, 13) / 2, y), label, 13, colour)
        for u, label in enumerate(row_labels):
            if units <= 32 or u % 5 == 0:
                _write(draw, (left - 4 - _text_width(label, 11), top + u * cell + (cell - 13) / 2), label, 11, MUTED)
        kind = f"{layer.op} layer {layer.spec.get('layer', 0)}"
        title = f"{layer.name} \u00b7 {kind} \u00b7 hidden state, {units} units \u00d7 {len(text)} characters"
        lines = [*_formula(layer), "a column is h_t, the state after reading the character above it; a row a unit"]
        if is_output:
            lines += [f"hidden size = vocabulary size ({units}): this hidden state is the output itself,",
                      "the logits: row c scores character c as the next one"]  # fmt: skip
        if t < len(text):
            lines.append(f"the first {t} of {len(text)} characters")
        width = max(body.width, _text_width(title, 15) + 2 * MARGIN, *(_text_width(x, 12) + 2 * MARGIN for x in lines))
        legend = _legend(1.0, "fixed scale: a hidden state lies between \u22121 and 1", width)
        pictures.append((_stack([_header(title, lines, width), body, legend]), title))
    return pictures
