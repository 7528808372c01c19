"""hubconf.py: torch.hub gives the committed models, and they answer as their ONNX files do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper

from zoo.models import REGISTRY, build_model

ROOT = Path(__file__).resolve().parents[1]


def test_cnn_bn_from_the_hub_answers_like_its_onnx_file():
    model = torch.hub.load(str(ROOT), "cnn_bn", source="local")
    assert not model.training
    tensor = onnx.TensorProto()
    tensor.ParseFromString((ROOT / "models/test_data/cnn-bn/test_data_set_0/input_0.pb").read_bytes())
    images = numpy_helper.to_array(tensor).copy()
    assert images.shape == (10, 1, 28, 28)
    session = ort.InferenceSession(str(ROOT / "models" / "cnn-bn.onnx"), providers=["CPUExecutionProvider"])
    (want,) = session.run(["logits"], {"image": images})
    with torch.no_grad():
        got = model(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    assert (got.argmax(1) == want.argmax(1)).all()


def test_every_model_has_a_hub_entry_that_loads_its_checkpoint():
    for name in REGISTRY:
        model = torch.hub.load(str(ROOT), name.replace("-", "_"), source="local")
        assert isinstance(model, torch.nn.Module) and not model.training, name
        assert type(model) is type(build_model(name)), name
