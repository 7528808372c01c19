"""Every model of the lectures, in one registry that the CLI, the exporter and the tests share.

A model is one `ModelSpec` in `REGISTRY`; `build_model(name)` makes it, `get_spec(name)` describes it,
`load_checkpoint(path)` reads a trained one back.
The lecture architectures keep their exact layer sizes: the tests assert the parameter counts the
lectures print. Char models take int64 character indices and one-hot them inside the module, so an
exported graph needs nothing from this repository to be fed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from zoo import corpora


class ZooError(Exception):
    """A user-facing error: the message says what was wrong and what is accepted."""


# ----------------------------------------------------------------------------- digits (28x28)


def mlp() -> nn.Module:
    """Seed 002: Flatten -> 784->512 -> ReLU -> 512->512 -> ReLU -> 512->10."""
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 512),
        nn.ReLU(),
        nn.Linear(512, 512),
        nn.ReLU(),
        nn.Linear(512, 10),
    )


def cnn() -> nn.Module:
    """Lecture "MNIST_CNN" (seed 000): two 3x3 conv blocks and one Linear 3136->10."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(7 * 7 * 64, 10),
    )


def cnn_small() -> nn.Module:
    """Seed 001 (the Fashion-MNIST CNN): 5x5 convs 1->10->20, Dropout2d, Linear 320->50->10."""
    return nn.Sequential(
        nn.Conv2d(1, 10, 5),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Conv2d(10, 20, 5),
        nn.Dropout2d(0.5),
        nn.MaxPool2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(320, 50),
        nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(50, 10),
    )


def _conv_bn_block(c_in: int, c_out: int, dropout: float = 0.0) -> list[nn.Module]:
    block: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU()]
    if dropout:
        block.append(nn.Dropout(dropout))
    block.append(nn.MaxPool2d(2))
    return block


def cnn_bn() -> nn.Module:
    """Seed 002's deeper CNN: three conv(3x3)+BatchNorm+ReLU+MaxPool blocks (25, 50, 75 filters),
    dropout, then Linear 675->512 -> ReLU -> dropout -> 512->10."""
    return nn.Sequential(
        *_conv_bn_block(1, 25),
        *_conv_bn_block(25, 50, dropout=0.2),
        *_conv_bn_block(50, 75),
        nn.Flatten(),
        nn.Linear(75 * 3 * 3, 512),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(512, 10),
    )


# ----------------------------------------------------------------------------- characters


class CharRNN(nn.Module):
    """Next-character model: int64 indices [N, T] -> logits [N, T, V].

    `nn.RNN(V, V)` alone (hihello, charseq: the RNN's outputs are the logits), or a stacked RNN followed
    by Linear V->V (longseq). The one-hot encoding is a fixed identity matrix indexed by the input, which
    exports as a plain Gather and is no parameter.
    """

    def __init__(self, vocab_size: int, num_layers: int = 1, fc: bool = False, cell: str = "rnn"):
        super().__init__()
        rnn_class = {"rnn": nn.RNN, "gru": nn.GRU}[cell]
        self.vocab_size = vocab_size
        self.num_layers = num_layers
        self.register_buffer("one_hot", torch.eye(vocab_size), persistent=False)
        self.rnn = rnn_class(vocab_size, vocab_size, num_layers=num_layers, batch_first=True)
        self.fc = nn.Linear(vocab_size, vocab_size) if fc else None

    def forward_with_state(
        self, indices: torch.Tensor, hidden: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """indices [N, T], hidden [layers, N, V] or None (zeros) -> (logits [N, T, V], hidden)."""
        outputs, hidden = self.rnn(self.one_hot[indices], hidden)
        if self.fc is not None:
            outputs = self.fc(outputs)
        return outputs, hidden

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        return self.forward_with_state(indices)[0]


# ----------------------------------------------------------------------------- points


class Circles(nn.Module):
    """Seed 004: Linear 2->4 -> sigmoid -> Linear 4->1 (-> sigmoid). Returns the logit [N, 1]; the
    final sigmoid lives in the loss (BCE with logits, the same function as sigmoid + BCE but stable)
    and in the exported graph's probability output."""

    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(2, 4)
        self.linear2 = nn.Linear(4, 1)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        return self.linear2(torch.sigmoid(self.linear1(points)))


# ----------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str  # "digits" | "text" | "points"
    build: Callable[[], nn.Module]
    input: str
    description: str
    corpus: str | None = None  # text models: the built-in text they learn


def _char_model(corpus: str, **kwargs) -> Callable[[], nn.Module]:
    return lambda: CharRNN(len(corpora.vocab(corpus)), **kwargs)


_DIGITS_INPUT = "float32 [N,1,28,28], 0..1, white ink on black"
_TEXT_INPUT = "int64 [N,T] character indices"

REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec("mlp", "digits", mlp, _DIGITS_INPUT, "3-layer perceptron 784-512-512-10 (seed 002)"),
        ModelSpec("cnn", "digits", cnn, _DIGITS_INPUT, "2 conv 3x3 (32, 64) + Linear 3136->10 (MNIST_CNN)"),
        ModelSpec("cnn-small", "digits", cnn_small, _DIGITS_INPUT, "2 conv 5x5 (10, 20) + 320-50-10 (seed 001)"),
        ModelSpec("cnn-bn", "digits", cnn_bn, _DIGITS_INPUT, "3 conv 3x3 + BatchNorm (25, 50, 75) + 675-512-10 (seed 002)"),
        ModelSpec("hihello", "text", _char_model("hihello"), _TEXT_INPUT, 'nn.RNN(5, 5) on "hihello" (seeds 000, 003)', "hihello"),
        ModelSpec("charseq", "text", _char_model("charseq"), _TEXT_INPUT, 'nn.RNN(10, 10) on "if you want you"', "charseq"),
        ModelSpec("longseq", "text", _char_model("longseq", num_layers=2, fc=True), _TEXT_INPUT,
                  "2-layer nn.RNN(25, 25) + Linear 25->25, the 180-char sentence (seed 003)", "longseq"),
        ModelSpec("longseq-gru", "text", _char_model("longseq", num_layers=2, fc=True, cell="gru"), _TEXT_INPUT,
                  "variant: longseq with GRU cells (the RNN's successor the lectures name)", "longseq"),
        ModelSpec("circles", "points", Circles, "float32 [N,2] point (x, y)", "2-4-1 sigmoid net on two circles (seed 004)"),
    ]
}  # fmt: skip


def get_spec(name: str) -> ModelSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ZooError(f"unknown model {name!r}; known models: {', '.join(REGISTRY)}") from None


def build_model(name: str) -> nn.Module:
    return get_spec(name).build()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- trained models


def load_checkpoint(path) -> tuple[nn.Module, dict]:
    """A trained model (in eval mode) and its metrics, from a checkpoint written by `zoo.train.train`."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = build_model(blob["model"])
    model.load_state_dict(blob["state_dict"])
    return model.eval(), blob["metrics"]


def load_snapshots(path) -> list[dict[str, torch.Tensor]]:
    """The state_dict after every epoch (float16, as kept), from a `<run>-epochs.pt` written by a training
    run whose recipe keeps snapshots; `model.load_state_dict(s)` takes each one (it casts to float32)."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    sizes = [int(torch.Size(shape).numel()) for shape in blob["shapes"]]
    return [
        {
            name: part.view(shape)
            for name, part, shape in zip(blob["names"], row.split(sizes), blob["shapes"], strict=True)
        }
        for row in blob["weights"]
    ]


@torch.no_grad()
def generate(model: nn.Module, prefix: str, length: int, vocab: list[str]) -> str:
    """Greedy generation carrying the hidden state, one character at a time (what the step model does)."""
    model.eval()
    dev = next(model.parameters()).device
    logits, hidden = model.forward_with_state(torch.tensor([corpora.encode(prefix, vocab)], device=dev))
    out = list(prefix)
    for _ in range(length):
        index = int(logits[0, -1].argmax())
        out.append(vocab[index])
        logits, hidden = model.forward_with_state(torch.tensor([[index]], device=dev), hidden)
    return "".join(out)
