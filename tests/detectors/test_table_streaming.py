"""Every table value streams: any single cut gives the one-shot findings, and
the stream guard never lets a fragment of a planted value through.

The context-word detectors (passport, driver's licence, routing and NHS
numbers, ``password = ...``) keep the keyword inside their bounded match, so
the stream guard's holdback covers them like any other pattern.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.detectors.test_pii import CARD_CASES, PHONE_CASES
from tests.detectors.test_pii_ids import TABLES
from tests.detectors.test_secret_kinds import TABLE as SECRET_TABLE
from tidegate.config import parse_config
from tidegate.detectors import PatternDetector
from tidegate.detectors.pii import CREDIT_CARD, PHONE
from tidegate.detectors.secrets import SECRET_DETECTORS
from tidegate.guard.engine import GuardEngine
from tidegate.guard.scanner import IncrementalScanner, scan_text

BY_NAME = {d.name: d for d in SECRET_DETECTORS}
PII_POSITIVES = [
    (detector, text)
    for detector, cases in [*TABLES, (CREDIT_CARD, CARD_CASES), (PHONE, PHONE_CASES)]
    for text, count, _ in cases
    if count
]
SECRET_POSITIVES = [
    (BY_NAME[name], text, value)
    for name, rows in SECRET_TABLE.items()
    for text, value in rows
    if value is not None
]
POSITIVES = PII_POSITIVES + [(d, t) for d, t, _ in SECRET_POSITIVES]


def streamed(text: str, cut: int, detector: PatternDetector) -> list[object]:
    scanner = IncrementalScanner([detector])
    scanner.feed(text[:cut])
    found: list[object] = list(scanner.scan())
    scanner.feed(text[cut:])
    found += scanner.scan(final=True)
    return found


@pytest.mark.parametrize(
    ("detector", "text"), POSITIVES, ids=[f"{d.name}:{i}" for i, (d, _) in enumerate(POSITIVES)]
)
def test_every_single_cut_equals_one_shot(detector: PatternDetector, text: str) -> None:
    expected = scan_text(text, [detector])
    assert expected == list(detector.find_all(text))
    assert expected  # the table row is a positive
    step = max(1, len(text) // 60)  # long tokens: every 60th cut, and the ends
    for cut in {*range(0, len(text) + 1, step), len(text)}:
        assert streamed(text, cut, detector) == expected, cut


REDACT_ALL = {
    "policies": [
        {"name": "redact", "detectors": ["pii", "secrets"], "direction": "both", "action": "redact"}
    ]
}
VALUES = [value for _, _, value in SECRET_POSITIVES]


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=80, deadline=None)
@given(data=st.data())
def test_stream_guard_never_leaks_a_planted_secret(data: st.DataObject) -> None:
    value = data.draw(st.sampled_from(VALUES))
    row = next(t for _, t, v in SECRET_POSITIVES if v == value)
    text = f"Here you go:\n{row}\nThat is all."
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=20)))
    deltas, last = [], 0
    for cut in cuts:
        deltas.append(text[last:cut])
        last = cut
    deltas.append(text[last:])
    guard = GuardEngine(parse_config(REDACT_ALL)).new_stream()
    out: list[str] = []
    for delta in deltas:
        out += guard.push("0:content", delta)
    out += guard.end("0:content")
    released = re.sub(r"\[[A-Z0-9_]+\]", "", "".join(out))  # placeholders may share a prefix
    fragments = {value[i : i + 6] for i in range(len(value) - 5)}
    assert not any(f in released for f in fragments if f not in text.replace(value, ""))


GUARD = GuardEngine(parse_config(REDACT_ALL))


@pytest.mark.parametrize("step", [1, 7])
def test_every_planted_secret_is_redacted_in_small_deltas(step: int) -> None:
    """Every secret table value, streamed in 1-char or 7-char deltas, is redacted."""
    for _, row, value in SECRET_POSITIVES:
        if step == 1 and len(row) > 200:
            continue  # long tokens: the 7-char run covers them
        text = f"Here you go:\n{row}\nThat is all."
        guard = GUARD.new_stream()
        out: list[str] = []
        for i in range(0, len(text), step):
            out += guard.push("0:content", text[i : i + step])
        out += guard.end("0:content")
        released = re.sub(r"\[[A-Z0-9_]+\]", "", "".join(out))
        assert value not in released
        assert value[: len(value) // 2] not in released
