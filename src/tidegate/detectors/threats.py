"""The ``threats`` group: prompt injection, jailbreak and toxicity, from the built-in model.

All three detectors share one :class:`BuiltinThreatClassifier`, so a window
is scored once for the three labels. The model is loaded on first use (or
when an engine warms it at startup), never at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from tidegate.detectors.classifier import ClassifierDetector
from tidegate.threats.cache import ModelCache

if TYPE_CHECKING:  # config imports the detectors package (phone regions)
    from tidegate.config import ThreatsConfig

GROUP = "threats"

THREAT_TYPES: MappingProxyType[str, str] = MappingProxyType(
    {"prompt_injection": "PROMPT_INJECTION", "jailbreak": "JAILBREAK", "toxicity": "TOXICITY"}
)
"""Detector name -> entity type (also its ``threat_type``), in reporting order."""

LABELS = tuple(THREAT_TYPES.values())


class BuiltinThreatClassifier:
    """The shipped model as a :class:`~tidegate.detectors.classifier.TextClassifier`.

    Args:
        models: Where the model is loaded from (shared per process).
    """

    name = "tidegate-threats"
    labels = LABELS

    def __init__(self, models: ModelCache) -> None:
        self._models = models

    def warm(self) -> None:
        """Load the model now.

        Raises:
            OSError: The model file is missing.
            ValueError: It is invalid.
        """
        self._models.builtin()

    def score(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """(prompt injection, jailbreak, toxicity) scores per text."""
        return self._models.builtin().score(texts)

    def default_threshold(self, label: str) -> float:
        """The threshold shipped with the model for ``label`` (chosen on development data)."""
        return self._models.builtin().thresholds[label]


def threat_detectors(
    classifier: BuiltinThreatClassifier, config: ThreatsConfig
) -> tuple[ClassifierDetector, ...]:
    """The three built-in threat detectors, with their configured thresholds.

    Args:
        classifier: The shared model.
        config: ``threats`` config (a threshold of None means the shipped one).
    """
    thresholds = {
        "prompt_injection": config.prompt_injection.threshold,
        "jailbreak": config.jailbreak.threshold,
        "toxicity": config.toxicity.threshold,
    }
    return tuple(
        ClassifierDetector(name, GROUP, entity, classifier, (entity,), thresholds[name])
        for name, entity in THREAT_TYPES.items()
    )
