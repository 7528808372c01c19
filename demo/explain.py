"""One cell of a digit network worked out with the model's own numbers, for the Gradio Inside view: a
convolution's patch, kernel, products, bias and sum, then BatchNorm and ReLU; a pooling window and its winner; a
unit's weighted sum; logits to softmax and cross-entropy. The layers' values come from the probe model, the
weights from its weights file (demo/runtime.py, Zoo.weights): the written-out sum stands beside the value the
model computed (`data-sum`, `data-value`), as the browser page's Inside view writes it (web/inside.js).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable

import numpy as np

from demo.inside import LayerLike
from demo.strings import say


def fmt(v: float, digits: int = 3) -> str:
    """A number as the page writes it, with a real minus sign (−), and never −0."""
    text = f"{float(v):.{digits}f}"
    if float(text) == 0:
        text = text.lstrip("-")
    return text.replace("-", "\u2212")


def signed(v: float, digits: int = 3) -> str:
    """`+ 0.120` or `− 0.120`: a term added to a sum."""
    return f"\u2212 {fmt(-v, digits)}" if v < 0 else f"+ {fmt(v, digits)}"


def factor(v: float, digits: int = 2) -> str:
    """A factor in a product: a negative one in parentheses, `0.50 × (−0.27)`."""
    return f"({fmt(v, digits)})" if fmt(v, digits).startswith("\u2212") else fmt(v, digits)


def _p(text: str, cls: str = "", sum_: float | None = None, value: float | None = None) -> str:
    data = f' data-sum="{sum_!r}" data-value="{value!r}"' if sum_ is not None else ""
    return f'<p class="{cls}"{data}>{html.escape(text)}</p>' if cls else f"<p{data}>{html.escape(text)}</p>"


def _table(rows: list[list[str]], caption: str, winner: tuple[int, int] | None = None, cls: str = "patch") -> str:
    body = "".join(
        "<tr>" + "".join(f"<td{' class=win' if winner == (r, q) else ''}>{html.escape(cell)}</td>"
                         for q, cell in enumerate(row)) + "</tr>"
        for r, row in enumerate(rows)
    )  # fmt: skip
    return f'<table class="{cls}"><caption>{html.escape(caption)}</caption>{body}</table>'


def _at(layer: LayerLike, c: int, y: int, x: int) -> float:
    values = np.asarray(layer.values)
    return float(values[c, y, x]) if values.ndim == 3 else float(values.reshape(-1)[c])


def explain_cell(
    layers: list[LayerLike], i: int, c: int, y: int, x: int, weights: dict[str, np.ndarray] | None, lang: str,
    ink: bool = True,
) -> str:  # fmt: skip
    """Cell (c, y, x) of layers[i] (a 1-D layer: unit c) worked out, as HTML in `lang`."""
    t: Callable[..., str] = lambda key, **v: say(lang, key, **v)  # noqa: E731
    layer = layers[i]
    below = layers[i - 1] if i > 0 else None
    spatial = np.ndim(layer.values) == 3
    value = _at(layer, c, y, x)
    where = (t("cell.where_map", layer=layer.name, c=c, y=y, x=x, v=fmt(value, 4)) if spatial
             else t("cell.where_unit", layer=layer.name, c=c, v=fmt(value, 4)))  # fmt: skip
    out = [f"<h4>{html.escape(where)}</h4>"]
    params = layer.spec.get("params", {})

    def weight(name: str) -> np.ndarray | None:
        return None if weights is None or name not in params else weights.get(params[name])

    if layer.op == "Input":
        out.append(_p(t("cell.input")))
    elif layer.op == "Conv2d":
        w, b = weight("weight"), weight("bias")
        if w is None or b is None:
            return "".join(out) + _p(t("cell.no_weights", model=layer.name))
        below_values = np.asarray(below.values, np.float64)
        cin, height, width = below_values.shape
        k, s, p = layer.spec["kernel"][0], layer.spec["stride"][0], layer.spec["padding"][0]
        y0, x0 = y * s - p, x * s - p
        padded = np.pad(below_values, ((0, 0), (p, p), (p, p)))
        patch = padded[:, y0 + p : y0 + p + k, x0 + p : x0 + p + k]  # [cin, k, k], zeros outside the picture
        kernel = np.asarray(w[c], np.float64)  # [cin, k, k]
        sums = (patch * kernel).sum(axis=(1, 2))
        total = float(sums.sum())
        strongest = int(np.argmax(np.abs(sums)))
        what = t("cell.conv_frame") if cin == 1 else t("cell.conv_channels", n=cin, layer=below.name)
        out.append(_p(t("cell.conv", k=k, what=what, s=s, p=p, y0=y0, y1=y0 + k - 1, x0=x0, x1=x0 + k - 1)))
        if y0 < 0 or x0 < 0 or y0 + k > height or x0 + k > width:
            out.append(_p(t("cell.padding")))
        rows = [[f"{fmt(patch[strongest, r, q], 2)} × {factor(kernel[strongest, r, q])}" for q in range(k)]
                for r in range(k)]  # fmt: skip
        caption = t("cell.patch") if cin == 1 else t("cell.patch_channel", c=strongest, layer=below.name)
        out.append(_table(rows, caption))
        products = " + ".join(f"{fmt(a, 2)} × {factor(b_)}" for a, b_ in
                              zip(patch[strongest].ravel(), kernel[strongest].ravel(), strict=True))  # fmt: skip
        out.append(_p(f"{products} = {fmt(sums[strongest])}", "mono"))
        if cin > 1:
            order = np.argsort(-np.abs(sums))
            shares = " ".join(f"ch{q} {signed(sums[q])}" for q in order[:6])
            if cin > 6:
                shares += " " + t("cell.more", n=cin - 6)
            out.append(_p(t("cell.channels", k=k, shares=shares, total=fmt(total)), "mono"))
        result = total + float(b[c])
        out.append(_p(t("cell.bias", total=fmt(total), bias=signed(float(b[c])), sum=fmt(result, 4), v=fmt(value, 4)),
                      "sum", result, value))  # fmt: skip
        for j in range(i + 1, len(layers)):  # what BatchNorm and ReLU make of it
            if layers[j].op == "BatchNorm2d":
                out += _batch_norm(layers, j, c, y, x, weights, t, "mono")
            elif layers[j].op == "ReLU":
                out.append(_p(t("cell.then_relu", layer=layers[j].name, x=fmt(_at(layers[j - 1], c, y, x), 4),
                                v=fmt(_at(layers[j], c, y, x), 4)), "mono"))  # fmt: skip
            else:
                break
    elif layer.op == "BatchNorm2d":
        out += _batch_norm(layers, i, c, y, x, weights, t, "sum")
    elif layer.op == "ReLU":
        before = _at(below, c, y, x)
        out.append(_p(t("cell.relu", x=fmt(before, 4), v=fmt(max(0.0, before), 4)), "sum", max(0.0, before), value))
    elif layer.op == "MaxPool2d":
        k, s = layer.spec["kernel"][0], layer.spec["stride"][0]
        window = np.asarray(below.values)[c, y * s : y * s + k, x * s : x * s + k]
        best = float(window.max())
        r, q = np.unravel_index(int(window.argmax()), window.shape)
        out.append(_p(t("cell.pool", k=k, layer=below.name, c=c, y0=y * s, y1=y * s + k - 1, x0=x * s,
                        x1=x * s + k - 1)))  # fmt: skip
        out.append(_table([[fmt(v, 3) for v in row] for row in window], t("cell.window"), (int(r), int(q))))
        out.append(_p(f"max({', '.join(fmt(v, 3) for v in window.ravel())}) = {fmt(best, 4)}", "sum", best, value))
    elif layer.op == "Linear":
        w, b = weight("weight"), weight("bias")
        if w is None or b is None:
            return "".join(out) + _p(t("cell.no_weights", model=layer.name))
        inputs = np.asarray(below.values, np.float64).ravel()
        terms = inputs * np.asarray(w[c], np.float64)
        total = float(terms.sum())
        top = np.argsort(-np.abs(terms))[:6]
        out.append(_p(t("cell.linear", n=inputs.size, layer=below.name)))
        shown = ", ".join(f"x{j}·w = {fmt(inputs[j], 2)} × {factor(w[c, j], 3)}" for j in top)
        out.append(_p(f"{shown} {t('cell.terms', n=inputs.size, total=fmt(total))}", "mono"))
        result = total + float(b[c])
        out.append(_p(t("cell.bias", total=fmt(total), bias=signed(float(b[c])), sum=fmt(result, 4), v=fmt(value, 4)),
                      "sum", result, value))  # fmt: skip
        if i + 1 < len(layers) and layers[i + 1].op == "Softmax":
            out += _softmax(layers, i + 1, t, ink)
    elif layer.op == "Softmax":
        out += _softmax(layers, i, t, ink)
    return '<div class="cell-sum">' + "".join(out) + "</div>"


def _batch_norm(layers, j, c, y, x, weights, t, cls: str) -> list[str]:
    layer = layers[j]
    params = layer.spec.get("params", {})
    x_in, value = _at(layers[j - 1], c, y, x), _at(layer, c, y, x)
    try:
        gamma, beta, mean, variance = (float(weights[params[n]][c]) for n in ("weight", "bias", "running_mean",
                                                                               "running_var"))  # fmt: skip
    except (KeyError, TypeError):
        return [_p(t("cell.no_weights", model=layer.name))]
    eps = layer.spec.get("eps", 1e-5)
    result = (x_in - mean) / math.sqrt(variance + eps) * gamma + beta
    centred = f"{fmt(x_in, 4)} − {fmt(mean, 4)}" if mean >= 0 else f"{fmt(x_in, 4)} + {fmt(-mean, 4)}"
    text = (f"({centred}) / √({fmt(variance, 4)} + {eps:g}) × {factor(gamma, 4)} {signed(beta, 4)} = {fmt(result, 4)}"
            f"   ({fmt(value, 4)})")  # fmt: skip
    return [_p(t("cell.bn", layer=layer.name, c=c)), _p(text, cls, result, value)]


def _softmax(layers, j, t, ink: bool) -> list[str]:
    logits = np.asarray(layers[j - 1].values, np.float64).ravel()
    p = np.asarray(layers[j].values, np.float64).ravel()
    exps = np.exp(logits - logits.max())
    top = int(np.argmax(p))
    rows = [
        [t("cell.digit"), *(str(k) for k in range(logits.size))],
        [t("cell.logit"), *(fmt(v, 2) for v in logits)],
        ["exp", *(fmt(v, 3) for v in exps)],
        ["p", *(fmt(v, 3) for v in exps / exps.sum())],
    ]
    out = [_p(t("cell.softmax")), _table(rows, "", (3, top + 1), "softmax")]
    loss = -math.log(p[top]) if p[top] > 0 else math.inf
    out.append(_p(t("cell.ce", k=top, p=fmt(p[top], 4), loss=fmt(loss, 4)), "mono", float(p[top]), float(p[top])))
    if not ink:
        out.append(_p(t("cell.no_ink")))
    return out
