"""Pictures of what happens inside a network, for the Gradio demo's Inside views (numpy + Pillow only).

Every picture uses one diverging colour map: blue below zero, white at zero, red above, symmetric about zero.
A picture holds values, numbers and characters only; what a layer is and computes is HTML text beside it (a
Figure), so that it reads at a phone's width and in the reader's language (demo/strings.py).
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
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from demo.strings import say

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


def _shape_text(shape) -> str:
    return "\u00d7".join(str(n) for n in shape)


@dataclass
class Figure:
    """One layer as the Inside view shows it: a picture of its values (no sentences in it: those are HTML text,
    readable at any width and in any language), a title, lines that say what it computes, and its colour scale."""

    picture: np.ndarray
    title: str
    lines: list[str]
    scale: float
    scale_note: str
    index: int | None = None  # the layer's index in the probe: set where a click on a cell can be explained


def describe(layer: LayerLike, before: list[int] | None, lang: str = "en") -> list[str]:
    """What the layer computes, with its numbers (the output-size formula for a convolution or a pooling)."""
    spec, op = layer.spec, layer.op
    if op in ("Conv2d", "MaxPool2d") and before is not None and len(before) == 3:
        (k, _), (s, _), (p, _) = spec["kernel"], spec["stride"], spec["padding"]
        size = before[1]
        what = (say(lang, "layer.conv", n=spec["shape"][0], cin=before[0], k=k, s=s, p=p) if op == "Conv2d"
                else say(lang, "layer.pool", k=k, s=s))  # fmt: skip
        exact = (size - k + 2 * p) / s + 1
        out = (
            f"{exact:g}"
            if exact.is_integer()
            else say(lang, "layer.size_floor", exact=f"{exact:g}", out=math.floor(exact))
        )
        return [what, say(lang, "layer.size", n=size, k=k, p=p, s=s, out=out)]
    if op == "BatchNorm2d":
        return [say(lang, "layer.bn")]
    if op == "ReLU":
        return [say(lang, "layer.relu")]
    if op == "Linear":
        units = int(np.prod(before)) if before else "?"
        flat = say(lang, "layer.flat", shape=_shape_text(before)) if before and len(before) > 1 else ""
        return [say(lang, "layer.linear", n=spec["shape"][0], m=units, flat=flat)]
    if op == "Softmax":
        return [say(lang, "layer.softmax")]
    if op == "Input":
        return [say(lang, "layer.input")]
    return []


@dataclass
class Grid:
    """Where a [C, H, W] layer's channels lie in its picture: each H x W map drawn k times larger, `columns`
    maps a row, a label strip over each (its channel number) when there are several."""

    channels: int
    height: int
    width: int
    k: int
    columns: int
    label: int

    @property
    def row_height(self) -> int:
        return self.height * self.k + GAP + self.label

    def origin(self, c: int) -> tuple[int, int]:
        """The top-left pixel of channel c's map."""
        r, q = divmod(c, self.columns)
        return MARGIN + q * (self.width * self.k + GAP), r * self.row_height + self.label

    def cell(self, px: float, py: float) -> tuple[int, int, int] | None:
        """The (channel, row, column) under picture pixel (px, py), or None between maps."""
        for c in range(self.channels):
            x0, y0 = self.origin(c)
            if x0 <= px < x0 + self.width * self.k and y0 <= py < y0 + self.height * self.k:
                return c, int((py - y0) // self.k), int((px - x0) // self.k)
        return None


def grid(shape: list[int]) -> Grid:
    channels, height, width = shape
    tile = FRAME_TILE if channels == 1 else TILE if channels <= MANY else SMALL_TILE
    k = max(1, round(tile / max(height, width)))
    columns = max(1, min(channels, (MAX_WIDTH - 2 * MARGIN + GAP) // (width * k + GAP)))
    return Grid(channels, height, width, k, columns, LABEL if channels > 1 else 0)


def _maps(values: np.ndarray, scale: float) -> Image.Image:
    """[C, H, W] as a grid of C tiles, each numbered."""
    g = grid(list(values.shape))
    th, tw = g.height * g.k, g.width * g.k
    rows = math.ceil(g.channels / g.columns)
    canvas = np.full((rows * g.row_height, g.columns * (tw + GAP) - GAP + 2 * MARGIN, 3), 255, np.uint8)
    rgb = colours(values, scale).repeat(g.k, axis=1).repeat(g.k, axis=2)
    for c in range(g.channels):
        x, y = g.origin(c)
        canvas[y : y + th, x : x + tw] = rgb[c]
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    for c in range(g.channels):
        x, y = g.origin(c)
        draw.rectangle([x - 1, y - 1, x + tw, y + th], outline=GRID)
        if g.label:
            _write(draw, (x, y - LABEL), str(c), 10, MUTED)
    return image


LABELLED_CELL = (54, 30)  # a cell of a labelled strip (the 10 digits), under its label


def _strip_layout(n: int, labelled: bool) -> tuple[int, int, int, int, int]:
    """(left, top, cell width, cell height, cells a row) of a 1-D strip."""
    if labelled:
        return MARGIN, 16, LABELLED_CELL[0], LABELLED_CELL[1], n
    per_row = min(n, STRIP_ROW)
    return MARGIN + _text_width(str(n - n % per_row or 0), 10) + 6, 2, UNIT, UNIT, per_row


def _strip(values: np.ndarray, scale: float, labels: list[str] | None) -> Image.Image:
    """[N] as a strip of cells (wrapped every STRIP_ROW units); with labels (10 digits), each cell named and
    its value written in it."""
    n = values.size
    if labels is not None and len(labels) == n:
        left, top, cell_w, cell_h, _ = _strip_layout(n, True)
        image = Image.new("RGB", (2 * MARGIN + n * (cell_w + GAP), cell_h + 18), BACKGROUND)
        draw = ImageDraw.Draw(image)
        rgb = colours(values, scale)
        for i, (label, value) in enumerate(zip(labels, values, strict=True)):
            x = left + i * (cell_w + GAP)
            _write(draw, (x + cell_w / 2 - _text_width(label, 12) / 2, 0), label, 12, INK)
            draw.rectangle([x, top, x + cell_w, top + cell_h], fill=tuple(int(v) for v in rgb[i]), outline=GRID)
            text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
            dark = abs(value) / scale > 0.6
            text = text.replace("-", "\u2212")
            _write(draw, (x + cell_w / 2 - _text_width(text, 12) / 2, 24), text, 12, (255, 255, 255) if dark else INK)
        return image
    left, top, unit, _, per_row = _strip_layout(n, False)
    rows = math.ceil(n / per_row)
    image = Image.new("RGB", (left + per_row * unit + MARGIN, rows * unit + 4), BACKGROUND)
    cells = np.full(rows * per_row, np.nan, np.float32)
    cells[:n] = values
    rgb = colours(cells.reshape(rows, per_row), scale)
    rgb[np.isnan(cells.reshape(rows, per_row))] = BACKGROUND
    image.paste(Image.fromarray(rgb.repeat(unit, 0).repeat(unit, 1)), (left, top))
    draw = ImageDraw.Draw(image)
    for r in range(rows):
        _write(draw, (MARGIN, top + r * unit + 2), str(r * per_row), 10, MUTED)
    draw.rectangle([left - 1, top - 1, left + per_row * unit, top + rows * unit], outline=GRID)
    return image


def cell_at(layer: LayerLike, px: float, py: float, labelled: bool = False) -> tuple[int, int, int] | None:
    """The cell of `layer` under pixel (px, py) of its picture: (channel, row, column) of a map, or (unit, 0, 0)
    of a strip; None where there is no cell. `labelled`: the strip has the class names over it."""
    shape = list(np.shape(layer.values))
    if len(shape) == 3:
        return grid(shape).cell(px, py)
    n = int(np.prod(shape))
    left, top, cell_w, cell_h, per_row = _strip_layout(n, labelled)
    step = cell_w + GAP if labelled else cell_w
    q, r = int((px - left) // step), int((py - top) // cell_h)
    if px < left or py < top or q >= per_row or (labelled and (px - left) % step > cell_w):
        return None
    unit = r * per_row + q
    return (unit, 0, 0) if unit < n else None


def cell_box(layer: LayerLike, c: int, y: int, x: int, labelled: bool = False) -> tuple[int, int, int, int]:
    """The picture's pixels (left, top, width, height) of cell (c, y, x): where the page draws its marker."""
    shape = list(np.shape(layer.values))
    if len(shape) == 3:
        g = grid(shape)
        x0, y0 = g.origin(c)
        return x0 + x * g.k, y0 + y * g.k, g.k, g.k
    n = int(np.prod(shape))
    left, top, cell_w, cell_h, per_row = _strip_layout(n, labelled)
    r, q = divmod(c, per_row)
    return left + q * (cell_w + GAP if labelled else cell_w), top + r * cell_h, cell_w, cell_h


def layer_figure(layer: LayerLike, before: list[int] | None = None, labels: list[str] | None = None,
                 lang: str = "en", index: int | None = None) -> Figure:  # fmt: skip
    """One layer as a figure: its values drawn (every channel's map, or every unit in a strip), its title (name,
    op, shape, PyTorch module), what it computes (`before`: the shape of the layer before it, for the formulas)
    and its colour scale. `labels`: the class names, written over a 10-unit layer (the logits, the
    probabilities)."""
    values = np.asarray(layer.values, np.float32)
    shape = list(values.shape)
    scale = symmetric_scale(values)
    if values.ndim == 3:
        body = _maps(values, scale)
        what = say(lang, "layer.channels")
    else:
        body = _strip(values.ravel(), scale, labels)
        what = say(lang, "layer.units")
    count = shape[0] if values.ndim == 3 else values.size
    note = say(lang, "layer.scale", n=count, what=what) if count > 1 else say(lang, "layer.scale1")
    title = f"{layer.name} \u00b7 {layer.op} \u00b7 {_shape_text(shape)}"
    if layer.spec.get("module") is not None:
        title += f" ({say(lang, 'layer.module', module=layer.spec['module'])})"
    return Figure(np.asarray(body), title, describe(layer, before, lang), scale,
                  note, index)  # fmt: skip


def png_bytes(picture: np.ndarray) -> bytes:
    """A picture as PNG (fast compression: the pictures are remade at every answer)."""
    out = io.BytesIO()
    Image.fromarray(picture).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _scale_html(scale: float, note: str) -> str:
    stops = ", ".join(f"rgb{tuple(int(v) for v in _LUT[i])}" for i in (0, 64, 128, 191, 255))
    return (f'<div class="scale"><span>{_number(-scale)}</span><span class="bar" style="background:linear-gradient('
            f'to right, {stops})"></span><span>+{_number(scale)}</span> <small>{html.escape(note)}</small></div>')  # fmt: skip


FIGURE_CSS = """<style>
.inside-layers { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.inside-layers figure { margin: 0; max-width: 100%; position: relative; }
.inside-layers figcaption { font-size: 14px; line-height: 1.4; }
.inside-layers figcaption b { font-size: 15px; }
.inside-layers figcaption p { margin: 2px 0; overflow-wrap: anywhere; }
.inside-layers .pic { position: relative; display: inline-block; max-width: 100%; }
.inside-layers img { max-width: 100%; height: auto; display: block; border: 1px solid #ddd; }
.inside-layers img[data-layer] { cursor: crosshair; }
.inside-layers .scale { display: flex; align-items: center; gap: 6px; font-size: 13px; flex-wrap: wrap; }
.inside-layers .scale .bar { display: inline-block; width: 120px; height: 10px; border: 1px solid #bbb; }
.inside-layers .marker { position: absolute; border: 2px solid #111; box-shadow: 0 0 0 2px #f59e0b;
  pointer-events: none; box-sizing: border-box; min-width: 6px; min-height: 6px; }
.inside-layers .cell-sum { flex-basis: 100%; max-width: 100%; font-size: 14px; line-height: 1.45;
  border-left: 4px solid #f59e0b; padding: 4px 10px; background: #fffbeb; color: #111; }
.inside-layers .cell-sum h4 { margin: 2px 0 6px; }
.inside-layers .cell-sum p { margin: 4px 0; overflow-wrap: anywhere; }
.inside-layers .cell-sum .mono { font-family: monospace; font-size: 13px; }
.inside-layers .cell-sum .sum { font-family: monospace; font-size: 13px; font-weight: bold; }
.inside-layers .cell-sum table { border-collapse: collapse; margin: 4px 0; font-family: monospace; font-size: 12px;
  max-width: 100%; }
.inside-layers .cell-sum table.softmax { table-layout: fixed; width: 100%; font-size: 11px; }
.inside-layers .cell-sum td, .inside-layers .cell-sum caption { padding: 1px 3px; text-align: center; }
.inside-layers .cell-sum td { border: 1px solid #ddd; overflow-wrap: anywhere; }
.inside-layers .cell-sum td.win { font-weight: bold; background: #fde68a; }
.inside-layers .cell-sum caption { text-align: left; font-size: 12px; color: #555; }
</style>"""


def figures_html(figures: list[Figure], hint: str = "", token: str = "") -> str:
    """The figures in the page, side by side where they fit: each a PNG (data: URL, its own size, never a file
    in Gradio's cache) under its title and lines, with its colour scale as text. A figure with an `index` can
    be clicked (its <img> carries data-layer; `token` names the view for the server that works the cell out)."""
    parts = [FIGURE_CSS, f'<div class="inside-layers" data-token="{html.escape(token)}">']
    if hint:
        parts.append(f'<p class="hint" style="flex-basis:100%;margin:0">{html.escape(hint)}</p>')
    for figure in figures:
        picture = base64.b64encode(png_bytes(figure.picture)).decode()
        layer = f' data-layer="{figure.index}"' if figure.index is not None else ""
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in figure.lines)
        parts.append(
            f"<figure><figcaption><b>{html.escape(figure.title)}</b>{lines}</figcaption>"
            f'<div class="pic"><img src="data:image/png;base64,{picture}" alt="{html.escape(figure.title)}"'
            f' width="{figure.picture.shape[1]}" height="{figure.picture.shape[0]}"{layer}></div>'
            f"{_scale_html(figure.scale, figure.scale_note)}</figure>"
        )
    parts.append("</div>")
    return "".join(parts)


def layer_json(layer: LayerLike) -> dict:
    """A layer for the JSON API: the manifest's entry for it, its shape and its values (nested lists; Gradio's
    JSON component writes a NumPy array so, and a value that is not finite as null)."""
    extra = {k: v for k, v in layer.spec.items() if k not in ("name", "module", "op", "shape")}
    return {"name": layer.name, "module": layer.spec.get("module"), "op": layer.op, "shape": list(layer.values.shape),
            "values": np.ascontiguousarray(layer.values), **extra}  # fmt: skip


def labelled(layer: LayerLike, labels: list[str]) -> bool:
    """Whether the layer's strip carries the class names (a layer of one value per class)."""
    return list(np.shape(layer.values)) == [len(labels)]


def digit_figures(layers: list[LayerLike], labels: list[str], lang: str = "en") -> list[Figure]:
    """Every layer of a digit probe as a figure, in the order the network computes them; each can be clicked."""
    figures, before = [], None
    for i, layer in enumerate(layers):
        shape = list(np.shape(layer.values))
        figures.append(layer_figure(layer, before, labels if labelled(layer, labels) else None, lang, i))
        before = shape
    return figures


# ---------------------------------------------------------------------------------------------- text


def shown(character: str) -> str:
    """A character as a label: a space and a line break made visible."""
    return {" ": "\u2423", "\n": "\u23ce", "\t": "\u21e5"}.get(character, character)


def hidden_layers(layers: list[LayerLike]) -> list[LayerLike]:
    """The RNN/GRU hidden states among a text probe's layers (a layer that only repeats another is left out)."""
    return [layer for layer in layers if layer.op in ("RNN", "GRU") and "same_as" not in layer.spec]


def _formula(layer: LayerLike, lang: str) -> list[str]:
    """The lecture's notation: h_t = tanh(W_xh x_t + W_hh h_t-1 + b), b being PyTorch's two biases added up."""
    if layer.op == "GRU":
        return [say(lang, "text.gru1"), say(lang, "text.gru2")]
    activation = layer.spec.get("activation", "tanh")
    return [f"h_t = {activation}(W_xh x_t + W_hh h_t\u22121 + b)", say(lang, "text.bias")]


def text_figures(
    layers: list[LayerLike], text: str, predicted: str, vocab: list[str], lang: str = "en",
    max_characters: int = MAX_CHARACTERS,
) -> list[Figure]:  # fmt: skip
    """Every RNN/GRU layer's hidden state as a heat map (a row a unit, a column a character): the characters
    read above the map, the next character predicted below it."""
    t = min(len(text), max_characters)
    cell = 22 if t <= 20 else 18 if t <= 40 else UNIT - 2  # larger cells for a short text; two maps side by side
    outputs = {layer.spec["same_as"] for layer in layers if "same_as" in layer.spec}
    figures = []
    for layer in hidden_layers(layers):
        values = np.asarray(layer.values, np.float32)[:t].T  # [units, characters]
        units = values.shape[0]
        is_output = layer.name in outputs
        row_labels = [shown(c) for c in vocab] if is_output else [str(u) for u in range(units)]
        label_width = max(_text_width(x, 11) for x in row_labels) + 8
        left = MARGIN + label_width
        top = 18
        body = Image.new("RGB", (left + t * cell + MARGIN, top + units * cell + 20), BACKGROUND)
        body.paste(Image.fromarray(colours(values, 1.0).repeat(cell, 0).repeat(cell, 1)), (left, top))
        draw = ImageDraw.Draw(body)
        draw.rectangle([left - 1, top - 1, left + t * cell, top + units * cell], outline=GRID)
        for k in range(t):
            x = left + k * cell + cell / 2
            for character, y, colour in ((text[k], 1, INK), (predicted[k], top + units * cell + 2, MUTED)):
                label = shown(character)
                _write(draw, (x - _text_width(label, 13) / 2, y), label, 13, colour)
        for u, label in enumerate(row_labels):
            if units <= 32 or u % 5 == 0:
                _write(draw, (left - 4 - _text_width(label, 11), top + u * cell + (cell - 13) / 2), label, 11, MUTED)
        kind = say(lang, "text.layer", op=layer.op, k=layer.spec.get("layer", 0))
        title = f"{layer.name} \u00b7 {kind} \u00b7 {say(lang, 'text.title', units=units, n=len(text))}"
        lines = [*_formula(layer, lang), say(lang, "text.columns")]
        if is_output:
            lines.append(say(lang, "text.output", units=units))
        if t < len(text):
            lines.append(say(lang, "text.first", t=t, n=len(text)))
        figures.append(Figure(np.asarray(body), title, lines, 1.0, say(lang, "text.scale")))
    return figures
