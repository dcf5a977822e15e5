"""Classifier detectors: a text classifier's score against a threshold.

Unlike a :class:`~tidegate.detectors.base.PatternDetector`, a classifier does
not find spans: it judges a whole piece of text (a *window*) and returns a
score per label. Its findings therefore cover the window it judged. The guard
runs them through a separate path (:mod:`tidegate.guard.windows`), and never
on the event loop of the gateway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tidegate.detectors.base import Finding


class TextClassifier(Protocol):
    """A model that scores texts, one probability per label.

    Implementations must be safe to call from several threads at once and
    must not keep per-call state.

    Attributes:
        name: Model name, for logs.
        labels: The labels it scores, in column order.
    """

    name: str
    labels: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """Score texts.

        Args:
            texts: The texts (windows) to judge.

        Returns:
            One tuple per text, one probability in [0, 1] per label.
        """
        ...

    def warm(self) -> None:
        """Load the model now (engines call this at startup, so that a missing
        or broken model fails there and not on the first request)."""
        ...

    def default_threshold(self, label: str) -> float:
        """The threshold to use for ``label`` when the config gives none."""
        ...


@dataclass(frozen=True, slots=True)
class ClassifierDetector:
    """One label of a text classifier, used as a detector.

    Attributes:
        name: Detector name used in config (``"prompt_injection"``).
        group: Detector group (``"threats"`` or ``"custom"``).
        entity_type: Entity label reported, also the ``threat_type``
            (``"PROMPT_INJECTION"``); empty to report the label that scored
            highest among ``labels`` (ONNX models with several threat labels).
        classifier: The model.
        labels: The model labels this detector reports; their probabilities
            are summed into its score.
        threshold: Score at or above which a window is flagged, in [0, 1];
            None for the classifier's own default (the shipped threshold).
    """

    name: str
    group: str
    entity_type: str
    classifier: TextClassifier
    labels: tuple[str, ...]
    threshold: float | None

    def effective_threshold(self) -> float:
        """The threshold in force (configured, or the classifier's default)."""
        if self.threshold is not None:
            return self.threshold
        return min(self.classifier.default_threshold(label) for label in self.labels)

    def judge(self, scores: Sequence[float], start: int, end: int) -> Finding | None:
        """Turn a window's scores into a finding, or None below the threshold.

        Args:
            scores: The classifier's output for the window, in the order of
                ``classifier.labels``.
            start: Absolute offset of the window's first char.
            end: Absolute offset one past its last char.
        """
        columns = self.classifier.labels
        mine = [(scores[columns.index(label)], label) for label in self.labels]
        score = min(1.0, max(0.0, sum(p for p, _ in mine)))
        if score < self.effective_threshold():
            return None
        entity = self.entity_type or max(mine)[1]
        return Finding(self.name, entity, start, end, round(score, 4))
