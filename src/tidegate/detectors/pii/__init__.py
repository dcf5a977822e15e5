"""Structured PII detectors (group ``"pii"``), in the style of Presidio's recognizers.

Each detector is one bounded ``regex`` pattern that proposes candidates plus a
validator that decides: a checksum (Luhn, ISO 13616 mod-97, Verhoeff, mod 11,
ABA, base58check/bech32, EIP-55), an issuing rule (SSA SSN rules, card issuer
ranges, HMRC NINO prefixes), or a parser (``phonenumbers``, ``ipaddress``).
Validators come from ``python-stdnum`` where it has one. Patterns avoid
``\\b`` in favour of explicit look-arounds so that a candidate never starts or
ends in the middle of a longer run of digits. Identifiers without a checksum,
or whose shape is shared with ordinary numbers (passport, driver's licence,
routing and NHS numbers), need a context word inside the match and report
only the value (see :func:`~tidegate.detectors.pii._common.keyword_context`).

Modules: :mod:`.contact` (e-mail), :mod:`.phone`, :mod:`.cards`,
:mod:`.banking` (IBAN, ABA routing), :mod:`.crypto` (BTC, ETH),
:mod:`.us_ids` (SSN, ITIN, passport, driver's licence), :mod:`.intl_ids`
(UK NINO and NHS, India Aadhaar and PAN), :mod:`.network` (IP, MAC).
"""

from __future__ import annotations

from collections.abc import Sequence

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.pii.banking import ABA_ROUTING, IBAN, is_valid_aba_routing, is_valid_iban
from tidegate.detectors.pii.cards import CARD_RANGES, CREDIT_CARD, is_valid_credit_card
from tidegate.detectors.pii.contact import EMAIL, is_valid_email
from tidegate.detectors.pii.crypto import (
    BTC_ADDRESS,
    ETH_ADDRESS,
    is_valid_btc_address,
    is_valid_eth_address,
)
from tidegate.detectors.pii.intl_ids import (
    IN_AADHAAR,
    IN_PAN,
    UK_NHS,
    UK_NINO,
    is_valid_aadhaar,
    is_valid_nhs,
    is_valid_nino,
    is_valid_pan,
)
from tidegate.detectors.pii.network import IP_ADDRESS, MAC_ADDRESS, is_valid_ip, is_valid_mac
from tidegate.detectors.pii.phone import (
    DEFAULT_PHONE_REGIONS,
    PHONE,
    is_valid_phone,
    phone_detector,
)
from tidegate.detectors.pii.us_ids import (
    PASSPORT,
    US_DRIVER_LICENSE,
    US_ITIN,
    US_SSN,
    is_plausible_passport,
    is_valid_us_driver_license,
    is_valid_us_itin,
    is_valid_us_ssn,
)

__all__ = [
    "ABA_ROUTING",
    "BTC_ADDRESS",
    "CARD_RANGES",
    "CREDIT_CARD",
    "DEFAULT_PHONE_REGIONS",
    "EMAIL",
    "ETH_ADDRESS",
    "IBAN",
    "IN_AADHAAR",
    "IN_PAN",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "PASSPORT",
    "PHONE",
    "PII_DETECTORS",
    "UK_NHS",
    "UK_NINO",
    "US_DRIVER_LICENSE",
    "US_ITIN",
    "US_SSN",
    "is_plausible_passport",
    "is_valid_aadhaar",
    "is_valid_aba_routing",
    "is_valid_btc_address",
    "is_valid_credit_card",
    "is_valid_email",
    "is_valid_eth_address",
    "is_valid_iban",
    "is_valid_ip",
    "is_valid_mac",
    "is_valid_nhs",
    "is_valid_nino",
    "is_valid_pan",
    "is_valid_phone",
    "is_valid_us_driver_license",
    "is_valid_us_itin",
    "is_valid_us_ssn",
    "phone_detector",
    "pii_detectors",
]

PII_DETECTORS: tuple[PatternDetector, ...] = (
    EMAIL,
    PHONE,
    CREDIT_CARD,
    US_SSN,
    IBAN,
    IP_ADDRESS,
    US_ITIN,
    PASSPORT,
    US_DRIVER_LICENSE,
    ABA_ROUTING,
    UK_NINO,
    UK_NHS,
    IN_AADHAAR,
    IN_PAN,
    BTC_ADDRESS,
    ETH_ADDRESS,
    MAC_ADDRESS,
)
"""All default PII detectors, in reporting order (phone for the default regions)."""


def pii_detectors(phone_regions: Sequence[str] | None = None) -> tuple[PatternDetector, ...]:
    """The PII detectors, with the phone detector built for ``phone_regions``.

    Args:
        phone_regions: ISO 3166-1 alpha-2 regions for national phone numbers;
            None means :data:`DEFAULT_PHONE_REGIONS`.

    Returns:
        :data:`PII_DETECTORS`, or a copy whose ``phone`` detector uses the
        given regions.

    Raises:
        ValueError: A region is unknown to libphonenumber, or the list is empty.
    """
    if phone_regions is None or tuple(phone_regions) == DEFAULT_PHONE_REGIONS:
        return PII_DETECTORS
    phone = phone_detector(phone_regions)
    return tuple(phone if d.name == "phone" else d for d in PII_DETECTORS)
