"""The Points tab: the circles net's decision boundary over the plane; click a point or give its coordinates.
API: classify_point."""

from __future__ import annotations

import gradio as gr
import numpy as np
from PIL import Image, ImageDraw

from demo.components import ExactNumber, refuse
from demo.runtime import Zoo
from demo.strings import label, language, say

# The circles net is float32: far out, its first layer's sums overflow to inf and the answer to NaN.
# Its answer is settled long before this (the data lies within 1.2 of the origin).
MAX_COORDINATE = 1e6
PLANE = 1.5  # the circles plot spans [-PLANE, PLANE] on both axes
PLOT_SIZE = 360


def points_tab(zoo: Zoo) -> None:
    """The Points tab with its events (inside a `with gr.Blocks()`)."""

    def classify_point(x: float, y: float, request: gr.Request | None = None):
        lang = language(request)
        if x is None or y is None or not (abs(x) <= MAX_COORDINATE and abs(y) <= MAX_COORDINATE):  # NaN too
            english = (f"Give both coordinates as numbers from -{MAX_COORDINATE:g} to {MAX_COORDINATE:g}, "
                       f"e.g. x = 0.2, y = -0.5; got x = {x!r}, y = {y!r}.")  # fmt: skip
            said = say(lang, "error.point", top=f"{MAX_COORDINATE:g}", x=repr(x), y=repr(y))
            raise refuse(english if lang == "en" else said, lang)
        p = float(zoo.point_probability(np.array([[x, y]]))[0])
        return {say(lang, "points.inner"): p, say(lang, "points.outer"): 1 - p}, _circles_plot(zoo, (x, y))

    def click_point(event: gr.SelectData, request: gr.Request):
        px, py = event.index
        x = (px / PLOT_SIZE * 2 - 1) * PLANE
        y = (1 - py / PLOT_SIZE * 2) * PLANE
        answer, plot = classify_point(x, y, request)
        return round(x, 3), round(y, 3), answer, plot

    with gr.Tab(label("tab.points")):
        with gr.Row():
            with gr.Column():
                plot = gr.Image(value=_circles_plot(zoo, None), label=label("points.plot"), interactive=False,
                                height=PLOT_SIZE, width=PLOT_SIZE)  # fmt: skip
            with gr.Column():
                px, py = ExactNumber(value=0.0, label="x"), ExactNumber(value=0.0, label="y")
                px.accepts = py.accepts = f"a number from -{MAX_COORDINATE:g} to {MAX_COORDINATE:g}"
                ask = gr.Button(label("points.ask"))
                point_label = gr.Label(label=label("points.probability"))
                gr.Markdown(label("points.about"))
        ask.click(classify_point, [px, py], [point_label, plot], api_name="classify_point")
        plot.select(click_point, None, [px, py, point_label, plot], api_name=False)


def _circles_plot(zoo: Zoo, point: tuple[float, float] | None) -> np.ndarray:
    """The decision boundary over the plane, the training points, and the asked point (numpy + Pillow)."""
    n = PLOT_SIZE
    axis = np.linspace(-PLANE, PLANE, n, dtype=np.float32)
    xs, ys = np.meshgrid(axis, axis[::-1])
    p = zoo.point_probability(np.stack([xs.ravel(), ys.ravel()], 1)).reshape(n, n)
    red, blue = np.array([239, 154, 154]), np.array([144, 180, 239])
    shade = (p[..., None] * blue + (1 - p[..., None]) * red).astype(np.uint8)
    shade[np.abs(p - 0.5) < 0.01] = 60  # the p = 0.5 boundary
    image = Image.fromarray(shade)
    draw = ImageDraw.Draw(image)

    def to_pixel(x: float, y: float) -> tuple[float, float]:
        return (x / PLANE + 1) / 2 * n, (1 - y / PLANE) / 2 * n

    for x, y, c in zoo.models["circles"].entry["points"]["train"]:
        u, v = to_pixel(x, y)
        draw.ellipse([u - 2, v - 2, u + 2, v + 2], fill=(30, 60, 180) if c else (180, 30, 30))
    if point is not None:
        u, v = to_pixel(*point)
        draw.ellipse([u - 6, v - 6, u + 6, v + 6], outline=(0, 0, 0), width=3)
    return np.asarray(image)
