"""Structured identifiers beyond the basic six: one Presidio-style table each.

Positive values are the published test values of each scheme (EIP-55 and BIP
173/350 test vectors, the NHS and stdnum documentation examples, public bank
routing numbers) or are built here to pass the checksum.
"""

from __future__ import annotations

import pytest

from tests.detectors.test_pii import Case, check
from tidegate.detectors import PatternDetector
from tidegate.detectors.pii import (
    ABA_ROUTING,
    BTC_ADDRESS,
    ETH_ADDRESS,
    IN_AADHAAR,
    IN_PAN,
    MAC_ADDRESS,
    PASSPORT,
    UK_NHS,
    UK_NINO,
    US_DRIVER_LICENSE,
    US_ITIN,
    US_SSN,
    is_valid_us_driver_license,
)

ITIN_CASES: list[Case] = [
    ("ITIN 912-70-1234 on file", 1, [(5, 16)]),
    ("itin: 900 88 1234.", 1, [(6, 17)]),
    ("9xx group 94: 999-94-0001", 1, [(14, 25)]),
    # negatives: groups outside the IRS ranges, shapes
    ("912-69-1234", 0, []),
    ("912-93-1234", 0, []),
    ("912-49-1234", 0, []),
    ("812-70-1234", 0, []),  # not a 9XX area
    ("912701234", 0, []),  # compact: an ordinary 9-digit number
    ("912-70-12345", 0, []),
    ("1912-70-1234", 0, []),
    ("912-70 1234", 0, []),
]

PASSPORT_CASES: list[Case] = [
    ("My passport number is 546372819.", 1, [(22, 31)]),
    ("Passport No.: A52718364", 1, [(14, 23)]),
    ("passport: C01X00T47 (German)", 1, [(10, 19)]),
    ("Passeport no C4J7R92F4", 1, [(13, 22)]),
    ("passport # J8369854 expires", 1, [(11, 19)]),
    # negatives: no keyword, placeholders, too short, not a number
    ("order 546372819 shipped", 0, []),
    ("passport number 123456789", 0, []),
    ("passport number 000000000", 0, []),
    ("passport photo 2x2 inches", 0, []),
    ("passport fee is $130 and 12345", 0, []),
    ("PASSPORT RENEWAL", 0, []),
    ("passport\n546372819", 0, []),  # not on the same line
]

DL_CASES: list[Case] = [
    ("My driver's license number is A5631933.", 1, [(30, 38)]),  # CA
    ("driver\u2019s licence: LH329609T", 1, [(18, 27)]),  # ID
    ("Driving licence 425700624", 1, [(16, 25)]),  # 9 digits
    ("Driver license F123456789012 (FL)", 1, [(15, 28)]),  # FL
    ("drivers license 99ABC12345", 1, [(16, 26)]),  # NH
    ("my driver's license number is a56319335", 1, [(30, 39)]),  # lower case
    # negatives
    ("license number 545345", 0, []),  # software/record licence, no driver
    ("driver's license ABCDEFG", 0, []),  # no digit
    ("driver's license 12345", 0, []),  # too short to be told apart
    ("driver's license Q1234567890123456789012", 0, []),  # too long
    ("A5631933 is the code", 0, []),
]

ABA_CASES: list[Case] = [
    ("routing number 021000021", 1, [(15, 24)]),
    ("ABA: 011000015", 1, [(5, 14)]),
    ("ABA 0210-0002-1", 1, [(4, 15)]),
    ("Bank routing no. 121000358, account 1234", 1, [(17, 26)]),
    # negatives
    ("routing number 021000022", 0, []),  # checksum fails
    ("order 021000021", 0, []),  # no keyword
    ("routing number 000000000", 0, []),
    ("routing number 0210000210", 0, []),  # 10 digits
]

NINO_CASES: list[Case] = [
    ("NI number AB 12 34 56 C", 1, [(10, 23)]),
    ("nino: JG103759A.", 1, [(6, 15)]),
    ("CE123456D", 1, [(0, 9)]),
    # negatives: HMRC never issues these
    ("GB 12 34 56 C", 0, []),
    ("TN123456A", 0, []),
    ("DA123456C", 0, []),  # D is not a first letter
    ("AO123456C", 0, []),  # O is not a second letter
    ("AB123456E", 0, []),  # suffix A-D only
    ("AB1234567C", 0, []),
    ("xAB123456C", 0, []),
]

NHS_CASES: list[Case] = [
    ("NHS number 943 476 5919", 1, [(11, 23)]),
    ("NHS No: 9434765919", 1, [(8, 18)]),
    ("nhs number is 943-476-5919.", 1, [(14, 26)]),
    # negatives
    ("NHS number 943 476 5918", 0, []),  # mod 11 fails
    ("call 943 476 5919", 0, []),  # no keyword: a phone layout
    ("NHS number 111 111 1111", 0, []),
]

AADHAAR_CASES: list[Case] = [
    ("Aadhaar 2345 6789 0124", 1, [(8, 22)]),
    ("UID: 2345-6789-0124.", 1, [(5, 19)]),
    # negatives
    ("2345 6789 0125", 0, []),  # Verhoeff fails
    ("1234 5678 9012", 0, []),  # starts with 1
    ("234567890124", 0, []),  # compact: an ordinary number
    ("2345 6789 0124 5678", 0, []),  # part of a longer run
    ("2345 6789-0124", 0, []),  # mixed separators
]

PAN_CASES: list[Case] = [
    ("PAN: ABCPE1234F", 1, [(5, 15)]),
    ("AAPPV8261K and ACUPA7085R", 2, [(0, 10), (15, 25)]),
    # negatives
    ("ABCXE1234F", 0, []),  # X is not a holder type
    ("ABCPE0000F", 0, []),  # serial 0000
    ("abcpe1234f", 0, []),  # PANs are written in capitals
    ("ABCPE1234FG", 0, []),
    ("MODEL ABCPE12345", 0, []),
]

BTC_CASES: list[Case] = [
    ("send to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", 1, [(8, 42)]),
    ("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", 1, [(0, 34)]),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 1, [(0, 42)]),  # bech32 (BIP 173)
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", 1, [(0, 42)]),
    ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297", 1, [(0, 62)]),  # taproot
    # negatives: one char changed, mixed case, testnet, not an address
    ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3", 0, []),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr", 0, []),
    ("bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3296", 0, []),
    ("bc1qAr0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", 0, []),
    ("1111111111111111111111111111111111", 0, []),
    ("3ACT1234567890abcdefghijklmnopqrs", 0, []),
]

ETH_CASES: list[Case] = [
    ("to 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed now", 1, [(3, 45)]),  # EIP-55
    ("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", 1, [(0, 42)]),
    ("0x52908400098527886E0F7030069857D2E4169EE7", 1, [(0, 42)]),  # all caps
    ("0xde709f2102306220921060314715629080e2fb77", 1, [(0, 42)]),  # all lower
    # negatives
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", 0, []),  # checksum case wrong
    ("0x0000000000000000000000000000000000000000", 0, []),
    ("0xde709f2102306220921060314715629080e2fb7", 0, []),  # 39 hex
    ("0xde709f2102306220921060314715629080e2fb7700", 0, []),  # 42 hex
    ("hash de709f2102306220921060314715629080e2fb77", 0, []),  # no 0x
]

MAC_CASES: list[Case] = [
    ("eth0 00:1A:2B:3C:4D:5E up", 1, [(5, 22)]),
    ("00-1a-2b-3c-4d-5e", 1, [(0, 17)]),
    ("Cisco 001a.2b3c.4d5e", 1, [(6, 20)]),
    # negatives
    ("00:00:00:00:00:00", 0, []),
    ("FF:FF:FF:FF:FF:FF", 0, []),
    ("2023.1101.0930", 0, []),  # dotted digits: a version
    ("00:1A:2B:3C:4D", 0, []),
    ("00:1A:2B:3C:4D:5E:6F", 0, []),  # EUI-64 or noise, not EUI-48
    ("00:1A-2B:3C-4D:5E", 0, []),  # mixed separators
    ("12:30:45", 0, []),
    ("2001:db8::1", 0, []),
]

TABLES: list[tuple[PatternDetector, list[Case]]] = [
    (US_ITIN, ITIN_CASES),
    (PASSPORT, PASSPORT_CASES),
    (US_DRIVER_LICENSE, DL_CASES),
    (ABA_ROUTING, ABA_CASES),
    (UK_NINO, NINO_CASES),
    (UK_NHS, NHS_CASES),
    (IN_AADHAAR, AADHAAR_CASES),
    (IN_PAN, PAN_CASES),
    (BTC_ADDRESS, BTC_CASES),
    (ETH_ADDRESS, ETH_CASES),
    (MAC_ADDRESS, MAC_CASES),
]
ROWS = [(d, *case) for d, cases in TABLES for case in cases]


@pytest.mark.parametrize(
    ("detector", "text", "count", "spans"), ROWS, ids=[f"{r[0].name}:{r[1]}" for r in ROWS]
)
def test_table(
    detector: PatternDetector, text: str, count: int, spans: list[tuple[int, int]]
) -> None:
    check(detector, text, count, spans)


def test_ssn_and_itin_never_overlap() -> None:
    for text in ("912-70-1234", "536-22-1234"):
        names = [d.name for d in (US_SSN, US_ITIN) if list(d.find_all(text))]
        assert len(names) == 1, (text, names)


@pytest.mark.parametrize(
    "number",
    [
        "1234567",
        "A1234567",
        "F123456789012",
        "99ABC12345",
        "LH329609T",
        "WDLABCD456DG",
        "123456789",
    ],
)
def test_driver_license_state_formats(number: str) -> None:
    assert is_valid_us_driver_license(number)


def test_driver_license_rejects_unknown_shapes() -> None:
    assert not is_valid_us_driver_license("AB1CD2")
    assert not is_valid_us_driver_license("1234567890123456789")
