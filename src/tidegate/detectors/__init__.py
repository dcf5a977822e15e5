"""Detectors: bounded patterns with validators that find PII and secrets in text.

Public API:

* :class:`Finding`, :class:`PatternDetector`, :class:`DetectorError`: the types.
* :func:`default_detectors`: every built-in detector (groups ``pii`` and
  ``secrets``); :data:`DETECTOR_GROUPS` names them by group.
* :func:`resolve`: turn config names (detectors or groups) into detectors.
* :func:`regex_detector`, :func:`keyword_detector`: build ``custom`` detectors.
* :func:`pattern_bounds`: measure a pattern's longest match and look-around reach.
"""

from tidegate.detectors.base import DetectorError, Finding, PatternDetector
from tidegate.detectors.bounds import PatternBounds, UnboundedPatternError, pattern_bounds
from tidegate.detectors.custom import keyword_detector, regex_detector
from tidegate.detectors.registry import (
    DETECTOR_GROUPS,
    UnknownDetectorError,
    default_detectors,
    resolve,
)

__all__ = [
    "DETECTOR_GROUPS",
    "DetectorError",
    "Finding",
    "PatternBounds",
    "PatternDetector",
    "UnboundedPatternError",
    "UnknownDetectorError",
    "default_detectors",
    "keyword_detector",
    "pattern_bounds",
    "regex_detector",
    "resolve",
]
