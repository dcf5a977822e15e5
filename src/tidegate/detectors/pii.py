"""Structured PII detectors (group ``"pii"``), in the style of Presidio's recognizers.

Each detector is one bounded ``regex`` pattern that proposes candidates plus a
validator that decides: a checksum (Luhn, ISO 13616 mod-97), an issuing rule
(SSA SSN rules, card issuer ranges), or a parser (``phonenumbers``, the standard
``ipaddress`` module). Patterns avoid ``\\b`` in favour of explicit look-arounds so
that a candidate never starts or ends in the middle of a longer run of digits.
Every declared ``max_match_chars``/``context_chars`` is checked against the
pattern's computed bounds by the test suite (see :mod:`tidegate.detectors.bounds`).
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Sequence
from functools import partial

import phonenumbers
import regex
from stdnum import iban as stdnum_iban
from stdnum import luhn

from tidegate.detectors.base import PatternDetector, Validator

__all__ = [
    "CREDIT_CARD",
    "EMAIL",
    "IBAN",
    "IP_ADDRESS",
    "PHONE",
    "PII_DETECTORS",
    "US_SSN",
    "is_valid_credit_card",
    "is_valid_email",
    "is_valid_iban",
    "is_valid_ip",
    "is_valid_phone",
    "is_valid_us_ssn",
    "phone_detector",
]

GROUP = "pii"


def _detector(
    name: str,
    entity_type: str,
    pattern: str,
    max_match_chars: int,
    context_chars: int,
    validator: Validator,
    score: float,
    anchor: str | None = None,
    anchor_reach: int = 0,
) -> PatternDetector:
    return PatternDetector.compile(
        name, GROUP, entity_type, pattern, max_match_chars, context_chars,
        validator=validator, score=score, anchor=anchor, anchor_reach=anchor_reach,
    )  # fmt: skip


# --------------------------------------------------------------------------- email

_EMAIL_PATTERN = (
    r"(?<![A-Za-z0-9_%+\-])"
    r"[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"  # local part, RFC 5321: <= 64 chars
    r"@[A-Za-z0-9.\-]{1,160}\.[A-Za-z]{2,24}"  # domain and alphabetic TLD
    r"(?![A-Za-z0-9\-])"
)


def is_valid_email(text: str) -> bool:
    """Check the structure of an e-mail address candidate.

    Rules from RFC 5321/5322 (dot-atom local part) and RFC 1035 (host names):
    the local part has no empty dot-separated atom; each domain label is 1-63
    chars and does not start or end with a hyphen; the whole address is at most
    254 chars.

    Args:
        text: The candidate, e.g. ``"jane.doe@example.com"``.

    Returns:
        True if the candidate is a well-formed address.
    """
    local, _, domain = text.rpartition("@")
    if len(text) > 254 or not local or "" in local.split("."):
        return False
    labels = domain.split(".")
    return all(0 < len(x) <= 63 and x[0] != "-" and x[-1] != "-" for x in labels)


EMAIL = _detector("email", "EMAIL_ADDRESS", _EMAIL_PATTERN, 250, 1, is_valid_email, 0.95, "@", 64)
"""E-mail addresses: max 250 chars (64 local + ``@`` + 185 domain), 1 char of context."""

# --------------------------------------------------------------------------- phone

_PHONE_PATTERN = (
    # The leading look-ahead only restates the first char; it lets the engine
    # skip ahead quickly instead of trying the look-behinds at every position.
    r"(?=[0-9+(])"
    r"(?<![0-9A-Za-z_+.\-])(?<![0-9] )"
    r"(?:"
    # international: + or 00 (ITU-T E.164 prefix), country code, up to 6 groups
    r"(?:\+|00)[1-9][0-9]{0,2}(?:[ .\-]?\([0-9]{1,4}\))?(?:[ .\-]?[0-9]{1,5}){1,6}"
    # national, area code in parentheses: (415) 555-2671, (03) 5327 5996
    r"|(?:1[ .\-]?)?\([0-9]{2,5}\)[ .\-]?[0-9]{2,5}(?:[ .\-][0-9]{2,5}){0,2}"
    # national, separated groups: 415-555-2671, 1-800-555-0199, 089 72 63 41
    r"|(?:1[ .\-])?[0-9]{2,5}(?:[ .\-][0-9]{2,5}){1,3}"
    r")"
    r"(?:[ ]?(?:x|ext\.?|extension)[ ]?[0-9]{1,6})?"  # extension
    r"(?![0-9A-Za-z_]|[.:\-][0-9])"
)


_DOTTED_QUAD = regex.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")


def is_valid_phone(text: str, regions: Sequence[str] = ("US",)) -> bool:
    """Validate a phone number candidate with Google's libphonenumber rules.

    A leading ``00`` (the ITU-T recommended international call prefix) is read
    as ``+``. Dotted quads (``86.231.85.193``) are IPv4 addresses and rejected.
    Numbers with a country code are checked against that country's
    plan; national numbers are tried against each region in turn.

    Args:
        text: The candidate, e.g. ``"(415) 555-2671"`` or ``"+44 20 7946 0958"``.
        regions: ISO 3166-1 alpha-2 regions for numbers without a country code.

    Returns:
        True if ``phonenumbers.is_valid_number`` accepts it for some region.
    """
    if _DOTTED_QUAD.fullmatch(text):  # an IPv4 address, not a phone number
        return False
    number = "+" + text[2:] if text.startswith("00") else text
    for region in regions:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def phone_detector(regions: Sequence[str] = ("US",)) -> PatternDetector:
    """Build the phone number detector for a set of default regions.

    Bare digit runs (``4155552671``) are not candidates unless written with a
    ``+``: they are indistinguishable from order numbers and IDs. National
    numbers need separators or an area code in parentheses.

    Args:
        regions: ISO 3166-1 alpha-2 regions tried, in order, for numbers written
            without a country code. Each extra region raises recall on foreign
            national formats and lowers precision on digit groups in prose.

    Returns:
        A detector named ``phone`` (entity ``PHONE_NUMBER``); max 65 chars,
        2 chars of context.

    Raises:
        ValueError: ``regions`` is empty or names a region libphonenumber does
            not know.
    """
    regions = tuple(regions)
    known = phonenumbers.SUPPORTED_REGIONS
    if not regions or any(r not in known for r in regions):
        raise ValueError(f"phone regions must be non-empty ISO 3166 codes, got {regions!r}")
    validator = partial(is_valid_phone, regions=regions)
    return _detector("phone", "PHONE_NUMBER", _PHONE_PATTERN, 65, 2, validator, 0.75)


PHONE = phone_detector()
"""Phone numbers, default region US plus any ``+``/``00`` international number."""

# --------------------------------------------------------------------- credit card

_CARD_PATTERN = (
    r"(?<![0-9A-Za-z_.\-])(?<![0-9][ \-])"
    r"[0-9](?:[ \-]?[0-9]){12,18}"
    r"(?![0-9A-Za-z_]|[ .\-][0-9])"
)

# (first IIN, last IIN, IIN digits, min length, max length) — issuer ranges as
# published by the card networks (ISO/IEC 7812 issuer identification numbers).
_CARD_RANGES: tuple[tuple[int, int, int, int, int], ...] = (
    (4, 4, 1, 13, 19),  # Visa
    (51, 55, 2, 16, 16),  # Mastercard
    (2221, 2720, 4, 16, 16),  # Mastercard 2-series
    (34, 34, 2, 15, 15),  # American Express
    (37, 37, 2, 15, 15),  # American Express
    (6011, 6011, 4, 16, 19),  # Discover
    (644, 649, 3, 16, 19),  # Discover
    (65, 65, 2, 16, 19),  # Discover / RuPay
    (300, 305, 3, 14, 19),  # Diners Club International
    (3095, 3095, 4, 14, 19),  # Diners Club International
    (36, 36, 2, 14, 19),  # Diners Club International
    (38, 39, 2, 16, 19),  # Diners Club International
    (3528, 3589, 4, 16, 19),  # JCB
    (62, 62, 2, 16, 19),  # UnionPay
    (81, 81, 2, 16, 19),  # UnionPay
    (2200, 2204, 4, 16, 19),  # Mir
    (50, 50, 2, 12, 19),  # Maestro
    (56, 58, 2, 12, 19),  # Maestro
    (60, 60, 2, 16, 16),  # RuPay
    (63, 63, 2, 12, 19),  # Maestro
    (67, 67, 2, 12, 19),  # Maestro
)


def is_valid_credit_card(text: str) -> bool:
    """Validate a payment card number candidate.

    Checks the Luhn checksum (ISO/IEC 7812-1 Annex B, via ``stdnum.luhn``) and
    that the leading digits fall in a known issuer range (Visa 4; Mastercard
    51-55 and 2221-2720; Amex 34/37; Discover 6011/644-649/65; Diners
    300-305/3095/36/38-39; JCB 3528-3589; UnionPay 62/81; Mir 2200-2204;
    Maestro/RuPay 50/56-58/60/63/67) with a length that issuer uses.

    Args:
        text: Candidate of 13-19 digits, possibly with single spaces or dashes.

    Returns:
        True if the number passes Luhn and the issuer check.
    """
    digits = text.replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 13 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return False
    return any(
        first <= int(digits[:width]) <= last and lo <= len(digits) <= hi
        for first, last, width, lo, hi in _CARD_RANGES
    )


CREDIT_CARD = _detector(
    "credit_card", "CREDIT_CARD", _CARD_PATTERN, 37, 2, is_valid_credit_card, 1.0
)
"""Payment card numbers: max 37 chars (19 digits, 18 separators), 2 chars of context."""

# ------------------------------------------------------------------------- US SSN

_SSN_PATTERN = (
    # The first digit comes before the look-behinds (which then look past it):
    # the engine finds digits quickly instead of trying look-behinds everywhere.
    r"[0-9](?<![0-9A-Za-z_.\-][0-9])(?<![0-9] [0-9])"
    r"(?:[0-9]{2}-[0-9]{2}-[0-9]{4}|[0-9]{2} [0-9]{2} [0-9]{4})"
    r"(?![0-9A-Za-z_]|[ .\-][0-9])"
)

_INVALID_SSNS = frozenset(
    {
        "078051120",  # Woolworth wallet insert (1938), voided by the SSA
        "219099999",  # printed in an SSA advertisement (1940)
        "123456789",  # common dummy
    }
)


def is_valid_us_ssn(text: str) -> bool:
    """Validate a US Social Security number candidate.

    Rules of the SSA randomization scheme (2011), which never issues: area
    ``000``, ``666`` or ``900``-``999``; group ``00``; serial ``0000``. Also
    rejects numbers the SSA voided after publication (078-05-1120,
    219-09-9999), 123-45-6789 and numbers made of a single repeated digit.

    Args:
        text: ``NNN-NN-NNNN`` or ``NNN NN NNNN``.

    Returns:
        True if the number could have been issued.
    """
    digits = text.replace("-", "").replace(" ", "")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return not (
        area in ("000", "666")
        or area[0] == "9"
        or group == "00"
        or serial == "0000"
        or digits in _INVALID_SSNS
        or len(set(digits)) == 1
    )


US_SSN = _detector("us_ssn", "US_SSN", _SSN_PATTERN, 11, 3, is_valid_us_ssn, 0.85)
"""US SSNs with dashes or spaces: 11 chars, 2 chars of context."""

# --------------------------------------------------------------------------- IBAN

_IBAN_PATTERN = (
    r"(?<![0-9A-Za-z_])"
    r"(?:(?i:[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30})"  # compact, any case
    r"|[A-Z]{2}[0-9]{2}(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)"  # print format
    r"(?![0-9A-Za-z_])"
)


def is_valid_iban(text: str) -> bool:
    """Validate an IBAN candidate.

    Uses ``stdnum.iban.is_valid``: ISO 13616 mod-97 check digits, plus the
    length and BBAN structure registered for the country (and national check
    digits where stdnum knows them).

    Args:
        text: Compact (``GB82WEST12345698765432``) or print format with spaces
            every 4 chars.

    Returns:
        True if the IBAN is valid.
    """
    return bool(stdnum_iban.is_valid(text))


# Anchor: the last country-code letter and the two check digits (offset 1).
IBAN = _detector(
    "iban", "IBAN_CODE", _IBAN_PATTERN, 43, 1, is_valid_iban, 1.0, "[A-Za-z][0-9]{2}", 1
)
"""IBANs, compact or in print format (a space every 4 chars): max 43 chars, 1 char
of context."""

# --------------------------------------------------------------------- IP address

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HEX = r"[0-9A-Fa-f]"
_IP_PATTERN = (
    r"(?=[0-9A-Fa-f]{0,4}[:.])"  # restates the start, for speed (see _PHONE_PATTERN)
    r"(?<![0-9A-Za-z_.])(?<![0-9A-Fa-f]:)(?<!::)"
    r"(?:"
    rf"(?:(?:{_HEX}{{0,4}}:){{2,6}}{_IPV4}"  # IPv6 with embedded IPv4 (RFC 4291 2.2)
    rf"|(?:{_HEX}{{0,4}}:){{2,7}}{_HEX}{{1,4}}"  # IPv6, full or ``::``-compressed
    rf"|(?:{_HEX}{{0,4}}:){{1,7}}:)"  # IPv6 ending in ``::``
    r"(?![0-9A-Za-z_]|:[0-9A-Za-z_:]|\.[0-9])"
    rf"|{_IPV4}(?![0-9A-Za-z_]|\.[0-9])"  # IPv4 dotted quad, port allowed after
    r")"
)


def is_valid_ip(text: str) -> bool:
    """Validate an IPv4 or IPv6 address candidate with the stdlib ``ipaddress``.

    IPv4 is dotted-quad with octets 0-255 and no leading zeros; IPv6 follows
    RFC 4291 section 2.2 (``::`` compression, embedded IPv4). The unspecified
    address written as a bare ``::`` is rejected: in prose it is punctuation
    (``x :: Int``), not an address.

    Args:
        text: The candidate, e.g. ``"192.0.2.1"`` or ``"2001:db8::1"``.

    Returns:
        True if ``ipaddress.ip_address`` accepts it.
    """
    if not any(c in string.hexdigits for c in text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# Anchor: IPv4 has "d.d" starting within its first 3 chars. IPv6 starts with "::",
# or has "h:h" or "h::" starting within its first 4 chars (the first group is
# at most 4 hex digits; when it is empty, the second group ends by offset 4).
IP_ADDRESS = _detector(
    "ip_address",
    "IP_ADDRESS",
    _IP_PATTERN,
    45,
    5,
    is_valid_ip,
    0.9,
    r"[0-9]\.[0-9]|[0-9A-Fa-f]:[0-9A-Fa-f:]|::",
    4,
)
"""IPv4/IPv6 addresses: max 45 chars (IPv6 with embedded IPv4), 5 chars of context
(the leading look-ahead counts as context for the bounds check)."""

PII_DETECTORS: tuple[PatternDetector, ...] = (EMAIL, PHONE, CREDIT_CARD, US_SSN, IBAN, IP_ADDRESS)
"""All default PII detectors, in reporting order."""
