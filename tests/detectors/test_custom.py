"""Config-defined detectors: bounded regexes and keyword lists."""

from __future__ import annotations

import pytest
import regex

from tidegate.detectors import keyword_detector, regex_detector
from tidegate.detectors.custom import MAX_CUSTOM_MATCH_CHARS

Case = tuple[str, int, list[tuple[int, int]]]

TICKET = regex_detector("ticket", r"TICKET-[0-9]{4,8}")
TICKET_CASES: list[Case] = [
    ("see TICKET-1234 and TICKET-98765432", 2, [(4, 15), (20, 35)]),
    ("TICKET-123", 0, []),  # too few digits
    ("ticket-1234", 0, []),  # case-sensitive by default
]


@pytest.mark.parametrize(("text", "count", "spans"), TICKET_CASES)
def test_regex_detector_cases(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    findings = list(TICKET.find_all(text))
    assert len(findings) == count
    assert [(f.start, f.end) for f in findings] == spans


def test_regex_detector_fields() -> None:
    assert TICKET.group == "custom"
    assert TICKET.entity_type == "TICKET"
    assert TICKET.max_match_chars == 15
    assert TICKET.context_chars == 0
    assert TICKET.redaction() == "[TICKET]"
    assert isinstance(TICKET.pattern, regex.Pattern)


def test_regex_detector_options() -> None:
    d = regex_detector(
        "emp-id",
        r"\bemp[0-9]{5}\b",
        entity_type="EMPLOYEE_ID",
        placeholder="<id>",
        ignore_case=True,
    )
    assert d.entity_type == "EMPLOYEE_ID"
    assert d.redaction() == "<id>"
    assert d.context_chars == 1  # \b looks at one neighbour
    assert d.max_match_chars == 8
    assert [(f.start, f.end) for f in d.find_all("EMP12345, emp54321x")] == [(0, 8)]
    assert regex_detector("emp-id", r"x").entity_type == "EMP_ID"


def test_regex_detector_lookaround_reach() -> None:
    d = regex_detector("code", r"(?<=code: )[A-Z]{3}(?![0-9]{2})")
    assert d.context_chars == 6
    assert d.max_match_chars == 3


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        (r"a+", "unbounded"),
        (r"a*b", "unbounded"),
        (r"[0-9]{2,}", "unbounded"),
        (r"(", "invalid pattern"),
        (r"a{0,3}", "empty string"),
        (r"x{1,10000}", "limit"),
        (r"\p{L}{1,5}", "cannot analyse"),  # regex-only syntax
    ],
)
def test_regex_detector_rejects(pattern: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        regex_detector("bad", pattern)


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "-leading"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(ValueError, match="invalid detector name"):
        regex_detector(name, "x")


def test_limit_is_inclusive() -> None:
    assert regex_detector("big", rf"x{{1,{MAX_CUSTOM_MATCH_CHARS}}}").max_match_chars == 8192


CODENAMES = keyword_detector("codenames", ["Project Falcon", "Falcon", "C++", "a.b"])
KEYWORD_CASES: list[Case] = [
    ("Project Falcon ships", 1, [(0, 14)]),  # longest keyword wins
    ("falcon and FALCON", 2, [(0, 6), (11, 17)]),  # case-insensitive by default
    ("Falconry, falcons", 0, []),  # whole words only
    ("we use C++ here", 1, [(7, 10)]),  # punctuation at the edge still works
    ("a.b but not axb", 1, [(0, 3)]),  # metacharacters are literal
]


@pytest.mark.parametrize(("text", "count", "spans"), KEYWORD_CASES)
def test_keyword_detector_cases(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    findings = list(CODENAMES.find_all(text))
    assert len(findings) == count
    assert [(f.start, f.end) for f in findings] == spans


def test_keyword_detector_fields() -> None:
    assert CODENAMES.group == "custom"
    assert CODENAMES.entity_type == "CODENAMES"
    assert CODENAMES.max_match_chars == len("Project Falcon")
    assert CODENAMES.context_chars == 1


def test_keyword_detector_options() -> None:
    exact = keyword_detector("k", ["Falcon"], case_sensitive=True, whole_word=False)
    assert [(f.start, f.end) for f in exact.find_all("falcon Falconry")] == [(7, 13)]
    assert exact.context_chars == 0
    labelled = keyword_detector("k", ["x"], entity_type="SECRET_WORD", placeholder="***")
    assert labelled.entity_type == "SECRET_WORD"
    assert labelled.redaction() == "***"


@pytest.mark.parametrize("keywords", [[], [""], "falcon"])
def test_keyword_detector_rejects(keywords: list[str]) -> None:
    with pytest.raises(ValueError, match="keywords"):
        keyword_detector("k", keywords)
