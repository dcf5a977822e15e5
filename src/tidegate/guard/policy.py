"""Policies resolved against detectors, per direction, and redaction.

A :class:`Plan` is everything the guard needs for one direction: which
detectors to run, which policies each detector's findings fall under, and
which detectors *enforce* (redact or block) and so bound the holdback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tidegate.config import CustomDetectorConfig, TidegateConfig
from tidegate.detectors import (
    Finding,
    PatternDetector,
    default_detectors,
    keyword_detector,
    regex_detector,
    resolve,
)
from tidegate.detectors.classifier import ClassifierDetector
from tidegate.detectors.threats import BuiltinThreatClassifier, threat_detectors
from tidegate.errors import ConfigError
from tidegate.guard.scanner import DetectorSet
from tidegate.threats.cache import ModelCache

Detector = PatternDetector | ClassifierDetector

SEVERITY = {"observe": 0, "redact": 1, "block": 2}


@dataclass(frozen=True, slots=True)
class Policy:
    """A resolved policy.

    Attributes:
        name: Policy name.
        detectors: Its detectors.
        direction: ``"input"``, ``"output"`` or ``"both"``.
        action: ``"observe"``, ``"redact"`` or ``"block"``.
        placeholder: Redaction template (``{entity_type}``, ``{detector}``).
        stream_first: Classifier detectors under ``block``: release text
            before its window is judged (see ``PolicyConfig``).
    """

    name: str
    detectors: tuple[Detector, ...]
    direction: str
    action: str
    placeholder: str
    stream_first: bool = False

    def applies_to(self, direction: str) -> bool:
        """Whether the policy covers ``direction`` (``"input"``/``"output"``)."""
        return self.direction in (direction, "both")


@dataclass(frozen=True, slots=True)
class Plan:
    """What to run for one direction.

    Attributes:
        direction: ``"input"`` or ``"output"``.
        detectors: Every detector any policy of this direction uses, once.
        policies: Per detector name, its policies, most severe first.
        enforcing: Detectors under a redact or block policy; only these hold
            text back.
        detector_set: ``detectors`` compiled for scanning, shared by every
            stream of this plan.
        classifiers: The classifier detectors (``threats``, ``onnx``) any
            policy of this direction uses; they judge windows, not spans.
        classifier_hold: Whether text must be held until its window is judged
            (a classifier under an enforcing ``block`` policy with
            ``stream_first: false``).
    """

    direction: str
    detectors: tuple[PatternDetector, ...]
    policies: dict[str, tuple[Policy, ...]]
    enforcing: tuple[PatternDetector, ...]
    detector_set: DetectorSet
    classifiers: tuple[ClassifierDetector, ...] = ()
    classifier_hold: bool = False

    def top_policy(self, detector: str) -> Policy:
        """The most severe policy that covers ``detector``."""
        return self.policies[detector][0]

    def placeholder(self, finding: Finding) -> str:
        """Redaction text for ``finding``: its most severe redact policy's template."""
        for policy in self.policies[finding.detector]:
            if policy.action == "redact":
                return policy.placeholder.format(
                    entity_type=finding.entity_type, detector=finding.detector
                )
        return f"[{finding.entity_type}]"


def build_custom_detector(spec: CustomDetectorConfig) -> Detector:
    """Build a config-defined detector.

    Raises:
        ValueError: Missing pattern/keywords, an invalid or unbounded pattern,
            or an ONNX model that cannot be loaded.
    """
    if spec.type == "onnx":
        from tidegate.detectors.onnx import onnx_detector

        return onnx_detector(spec)
    if spec.type == "regex":
        if not spec.pattern:
            raise ValueError("a regex detector needs 'pattern'")
        return regex_detector(
            spec.name,
            spec.pattern,
            entity_type=spec.entity_type,
            placeholder=spec.placeholder,
            ignore_case=spec.ignore_case,
        )
    if not spec.keywords:
        raise ValueError("a keywords detector needs 'keywords'")
    return keyword_detector(
        spec.name,
        spec.keywords,
        case_sensitive=spec.case_sensitive,
        entity_type=spec.entity_type,
        placeholder=spec.placeholder,
    )


def build_policies(config: TidegateConfig, models: ModelCache | None = None) -> tuple[Policy, ...]:
    """Resolve the configured policies against built-in and custom detectors.

    In ``mode: monitor`` every policy's action becomes ``observe``: findings
    are recorded under the policy's name, and nothing is redacted, blocked
    or held back.

    Args:
        config: The configuration.
        models: Where the built-in threat model is loaded from (a new cache
            by default); it is only loaded when a detector is used.

    Raises:
        ConfigError: A custom detector is invalid, a policy names an unknown
            detector, or a ``redact`` policy names a classifier detector
            (classifiers judge windows and have no span to redact); the
            message has the key path.
    """
    classifier = BuiltinThreatClassifier(models or ModelCache())
    available: list[Detector] = [
        *default_detectors(config.detection.phone_regions),
        *threat_detectors(classifier, config.threats),
    ]
    problems = []
    for i, spec in enumerate(config.custom_detectors):
        try:
            available.append(build_custom_detector(spec))
        except ValueError as exc:
            problems.append(f"custom_detectors.{i}: {exc}")
    policies = []
    for i, p in enumerate(config.policies):
        try:
            detectors = resolve(p.detectors, available)
        except ValueError as exc:
            problems.append(f"policies.{i}.detectors: {exc}")
            continue
        if p.action == "redact":
            windowed = [d.name for d in detectors if isinstance(d, ClassifierDetector)]
            if windowed:
                problems.append(
                    f"policies.{i}.action: 'redact' cannot apply to classifier detectors "
                    f"({', '.join(windowed)}); use 'observe' or 'block' in a separate policy"
                )
                continue
        placeholder = p.placeholder or config.redaction.placeholder
        action = "observe" if config.mode == "monitor" else p.action
        policies.append(Policy(p.name, detectors, p.direction, action, placeholder, p.stream_first))
    if problems:
        raise ConfigError(problems)
    return tuple(policies)


def build_plan(policies: Sequence[Policy], direction: str, *, block_enforces: bool = True) -> Plan:
    """Build the plan for one direction.

    Args:
        policies: All resolved policies.
        direction: ``"input"`` or ``"output"``.
        block_enforces: Whether block policies hold text back (false for
            output with ``early_termination: false``, where a block only
            records its finding).
    """
    by_detector: dict[str, list[Policy]] = {}
    detectors: dict[str, PatternDetector] = {}
    classifiers: dict[str, ClassifierDetector] = {}
    for policy in policies:
        if not policy.applies_to(direction):
            continue
        for detector in policy.detectors:
            if isinstance(detector, ClassifierDetector):
                classifiers.setdefault(detector.name, detector)
            else:
                detectors.setdefault(detector.name, detector)
            by_detector.setdefault(detector.name, []).append(policy)
    ranked = {
        name: tuple(sorted(ps, key=lambda p: -SEVERITY[p.action]))
        for name, ps in by_detector.items()
    }
    enforcing_actions = {"redact", "block"} if block_enforces else {"redact"}
    enforcing = tuple(
        d for d in detectors.values() if any(p.action in enforcing_actions for p in ranked[d.name])
    )
    hold = block_enforces and any(
        p.action == "block" and not p.stream_first for name in classifiers for p in ranked[name]
    )
    chosen = tuple(detectors.values())
    return Plan(
        direction,
        chosen,
        ranked,
        enforcing,
        DetectorSet.build(chosen),
        tuple(classifiers.values()),
        hold,
    )


@dataclass(frozen=True, slots=True)
class Redaction:
    """A span to replace, in absolute chars, with its placeholder text."""

    start: int
    end: int
    text: str


def merge_redactions(spans: Iterable[Redaction]) -> list[Redaction]:
    """Merge overlapping spans, deterministically.

    Spans are ordered by (start, longest first, placeholder); overlapping
    spans (sharing at least one char) merge into one that keeps the first
    span's placeholder. Touching spans stay apart.
    """
    merged: list[Redaction] = []
    for span in sorted(spans, key=lambda r: (r.start, -r.end, r.text)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Redaction(last.start, max(last.end, span.end), last.text)
        else:
            merged.append(span)
    return merged


def redact_segment(
    text: str, offset: int, start: int, stop: int, spans: Sequence[Redaction]
) -> str:
    """The redacted form of one delta, ``[start, stop)`` of the stream.

    A span's placeholder goes into the delta where the span starts; the parts
    of a span that fall into later deltas are dropped from them. So the
    redacted deltas, joined, equal the one-shot redaction of the joined text.

    Args:
        text: Held text, starting at absolute offset ``offset``.
        offset: Absolute offset of ``text[0]``, in chars.
        start: Absolute start of the delta (>= ``offset``).
        stop: Absolute end of the delta (exclusive).
        spans: Merged, sorted redactions; every one that intersects
            ``[start, stop)`` must be known.
    """
    parts = []
    pos = start
    for span in spans:
        if span.end <= pos or span.start >= stop:
            continue
        if span.start >= pos:
            parts.append(text[pos - offset : span.start - offset])
            parts.append(span.text)
        pos = min(span.end, stop)
    parts.append(text[pos - offset : stop - offset])
    return "".join(parts)


def redact_text(text: str, spans: Sequence[Redaction]) -> str:
    """One-shot redaction of a whole text with merged, sorted spans."""
    return redact_segment(text, 0, 0, len(text), spans)
