"""The Gradio Inside view's worked sums (demo/explain.py) against the probe models' own values: for cells of
every layer of the lecture's digit models, the written-out result equals the value the model computed; and a
click on a layer's picture (demo/inside.py, cell_at) finds the cell whose marker (cell_box) it is in."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from demo.explain import explain_cell
from demo.inside import cell_at, cell_box, digit_figures, labelled
from demo.runtime import Zoo
from demo.strings import LANGUAGES

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def zoo() -> Zoo:
    return Zoo(ROOT / "models")


def _seven() -> np.ndarray:
    canvas = Image.new("RGBA", (420, 420), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(120, 100), (300, 100), (200, 330)], fill=(0, 0, 0, 255), width=18)
    return np.asarray(canvas)


def _cells(values: np.ndarray) -> list[tuple[int, int, int]]:
    """A corner, the centre and the largest value of a layer (the corner of a padded map reads the padding)."""
    if values.ndim == 3:
        c, h, w = values.shape
        top = np.unravel_index(int(np.argmax(values)), values.shape)
        return [(0, 0, 0), (c // 2, h // 2, w // 2), tuple(int(v) for v in top)]
    return [(0, 0, 0), (int(np.argmax(values)), 0, 0)]


@pytest.mark.parametrize("model", ["cnn-bn", "cnn-small", "cnn", "mlp"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_written_out_sum_equals_the_model(zoo, model, lang):
    if f"{model}-probe" not in zoo.models:
        pytest.skip(f"{model} has no probe model")
    inside = zoo.inspect_digit(model, _seven())
    weights = zoo.weights(model)
    checked = 0
    for i, layer in enumerate(inside.layers):
        for cell in _cells(np.asarray(layer.values)):
            text = explain_cell(inside.layers, i, *cell, weights, lang)
            for written, value in re.findall(r'data-sum="([^"]+)" data-value="([^"]+)"', text):
                assert float(written) == pytest.approx(float(value), rel=1e-4, abs=1e-4), (layer.name, cell, text)
                checked += 1
    assert checked >= 2 * (len(inside.layers) - 1)  # every layer but the frame writes at least one result


def test_a_convolution_cell_writes_its_patch_kernel_and_bias(zoo):
    inside = zoo.inspect_digit("cnn-bn", _seven())
    text = explain_cell(inside.layers, 1, 0, 0, 0, zoo.weights("cnn-bn"), "en")  # conv1, the top-left corner
    assert "input × kernel" in text and "(bias)" in text and "BatchNorm" in text and "ReLU" in text
    assert "padding there counts as 0" in text  # the window reaches past the edge
    centre = explain_cell(inside.layers, 1, 0, 14, 14, zoo.weights("cnn-bn"), "en")
    assert "padding there counts as 0" not in centre  # wholly inside the picture: nothing to say
    softmax = explain_cell(inside.layers, len(inside.layers) - 1, 7, 0, 0, None, "ko")
    assert "교차 엔트로피" in softmax and "−log p(7)" in softmax


@pytest.mark.parametrize("model", ["cnn-bn", "cnn-small"])
def test_a_click_finds_the_cell_under_it(zoo, model):
    inside = zoo.inspect_digit(model, _seven())
    labels = list(inside.confidences)
    figures = digit_figures(inside.layers, labels)
    for figure, layer in zip(figures, inside.layers, strict=True):
        height, width = figure.picture.shape[:2]
        for cell in _cells(np.asarray(layer.values)):
            left, top, w, h = cell_box(layer, *cell, labelled(layer, labels))
            assert left >= 0 and left + w <= width and top >= 0 and top + h <= height, (layer.name, cell)
            assert cell_at(layer, left + w / 2, top + h / 2, labelled(layer, labels)) == cell, (layer.name, cell)
        assert cell_at(layer, 1, 1, labelled(layer, labels)) is None  # the margin is no cell
