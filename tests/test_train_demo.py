"""The Gradio demo's Train tab (demo/train_text.py): the lecture's loop on the server through the training
files, its lines against PyTorch's run, bad requests, and the streamed lines from a real server."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demo import train_text
from demo.runtime import Zoo
from export import train_graphs as tg
from zoo import manifest as zoo_manifest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
LOSS = re.compile(r"^(\d+) loss:  (\S+) prediction:  .* prediction str:  (.*)$")


@pytest.fixture(scope="module")
def zoo():
    if not any(e["kind"] == "train" for e in zoo_manifest.load(MODELS)):
        pytest.skip("models/manifest.json has no training files: run python -m export train")
    return Zoo(MODELS)


def test_charseq_prints_the_lectures_loop_and_learns_the_sentence(zoo):
    lines = list(train_text.train_text(zoo, "charseq", "adam", 0.1, 50))
    assert len(lines) == 50
    parsed = [LOSS.match(line) for line in lines]
    assert all(parsed), lines[0]
    assert [int(m.group(1)) for m in parsed] == list(range(50))
    assert parsed[-1].group(3) == "f you want you"  # the sample sentence less its first character
    # the losses are PyTorch's: the lecture's loop in torch (Adam, lr 0.1) from the same start
    model, names, _ = tg.trainable("charseq")
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(tg.start_weights("charseq")[name])
    optimizer = torch.optim.Adam(model.parameters(), 0.1)
    x, y = (torch.from_numpy(a) for a in tg.text_batch("charseq"))
    expected = []
    for _ in range(50):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x).reshape(-1, 10), y.reshape(-1))
        loss.backward()
        optimizer.step()
        expected.append(loss.item())
    assert np.allclose([float(m.group(2)) for m in parsed], expected, atol=1e-4)


def test_longseq_prints_the_sentence_it_predicts(zoo):
    lines = list(train_text.train_text(zoo, "longseq", "adam", 0.1, 3))
    assert len(lines) == 3 and all(len(line) == 179 for line in lines)  # 10 + 169 windows' last characters


@pytest.mark.parametrize(
    "args, pattern",
    [(("cnn", "adam", 0.1, 5), "trainable text models: hihello, charseq"),
     (("charseq", "adagrad", 0.1, 5), "choose one of adam, sgd"),
     (("charseq", "adam", 0, 5), "above 0"),
     (("charseq", "adam", "fast", 5), "not a number"),
     (("charseq", "adam", 0.1, 10_000), "from 1 to 300"),
     (("charseq", "adam", 0.1, 2.5), "whole number")],
)  # fmt: skip
def test_bad_requests_say_what_is_accepted(zoo, args, pattern):
    with pytest.raises(train_text.TrainingError, match=pattern):
        list(train_text.train_text(zoo, *args))


@pytest.mark.slow
def test_the_server_streams_the_lines(demo_url):
    from gradio_client import Client

    client = Client(demo_url, verbose=False)
    job = client.submit("charseq", "adam", 0.1, 50, api_name="/train_text")
    final = job.result(timeout=120)
    streamed = job.outputs()
    assert len(streamed) >= 2, "the lines arrive as they are printed, not all at the end"
    lines = final.splitlines()
    assert len(lines) == 50 and lines[-1].endswith("prediction str:  f you want you")
    with pytest.raises(Exception, match="from 1 to 300"):
        client.predict("charseq", "adam", 0.1, 5000, api_name="/train_text")


def test_a_bad_request_is_said_in_the_pages_language(zoo):
    """The same refusal in English (as raised: API callers read it) and in Korean (demo/strings.py's table)."""
    from demo.strings import message, say

    with pytest.raises(train_text.TrainingError) as raised:
        list(train_text.train_text(zoo, "charseq", "adam", 0.1, 10_000))
    assert (
        message(raised.value, "en") == str(raised.value) == say("en", "error.train_epochs_range", got="10000", top=300)
    )
    korean = message(raised.value, "ko")
    assert (
        korean == say("ko", "error.train_epochs_range", got="10000", top=300) and "에포크" in korean and "300" in korean
    )
