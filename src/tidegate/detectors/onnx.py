"""``type: onnx`` custom detectors: your own text classifier, exported to ONNX.

For models such as Llama Prompt Guard 2 or a DeBERTa injection classifier.
Needs the ``tidegate[onnx]`` extra (``onnxruntime`` and ``tokenizers``).

The model contract:

* inputs: ``input_ids`` (int64, ``[batch, tokens]``), and optionally
  ``attention_mask`` and ``token_type_ids`` (same shape), fed when the model
  declares them;
* output: its first output, logits of shape ``[batch, len(labels)]``; a softmax
  turns them into probabilities.

The tokenizer is a Hugging Face ``tokenizer.json`` (the ``tokenizers``
library), truncated to ``max_tokens`` and padded per batch with its padding
token (id 0 when it has none).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tidegate.config import CustomDetectorConfig
from tidegate.detectors.classifier import ClassifierDetector

GROUP = "custom"


class OnnxClassifier:
    """An ONNX text classifier (a :class:`~tidegate.detectors.classifier.TextClassifier`).

    Args:
        name: Name for logs (the detector's name).
        model_path: The ``.onnx`` file.
        tokenizer_path: The ``tokenizer.json`` file.
        labels: Class names, in the order of the model's output columns.
        max_tokens: Tokens per text fed to the model.

    Raises:
        ValueError: ``tidegate[onnx]`` is not installed, a file cannot be
            loaded, or the model does not take ``input_ids`` or its output
            width differs from ``len(labels)``.
    """

    def __init__(
        self,
        name: str,
        model_path: str | Path,
        tokenizer_path: str | Path,
        labels: Sequence[str],
        max_tokens: int,
    ) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ValueError("type 'onnx' needs the extra: pip install 'tidegate[onnx]'") from exc
        self.name = name
        self.labels = tuple(labels)
        try:
            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1  # the engine's worker threads give the parallelism
            self._session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ValueError(f"cannot load the ONNX model or tokenizer: {exc}") from exc
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._inputs = {i.name for i in self._session.get_inputs()}
        if "input_ids" not in self._inputs:
            raise ValueError(
                f"the ONNX model has no 'input_ids' input (it has {sorted(self._inputs)})"
            )
        width = self._session.get_outputs()[0].shape[-1]
        if isinstance(width, int) and width != len(self.labels):
            raise ValueError(
                f"the ONNX model outputs {width} classes but {len(self.labels)} labels are given"
            )
        self._pad = self._tokenizer.padding["pad_id"] if self._tokenizer.padding else 0

    def warm(self) -> None:
        """Nothing to do: the session is created in the constructor."""

    def default_threshold(self, label: str) -> float:
        """0.5 (ONNX detectors always carry their configured threshold)."""
        return 0.5

    def score(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """Class probabilities per text, in the order of ``labels``.

        Raises:
            ValueError: The model's output has the wrong shape.
        """
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts))
        length = max(1, max(len(e.ids) for e in encodings))
        ids = np.full((len(texts), length), self._pad, dtype=np.int64)
        mask = np.zeros((len(texts), length), dtype=np.int64)
        types = np.zeros((len(texts), length), dtype=np.int64)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
            types[row, : len(enc.type_ids)] = enc.type_ids
        feed: dict[str, Any] = {"input_ids": ids}
        if "attention_mask" in self._inputs:
            feed["attention_mask"] = mask
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = types
        logits = np.asarray(self._session.run(None, feed)[0], dtype=np.float64)
        if logits.shape != (len(texts), len(self.labels)):
            raise ValueError(f"the ONNX model returned logits of shape {logits.shape}")
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return [tuple(float(p) for p in row) for row in probs]


def onnx_detector(spec: CustomDetectorConfig) -> ClassifierDetector:
    """Build a ``type: onnx`` detector from config.

    Its score is the summed probability of every label but the first (the
    benign class); its entity type is ``entity_type`` when given, else the
    most probable threat label.

    Raises:
        ValueError: Missing ``model_path``, ``tokenizer_path`` or ``labels``
            (at least two), or the model cannot be loaded.
    """
    if not spec.model_path or not spec.tokenizer_path:
        raise ValueError("an onnx detector needs 'model_path' and 'tokenizer_path'")
    if len(spec.labels) < 2:
        raise ValueError(
            "an onnx detector needs 'labels': the benign class first, then the threats"
        )
    classifier = OnnxClassifier(
        spec.name, spec.model_path, spec.tokenizer_path, spec.labels, spec.max_tokens
    )
    return ClassifierDetector(
        spec.name, GROUP, spec.entity_type or "", classifier, spec.labels[1:], spec.threshold
    )
