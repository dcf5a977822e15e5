"""Hashed n-gram counts: word 1-2-grams and char 2-5-grams.

Words go through scikit-learn's ``HashingVectorizer`` (MurmurHash3, stable
across versions). Char n-grams use a NumPy rolling hash instead: the
scikit-learn analyzer builds every n-gram as a Python string, which cost
about 0.75 ms per KB, against about 0.15 ms here. Both are shared by training
(``bench/train_threats.py``) and scoring, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import regex
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

CHAR_SCHEME = "rolling-2-5/1"
"""Identifies the char n-gram hashing; a model file records it."""

_SPACES = regex.compile(r"\s+")
_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio: Fibonacci hashing


def word_vectorizer(bits: int) -> HashingVectorizer:
    """Lower-cased word 1-2-grams hashed into ``2**bits`` columns (raw counts)."""
    options: dict[str, Any] = {"alternate_sign": False, "norm": None, "dtype": np.float64}
    return HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=1 << bits, **options)


class CharHasher:
    """Char 2-5-grams of the lower-cased, space-normalised text, hashed into ``2**bits`` columns.

    The text is padded with one space on each side, so word starts and ends
    are n-grams of their own. An n-gram's code points are combined by a
    polynomial rolling hash (mod 2**64), its length is mixed in, and the top
    ``bits`` bits of a Fibonacci hash pick the column.

    Args:
        bits: log2 of the number of columns.
    """

    def __init__(self, bits: int, low: int = 2, high: int = 5) -> None:
        self._shift = np.uint64(64 - bits)
        self._size = 1 << bits
        self._low, self._high = low, high

    def _columns(self, text: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        norm = " " + _SPACES.sub(" ", text.lower()).strip() + " "
        points = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        parts = []
        rolling = points.copy()
        for n in range(2, self._high + 1):
            if len(points) < n:
                break
            rolling = rolling[:-1] * _BASE + points[n - 1 :]  # rolling[i] covers points[i:i+n]
            if n >= self._low:
                parts.append(((rolling + np.uint64(n)) * _MIX) >> self._shift)
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        columns, counts = np.unique(np.concatenate(parts).astype(np.int64), return_counts=True)
        return columns, counts

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Raw counts, one CSR row per text."""
        indptr = [0]
        columns, counts = [], []
        for text in texts:
            cols, cnts = self._columns(text)
            columns.append(cols)
            counts.append(cnts)
            indptr.append(indptr[-1] + len(cols))
        data = np.concatenate(counts).astype(np.float64) if counts else np.zeros(0)
        indices = np.concatenate(columns) if columns else np.zeros(0, np.int64)
        return sp.csr_matrix((data, indices, np.array(indptr)), shape=(len(texts), self._size))
