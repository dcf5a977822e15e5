"""Payment card numbers: every ISO/IEC 7812 issuer range, Luhn, any separator."""

from __future__ import annotations

from stdnum import luhn

from tidegate.detectors.pii._common import INVISIBLE_SEPARATORS, pii_detector

__all__ = ["CARD_RANGES", "CREDIT_CARD", "is_valid_credit_card"]

# Between two digits: up to three of space, dash, dot, and the invisible or
# space-like separators (so "4111\u200b1111", "4111  1111", "4111.1111" and
# "4111\u00a01111" are all candidates).
_SEP = rf"[ \-.{INVISIBLE_SEPARATORS}]"
_CARD_PATTERN = (
    rf"(?<![0-9A-Za-z_.\-])(?<![0-9]{_SEP})"
    rf"[0-9](?:{_SEP}{{0,3}}[0-9]){{12,18}}"
    rf"(?![0-9A-Za-z_]|{_SEP}{{1,3}}[0-9])"
)

CARD_RANGES: tuple[tuple[int, int, int, int, int], ...] = (
    # (first IIN, last IIN, IIN digits, min length, max length): the issuer
    # identification numbers published by the networks (ISO/IEC 7812-1), as
    # listed in the "Payment card number" IIN table (Wikipedia, 2024).
    (1, 1, 1, 15, 15),  # UATP
    (1800, 1800, 4, 15, 15),  # JCB (legacy 15-digit range)
    (2014, 2014, 4, 15, 15),  # Diners Club enRoute
    (2131, 2131, 4, 15, 15),  # JCB (legacy 15-digit range)
    (2149, 2149, 4, 15, 15),  # Diners Club enRoute
    (2200, 2204, 4, 16, 19),  # Mir
    (2205, 2205, 4, 16, 16),  # BORICA
    (2221, 2720, 4, 16, 16),  # Mastercard 2-series
    (300, 305, 3, 14, 19),  # Diners Club International
    (3095, 3095, 4, 14, 19),  # Diners Club International
    (31, 31, 2, 19, 19),  # China T-Union
    (34, 34, 2, 15, 15),  # American Express
    (353, 353, 3, 16, 16),  # RuPay (JCB co-brand)
    (356, 356, 3, 16, 16),  # RuPay (JCB co-brand)
    (3528, 3589, 4, 16, 19),  # JCB
    (36, 36, 2, 14, 19),  # Diners Club International
    (37, 37, 2, 15, 15),  # American Express
    (38, 39, 2, 14, 19),  # Diners Club International, Hipercard 3841
    (4, 4, 1, 13, 19),  # Visa, Visa Electron, Dankort co-brand, Elo
    (50, 50, 2, 12, 19),  # Maestro, Verve, RuPay 508, GPN, Elo
    (51, 55, 2, 16, 16),  # Mastercard
    (56, 59, 2, 12, 19),  # Maestro, Bankcard, UzCard 5614, GPN
    (60, 60, 2, 16, 19),  # RuPay, Discover 6011, UkrCard, Hipercard, NPS, GPN
    (61, 61, 2, 16, 19),  # GPN
    (62, 62, 2, 16, 19),  # China UnionPay, Discover co-brand 622126-622925
    (63, 63, 2, 12, 19),  # Maestro 6304, InterPayment 636, InstaPayment 637-639
    (64, 65, 2, 16, 19),  # Discover 644-649 and 65, RuPay, Troy, Elo
    (67, 67, 2, 12, 19),  # Maestro, Laser, Solo
    (81, 82, 2, 16, 19),  # China UnionPay 81, RuPay 81-82
    (8600, 8600, 4, 16, 16),  # UzCard
    (9792, 9792, 4, 16, 16),  # Troy
    (9860, 9860, 4, 16, 16),  # Humo
)
"""Every issuer range, with the card lengths that issuer uses."""


def is_valid_credit_card(text: str) -> bool:
    """Validate a payment card number candidate.

    Separators (spaces, dashes, dots, invisible or space-like characters) are
    dropped; the 13-19 remaining digits must pass the Luhn checksum
    (ISO/IEC 7812-1 Annex B, via ``stdnum.luhn``) and start with an issuer
    identification number of :data:`CARD_RANGES` with a length that issuer
    uses (Amex 15 digits, Mastercard 16, Visa 13-19, ...).

    Args:
        text: The candidate, e.g. ``"4111 1111 1111 1111"``.

    Returns:
        True if the number passes Luhn and the issuer check.
    """
    digits = "".join(c for c in text if "0" <= c <= "9")
    if not 13 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return False
    return any(
        first <= int(digits[:width]) <= last and lo <= len(digits) <= hi
        for first, last, width, lo, hi in CARD_RANGES
    )


CREDIT_CARD = pii_detector("credit_card", "CREDIT_CARD", _CARD_PATTERN, is_valid_credit_card, 1.0)
"""Payment card numbers: 13-19 digits, up to 3 separator chars between two digits
(max 73 chars)."""
