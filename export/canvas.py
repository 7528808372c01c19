"""The sketch recipe as an ONNX graph, fused with each digit model: the "canvas" models.

    image uint8 [H, W, 4] RGBA  ->  probabilities float32 [1, 10], frame float32 [28, 28], ink bool [],
                                    contrast float32 []

Any runtime that can decode a picture to RGBA (a browser's getImageData, Pillow, a Sketchpad composite)
feeds it as it is and gets what the demo gets: the graph is `export/reference.py` (the reference recipe)
written once in ONNX ops, and `python -m export --check` proves the two agree on a corpus of canvases.

Step by step, as the reference does it, with the same numbers (frames bit-identical on the proof's corpus):
1. Pictures over 1024 px a side become, bit for bit, Pillow's `thumbnail` of them: for an opaque picture
   (as Pillow makes it of an RGB one) `reduce()` by whole blocks from 4x larger, with its fixed-point
   rounding, then the BOX filter (whose weights are all one over a window) as running-sum window means with
   Pillow's fixed-point rounding, after each pass; for a picture with transparency (as Pillow's RGBA path)
   the box filter alone. An ONNX Loop does it a strip of rows at a time, in the CPU's caches: a 4000x3000
   photo takes less time than the Python recipe, and the float pixels held at once are a strip's.
2. Ink: the alpha channel when the background is transparent (any alpha < 0.98), else the distance from
   the border's median colour, in whichever channel differs most (either polarity, coloured ink). Only the
   ink's row and column maxima (on uint8 alpha for a transparent canvas) and the noise rule of step 3 read
   the whole picture.
3. Faint texture (< 30% of the peak) dropped; no ink (peak contrast < 0.12), only noise (neither calm
   paper nor strokes over the whole ink map, `export.reference.is_noise`: `contrast` 0) or a speck (< 16
   pixels at half the peak) makes `ink` false, the frame zeros and the probabilities zeros: never a guess.
4. Crop to the ink; fit the longer side to 80 px; thicken strokes thinner than 6 px there (a fine pen on a
   big canvas) with a 5/7/9-px max filter; fit to 20 px; centre by mass in 28x28 (as the MNIST authors).
   These resizes use Pillow's own BOX (shrinking) and BILINEAR (enlarging) weights, built in the graph for
   the data-dependent sizes in float64 as Pillow does, applied as gathered taps (ONNX `Resize` has neither
   Pillow's box filter nor its support rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, compose, helper

from export.reference import ALIKE, BOX, CALM, FRAME, MIN_CONTRAST, MIN_INK_PIXELS, STROKE, STROKES, WORK_SIZE

OPSET = 18
FLOAT, DOUBLE, INT64, BOOL = TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.BOOL
OUTPUTS = {
    "probabilities": ("float32", [1, 10], "the digit model's probabilities for the frame; all zeros when ink is false"),
    "frame": ("float32", [FRAME, FRAME], "the 28x28 frame the model saw, 0..1, white ink on black (zeros without ink)"),
    "ink": ("bool", [], "false for a blank canvas, only noise or a speck: say 'draw a digit' instead of guessing"),
    "contrast": ("float32", [], f"peak ink contrast 0..1; below {MIN_CONTRAST} the canvas is blank (0: only noise), else no ink = a speck"),
}  # fmt: skip
CONTRACT = (
    "uint8 [H,W,4] RGBA, any H and W from 1 (a browser's getImageData, a decoded picture; opaque pictures have "
    "alpha 255). The graph finds the ink (alpha on a transparent background, else distance from the border's "
    "median colour), crops to it, thickens thin strokes, fits it into 20x20 keeping the aspect ratio and centres "
    "it by mass in 28x28, then runs the digit model. Check `ink` before reading `probabilities`."
)


class _Builder:
    """A few lines per ONNX op: `g.op("Add", a, b)` returns the output's name. Constants are Constant nodes,
    so a branch of an If can make its own."""

    def __init__(self, prefix: str = "", counter: list[int] | None = None):
        self.nodes: list[onnx.NodeProto] = []
        self.prefix = prefix
        self.counter = counter if counter is not None else [0]

    def _name(self, hint: str = "") -> str:
        """A tensor's name: short (a viewer shows the op type beside it), unique within the graph."""
        self.counter[0] += 1
        return f"{self.prefix}{hint or 't'}{self.counter[0]}"

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs):
        names = [self._name() for _ in range(outputs)]
        self.nodes.append(helper.make_node(op_type, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def const(self, value, dtype=np.float32) -> str:
        name = self._name("c")
        array = np.asarray(value, dtype=dtype)
        self.nodes.append(helper.make_node("Constant", [], [name], value=onnx.numpy_helper.from_array(array)))
        return name

    def branch(self) -> _Builder:
        return _Builder(self.prefix, self.counter)

    def subgraph(self, name: str, *outputs: str, elem_type: int | tuple[int, ...] = FLOAT) -> onnx.GraphProto:
        """This builder's nodes as an If branch returning the tensors `outputs` (shapes inferred), of one element
        type or one each."""
        types = elem_type if isinstance(elem_type, tuple) else (elem_type,) * len(outputs)
        infos = [helper.make_tensor_value_info(o, t, None) for o, t in zip(outputs, types, strict=True)]
        return helper.make_graph(self.nodes, name, [], infos)

    # small compounds used throughout
    def cast(self, x: str, to: int) -> str:
        return self.op("Cast", x, to=to)

    def dim(self, x: str, axis: int, to: int = INT64) -> str:
        """Size of axis `axis` of x as a scalar."""
        size = self.op("Gather", self.op("Shape", x), self.const(axis, np.int64), axis=0)
        return size if to == INT64 else self.cast(size, to)

    def reduce(self, kind: str, x: str, axes: list[int] | None = None, keepdims: int = 0) -> str:
        if axes is None:
            return self.op(kind, x, keepdims=keepdims)
        return self.op(kind, x, self.const(axes, np.int64), keepdims=keepdims)


def _resample_rows(g: _Builder, x: str, size_out: str, shrink: str) -> str:
    """Pillow's resize of x [n, m] along its rows to [size_out, m] (a float64 scalar): BOX when `shrink`, else
    BILINEAR; float64 sums of float32 pixels, as Pillow's "F" mode, rounded to float32 again.

    Pillow (Resample.c, precompute_coeffs): scale = in/out; filterscale = max(scale, 1); support = 0.5 (box)
    or 1 (bilinear) x filterscale; output x reads the inputs j in [trunc(c - support + .5), trunc(c + support
    + .5)) with c = (x + .5) * scale, at most 2 * ceil(support) + 1 of them, weighted filter((j - c + .5) *
    (1 / filterscale)) and normalised to sum 1. The weights are built here in float64 as Pillow does, the taps
    gathered (whole rows: fast) and summed.
    """
    f64 = np.float64
    one, half, zero = g.const(1.0, f64), g.const(0.5, f64), g.const(0.0, f64)
    size_in = g.dim(x, 0, DOUBLE)
    scale = g.op("Div", size_in, size_out)
    filterscale = g.op("Max", scale, one)
    support = g.op("Mul", g.op("Where", shrink, half, one), filterscale)
    taps = g.op("Add", g.op("Mul", g.op("Ceil", support), g.const(2.0, f64)), one)
    out = g.op("Unsqueeze", g.op("Range", zero, size_out, one), g.const([1], np.int64))  # [out, 1]
    tap = g.op("Unsqueeze", g.op("Range", zero, taps, one), g.const([0], np.int64))  # [1, taps]
    center = g.op("Mul", g.op("Add", out, half), scale)
    first = g.op("Max", g.op("Floor", g.op("Add", g.op("Sub", center, support), half)), zero)
    end = g.op("Min", g.op("Floor", g.op("Add", g.op("Add", center, support), half)), size_in)
    j = g.op("Add", first, tap)  # [out, taps]
    u = g.op("Mul", g.op("Add", g.op("Sub", j, center), half), g.op("Div", one, filterscale))
    box = g.cast(g.op("And", g.op("Greater", u, g.const(-0.5, f64)), g.op("LessOrEqual", u, half)), DOUBLE)
    bilinear = g.op("Max", g.op("Sub", one, g.op("Abs", u)), zero)
    weights = g.op("Mul", g.op("Where", shrink, box, bilinear), g.cast(g.op("Less", j, end), DOUBLE))
    total = g.reduce("ReduceSum", weights, [1], keepdims=1)
    weights = g.op("Div", weights, g.op("Where", g.op("Equal", total, zero), one, total))
    index = g.cast(g.op("Min", j, g.op("Sub", size_in, one)), INT64)
    taken = g.op("Gather", g.cast(x, DOUBLE), index, axis=0)  # [out, taps, m]
    summed = g.reduce("ReduceSum", g.op("Mul", taken, g.op("Unsqueeze", weights, g.const([2], np.int64))), [1])
    return g.cast(summed, FLOAT)


def _fit(g: _Builder, ink: str, size: int) -> str:
    """export.reference._fit: the longer side to `size`, aspect kept (BOX to shrink, BILINEAR to enlarge),
    then scaled so the maximum is 1."""
    h, w = g.dim(ink, 0, DOUBLE), g.dim(ink, 1, DOUBLE)
    scale = g.op("Div", g.const(float(size), np.float64), g.op("Max", h, w))
    one = g.const(1.0, np.float64)
    new_h = g.op("Max", g.op("Round", g.op("Mul", h, scale)), one)  # Round is half-to-even, as Python's round()
    new_w = g.op("Max", g.op("Round", g.op("Mul", w, scale)), one)
    shrink = g.op("Less", scale, one)
    across = _resample_rows(g, g.op("Transpose", ink, perm=[1, 0]), new_w, shrink)  # horizontal pass first,
    out = _resample_rows(g, g.op("Transpose", across, perm=[1, 0]), new_h, shrink)  # then vertical, as Pillow
    return g.op("Div", out, g.op("Max", g.reduce("ReduceMax", out), g.const(1e-6)))


def _thicken(g: _Builder, ink: str, target: float) -> str:
    """export.reference._thicken: strokes thinner than 0.75 x target (width = 2 x area / perimeter) dilated by a
    max filter of 2 * ceil((target - width) / 2) + 1 px: 5, 7 or 9 here, so all three are computed and one kept."""
    solid = g.cast(g.op("Greater", ink, g.const(0.5)), FLOAT)
    area = g.reduce("ReduceSum", solid)
    padded = g.op("Pad", solid, g.const([1, 1, 1, 1], np.int64))
    h, w = g.dim(solid, 0), g.dim(solid, 1)
    zero, one, two = (g.const(v, np.int64) for v in (0, 1, 2))

    def shifted(dy: str, dx: str) -> str:
        starts = g.op("Concat", g.op("Unsqueeze", dy, zero), g.op("Unsqueeze", dx, zero), axis=0)
        ends = g.op("Add", starts, g.op("Concat", g.op("Unsqueeze", h, zero), g.op("Unsqueeze", w, zero), axis=0))
        return g.op("Slice", padded, starts, ends, g.const([0, 1], np.int64))

    interior = g.op("Mul", g.op("Mul", shifted(zero, one), shifted(two, one)),
                    g.op("Mul", shifted(one, zero), shifted(one, two)))  # fmt: skip
    edge = g.op("Mul", solid, g.op("Sub", g.const(1.0), interior))
    perimeter = g.op("Max", g.reduce("ReduceSum", edge), g.const(1.0))
    width = g.op("Div", g.op("Mul", g.const(2.0, np.float64), g.cast(area, DOUBLE)), g.cast(perimeter, DOUBLE))
    keep = g.op("Or", g.op("GreaterOrEqual", width, g.const(target * 0.75, np.float64)),
                g.op("Equal", area, g.const(0.0)))  # fmt: skip
    size = g.op("Add", g.op("Mul", g.const(2.0, np.float64),
                            g.op("Ceil", g.op("Div", g.op("Sub", g.const(target, np.float64), width),
                                              g.const(2.0, np.float64)))), g.const(1.0, np.float64))  # fmt: skip
    image = g.op("Unsqueeze", ink, g.const([0, 1], np.int64))
    out = None
    for k in (9, 7, 5):
        dilated = g.op("MaxPool", image, kernel_shape=[k, k], pads=[k // 2] * 4, strides=[1, 1])
        out = (
            dilated if out is None else g.op("Where", g.op("Equal", size, g.const(float(k), np.float64)), dilated, out)
        )
    out = g.op("Squeeze", out, g.const([0, 1], np.int64))
    return g.op("Where", keep, ink, out)


def _thumbnail_size(g: _Builder, width: str, height: str) -> tuple[str, str]:
    """Pillow's Image.thumbnail((WORK_SIZE, WORK_SIZE)) size: the aspect ratio kept as well as whole pixels can."""
    f64 = np.float64
    side, one, zero = g.const(float(WORK_SIZE), f64), g.const(1.0, f64), g.const(0.0, f64)
    aspect = g.op("Div", width, height)

    def round_aspect(number: str, error) -> str:  # the nearer of floor and ceil by `error`, at least 1
        low, high = g.op("Floor", number), g.op("Ceil", number)
        return g.op("Max", g.op("Where", g.op("LessOrEqual", error(low), error(high)), low, high), one)

    narrow_w = round_aspect(g.op("Mul", side, aspect), lambda n: g.op("Abs", g.op("Sub", aspect, g.op("Div", n, side))))
    wide_h = round_aspect(
        g.op("Div", side, aspect),
        lambda n: g.op("Where", g.op("Equal", n, zero), zero, g.op("Abs", g.op("Sub", aspect, g.op("Div", side, n)))),
    )
    narrow = g.op("LessOrEqual", aspect, one)
    return g.op("Where", narrow, narrow_w, side), g.op("Where", narrow, side, wide_h)


# Picture pixels one step of the thumbnail loop reads: a strip of rows whose float copy (2 MB) stays in the
# CPU's caches. Whole-picture float planes cost several times more (memory traffic, and page faults without an
# arena: 6-9x, `python -m bench.preprocess --compare`); much smaller strips pay the loop's overhead per step.
STRIP_PIXELS = 1 << 17


def _window_sum(g: _Builder, x: str, first: str, end: str) -> str:
    """The float32 sums of uint8 x [n,b,4] over rows [first[i], end[i]) for each i (int64 index vectors).

    One running sum (CumSum) and two gathers, all along the outer axis (whole contiguous rows: fast), so the
    cost is one pass however wide the windows. The float32 sums of 8-bit values are exact integers (below
    2^24 for any side under 65,000 px)."""
    pads = g.const([1] + [0] * 5, np.int64)  # a row of zeros in front (on bytes): running[i] = x[0] + ... + x[i-1]
    running = g.op("CumSum", g.cast(g.op("Pad", x, pads), FLOAT), g.const(0, np.int64))
    return g.op("Sub", g.op("Gather", running, end, axis=0), g.op("Gather", running, first, axis=0))


def _box_rounding(g: _Builder, first: str, end: str) -> tuple[str, str]:
    """For the windows [first, end) (float64) of a BOX pass: (n, the half to add before the floor) as float32
    [len, 1, 1], as Pillow's fixed-point arithmetic rounds: each of a window's n pixels weighs
    kk = trunc(0.5 + 2^22 / n), and the sum + 2^21 is shifted right by 22.

    That is the mean rounded half up, except that a mean of exactly m + 0.5 gives m where n * kk < 2^22 (n = 10,
    12, 14, ...: a transparent picture over 10x the thumbnail): there the half is lowered by 1 / 4n, less than
    any other mean's distance from a rounding edge (a multiple of 1 / 2n). Exact for windows under 128 pixels
    (sides under 131,072 px); float32 means are exact enough (their error is under 2^-16)."""
    f64 = np.float64
    count = g.op("Max", g.op("Sub", end, first), g.const(1.0, f64))
    kk = g.op("Floor", g.op("Add", g.op("Mul", g.op("Div", g.const(1.0, f64), count), g.const(2.0**22, f64)),
                            g.const(0.5, f64)))  # fmt: skip
    even = g.op("Equal", g.op("Mod", count, g.const(2.0, f64), fmod=1), g.const(0.0, f64))
    low = g.op("And", even, g.op("Less", g.op("Mul", count, kk), g.const(2.0**22, f64)))
    half = g.op("Sub", g.const(0.5, f64), g.op("Div", g.cast(low, DOUBLE), g.op("Mul", count, g.const(4.0, f64))))
    shape = g.const([-1, 1, 1], np.int64)
    return g.op("Reshape", g.cast(count, FLOAT), shape), g.op("Reshape", g.cast(half, FLOAT), shape)


def _box_pass(g: _Builder, x: str, windows: tuple[str, str, str, str]) -> str:
    """One pass of Pillow's BOX resize on uint8 x along axis 0, as uint8: the window sums over `windows` (first
    and end, int64; n and the half, from `_box_rounding`) divided by n, plus the half, floored."""
    first, end, count, half = windows
    mean = g.op("Div", _window_sum(g, x, first, end), count)
    return g.cast(g.op("Floor", g.op("Add", mean, half)), TensorProto.UINT8)


def _turned(g: _Builder, x: str) -> str:
    """[a,b,4] -> [b,a,4], on uint8 (ONNX Runtime turns bytes about ten times faster than floats)."""
    return g.op("Transpose", x, perm=[1, 0, 2])


def _reduce_divisors(g: _Builder, count: str) -> tuple[str, str]:
    """For blocks of n = `count` pixels (float64), the (offset, n) of Pillow's `reduce()` rounding as float32:
    Reduce.c gives ((sum + n // 2) * m) >> 24, m = (uint32)(2^32 / (256 n)) divided in float32. As m * n <= 2^24,
    that is floor((sum + n // 2) / n) less one where the division is exact and m * n < 2^24 (n = 9: 9 m =
    2^24 - 1, so a mean of m - 4/9 gives m - 1), the error being under n / 65536 otherwise: the same as
    floor((sum + n // 2 - c / 2) / n), c = [m * n < 2^24], for blocks under 256 pixels (sides under 32,768 px)."""
    f64 = np.float64
    multiplier = g.op("Floor", g.cast(g.op("Div", g.const(2.0**32), g.cast(g.op("Mul", count, g.const(256.0, f64)),
                                                                             FLOAT)), DOUBLE))  # fmt: skip
    short = g.cast(g.op("Less", g.op("Mul", multiplier, count), g.const(2.0**24, f64)), DOUBLE)
    offset = g.op("Sub", g.op("Floor", g.op("Mul", count, g.const(0.5, f64))), g.op("Mul", short, g.const(0.5, f64)))
    return g.cast(offset, FLOAT), g.cast(count, FLOAT)


def _box_windows(g: _Builder, size: str, factor: str, target: str, extent: str) -> tuple[str, str]:
    """The windows [first, end) (float64 [target]) of `resize(..., BOX, box=(0, size / factor))` along one axis of
    `extent` pixels: Pillow's precompute_coeffs in float64, as it computes them. The box edge reaches C as a
    float32; window j reads [trunc(c - support + .5), trunc(c + support + .5)), c = (j + .5) * scale, and the
    box filter itself (-0.5 < u <= 0.5, u = (x - c + .5) * (1 / scale)) can still leave out the first or the
    last of them by rounding (it does, for instance, for row 349 of a 1575x1077 picture's thumbnail)."""
    f64 = np.float64
    zero, one, half = g.const(0.0, f64), g.const(1.0, f64), g.const(0.5, f64)
    scale = g.op("Div", g.cast(g.cast(g.op("Div", size, factor), FLOAT), DOUBLE), target)
    center = g.op("Mul", g.op("Add", g.op("Range", zero, target, one), half), scale)
    filterscale = g.op("Max", scale, one)
    support, inverse = g.op("Mul", half, filterscale), g.op("Div", one, filterscale)
    first = g.op("Max", g.op("Floor", g.op("Add", g.op("Sub", center, support), half)), zero)
    end = g.op("Min", g.op("Floor", g.op("Add", g.op("Add", center, support), half)), extent)

    def u(x: str) -> str:
        return g.op("Mul", g.op("Add", g.op("Sub", x, center), half), inverse)

    first = g.op("Add", first, g.cast(g.op("LessOrEqual", u(first), g.const(-0.5, f64)), DOUBLE))
    end = g.op("Sub", end, g.cast(g.op("Greater", u(g.op("Sub", end, one)), half), DOUBLE))
    return first, g.op("Max", end, first)


def _plan(g: _Builder, sizes: dict[str, str], fw: str, fh: str) -> dict[str, str]:
    """Everything the thumbnail loop needs that does not depend on pixels, for reduce() factors (fw, fh) (1, 1:
    the box filter alone): the windows, Pillow's rounding constants, and per step of the loop (rows [steps, ...])
    the picture rows it reads and its windows down, so that a step is a few gathers and the arithmetic."""
    f64, i64 = np.float64, np.int64
    zero, one = g.const(0.0, f64), g.const(1.0, f64)
    w, h, tw, th = (sizes[key] for key in ("w", "h", "tw", "th"))
    reduced_w, reduced_h = (g.op("Ceil", g.op("Div", n, f)) for n, f in ((w, fw), (h, fh)))

    def as_int(x: str) -> str:
        return g.cast(x, INT64)

    across, down = _box_windows(g, w, fw, tw, reduced_w), _box_windows(g, h, fh, th, reduced_h)
    plan = {"across": (*(as_int(x) for x in across), *_box_rounding(g, *across))}
    down_rounding = _box_rounding(g, *down)  # [th,1,1] each

    # k thumbnail rows a step: as many as read about STRIP_PIXELS picture pixels
    k = g.op("Floor", g.op("Div", g.const(float(STRIP_PIXELS), f64), g.op("Mul", w, g.op("Div", h, th))))
    k = g.op("Min", g.op("Max", k, one), th)
    steps = g.op("Ceil", g.op("Div", th, k))
    # each step's thumbnail rows [steps, k] (the last step repeats the last row: sliced off after the loop)
    outputs = g.op("Reshape", g.op("Range", g.const(0, i64), as_int(g.op("Mul", steps, k)), g.const(1, i64)),
                   g.op("Concat", *(g.op("Reshape", as_int(v), g.const([1], i64)) for v in (steps, k)), axis=0))  # fmt: skip
    outputs = g.op("Min", outputs, g.op("Sub", as_int(th), g.const(1, i64)))
    first, end = (g.op("Gather", x, outputs, axis=0) for x in down)  # [steps,k], in reduced rows
    top = g.op("Gather", first, g.const([0], i64), axis=1)  # [steps,1]: the first reduced row a step reads
    bottom = g.reduce("ReduceMax", end, [1], keepdims=1)  # [steps,1]: one past the last
    picture_top, picture_bottom = g.op("Mul", top, fh), g.op("Min", g.op("Mul", bottom, fh), h)
    plan.update({
        "steps": as_int(steps), "k": as_int(k), "tw": tw, "th": th,
        "rows": g.op("Concat", as_int(picture_top), as_int(picture_bottom), axis=1),  # [steps,2]
        "down": g.op("Concat", as_int(g.op("Sub", first, top)), as_int(g.op("Sub", end, top)), axis=1),  # [steps,2k]
        "down_count": g.op("Gather", down_rounding[0], outputs, axis=0),  # [steps,k,1,1]
        "down_half": g.op("Gather", down_rounding[1], outputs, axis=0),
        "tall": g.op("And", g.op("Greater", reduced_h, g.op("Mul", reduced_w, g.const(100.0, f64))),
                     g.op("Less", th, reduced_h)),  # Pillow resizes these down first, then across
    })  # fmt: skip
    # reduce(): fh x fw blocks. Per step: the padding to whole blocks and the shapes [r, fh, -1], [r, -1, 4].
    reduced_rows = g.op("Sub", bottom, top)
    pad_rows = g.op("Sub", g.op("Mul", reduced_rows, fh), g.op("Sub", picture_bottom, picture_top))
    pad_columns = g.op("Sub", g.op("Mul", reduced_w, fw), w)
    column_zero = g.op("Mul", pad_rows, zero)  # [steps,1] zeros
    zeros = [column_zero] * 3  # [steps,6]: Pad's begins and ends, to [r*fh, W'*fw, 4]
    plan["pads"] = as_int(g.op("Concat", *zeros, pad_rows, g.op("Add", column_zero, pad_columns), column_zero, axis=1))
    plan["by_rows"] = as_int(g.op("Concat", reduced_rows, g.op("Add", column_zero, fh), g.op("Sub", column_zero, one),
                                  axis=1))  # fmt: skip
    plan["blocks"] = as_int(g.op("Concat", reduced_rows, g.op("Sub", column_zero, one),
                                 g.op("Add", column_zero, g.const(4.0, f64)), axis=1))  # fmt: skip
    plan["block_rows"] = g.op("Concat", top, bottom, axis=1)  # [steps,2], float64
    plan["last_block_row"] = g.op("Sub", reduced_h, one)
    fw_1d = g.op("Reshape", as_int(fw), g.const([1], i64))
    plan["by_columns"] = g.op("Concat", g.const([-1], i64), g.op("Mul", fw_1d, g.const([4], i64)), axis=0)
    plan["sum_columns"] = g.op("Tile", g.const(np.eye(4)), g.op("Concat", fw_1d, g.const([1], i64), axis=0))
    left = g.op("Mul", g.op("Range", zero, reduced_w, one), fw)
    columns = g.op("Sub", g.op("Min", g.op("Add", left, fw), w), left)  # each block's width
    last_rows = g.op("Sub", h, g.op("Mul", g.op("Sub", reduced_h, one), fh))  # the last row of blocks' height
    # Pillow's rounding of a block's sum, for the blocks of a full row of blocks and of the last row: [2,W',4]
    divisors = [_reduce_divisors(g, g.op("Mul", columns, rows)) for rows in (fh, last_rows)]
    alphas = [g.op("Reshape", g.op("Mul", d[1], g.const(255.0)), g.const([1, -1, 1], i64)) for d in divisors]
    plan["block_alpha"] = g.op("Concat", *alphas, axis=0)  # [2,W',1]: 255 n, a block's alpha sum when opaque
    plan["block_offset"], plan["block_divisor"] = (
        g.op("Concat", *(g.op("Expand", g.op("Reshape", d[i], g.const([1, -1, 1], i64)), g.const([1, 1, 4], i64))
                         for d in divisors), axis=0)
        for i in (0, 1)
    )  # fmt: skip
    return plan


def _thumbnail(g: _Builder, image: str, plan: dict[str, str], reduce: bool) -> tuple[str, str | None]:
    """uint8 [H,W,4] -> uint8 [th,tw,4]: Pillow's thumbnail, one strip of rows at a time (an ONNX Loop), so that
    no step holds more than a strip of float pixels however large the picture. With `reduce`, also whether the
    picture is opaque (every alpha 255: Pillow reduces only RGB pictures), from the alpha blocks' sums."""
    p, i64 = plan, np.int64
    body = g.branch()
    step, cond = body._name("step"), body._name("cond")

    def at_step(table: str) -> str:
        return body.op("Gather", table, step, axis=0)

    rows_at = at_step(p["rows"])  # [2]: picture rows [top, bottom)
    rows = body.op("Slice", image, body.op("Slice", rows_at, body.const([0], i64), body.const([1], i64)),
                   body.op("Slice", rows_at, body.const([1], i64), body.const([2], i64)), body.const([0], i64))  # fmt: skip
    down_at = body.op("Reshape", at_step(p["down"]), body.const([2, -1], i64))
    first, end = (body.op("Gather", down_at, body.const(i, i64), axis=0) for i in (0, 1))
    down = (first, end, at_step(p["down_count"]), at_step(p["down_half"]))
    outputs = []
    if reduce:  # Image.reduce((fw, fh)): whole fh x fw blocks summed (the last ones what is left), rounded once
        padded = body.cast(body.op("Pad", rows, at_step(p["pads"])), FLOAT)  # [r*fh, W'*fw, 4]: zeros add nothing
        summed = body.reduce("ReduceSum", body.op("Reshape", padded, at_step(p["by_rows"])), [1])  # [r, W'*fw*4]
        across = body.op("MatMul", body.op("Reshape", summed, p["by_columns"]), p["sum_columns"])  # [r*W', 4]
        total = body.op("Reshape", across, at_step(p["blocks"]))  # [r,W',4]
        block_rows = at_step(p["block_rows"])
        top, bottom = (body.op("Gather", block_rows, body.const(i, i64), axis=0) for i in (0, 1))
        last = body.cast(body.op("GreaterOrEqual", body.op("Range", top, bottom, body.const(1.0, np.float64)),
                                 p["last_block_row"]), INT64)  # fmt: skip
        offset, divisor = (body.op("Gather", p[key], last, axis=0) for key in ("block_offset", "block_divisor"))
        alpha = body.op("MatMul", across, body.const([[0.0], [0.0], [0.0], [1.0]]))  # [r*W', 1]: alpha sums
        opaque = body.op("Reshape", body.op("Gather", p["block_alpha"], last, axis=0), body.const([-1, 1], i64))
        shortfall = body.op("Sub", opaque, alpha)  # 0 where every alpha of a block is 255
        outputs.append(body.reduce("ReduceMax", shortfall))
        rows = body.cast(body.op("Floor", body.op("Div", body.op("Add", total, offset), divisor)), TensorProto.UINT8)

    a = body.branch()  # across, then down, as Pillow
    across_first = _box_pass(a, _turned(a, _box_pass(a, _turned(a, rows), p["across"])), down)  # [k,tw,4]
    d = body.branch()  # a picture over 100 times taller than wide: Pillow resizes down first, then across
    down_first = _turned(d, _box_pass(d, _turned(d, _box_pass(d, rows, down)), p["across"]))
    strip = body.op("If", p["tall"], then_branch=d.subgraph("down_first", down_first, elem_type=TensorProto.UINT8),
                    else_branch=a.subgraph("across_first", across_first, elem_type=TensorProto.UINT8))  # fmt: skip
    # a transparent pixel ends the loop that reduces: Pillow would not have reduced (the box filter alone follows)
    cond_out = body.op("Equal", outputs[0], body.const(0.0)) if outputs else body.op("Identity", cond)
    scans = [helper.make_tensor_value_info(strip, TensorProto.UINT8, None)]
    scans += [helper.make_tensor_value_info(o, FLOAT, []) for o in outputs]
    loop_body = helper.make_graph(
        body.nodes, "strip",
        [helper.make_tensor_value_info(step, INT64, []), helper.make_tensor_value_info(cond, BOOL, [])],
        [helper.make_tensor_value_info(cond_out, BOOL, []), *scans],
    )  # fmt: skip
    results = g.op("Loop", p["steps"], "", body=loop_body, outputs=1 + len(outputs))  # [steps, k, tw, 4], ...
    strips = results if not outputs else results[0]
    tw, th = (g.cast(g.op("Reshape", p[key], g.const([1], i64)), INT64) for key in ("tw", "th"))
    stacked = g.op("Reshape", strips, g.op("Concat", g.const([-1], i64), tw, g.const([4], i64), axis=0))
    thumbnail = g.op("Slice", stacked, g.const([0], i64), th, g.const([0], i64))
    if not outputs:
        return thumbnail, None
    return thumbnail, g.op("Equal", g.reduce("ReduceMax", results[1]), g.const(0.0))


def _planes(g: _Builder, image: str) -> str:
    """uint8 [H,W,4] -> uint8 [4,h,w] (a channel is then contiguous: fast to take).

    A picture over WORK_SIZE a side becomes, bit for bit, what Pillow's `thumbnail((WORK_SIZE, WORK_SIZE), BOX)`
    makes of it, so every later step is bounded: the thumbnail's size; from 4x larger, for an opaque picture,
    Pillow's `reduce()` by whole blocks first (reducing_gap 2), with its fixed-point rounding; then the BOX
    filter, whose weights are all one over a window of inputs, as window means rounded to 8 bits, across then
    down (down first for a picture over 100 times taller than wide, as Pillow). A picture with transparency
    skips `reduce()`, as Pillow's RGBA resize does (which the loop that reduces finds out as it goes, and the
    box filter alone then starts again); Pillow also premultiplies its colour by alpha, which the graph does
    not (colour is read only where alpha is >= 250 everywhere). The work goes a strip of rows at a time.
    """
    height, width = g.dim(image, 0), g.dim(image, 1)
    longest = g.op("Max", height, width)

    small = g.branch()
    small_out = small.op("Transpose", image, perm=[2, 0, 1])

    b = g.branch()
    f64 = np.float64
    one = b.const(1.0, f64)
    w, h = b.cast(width, DOUBLE), b.cast(height, DOUBLE)
    tw, th = _thumbnail_size(b, w, h)
    sizes = {"w": w, "h": h, "tw": tw, "th": th}
    fw, fh = (  # the reduce() factors: int(W / tw / reducing_gap) or 1
        b.op("Max", b.op("Floor", b.op("Div", b.op("Div", n, t), b.const(2.0, f64))), one)
        for n, t in ((w, tw), (h, th))
    )

    r = b.branch()  # reduce() first, if the picture turns out opaque
    reduced, opaque = _thumbnail(r, image, _plan(r, sizes, fw, fh), reduce=True)
    n = b.branch()
    # an empty picture made by ConstantOfShape: OpenVINO reads an empty Constant as a scalar (rank 0), and then
    # cannot run the If, whose branches must agree in rank
    empty = helper.make_tensor("zero", TensorProto.UINT8, [1], [0])
    nothing, no = n.op("ConstantOfShape", n.const([0, 0, 4], np.int64), value=empty), n.const(False, np.bool_)
    reduced, opaque = b.op("If", b.op("Or", b.op("Greater", fw, one), b.op("Greater", fh, one)), outputs=2,
                           then_branch=r.subgraph("reduced", reduced, opaque, elem_type=(TensorProto.UINT8, BOOL)),
                           else_branch=n.subgraph("not_reducible", nothing, no, elem_type=(TensorProto.UINT8, BOOL)))  # fmt: skip
    keep = b.branch()
    kept = keep.op("Identity", reduced)
    plain = b.branch()  # the box filter alone
    boxed, _ = _thumbnail(plain, image, _plan(plain, sizes, one, one), reduce=False)
    thumb = b.op("If", opaque, then_branch=keep.subgraph("as_reduced", kept, elem_type=TensorProto.UINT8),
                 else_branch=plain.subgraph("box_filter", boxed, elem_type=TensorProto.UINT8))  # fmt: skip
    big_out = b.op("Transpose", thumb, perm=[2, 0, 1])

    return g.op("If", g.op("Greater", longest, g.const(WORK_SIZE, np.int64)),
                then_branch=b.subgraph("thumbnail", big_out, elem_type=TensorProto.UINT8),
                else_branch=small.subgraph("as_is", small_out, elem_type=TensorProto.UINT8))  # fmt: skip


def _crop_to_ink(g: _Builder, ink: str, to_float=None) -> tuple[str, str]:
    """The ink map cropped to what is not faint (>= 30% of the peak), as float32 [0,1], and the peak.

    Only the row and column maxima read the whole picture. `to_float` maps uint8 alpha to the reference's
    float32 alpha / 255; as it is monotone, the maxima and the crop are taken on the uint8 values first."""
    as_float = to_float or (lambda x: x)
    row_peaks, col_peaks = as_float(g.reduce("ReduceMax", ink, [1])), as_float(g.reduce("ReduceMax", ink, [0]))
    peak = g.reduce("ReduceMax", row_peaks)
    faint = g.op("Mul", g.const(0.3), peak)  # below this, paper texture and shadows
    top, bottom = _bounds(g, g.op("GreaterOrEqual", row_peaks, faint))
    left, right = _bounds(g, g.op("GreaterOrEqual", col_peaks, faint))
    zero = g.const([0], np.int64)
    starts = g.op("Concat", g.op("Unsqueeze", top, zero), g.op("Unsqueeze", left, zero), axis=0)
    ends = g.op("Concat", g.op("Unsqueeze", bottom, zero), g.op("Unsqueeze", right, zero), axis=0)
    return as_float(g.op("Slice", ink, starts, ends, g.const([0, 1], np.int64))), peak


def _ink_crop(g: _Builder, planes: str) -> tuple[str, str, str]:
    """export.reference.ink_map, cropped to the ink: uint8 [4,h,w] -> (float32 [ch,cw] in [0,1], the peak, and
    whether the whole map is a drawing rather than noise: `_drawn`)."""
    alpha = g.op("Gather", planes, g.const(3, np.int64), axis=0)
    lowest = g.cast(g.reduce("ReduceMin", alpha), FLOAT)
    transparent = g.op("Less", g.op("Div", lowest, g.const(255.0)), g.const(0.98))

    clear = g.branch()  # a transparent background: the strokes are what is opaque
    clear_crop, clear_peak = _crop_to_ink(
        clear, alpha, lambda x: clear.op("Div", clear.cast(x, FLOAT), clear.const(255.0))
    )
    clear_drawn = _drawn(clear, clear.op("Div", clear.cast(alpha, FLOAT), clear.const(255.0)), clear_peak)

    o = g.branch()  # an opaque picture: ink is whatever differs from the typical border colour, in any channel
    rgb = o.op("Slice", planes, o.const([0], np.int64), o.const([3], np.int64), o.const([0], np.int64))
    rgb = o.op("Div", o.cast(rgb, FLOAT), o.const(255.0))  # [3,h,w]
    first, last = o.const(0, np.int64), o.const(-1, np.int64)
    border = o.op(
        "Concat",
        o.op("Gather", rgb, first, axis=1),
        o.op("Gather", rgb, last, axis=1),
        o.op("Gather", rgb, first, axis=2),
        o.op("Gather", rgb, last, axis=2),
        axis=1,
    )  # [3, n]
    n = o.dim(border, 1)
    ordered, _ = o.op("TopK", border, o.op("Unsqueeze", n, o.const([0], np.int64)), outputs=2, largest=0, sorted=1)
    low = o.op("Div", o.op("Sub", n, o.const(1, np.int64)), o.const(2, np.int64))
    high = o.op("Div", n, o.const(2, np.int64))
    median = o.op(
        "Div", o.op("Add", o.op("Gather", ordered, low, axis=1), o.op("Gather", ordered, high, axis=1)), o.const(2.0)
    )  # np.median: the mean of the two middle values
    distance = o.op("Abs", o.op("Sub", rgb, o.op("Unsqueeze", median, o.const([1, 2], np.int64))))

    opaque_ink = o.reduce("ReduceMax", distance, [0])
    opaque_crop, opaque_peak = _crop_to_ink(o, opaque_ink)
    opaque_drawn = _drawn(o, opaque_ink, opaque_peak)

    crop, peak, drawn = g.op("If", transparent, outputs=3,
                             then_branch=clear.subgraph("alpha_is_ink", clear_crop, clear_peak, clear_drawn,
                                                        elem_type=(FLOAT, FLOAT, BOOL)),
                             else_branch=o.subgraph("distance_from_border", opaque_crop, opaque_peak, opaque_drawn,
                                                    elem_type=(FLOAT, FLOAT, BOOL)))  # fmt: skip
    return crop, peak, drawn


def _drawn(g: _Builder, ink: str, peak: str) -> str:
    """not export.reference.is_noise(ink): calm paper or strokes, counted as the reference counts (the float32
    booleans are the same; the counts are exact integers in float32 up to 2^24 pixels, compared in int64)."""
    one, zero, end = g.const([1], np.int64), g.const([0], np.int64), g.const([-1], np.int64)
    left = g.op("Slice", ink, zero, end, one)
    right = g.op("Slice", ink, one, g.const([np.iinfo(np.int64).max], np.int64), one)
    alike = g.op("LessOrEqual", g.op("Abs", g.op("Sub", right, left)), g.op("Mul", peak, g.const(ALIKE)))

    def count(b: _Builder, mask: str) -> str:
        return b.cast(b.reduce("ReduceSum", b.cast(mask, FLOAT)), INT64)

    def times(b: _Builder, n: int, x: str) -> str:
        return b.op("Mul", b.const(n, np.int64), x)

    calm = g.op("GreaterOrEqual", times(g, CALM[1], count(g, alike)), times(g, CALM[0], g.op("Size", alike)))

    yes = g.branch()  # calm paper: a drawing, and the strokes need not be looked at
    drawing = yes.const(True, np.bool_)
    s = g.branch()
    solid = s.cast(s.op("Greater", ink, s.op("Mul", peak, s.const(0.5))), FLOAT)
    padded = s.op("Pad", solid, s.const([1, 1, 1, 1], np.int64))
    h, w = s.dim(solid, 0), s.dim(solid, 1)
    size = s.op("Concat", s.op("Unsqueeze", h, zero), s.op("Unsqueeze", w, zero), axis=0)

    def shifted(dy: int, dx: int) -> str:
        starts = s.const([dy, dx], np.int64)
        return s.op("Slice", padded, starts, s.op("Add", starts, size), s.const([0, 1], np.int64))

    around = s.op("Max", shifted(0, 1), shifted(2, 1), shifted(1, 0), shifted(1, 2))
    touching = s.op("Mul", solid, around)
    strokes = s.op("GreaterOrEqual", times(s, STROKES[1], count(s, touching)), times(s, STROKES[0], count(s, solid)))
    return g.op("If", calm, then_branch=yes.subgraph("calm_paper", drawing, elem_type=BOOL),
                else_branch=s.subgraph("strokes", strokes, elem_type=BOOL))  # fmt: skip


def _bounds(g: _Builder, present: str) -> tuple[str, str]:
    """First and one-past-last index where a bool [n] is true. Never all false here: a row or column holding the
    peak is always present (and with no ink at all, every one is)."""
    present = g.cast(present, TensorProto.INT32)
    first = g.op("ArgMax", present, axis=0, keepdims=0)
    last = g.op("ArgMax", present, axis=0, keepdims=0, select_last_index=1)
    return first, g.op("Add", last, g.const(1, np.int64))


def _centre(g: _Builder, digit: str) -> str:
    """Place the fitted digit in the 28x28 frame so its centre of mass is at the centre (float64, as numpy)."""
    h, w = g.dim(digit, 0), g.dim(digit, 1)
    total = g.cast(g.op("Max", g.reduce("ReduceSum", digit), g.const(1e-12)), DOUBLE)

    def offset(size: str, axis_sums: str) -> str:
        index = g.op("Range", g.const(0.0, np.float64), g.cast(size, DOUBLE), g.const(1.0, np.float64))
        mass = g.op("Div", g.reduce("ReduceSum", g.op("Mul", g.cast(axis_sums, DOUBLE), index)), total)
        start = g.op("Round", g.op("Sub", g.const(FRAME / 2 - 0.5, np.float64), mass))
        room = g.cast(g.op("Sub", g.const(FRAME, np.int64), size), DOUBLE)
        return g.cast(g.op("Min", g.op("Max", start, g.const(0.0, np.float64)), room), INT64)

    top = offset(h, g.reduce("ReduceSum", digit, [1]))
    left = offset(w, g.reduce("ReduceSum", digit, [0]))
    frame_size = g.const(FRAME, np.int64)
    zero = g.const([0], np.int64)
    pads = g.op("Concat", *(g.op("Unsqueeze", v, zero) for v in (
        top, left, g.op("Sub", g.op("Sub", frame_size, h), top), g.op("Sub", g.op("Sub", frame_size, w), left))), axis=0)  # fmt: skip
    frame = g.op("Pad", digit, pads)
    frame = g.op("Div", frame, g.op("Max", g.reduce("ReduceMax", frame), g.const(1e-6)))
    return g.op("Clip", frame, g.const(0.0), g.const(1.0))


def thumbnail_model() -> onnx.ModelProto:
    """The recipe's first step alone: image uint8 [H,W,4] -> planes uint8 [4,h,w], the picture as it is up to
    1024 px a side, else its thumbnail (what tests/test_canvas.py holds against Pillow's, bit for bit)."""
    g = _Builder()
    g.nodes.append(helper.make_node("Identity", [_planes(g, "image")], ["planes"]))
    graph = helper.make_graph(
        g.nodes, "thumbnail",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["H", "W", 4])],
        [helper.make_tensor_value_info("planes", TensorProto.UINT8, [4, "h", "w"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="lecture-zoo")
    model.ir_version = 10
    return model


def preprocess_model() -> onnx.ModelProto:
    """The recipe alone: image uint8 [H,W,4] -> frame_nchw [1,1,28,28], frame [28,28], ink, contrast."""
    g = _Builder()
    crop, peak, drawn = _ink_crop(g, _planes(g, "image"))
    faint = g.op("Mul", g.const(0.3), peak)
    crop = g.op("Where", g.op("GreaterOrEqual", crop, faint), g.op("Div", crop, g.op("Max", peak, g.const(1e-6))),
                g.const(0.0))  # fmt: skip
    solid = g.reduce("ReduceSum", g.cast(g.op("Greater", crop, g.const(0.5)), FLOAT))
    has_ink = g.op("And", g.op("GreaterOrEqual", peak, g.const(MIN_CONTRAST)),
                   g.op("GreaterOrEqual", solid, g.const(float(MIN_INK_PIXELS))))  # fmt: skip
    has_ink = g.op("And", has_ink, drawn)
    contrast = g.op("Where", drawn, peak, g.const(0.0))  # noise reads as no contrast: the blank message

    work = _thicken(g, _fit(g, crop, 4 * BOX), target=4 * STROKE)  # 4x the final size: cheap, fine enough
    frame = _centre(g, _fit(g, work, BOX))
    frame = g.op(
        "Where",
        has_ink,
        frame,
        g.const(np.zeros((FRAME, FRAME))),
    )
    g.nodes.append(helper.make_node("Identity", [frame], ["frame"]))
    g.nodes.append(helper.make_node("Reshape", [frame, g.const([1, 1, FRAME, FRAME], np.int64)], ["frame_nchw"]))
    g.nodes.append(helper.make_node("Identity", [has_ink], ["ink"]))
    g.nodes.append(helper.make_node("Identity", [contrast], ["contrast"]))

    graph = helper.make_graph(
        g.nodes, "sketch_recipe",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["H", "W", 4])],
        [helper.make_tensor_value_info("frame_nchw", FLOAT, [1, 1, FRAME, FRAME]),
         helper.make_tensor_value_info("frame", FLOAT, [FRAME, FRAME]),
         helper.make_tensor_value_info("ink", BOOL, []),
         helper.make_tensor_value_info("contrast", FLOAT, [])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="lecture-zoo")
    model.ir_version = 10
    return model


def canvas_model(classifier: onnx.ModelProto) -> onnx.ModelProto:
    """The recipe fused in front of a digit model (`image` [N,1,28,28] -> logits, probabilities)."""
    recipe = preprocess_model()
    classifier = compose.add_prefix(classifier, "model/")
    merged = compose.merge_models(
        recipe, classifier, io_map=[("frame_nchw", "model/image")],
        outputs=["frame", "ink", "contrast", "model/probabilities"],
    )  # fmt: skip
    # Probabilities are zeros without ink, so a caller that forgets to read `ink` cannot mistake a blank for a 1.
    g = _Builder(prefix="out/")
    mask = g.cast("ink", FLOAT)
    g.nodes.append(helper.make_node("Mul", ["model/probabilities", mask], ["probabilities"]))
    merged.graph.node.extend(g.nodes)
    outputs = {o.name: o for o in merged.graph.output}
    del merged.graph.output[:]
    merged.graph.output.append(helper.make_tensor_value_info("probabilities", FLOAT, [1, 10]))
    merged.graph.output.extend(outputs[name] for name in ("frame", "ink", "contrast"))
    # The digit model's intermediate shapes name its batch N, which the canvas fixes to 1: stale, and an engine
    # that trusts value_info (tract) cannot reconcile them
    del merged.graph.value_info[:]
    onnx.checker.check_model(merged, full_check=True)
    return merged


# ----------------------------------------------------------------------------- export


def test_canvas() -> np.ndarray:
    """The canvas of test_data_set_0: a 160x120 transparent sketchpad with a 7 drawn in black strokes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (160, 120), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(55, 20), (105, 20), (75, 100)], fill=(0, 0, 0, 255), width=7, joint="curve")
    return np.asarray(image)


def reference(rgba: np.ndarray, classifier) -> dict[str, np.ndarray]:
    """What a canvas model must output, from the reference recipe and the digit model's own ONNX file."""
    from PIL import Image

    from export.reference import frame_or_blank, ink_map, is_noise

    frame, ink = frame_or_blank(rgba)
    probabilities = classifier.run(["probabilities"], {"image": frame[None, None]})[0] * ink
    ink_picture = ink_map(Image.fromarray(rgba))
    contrast = np.float32(0.0 if is_noise(ink_picture) else ink_picture.max())
    return {
        "probabilities": probabilities.astype(np.float32),
        "frame": frame,
        "ink": np.array(ink),
        "contrast": contrast,
    }


def export_canvas(entry: dict, out: Path) -> dict:
    """`<out>/<name>-canvas.onnx` from the digit model `entry` (full or int8) in `out`, with its test data."""
    import json

    import onnxruntime as ort
    from onnx import numpy_helper

    from export.onnx import sha256, stamp

    name = f"{entry['name']}-canvas"
    path = Path(out) / f"{name}.onnx"
    model = canvas_model(onnx.load(str(Path(out) / entry["file"])))
    keep = ("model", "run", "task", "checkpoint", "checkpoint_sha256", "parameters", "metrics", "labels", "float_model")
    canvas = {
        "name": name,
        **{k: entry[k] for k in keep if k in entry},
        "kind": "canvas",
        "base_model": entry["name"],
        "file": path.name,
        "opset": OPSET,
        "inputs": {"image": {"shape": ["H", "W", 4], "dtype": "uint8"}},
        "outputs": {k: {"shape": shape, "dtype": dtype, "doc": doc} for k, (dtype, shape, doc) in OUTPUTS.items()},
        "input_contract": CONTRACT,
    }
    props = {
        "task": "digits", "kind": "canvas", "base_model": entry["name"], "zoo_model": entry["model"],
        "input_contract": CONTRACT, "labels": json.dumps(entry["labels"]), "metrics": json.dumps(entry["metrics"]),
        "outputs": json.dumps({k: doc for k, (_, _, doc) in OUTPUTS.items()}),
        "checkpoint_sha256": entry["checkpoint_sha256"], "parameters": str(entry["parameters"]),
    }  # fmt: skip
    # the digit model's own props came through the merge, and its producer stays
    stamp(model, props, f"{name}: the sketch recipe (RGBA canvas -> 28x28 frame) fused with {entry['name']}", None)
    onnx.save(model, str(path))
    canvas["sha256"], canvas["bytes"] = sha256(path), path.stat().st_size

    # test_data_set_0: a drawn 7; the expected outputs come from the reference recipe and the digit model.
    rgba = test_canvas()
    classifier = ort.InferenceSession(str(Path(out) / entry["file"]), providers=["CPUExecutionProvider"])
    expected = reference(rgba, classifier)
    folder = Path(out) / "test_data" / name / "test_data_set_0"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "input_0.pb").write_bytes(numpy_helper.from_array(rgba, "image").SerializeToString())
    for i, key in enumerate(OUTPUTS):
        (folder / f"output_{i}.pb").write_bytes(
            numpy_helper.from_array(np.asarray(expected[key]), key).SerializeToString()
        )
    canvas["test_data"] = str(folder.relative_to(out))
    return canvas
