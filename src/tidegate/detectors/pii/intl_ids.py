"""National identifiers of the UK and India: NINO, NHS number, Aadhaar, PAN."""

from __future__ import annotations

from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan

from tidegate.detectors.pii._common import keyword_context, pii_detector

__all__ = [
    "IN_AADHAAR",
    "IN_PAN",
    "UK_NHS",
    "UK_NINO",
    "is_valid_aadhaar",
    "is_valid_nhs",
    "is_valid_nino",
    "is_valid_pan",
]

# ------------------------------------------------------------------------ UK NINO

_NINO_PATTERN = (
    r"(?=[A-Z]{2}[ 0-9][0-9])"  # restates the start, for speed
    r"(?<![0-9A-Za-z_])"
    r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"(?:[0-9]{6}| [0-9]{2} [0-9]{2} [0-9]{2} ?)[A-D]"
    r"(?![0-9A-Za-z_])"
)
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def is_valid_nino(text: str) -> bool:
    """Validate a UK National Insurance number.

    HMRC rules (National Insurance Manual NIM39110): two prefix letters, six
    digits, suffix A-D. The first letter is not D, F, I, Q, U or V; the second
    is not D, F, I, O, Q, U or V (both enforced by the pattern); the prefixes
    BG, GB, KN, NK, NT, TN and ZZ are never issued.

    Args:
        text: ``AB123456C`` or ``AB 12 34 56 C``.

    Returns:
        True if the number could have been issued.
    """
    return text[:2] not in _NINO_BAD_PREFIXES


UK_NINO = pii_detector("uk_nino", "UK_NINO", _NINO_PATTERN, is_valid_nino, 0.85)
"""UK National Insurance numbers, compact or spaced in pairs."""

# --------------------------------------------------------------------- NHS number

_NHS_PATTERN = (
    keyword_context(r"(?i:nhs)", gap=16)
    + r"(?<![A-Za-z0-9])(?P<value>[0-9]{3}[ \-]?[0-9]{3}[ \-]?[0-9]{4})"
    + r"(?![0-9A-Za-z_]|[ .\-][0-9])"
)


def is_valid_nhs(text: str) -> bool:
    """Validate an NHS number (England, Wales, Isle of Man).

    ``stdnum.gb.nhs``: 10 digits whose last digit is the modulus 11 check
    digit of the first nine (weights 10 to 2; a remainder giving 10 is never
    issued).

    Args:
        text: ``NNN NNN NNNN`` (spaces or dashes optional).

    Returns:
        True if the check digit holds.
    """
    digits = text.replace(" ", "").replace("-", "")
    return len(set(digits)) > 1 and bool(nhs.is_valid(digits))


UK_NHS = pii_detector("uk_nhs", "UK_NHS", _NHS_PATTERN, is_valid_nhs, 0.8, span_group="value")
"""NHS numbers after the word "NHS": the 3-3-4 digit layout is also
the North American phone layout, and one random 10-digit number in eleven
passes the check, so the word is required. Only the number is reported."""

# ------------------------------------------------------------------------ Aadhaar

_AADHAAR_PATTERN = (
    r"[2-9](?<![0-9A-Za-z_.\-][2-9])(?<![0-9] [2-9])"
    r"(?:[0-9]{3} [0-9]{4} [0-9]{4}|[0-9]{3}-[0-9]{4}-[0-9]{4})"
    r"(?![0-9A-Za-z_]|[ .\-][0-9])"
)


def is_valid_aadhaar(text: str) -> bool:
    """Validate an Indian Aadhaar number.

    ``stdnum.in_.aadhaar``: 12 digits, the first not 0 or 1, the last a
    Verhoeff check digit; palindromes are rejected (UIDAI numbering scheme).

    Args:
        text: ``NNNN NNNN NNNN`` or ``NNNN-NNNN-NNNN``.

    Returns:
        True if the check digit holds.
    """
    return bool(aadhaar.is_valid(text.replace(" ", "").replace("-", "")))


IN_AADHAAR = pii_detector("in_aadhaar", "IN_AADHAAR", _AADHAAR_PATTERN, is_valid_aadhaar, 0.8)
"""Aadhaar numbers written in the 4-4-4 layout of the card (spaces or dashes). A
compact 12-digit run is not a candidate: it is as likely an order number."""

# ---------------------------------------------------------------------------- PAN

_PAN_PATTERN = r"(?<![0-9A-Za-z_])[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z](?![0-9A-Za-z_])"


def is_valid_pan(text: str) -> bool:
    """Validate an Indian Permanent Account Number.

    ``stdnum.in_.pan``: three letters, a holder-type letter (P person, C
    company, H HUF, F firm, A AOP, T trust, B BOI, L local authority, J
    artificial juridical person, G government), a letter, a serial 0001-9999
    and a letter.

    Args:
        text: ``AAAPA1234A``.

    Returns:
        True if the number is well formed.
    """
    return bool(pan.is_valid(text))


IN_PAN = pii_detector("in_pan", "IN_PAN", _PAN_PATTERN, is_valid_pan, 0.75)
"""Indian PAN numbers (10 chars, upper case)."""
