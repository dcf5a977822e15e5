"""Incremental scanning equals one-shot scanning, for any split of any text."""

from __future__ import annotations

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidegate.detectors import PatternDetector, default_detectors, keyword_detector
from tidegate.detectors.base import Finding
from tidegate.guard.scanner import IncrementalScanner, scan_text

DETECTORS = (*default_detectors(), keyword_detector("codename", ["blue bird", "osprey"]))

PLANTS = [
    "jane.doe@example.com",
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "078-05-1121",
    "536-22-8726",
    "GB82 WEST 1234 5698 7654 32",
    "DE89370400440532013000",
    "192.168.10.254",
    "2001:db8::8a2e:370:7334",
    "(415) 555-0132",
    "+44 20 7946 0958",
    "AKIAZ7VRSQ4TXLQ2BD5W",
    "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "postgres://admin:S3cr3tPassw0rd@db.internal:5432/app",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
    "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "blue bird",
    "osprey",
]
FILLER = st.text(
    alphabet=st.sampled_from(list("abcdefghij klmnop@.-:,;!?0123456789\n\u00e9\u4e2d\u2603")),
    max_size=40,
)


def streamed(
    text: str, cuts: list[int], detectors: tuple[PatternDetector, ...], final_every: int = 1
) -> list[Finding]:
    scanner = IncrementalScanner(detectors)
    found: list[Finding] = []
    last = 0
    for k, cut in enumerate(sorted(cuts)):
        scanner.feed(text[last:cut])
        last = cut
        if k % final_every == 0:
            found += scanner.scan()
    scanner.feed(text[last:])
    found += scanner.scan(final=True)
    return sorted(found, key=lambda f: (f.start, f.end, f.detector))


@st.composite
def planted_text(draw: st.DrawFn) -> str:
    parts = [draw(FILLER)]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.sampled_from(PLANTS)))
        parts.append(draw(FILLER))
    return draw(st.sampled_from([" ", ""])).join(parts)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=planted_text(), data=st.data(), every=st.integers(1, 3))
def test_streamed_findings_equal_one_shot(text: str, data: st.DataObject, every: int) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=30))
    assert streamed(text, cuts, DETECTORS, every) == scan_text(text, DETECTORS)


@given(text=st.text(max_size=200), data=st.data())
def test_any_text_any_split(text: str, data: st.DataObject) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=20))
    assert streamed(text, cuts, DETECTORS) == scan_text(text, DETECTORS)


def test_every_single_cut_of_planted_values() -> None:
    for value in PLANTS:
        text = f"see {value} here"
        expected = scan_text(text, DETECTORS)
        assert expected, value
        for cut in range(len(text) + 1):
            assert streamed(text, [cut], DETECTORS) == expected, (value, cut)
        assert streamed(text, list(range(len(text))), DETECTORS) == expected


def test_one_shot_matches_detector_reference() -> None:
    text = "mail jane.doe@example.com and bob@example.org"
    email = next(d for d in DETECTORS if d.name == "email")
    assert scan_text(text, [email]) == list(email.find_all(text))


def test_buffer_stays_bounded_on_long_streams() -> None:
    """Linear cost: the scanner keeps a bounded tail, never the whole stream."""
    scanner = IncrementalScanner(DETECTORS)
    reach = max(d.max_match_chars + d.context_chars for d in DETECTORS)
    for _ in range(20_000):
        scanner.feed("the quick brown fox, 42 times. ")
        scanner.scan()
        assert scanner.buffered_chars <= reach + 64
    assert scanner.end == 20_000 * 31


def test_settled_marks_the_earliest_undecided_candidate() -> None:
    ssn = next(d for d in DETECTORS if d.name == "us_ssn")
    scanner = IncrementalScanner([ssn])
    scanner.feed("The SSN is 536-")
    assert scanner.scan() == []
    assert scanner.settled() == len("The SSN is ")  # "536-" might be an SSN
    scanner.feed("22-8726 ok")
    (finding,) = scanner.scan()
    assert (finding.start, finding.end) == (11, 22)


def test_empty_detector_set() -> None:
    scanner = IncrementalScanner(())
    scanner.feed("anything")
    assert scanner.scan() == []
    assert scanner.settled() == 8


def test_zero_context_detector() -> None:
    detector = PatternDetector("abc", "custom", "ABC", regex.compile(r"abc"), 3, context_chars=0)
    assert streamed("xxabcxxabc", [1, 3, 4, 8], (detector,)) == scan_text("xxabcxxabc", [detector])


@given(text=planted_text())
def test_anchor_prefilter_loses_nothing(text: str) -> None:
    """The anchored scan finds exactly what a plain left-to-right search finds."""
    for detector in DETECTORS:
        assert scan_text(text, [detector]) == list(detector.find_all(text)), detector.name


def test_anchored_detectors_declare_a_reach() -> None:
    anchored = {d.name: d.anchor_reach for d in DETECTORS if d.anchor is not None}
    assert anchored == {
        "email": 64,
        "iban": 1,
        "ip_address": 4,
        "mailchimp_api_key": 32,
        "connection_string_password": 25,
    }


@given(text=st.text(alphabet=st.sampled_from(list("0123456789abcdefGBDE:. ")), max_size=80))
def test_anchor_prefilter_on_address_like_noise(text: str) -> None:
    for detector in DETECTORS:
        if detector.anchor is not None:
            assert scan_text(text, [detector]) == list(detector.find_all(text)), detector.name


def _pat(name: str, pattern: str, width: int) -> PatternDetector:
    return PatternDetector(name, "custom", name.upper(), regex.compile(pattern), width, 0)


HIDING = (
    # One pattern whose long branch can be partial while a short one is complete
    # further right: regex reports the complete one first.
    (_pat("hide", r"a[a-z ]{10}|bc", 11),),
    # The same split over two detectors (each scanned on its own).
    (_pat("long", r"a[a-z ]{10}", 11), _pat("short", r"bc", 2), _pat("other", r"zz", 2)),
)


@pytest.mark.parametrize("detectors", HIDING)
@given(text=st.text(alphabet=st.sampled_from(list("abcz ")), max_size=40), data=st.data())
def test_complete_match_never_hides_an_earlier_partial(
    detectors: tuple[PatternDetector, ...], text: str, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=15))
    assert streamed(text, cuts, detectors) == scan_text(text, detectors)


def test_first_chars_cover_every_match_start() -> None:
    """A detector is skipped on deltas without its first chars: the sets must be right."""
    from tidegate.guard.scanner import DetectorSet

    detector_set = DetectorSet.build(DETECTORS)
    texts = [f"x {value} y" for value in PLANTS] + [p.upper() for p in PLANTS]
    for detector, first in zip(detector_set.detectors, detector_set.starts, strict=True):
        for text in texts:
            for match in detector.pattern.finditer(text):
                assert first is None or match.group()[:1] in first, detector.name


def test_first_chars_analysis() -> None:
    from tidegate.detectors.bounds import first_chars

    assert first_chars(r"(?<![a-z])ab|c?d") == frozenset("acd")
    assert first_chars(r"(?i)ab") == frozenset("aA")
    assert first_chars(r"x(?i:y)") == frozenset("x")
    assert first_chars(r"(?i:[a-b]{2})1") == frozenset("abAB")
    assert first_chars(r"\w{2}") is None  # a class too wide to be worth it
    assert first_chars(r"a?") is None  # can match the empty string
