"""What each exported graph computes: the zoo model wrapped with the contract a runtime sees.

Inputs are what any runtime can feed without this repository: float32 pixels in [0, 1] (white ink on
black), int64 character indices, float32 points. Outputs are logits first, then probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


class LogitsGraph(nn.Module):
    """The model's logits, then probabilities (softmax over the last axis).

    Digits: image float32 [N,1,28,28] in [0,1] -> logits [N,10], probabilities [N,10].
    Text: indices int64 [N,T] -> logits [N,T,V], probabilities [N,T,V] (hidden state starts at zero).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.model(inputs)
        return logits, torch.softmax(logits, dim=-1)


class TextStepGraph(nn.Module):
    """One character at a time: index int64 [N], hidden float32 [L,N,H] -> logits [N,V], probabilities
    [N,V], hidden_out [L,N,H]. Start with zeros for hidden; feed hidden_out back in."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, index: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, hidden_out = self.model.forward_with_state(index.unsqueeze(1), hidden)
        logits = logits.squeeze(1)
        return logits, torch.softmax(logits, dim=-1), hidden_out


class PointsGraph(nn.Module):
    """points float32 [N,2] -> logit [N,1], probability [N,1] (of the inner circle, class 1)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logit = self.model(points)
        return logit, torch.sigmoid(logit)


@dataclass(frozen=True)
class Signature:
    """Names and symbolic shapes of a graph's inputs and outputs, as written in the manifest."""

    inputs: dict[str, list]
    outputs: dict[str, list]
    input_types: dict[str, str]


def signature(task: str, kind: str, vocab_size: int = 0, layers: int = 0) -> Signature:
    V, L = vocab_size, layers
    if task == "digits":
        return Signature({"image": ["N", 1, 28, 28]}, {"logits": ["N", 10], "probabilities": ["N", 10]},
                         {"image": "float32"})  # fmt: skip
    if task == "points":
        return Signature({"points": ["N", 2]}, {"logit": ["N", 1], "probability": ["N", 1]}, {"points": "float32"})
    if kind == "step":
        return Signature(
            {"index": ["N"], "hidden": [L, "N", V]},
            {"logits": ["N", V], "probabilities": ["N", V], "hidden_out": [L, "N", V]},
            {"index": "int64", "hidden": "float32"},
        )
    return Signature({"indices": ["N", "T"]}, {"logits": ["N", "T", V], "probabilities": ["N", "T", V]},
                     {"indices": "int64"})  # fmt: skip
