"""Bank account identifiers: IBAN and US ABA routing numbers."""

from __future__ import annotations

from stdnum import iban as stdnum_iban
from stdnum.us import rtn

from tidegate.detectors.pii._common import keyword_context, pii_detector

__all__ = ["ABA_ROUTING", "IBAN", "is_valid_aba_routing", "is_valid_iban"]

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
IBAN = pii_detector(
    "iban", "IBAN_CODE", _IBAN_PATTERN, is_valid_iban, 1.0, anchor="[A-Za-z][0-9]{2}",
    anchor_reach=1,
)  # fmt: skip
"""IBANs, compact or in print format (a space every 4 chars): max 43 chars."""

_ABA_PATTERN = (
    keyword_context(r"(?:(?i:routing)|(?i:aba))")
    + r"(?<![A-Za-z0-9])(?P<value>[0-9]{9}|[0-9]{4}-[0-9]{4}-[0-9])(?![0-9A-Za-z_]|[.\-][0-9])"
)


def is_valid_aba_routing(text: str) -> bool:
    """Validate a US ABA routing transit number.

    ``stdnum.us.rtn``: 9 digits whose weighted sum (weights 3, 7, 1) is a
    multiple of 10 (ABA checksum). All-zero numbers are rejected.

    Args:
        text: ``NNNNNNNNN`` or ``NNNN-NNNN-N``.

    Returns:
        True if the checksum holds.
    """
    digits = text.replace("-", "")
    return digits != "000000000" and bool(rtn.is_valid(digits))


ABA_ROUTING = pii_detector(
    "aba_routing", "ABA_ROUTING_NUMBER", _ABA_PATTERN, is_valid_aba_routing, 0.8,
    span_group="value",
)  # fmt: skip
"""US bank routing numbers after a context word (``routing``, ``ABA``): 9 digits
with the ABA checksum. Without the word a
9-digit number passes the checksum one time in ten, so the word is required;
only the number is reported."""
