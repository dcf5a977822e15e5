"""The built-in threat classifier: hashed n-grams plus hand-written signals, linear heads.

The model file (``data/threats.npz``, built by ``bench/train_threats.py``) holds
only numbers: inverse document frequencies, head weights, the known-4-gram
table and a JSON header. No pickle is loaded, so a file cannot run code, and
the model does not depend on the scikit-learn version that trained it beyond
the stable ``HashingVectorizer`` word hash (MurmurHash3).

Scoring one text:

1. word 1-2-grams and char 2-5-grams are hashed into ``2**bits`` columns
   each (:mod:`tidegate.threats.ngrams`), weighted ``(1 + log tf) * idf`` and
   L2-normalised per block (scikit-learn's
   ``TfidfTransformer(sublinear_tf=True)``);
2. the dense signals of :mod:`tidegate.threats.features` are computed;
3. three linear heads give logits: *attack* (any injection or jailbreak vs
   benign), *kind* (prompt injection vs jailbreak, trained on attacks only)
   and *toxicity*;
4. ``p = sigmoid(attack)``, ``t = sigmoid(kind)``; the prompt-injection score
   is ``p * min(1, 2t)`` and the jailbreak score ``p * min(1, 2(1 - t))``, so
   the more likely kind keeps the full attack score and an ambiguous attack
   counts as both; toxicity is ``sigmoid(toxicity)``;
5. a text with fewer than :data:`MIN_LETTERS` letters scores 0 on every label.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from tidegate.threats.features import FEATURES_VERSION, KNOWN_BITS, SIGNAL_NAMES, signal_matrix
from tidegate.threats.ngrams import CHAR_SCHEME, CharHasher, word_vectorizer

LABELS = ("PROMPT_INJECTION", "JAILBREAK", "TOXICITY")
"""The labels scored, in column order."""

HEADS = ("attack", "kind", "toxicity")
FORMAT = "tidegate-threats/2"
MIN_LETTERS = 8
"""Texts with fewer letters than this score 0: the model is not meant for them
(``{}`` tool arguments, numbers, single words) and is noisy there."""

Array = npt.NDArray[np.float64]


def vectorizers(bits: int) -> tuple[HashingVectorizer, CharHasher]:
    """The word and char n-gram hashers for ``2**bits`` columns each (see :mod:`.ngrams`)."""
    return word_vectorizer(bits), CharHasher(bits)


def tfidf(counts: sp.csr_matrix, idf: Array) -> sp.csr_matrix:
    """``(1 + log tf) * idf``, L2-normalised per row (sublinear TF-IDF).

    Args:
        counts: Raw hashed counts, one row per text (CSR, as the hashing
            vectorizer returns them).
        idf: Inverse document frequency per column.
    """
    out = sp.csr_matrix(counts, copy=True)
    out.sum_duplicates()
    data = (1.0 + np.log(out.data)) * idf[out.indices]
    lengths = np.diff(out.indptr)
    squares = np.zeros(len(lengths))
    rows = np.flatnonzero(lengths)
    if len(rows):
        squares[rows] = np.add.reduceat(data * data, out.indptr[rows])
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    out.data = data / np.repeat(norms, lengths)
    return out


def _letters(text: str, enough: int = MIN_LETTERS) -> int:
    count = 0
    for char in text:
        if char.isalpha():
            count += 1
            if count >= enough:
                break
    return count


def _sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


class ThreatModel:
    """The built-in threat classifier (a :class:`~tidegate.detectors.classifier.TextClassifier`).

    Immutable once built and safe to share between threads.

    Args:
        arrays: The model file's arrays (see ``bench/train_threats.py``).
        meta: Its JSON header.

    Raises:
        ValueError: The arrays do not fit the header, or the header was written
            for other signals than this code computes.
    """

    labels = LABELS

    def __init__(self, arrays: Mapping[str, npt.NDArray[Any]], meta: Mapping[str, Any]) -> None:
        if meta.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} model file")
        stale = meta.get("features") != FEATURES_VERSION or meta.get("char_ngrams") != CHAR_SCHEME
        if tuple(meta["signals"]) != SIGNAL_NAMES or stale:
            raise ValueError("the model was trained with other signals than this tidegate computes")
        self.meta = dict(meta)
        self.name = str(meta.get("name", "tidegate-threats"))
        bits = int(meta["bits"])
        size = 1 << bits
        if len(arrays["known"]) != 1 << KNOWN_BITS:
            raise ValueError("the known-4-gram table has the wrong size")
        self._word, self._char = vectorizers(bits)
        self._idf_word = arrays["idf_word"].astype(np.float64)
        self._idf_char = arrays["idf_char"].astype(np.float64)
        self._known = arrays["known"].astype(np.bool_)
        # One column per head, so that each block is a single sparse product.
        self._w_word = np.zeros((size, len(HEADS)))
        self._w_char = np.zeros((size, len(HEADS)))
        self._w_signals = np.zeros((len(SIGNAL_NAMES), len(HEADS)))
        self._bias = np.zeros(len(HEADS))
        for j, head in enumerate(HEADS):
            self._w_word[arrays[f"{head}_word_idx"], j] = arrays[f"{head}_word_val"]
            self._w_char[arrays[f"{head}_char_idx"], j] = arrays[f"{head}_char_val"]
            signal_w = arrays[f"{head}_signals"]
            if len(signal_w) != len(SIGNAL_NAMES):
                raise ValueError(f"head {head!r} has {len(signal_w)} signal weights")
            self._w_signals[:, j] = signal_w
            self._bias[j] = float(arrays[f"{head}_bias"][0])
        self.thresholds: dict[str, float] = {
            label: float(value) for label, value in meta["thresholds"].items()
        }

    @classmethod
    def load(cls, path: str | Path | None = None) -> ThreatModel:
        """Load a model file (default: the one shipped in the package).

        Raises:
            OSError: The file cannot be read.
            ValueError: It is not a valid model file.
        """
        if path is None:
            ref = resources.files("tidegate.threats") / "data" / "threats.npz"
            with resources.as_file(ref) as file:
                return cls._from_file(file)
        return cls._from_file(Path(path))

    @classmethod
    def _from_file(cls, path: Path) -> ThreatModel:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
        return cls(arrays, meta)

    def logits(self, texts: Sequence[str]) -> dict[str, Array]:
        """The three heads' logits per text (see the module docstring)."""
        word = tfidf(self._word.transform(texts), self._idf_word)
        char = tfidf(self._char.transform(texts), self._idf_char)
        signals = signal_matrix(texts, self._known)
        logits = word @ self._w_word + char @ self._w_char + signals @ self._w_signals + self._bias
        return {head: np.asarray(logits[:, j]) for j, head in enumerate(HEADS)}

    def score(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """Scores per text: (prompt injection, jailbreak, toxicity), each in [0, 1].

        Args:
            texts: The texts; an empty sequence gives an empty list.
        """
        if not texts:
            return []
        logits = self.logits(texts)
        attack = _sigmoid(logits["attack"])
        kind = _sigmoid(logits["kind"])
        toxicity = _sigmoid(logits["toxicity"])
        wordy = np.array([_letters(t) >= MIN_LETTERS for t in texts])
        injection = attack * np.minimum(1.0, 2 * kind) * wordy
        jailbreak = attack * np.minimum(1.0, 2 * (1 - kind)) * wordy
        toxicity = toxicity * wordy
        return [
            (float(a), float(b), float(c))
            for a, b, c in zip(injection, jailbreak, toxicity, strict=True)
        ]
