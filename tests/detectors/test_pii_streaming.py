"""Every PII table value streams: any single cut gives the one-shot findings.

The context-word detectors (passport, driver's licence, routing and NHS
numbers) keep the keyword inside their bounded match, so the stream guard's
holdback covers them like any other pattern.
"""

from __future__ import annotations

import pytest

from tests.detectors.test_pii import CARD_CASES, PHONE_CASES
from tests.detectors.test_pii_ids import TABLES
from tidegate.detectors import PatternDetector
from tidegate.detectors.pii import CREDIT_CARD, PHONE
from tidegate.guard.scanner import IncrementalScanner, scan_text

POSITIVES = [
    (detector, text)
    for detector, cases in [*TABLES, (CREDIT_CARD, CARD_CASES), (PHONE, PHONE_CASES)]
    for text, count, _ in cases
    if count
]


@pytest.mark.parametrize(
    ("detector", "text"), POSITIVES, ids=[f"{d.name}:{t}" for d, t in POSITIVES]
)
def test_every_single_cut_equals_one_shot(detector: PatternDetector, text: str) -> None:
    expected = scan_text(text, [detector])
    assert expected == list(detector.find_all(text))
    for cut in range(len(text) + 1):
        scanner = IncrementalScanner([detector])
        scanner.feed(text[:cut])
        found = scanner.scan()
        scanner.feed(text[cut:])
        found += scanner.scan(final=True)
        assert found == expected, cut
