"""US identifiers: SSN, ITIN, passport numbers and driver's licence numbers."""

from __future__ import annotations

from types import MappingProxyType

import regex
from stdnum.us import itin

from tidegate.detectors.pii._common import keyword_context, pii_detector

__all__ = [
    "PASSPORT",
    "US_DL_STATE_FORMATS",
    "US_DRIVER_LICENSE",
    "US_ITIN",
    "US_SSN",
    "is_plausible_passport",
    "is_valid_us_driver_license",
    "is_valid_us_itin",
    "is_valid_us_ssn",
]

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


US_SSN = pii_detector("us_ssn", "US_SSN", _SSN_PATTERN, is_valid_us_ssn, 0.85)
"""US SSNs with dashes or spaces: 11 chars."""

# ------------------------------------------------------------------------ US ITIN

_ITIN_PATTERN = (
    r"9(?<![0-9A-Za-z_.\-]9)(?<![0-9] 9)"
    r"(?:[0-9]{2}-[0-9]{2}-[0-9]{4}|[0-9]{2} [0-9]{2} [0-9]{4})"
    r"(?![0-9A-Za-z_]|[ .\-][0-9])"
)


def is_valid_us_itin(text: str) -> bool:
    """Validate a US Individual Taxpayer Identification Number.

    ``stdnum.us.itin``: area ``9XX`` and group 50-65, 70-88, 90-92 or 94-99
    (IRS ITIN ranges).

    Args:
        text: ``9NN-NN-NNNN`` or ``9NN NN NNNN``.

    Returns:
        True if the number is in an issued ITIN range.
    """
    return bool(itin.is_valid(text.replace(" ", "-")))


US_ITIN = pii_detector("us_itin", "US_ITIN", _ITIN_PATTERN, is_valid_us_itin, 0.85)
"""US ITINs with dashes or spaces (the SSN detector never reports area 9XX)."""

# ----------------------------------------------------------------------- passport

_PASSPORT_PATTERN = (
    keyword_context(r"(?i:pas)(?:(?i:sport)|(?i:seport)|(?i:aporte)|(?i:saporto))")
    + r"(?<![A-Za-z0-9])(?P<value>[A-Z0-9]{6,9})(?![0-9A-Za-z_]|[.\-][0-9])"
)
_SEQUENCES = ("0123456789", "9876543210")


def is_plausible_passport(text: str) -> bool:
    """Check a passport number that followed the word "passport".

    Passport numbers carry no public checksum (ICAO 9303's check digits are in
    the machine-readable zone, not in the number as written). Accepted: 6-9
    upper-case letters and digits with at least 5 digits (US: 9 digits or a
    letter and 8 digits; UK: 9 digits; Germany: 9 of ``C-Z0-9``; India: a
    letter and 7 digits), not one repeated digit and not a run such as
    ``123456789``.

    Args:
        text: The candidate after the keyword.

    Returns:
        True if it is shaped like a passport number.
    """
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 5 or len(set(digits)) == 1:
        return False
    return not any(digits in seq for seq in _SEQUENCES)


PASSPORT = pii_detector(
    "passport", "PASSPORT", _PASSPORT_PATTERN, is_plausible_passport, 0.7, span_group="value"
)
"""Passport numbers after the word "passport" (English, French, Spanish, Italian);
only the number is reported."""

# ------------------------------------------------------------ US driver's licence

US_DL_STATE_FORMATS: MappingProxyType[str, str] = MappingProxyType(
    {
        # Formats by state as published by the National Conference of State
        # Legislatures / NTSI "Driver's License Formats" table (L = letter, N = digit).
        "AL": r"[0-9]{1,8}",
        "AK": r"[0-9]{1,7}",
        "AZ": r"[A-Z][0-9]{8}|[0-9]{9}",
        "AR": r"[0-9]{4,9}",
        "CA": r"[A-Z][0-9]{7}",
        "CO": r"[0-9]{9}|[A-Z][0-9]{3,6}|[A-Z]{2}[0-9]{2,5}",
        "CT": r"[0-9]{9}",
        "DE": r"[0-9]{1,7}",
        "DC": r"[0-9]{7}|[0-9]{9}",
        "FL": r"[A-Z][0-9]{12}",
        "GA": r"[0-9]{7,9}",
        "HI": r"[A-Z][0-9]{8}|[0-9]{9}",
        "ID": r"[A-Z]{2}[0-9]{6}[A-Z]|[0-9]{9}",
        "IL": r"[A-Z][0-9]{11,12}",
        "IN": r"[A-Z][0-9]{9}|[0-9]{9,10}",
        "IA": r"[0-9]{9}|[0-9]{3}[A-Z]{2}[0-9]{4}",
        "KS": r"[A-Z][0-9][A-Z][0-9][A-Z]|[A-Z][0-9]{8}|[0-9]{9}",
        "KY": r"[A-Z][0-9]{8,9}|[0-9]{9}",
        "LA": r"[0-9]{1,9}",
        "ME": r"[0-9]{7}[A-Z]?|[0-9]{8}",
        "MD": r"[A-Z][0-9]{12}",
        "MA": r"[A-Z][0-9]{8}|[0-9]{9}",
        "MI": r"[A-Z][0-9]{10}|[A-Z][0-9]{12}",
        "MN": r"[A-Z][0-9]{12}",
        "MS": r"[0-9]{9}",
        "MO": r"[A-Z][0-9]{5,9}|[A-Z][0-9]{6}R|[0-9]{8}[A-Z]{2}|[0-9]{9}[A-Z]?",
        "MT": r"[A-Z][0-9]{8}|[0-9]{9}|[0-9]{13,14}",
        "NE": r"[A-Z][0-9]{6,8}",
        "NV": r"[0-9]{9,10}|[0-9]{12}|X[0-9]{8}",
        "NH": r"[0-9]{2}[A-Z]{3}[0-9]{5}",
        "NJ": r"[A-Z][0-9]{14}",
        "NM": r"[0-9]{8,9}",
        "NY": r"[A-Z][0-9]{7}|[A-Z][0-9]{18}|[0-9]{8,9}|[0-9]{16}|[A-Z]{8}",
        "NC": r"[0-9]{1,12}",
        "ND": r"[A-Z]{3}[0-9]{6}|[0-9]{9}",
        "OH": r"[A-Z][0-9]{4,8}|[A-Z]{2}[0-9]{3,7}|[0-9]{8}",
        "OK": r"[A-Z][0-9]{9}|[0-9]{9}",
        "OR": r"[0-9]{1,9}",
        "PA": r"[0-9]{8}",
        "RI": r"[0-9]{7}|[A-Z][0-9]{6}",
        "SC": r"[0-9]{5,11}",
        "SD": r"[0-9]{6,10}|[0-9]{12}",
        "TN": r"[0-9]{7,9}",
        "TX": r"[0-9]{7,8}",
        "UT": r"[0-9]{4,10}",
        "VT": r"[0-9]{8}|[0-9]{7}A",
        "VA": r"[A-Z][0-9]{8,11}|[0-9]{9}",
        "WA": r"[A-Z*]{7}[0-9]{3}[A-Z0-9]{2}|WDL[A-Z0-9]{9}",
        "WV": r"[0-9]{7}|[A-Z]{1,2}[0-9]{5,6}",
        "WI": r"[A-Z][0-9]{13}",
        "WY": r"[0-9]{9,10}",
    }
)
"""US state -> pattern of its driver's licence numbers."""

_DL_ANY_STATE = regex.compile("|".join(f"(?:{p})" for p in US_DL_STATE_FORMATS.values()))
_DL_KEY = (
    # "licence"/"license" after "driver's ", "drivers ", "driver ", "driving "
    r"(?i:licen)(?:(?<=(?i:driver's licen))|(?<=(?i:driver\u2019s licen))"
    r"|(?<=(?i:drivers' licen))|(?<=(?i:drivers licen))|(?<=(?i:driver licen))"
    r"|(?<=(?i:driving licen)))(?:(?i:ce)|(?i:se))"
)
_DL_PATTERN = (
    keyword_context(_DL_KEY)
    + r"(?<![A-Za-z0-9])(?P<value>(?i:[A-Z0-9*]{6,19}))(?![0-9A-Za-z_*]|[.\-][0-9])"
)


def is_valid_us_driver_license(text: str) -> bool:
    """Check a licence number that followed a driver's licence keyword.

    Accepted when it matches the format of at least one state
    (:data:`US_DL_STATE_FORMATS`, letters in any case) and contains a digit.

    Args:
        text: The candidate, 6-19 chars.

    Returns:
        True if some state issues numbers of this shape.
    """
    return any(c.isdigit() for c in text) and _DL_ANY_STATE.fullmatch(text.upper()) is not None


US_DRIVER_LICENSE = pii_detector(
    "us_driver_license", "US_DRIVER_LICENSE", _DL_PATTERN, is_valid_us_driver_license, 0.7,
    span_group="value",
)  # fmt: skip
"""US driver's licence numbers after a licence keyword, in any state's format;
only the number is reported."""
