"""The lectures' built-in texts and their vocabularies.

The lectures build the vocabulary with `list(set(text))`. Python randomises string hashing per process,
so that order changes between runs and a model saved in one process decodes the wrong characters in
another. Here the vocabulary is always `sorted(set(text))`, and it is saved with every model.
"""

from __future__ import annotations

CORPORA: dict[str, str] = {
    "hihello": "hihello",
    "charseq": "if you want you",
    "longseq": (
        "if you want to build a ship, don't drum up people together to "
        "collect wood and don't assign them tasks and work, but rather "
        "teach them to long for the endless immensity of the sea."
    ),
}

# longseq trains on windows of this many characters, as the lecture does.
LONGSEQ_WINDOW = 10


def vocab(corpus: str) -> list[str]:
    """The sorted characters of a built-in text: the same list in every process."""
    return sorted(set(CORPORA[corpus]))


def encode(text: str, vocab: list[str]) -> list[int]:
    """Characters -> indices; raises ValueError naming the characters outside `vocab`."""
    index = {c: i for i, c in enumerate(vocab)}
    unknown = sorted({c for c in text if c not in index})
    if unknown:
        raise ValueError(f"characters {unknown} are not in the vocabulary {''.join(vocab)!r}")
    return [index[c] for c in text]


def decode(indices, vocab: list[str]) -> str:
    return "".join(vocab[i] for i in indices)


def training_pairs(corpus: str) -> list[tuple[str, str]]:
    """(input, target) strings, target shifted by one character.

    hihello and charseq: the whole text at once. longseq: the lecture's sliding windows of 10, plus the
    whole sentence, so that a model that carries its hidden state (the step model) can generate all of it.
    """
    text = CORPORA[corpus]
    pairs = [(text[:-1], text[1:])]
    if corpus == "longseq":
        n = LONGSEQ_WINDOW
        pairs += [(text[i : i + n], text[i + 1 : i + n + 1]) for i in range(len(text) - n)]
    return pairs
