"""Phone numbers: a bounded candidate pattern, decided by libphonenumber.

The candidate pattern proposes digit groups written like phone numbers; the
validator parses them with Google's libphonenumber (the ``phonenumbers``
port), the same rules behind its ``PhoneNumberMatcher``: a number written
with ``+`` (or ``00``) is checked against its country's numbering plan, a
national number against each configured region in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import phonenumbers
import regex

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.pii._common import pii_detector

__all__ = ["DEFAULT_PHONE_REGIONS", "PHONE", "is_valid_phone", "phone_detector"]

DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IN", "CA", "AU", "BR", "IT", "ES", "NL", "JP",
)  # fmt: skip
"""Regions tried for numbers written without a country code (ISO 3166-1
alpha-2). Numbers written with ``+`` or ``00`` are checked for every country."""

_PHONE_PATTERN = (
    # The leading look-ahead only restates the first char; it lets the engine
    # skip ahead quickly instead of trying the look-behinds at every position.
    r"(?=[0-9+(])"
    r"(?<![0-9A-Za-z_+.\-/])(?<![0-9] )"
    r"(?:"
    # international: + or 00 (ITU-T E.164 prefix), country code, up to 6 groups
    r"(?:\+|00)[1-9][0-9]{0,2}(?:[ .\-]?\([0-9]{1,4}\))?(?:[ .\-]?[0-9]{1,5}){1,6}"
    # national, area code in parentheses: (415) 555-2671, (03) 5327 5996
    r"|(?:1[ .\-]?)?\([0-9]{2,5}\)[ .\-]?[0-9]{2,5}(?:[ .\-][0-9]{2,5}){0,2}"
    # national, separated groups: 415-555-2671, 089 72 63 41, 06-10446904,
    # 02.27.96.63.08
    r"|(?:1[ .\-])?[0-9]{2,6}(?:[ .\-][0-9]{2,8}){1,4}"
    r")"
    r"(?:[ ]?(?:x|ext\.?|extension)[ ]?[0-9]{1,6})?"  # extension
    r"(?![0-9A-Za-z_]|[.:\-][0-9])"
)

# Shapes that are not phone numbers even when some numbering plan accepts the
# digits: dates and year ranges, SSNs, US ZIP+4 codes, IPv4 dotted quads.
_NOT_A_PHONE = regex.compile(
    r"(?:1[6-9]|20)[0-9]{2}[-./ ](?:[0-9]{2}|(?:1[6-9]|20)[0-9]{2})(?:[-./ ][0-9]{2})?"
    r"|[0-9]{1,2}[-./][0-9]{1,2}[-./](?:1[6-9]|20)[0-9]{2}"
    r"|[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}|[0-9]{5}-[0-9]{4}"
    r"|[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
)
_EXTENSION = regex.compile(r"[ ]?(?:x|ext\.?|extension)[ ]?[0-9]{1,6}$")
# Layouts that only phone numbers use: the North American 3-3-4 groups, an area
# code in parentheses, a national trunk prefix 0 followed by separated groups.
_PHONE_LAYOUT = regex.compile(
    r"(?:1[ .\-]?)?(?:\([0-9]{3}\)[ ]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}"
    r"|(?:1[ .\-]?)?\([0-9]{2,5}\).{4,20}"
    r"|0[0-9]{1,5}[ .\-][0-9][0-9 .\-]{5,20}"
)
_MIN_NATIONAL_DIGITS = 8
_RUNS = ("01234567890123456789", "98765432109876543210")


def _is_dummy(digits: str) -> bool:
    """Placeholder numbers: ``123-456-7890``, ``555-555-5555``, ``000 0000 0000``."""
    return len(set(digits)) <= 2 or any(digits in run for run in _RUNS)


def _possible(number: phonenumbers.PhoneNumber) -> bool:
    """A length that the country's plan allows for a full (not local-only) number."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    return bool(reason == phonenumbers.ValidationResult.IS_POSSIBLE)


def is_valid_phone(text: str, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> bool:
    """Validate a phone number candidate with libphonenumber.

    Rules, in order:

    * Dates and year ranges (``2011-12``, ``2014-02-13``), SSN-shaped groups
      (``536-22-1234``), ZIP+4 codes (``94103-1234``), dotted quads and
      placeholders (``123-456-7890``, ``555-555-5555``) are rejected.
    * With ``+`` or ``00`` (the ITU-T E.164 international prefix): accepted
      when the length fits a full number of that country's plan
      (``is_possible_number_with_reason`` is ``IS_POSSIBLE``, not
      local-only). The explicit prefix is the evidence.
    * Without: at least 8 digits (shorter local numbers are indistinguishable
      from counts and street numbers), then accepted when
      ``is_valid_number`` holds for one of ``regions``, or, for layouts only
      phone numbers use (``(415) 555-0134``, ``415-555-0134``,
      ``06-10446904``, ``02.27.96.63.08``), when the length fits a full
      number of one of them.

    Args:
        text: The candidate, e.g. ``"(415) 555-2671"`` or ``"+44 20 7946 0958"``,
            optionally with an extension (``x123``).
        regions: ISO 3166-1 alpha-2 regions for numbers without a country code.

    Returns:
        True if the candidate is taken for a phone number.
    """
    core = _EXTENSION.sub("", text)
    if _NOT_A_PHONE.fullmatch(core) or _is_dummy("".join(c for c in core if c.isdigit())):
        return False
    if core.startswith(("+", "00")):
        try:
            parsed = phonenumbers.parse("+" + core[2:] if core[0] == "0" else core)
        except phonenumbers.NumberParseException:
            return False
        return _possible(parsed)
    if sum(c.isdigit() for c in core) < _MIN_NATIONAL_DIGITS:
        return False
    layout = _PHONE_LAYOUT.fullmatch(core) is not None
    for region in regions:
        try:
            parsed = phonenumbers.parse(core, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
        if layout and _possible(parsed):
            return True
    return False


def phone_detector(regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> PatternDetector:
    """Build the phone number detector for a set of default regions.

    Bare digit runs (``4155552671``) are not candidates unless written with a
    ``+``: they are indistinguishable from order numbers and IDs. National
    numbers need separators or an area code in parentheses.

    Args:
        regions: ISO 3166-1 alpha-2 regions tried, in order, for numbers written
            without a country code. Each extra region raises recall on foreign
            national formats and lowers precision on digit groups in prose.

    Returns:
        A detector named ``phone`` (entity ``PHONE_NUMBER``), score 0.75.

    Raises:
        ValueError: ``regions`` is empty or names a region libphonenumber does
            not know.
    """
    regions = tuple(r.upper() for r in regions)
    known = phonenumbers.SUPPORTED_REGIONS
    if not regions or any(r not in known for r in regions):
        raise ValueError(f"phone regions must be non-empty ISO 3166 codes, got {regions!r}")
    validator = partial(is_valid_phone, regions=regions)
    return pii_detector("phone", "PHONE_NUMBER", _PHONE_PATTERN, validator, 0.75)


PHONE = phone_detector()
"""Phone numbers for :data:`DEFAULT_PHONE_REGIONS` plus any ``+``/``00`` number."""
