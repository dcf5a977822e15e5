"""The built-in detector catalogue and name resolution for config.

All state here is immutable: detectors are frozen dataclasses held in tuples,
and :data:`DETECTOR_GROUPS` is a read-only mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Protocol, TypeVar

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.pii import PII_DETECTORS, pii_detectors
from tidegate.detectors.secrets import SECRET_DETECTORS
from tidegate.detectors.threats import THREAT_TYPES

__all__ = ["DETECTOR_GROUPS", "UnknownDetectorError", "default_detectors", "resolve"]

DETECTOR_GROUPS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "pii": tuple(d.name for d in PII_DETECTORS),
        "secrets": tuple(d.name for d in SECRET_DETECTORS),
        "threats": tuple(THREAT_TYPES),
    }
)
"""Built-in group name -> names of its detectors, in reporting order."""


class _Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def group(self) -> str: ...


D = TypeVar("D", bound=_Named)


class UnknownDetectorError(KeyError, ValueError):
    """A configured name is neither a detector nor a group.

    Subclasses both ``KeyError`` and ``ValueError`` so callers may catch either.
    """

    def __str__(self) -> str:
        """The plain message (``KeyError`` would show it quoted)."""
        return str(self.args[0]) if self.args else ""


def default_detectors(phone_regions: Sequence[str] | None = None) -> tuple[PatternDetector, ...]:
    """All built-in pattern detectors: the PII group, then the secrets group.

    The ``threats`` group is built per engine (it needs the model cache and
    thresholds): :func:`tidegate.detectors.threats.threat_detectors`.

    Args:
        phone_regions: Regions for national phone numbers (config
            ``detection.phone_regions``); None means the default list
            (:data:`~tidegate.detectors.pii.DEFAULT_PHONE_REGIONS`).

    Returns:
        An immutable tuple of detectors.

    Raises:
        ValueError: ``phone_regions`` is empty or names an unknown region.
    """
    return pii_detectors(phone_regions) + SECRET_DETECTORS


def resolve(names: Sequence[str], available: Sequence[D]) -> tuple[D, ...]:
    """Expand configured names into detectors.

    Each name is either a detector name or a group name (the ``group`` of one
    or more ``available`` detectors: ``"pii"``, ``"secrets"``, ``"threats"``,
    ``"custom"``).
    A group expands to its detectors in ``available`` order. Duplicates are
    dropped; the first occurrence keeps its position.

    Args:
        names: Detector and group names from config, e.g. ``["pii", "jwt"]``.
        available: The detectors to choose from (pattern or classifier
            detectors), e.g. ``default_detectors()`` plus custom ones.

    Returns:
        The selected detectors, in order of first mention.

    Raises:
        TypeError: ``names`` is a single string instead of a sequence.
        ValueError: ``available`` has two detectors with the same name, or a
            detector named like a group (the name would be ambiguous).
        UnknownDetectorError: A name matches no detector and no group; the
            message lists the valid names. It is both a ``KeyError`` and a
            ``ValueError``.
    """
    if isinstance(names, str):
        raise TypeError("names must be a sequence of names, not a single string")
    by_name: dict[str, D] = {}
    groups: dict[str, list[D]] = {}
    for detector in available:
        if detector.name in by_name:
            raise ValueError(f"two available detectors are named {detector.name!r}")
        by_name[detector.name] = detector
        groups.setdefault(detector.group, []).append(detector)
    clash = sorted(set(by_name) & set(groups))
    if clash:
        raise ValueError(f"detector names clash with group names: {', '.join(clash)}")

    selected: dict[str, D] = {}
    for name in names:
        if name in groups:
            for detector in groups[name]:
                selected.setdefault(detector.name, detector)
        elif name in by_name:
            selected.setdefault(name, by_name[name])
        else:
            raise UnknownDetectorError(
                f"unknown detector or group {name!r}; groups: {', '.join(sorted(groups)) or '-'}; "
                f"detectors: {', '.join(sorted(by_name)) or '-'}"
            )
    return tuple(selected.values())
