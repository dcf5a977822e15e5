"""PII detectors, Presidio-recognizer style: one (text, count, spans) table each."""

from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType
from stdnum import luhn

from tidegate.detectors import Finding, PatternDetector
from tidegate.detectors.pii import (
    CREDIT_CARD,
    DEFAULT_PHONE_REGIONS,
    EMAIL,
    IBAN,
    IP_ADDRESS,
    PHONE,
    US_SSN,
    is_valid_credit_card,
    is_valid_phone,
    phone_detector,
)

Case = tuple[str, int, list[tuple[int, int]]]


def check(detector: PatternDetector, text: str, count: int, spans: list[tuple[int, int]]) -> None:
    findings = list(detector.find_all(text))
    assert len(findings) == count, [text[f.start : f.end] for f in findings]
    assert [(f.start, f.end) for f in findings] == spans
    for f in findings:
        assert isinstance(f, Finding)
        assert f.detector == detector.name
        assert f.entity_type == detector.entity_type
        assert f.length <= detector.max_match_chars


EMAIL_CASES: list[Case] = [
    ("Contact jane.doe@example.com today", 1, [(8, 28)]),
    ("Mail: a.b+tag@mail.co.uk.", 1, [(6, 24)]),
    ("two: x@y.io, z_w@sub.domain-x.org", 2, [(5, 11), (13, 33)]),
    ("(bob@example.org)", 1, [(1, 16)]),
    ("...john@example.com", 1, [(3, 19)]),
    # negatives
    ("user@localhost", 0, []),
    ("foo@bar", 0, []),
    ("a..b@example.com", 0, []),
    ("trailing.@example.com", 0, []),
    ("@example.com", 0, []),
    ("first.last@-bad.com", 0, []),
    ("version 1.2.3@4.5", 0, []),
    ("x@y.c", 0, []),
    ("send it by email at noon", 0, []),
]


@pytest.mark.parametrize(("text", "count", "spans"), EMAIL_CASES)
def test_email(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(EMAIL, text, count, spans)


PHONE_CASES: list[Case] = [
    ("Call (415) 555-2671 now", 1, [(5, 19)]),
    ("Call 415-555-2671.", 1, [(5, 17)]),
    ("Phone: 415.555.2671 x123", 1, [(7, 24)]),
    ("+44 20 7946 0958", 1, [(0, 16)]),
    ("0044 20 7946 0958", 1, [(0, 17)]),
    ("1-800-275-2273", 1, [(0, 14)]),
    ("+1-212-555-0199", 1, [(0, 15)]),
    ("(415) 555-2671 or +33 1 42 68 53 00", 2, [(0, 14), (18, 35)]),
    # international numbers, with and without the + (default regions)
    ("Tel. 030 901820", 1, [(5, 15)]),  # DE
    ("+49 30 901820", 1, [(0, 13)]),
    ("ring 020 7946 0958", 1, [(5, 18)]),  # GB national
    ("+44 7700 900123 (mobile)", 1, [(0, 15)]),
    ("(02) 9876 5432", 1, [(0, 14)]),  # AU
    ("+91 98765 43210", 1, [(0, 15)]),  # IN
    ("03-1234-5678", 1, [(0, 12)]),  # JP
    ("(11) 91234-5678", 1, [(0, 15)]),  # BR
    ("+39 06 6982 1234", 1, [(0, 16)]),  # IT
    ("912 34 56 78", 1, [(0, 12)]),  # ES
    ("06 12345678", 1, [(0, 11)]),  # NL mobile
    ("06 12 34 56 78", 1, [(0, 14)]),  # FR mobile
    ("02.27.96.63.08", 1, [(0, 14)]),  # FR, dotted pairs
    ("+1 (416) 555-0199", 1, [(0, 17)]),  # CA
    ("+14155552671", 1, [(0, 12)]),  # E.164
    ("+44 20 7946 0958 ext. 123", 1, [(0, 25)]),
    ("fax 166-684-7899", 1, [(4, 16)]),  # North American layout, unassigned area code
    # negatives: bare digit runs, dates, times, IPs, ISBNs, too short, bad area code
    ("Order #1234567890 shipped", 0, []),
    ("Order no. 4155552671", 0, []),
    ("Order #20240117-0042", 0, []),
    ("ticket 2023-10-12", 0, []),
    ("2014-02-13 09:33:20", 0, []),
    ("IP 86.231.85.193", 0, []),
    ("ISBN 978-3-16-148410-0", 0, []),
    ("zip 94103-1234", 0, []),
    ("555-1234", 0, []),
    ("Call 123-456-7890", 0, []),  # placeholder
    ("(555) 555-5555", 0, []),  # placeholder
    ("version 1.2.3.4.5", 0, []),
    ("SSN 078-05-1120", 0, []),
    # tricky benign digit groups in prose
    ("the 1990-1995 period", 0, []),
    ("season 2011-12", 0, []),
    ("population 10 000 000", 0, []),
    ("scores 13 - 20", 0, []),
    ("from 2023-2024 to 2024-2025", 0, []),
    ("5 10 15 20 25 30", 0, []),
    ("100 200 300 400", 0, []),
    ("12 34 56 78 90", 0, []),
    ("+1 555 0100", 0, []),  # local-only length with a country code
    ("1-800-FLOWERS", 0, []),
    ("Apt. 81 1991 Dikbas Road", 0, []),  # street number, 6 digits
]


@pytest.mark.parametrize(("text", "count", "spans"), PHONE_CASES)
def test_phone(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(PHONE, text, count, spans)


@pytest.mark.parametrize("region", DEFAULT_PHONE_REGIONS)
def test_phone_example_numbers_of_every_default_region(region: str) -> None:
    """libphonenumber's own example numbers, national and international layouts."""
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
        number = phonenumbers.example_number_for_type(region, kind)
        for fmt in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
            text = phonenumbers.format_number(number, fmt)
            if text.endswith("01 23 45 67 89"):  # FR's example is a placeholder run
                continue
            found = list(PHONE.find_all(f"call {text} today"))
            assert [(f.start, f.end) for f in found] == [(5, 5 + len(text))], (region, text)


def test_phone_regions() -> None:
    danish = "ring 32 12 34 56 today"  # valid in Denmark, in no default region
    assert list(PHONE.find_all(danish)) == []
    found = list(phone_detector(("US", "DK")).find_all(danish))
    assert [(f.start, f.end) for f in found] == [(5, 16)]
    assert is_valid_phone("32 12 34 56", ("DK",))
    assert is_valid_phone("020 7946 0958")  # GB is a default region
    assert not is_valid_phone("020 7946 0958", ("US",))
    with pytest.raises(ValueError, match="regions"):
        phone_detector(())
    with pytest.raises(ValueError, match="regions"):
        phone_detector(("ZZ",))


def luhn_card(prefix: str, length: int) -> str:
    """A number of ``length`` digits starting with ``prefix`` that passes Luhn."""
    body = (prefix + "3141592653589793238462")[: length - 1]
    return body + luhn.calc_check_digit(body)


ZWSP, ZWJ, NBSP, NNBSP, FFFD = "\u200b", "\u200d", "\u00a0", "\u202f", "\ufffd"
CARD_CASES: list[Case] = [
    ("Visa 4111 1111 1111 1111 exp", 1, [(5, 24)]),
    ("4111-1111-1111-1111", 1, [(0, 19)]),
    ("5500005555555559", 1, [(0, 16)]),  # Mastercard 51-55
    ("2223000048400011", 1, [(0, 16)]),  # Mastercard 2-series
    ("Amex 3782 822463 10005", 1, [(5, 22)]),
    ("6011111111111117", 1, [(0, 16)]),  # Discover
    ("3530111333300000", 1, [(0, 16)]),  # JCB
    ("Diners 30569309025904", 1, [(7, 21)]),
    ("UnionPay 6200000000000005", 1, [(9, 25)]),
    ("cards 4111111111111111, 5500005555555559", 2, [(6, 22), (24, 40)]),
    # every separator, invisible ones included
    ("4111.1111.1111.1111", 1, [(0, 19)]),
    ("4111  1111  1111  1111", 1, [(0, 22)]),
    (f"4111{ZWSP}1111{ZWSP}1111{ZWSP}1111", 1, [(0, 19)]),
    (f"4{ZWJ}1{ZWJ}1{ZWJ}1111111111111", 1, [(0, 19)]),
    (f"4111{NBSP}1111{NBSP}1111{NBSP}1111", 1, [(0, 19)]),
    (f"4111{NNBSP}1111 - 1111{FFFD}1111", 1, [(0, 21)]),
    (f"4111 {ZWSP}1111-{ZWSP}1111 1111", 1, [(0, 21)]),
    # issuer ranges beyond the big four (lengths as the issuers use them)
    (f"UATP {luhn_card('1', 15)}", 1, [(5, 20)]),
    (f"Mir {luhn_card('2200', 16)}", 1, [(4, 20)]),
    (f"JCB {luhn_card('2131', 15)}", 1, [(4, 19)]),  # legacy 15-digit JCB
    (f"JCB {luhn_card('1800', 15)}", 1, [(4, 19)]),
    (f"RuPay {luhn_card('6521', 16)}", 1, [(6, 22)]),
    (f"Troy {luhn_card('9792', 16)}", 1, [(5, 21)]),
    (f"Humo {luhn_card('9860', 16)}", 1, [(5, 21)]),
    (f"UzCard {luhn_card('8600', 16)}", 1, [(7, 23)]),
    (f"Maestro {luhn_card('6759', 19)}", 1, [(8, 27)]),
    (f"Visa, 19 digits: {luhn_card('4', 19)}", 1, [(17, 36)]),
    (f"Visa, 13 digits: {luhn_card('4', 13)}", 1, [(17, 30)]),
    # negatives
    ("4111 1111 1111 1112", 0, []),  # fails Luhn
    ("1234567812345670", 0, []),  # passes Luhn, no 16-digit issuer starts with 1
    ("id 79927398713000", 0, []),  # no issuer starts with 7
    (f"Amex {luhn_card('34', 16)}", 0, []),  # Amex never has 16 digits
    (f"Troy {luhn_card('9793', 16)}", 0, []),  # not an issuer range
    ("4111 1111 1111 1111 1111 1111", 0, []),  # 24 digits
    ("3.14159265358979323846", 0, []),  # decimals
    ("4111111111111111x", 0, []),  # part of a token
    ("v4111.1111.1111.1111", 0, []),
    ("4111111111111111.5", 0, []),  # a decimal number
    ("call 415-555-2671", 0, []),
    # tricky benign digit runs
    ("see pages 4 1 1 1 and 2 3", 0, []),
    ("ISBN 978-3-16-148410-0", 0, []),
    ("build 2024.01.15.1130.7", 0, []),
    ("timestamp 1700000000000", 0, []),
]


@pytest.mark.parametrize(("text", "count", "spans"), CARD_CASES)
def test_credit_card(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(CREDIT_CARD, text, count, spans)


def test_credit_card_issuer_lengths() -> None:
    assert is_valid_credit_card("378282246310005")  # Amex, 15 digits
    assert not is_valid_credit_card("3782822463100050")  # Amex never has 16 digits


SSN_CASES: list[Case] = [
    ("SSN 536-22-1234", 1, [(4, 15)]),
    ("ssn: 536 22 1234.", 1, [(5, 16)]),
    ("a 536-22-1234 and 772-01-0042", 2, [(2, 13), (18, 29)]),
    # negatives: SSA rules
    ("666-12-3456", 0, []),  # area 666
    ("000-12-3456", 0, []),  # area 000
    ("912-34-5678", 0, []),  # area 900-999
    ("536-00-1234", 0, []),  # group 00
    ("536-22-0000", 0, []),  # serial 0000
    ("078-05-1120", 0, []),  # Woolworth wallet number
    ("219-09-9999", 0, []),  # SSA advertisement
    ("123-45-6789", 0, []),
    ("111-11-1111", 0, []),
    # negatives: shape
    ("536-22-12345", 0, []),
    ("1536-22-1234", 0, []),
    ("536-22 1234", 0, []),
    ("536221234", 0, []),
]


@pytest.mark.parametrize(("text", "count", "spans"), SSN_CASES)
def test_us_ssn(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(US_SSN, text, count, spans)


IBAN_CASES: list[Case] = [
    ("GB82 WEST 1234 5698 7654 32", 1, [(0, 27)]),
    ("IBAN: GB82WEST12345698765432.", 1, [(6, 28)]),
    ("gb82west12345698765432", 1, [(0, 22)]),
    ("DE89 3704 0044 0532 0130 00", 1, [(0, 27)]),
    ("FR14 2004 1010 0505 0001 3M02 606", 1, [(0, 33)]),
    ("NO9386011117947", 1, [(0, 15)]),  # shortest country format
    # negatives
    ("GB82 WEST 1234 5698 7654 33", 0, []),  # mod-97 fails
    ("GB82WEST1234569876543", 0, []),  # wrong length for GB
    ("US12 3456 7890 1234 5678", 0, []),  # no IBAN in the US
    ("XX00 0000 0000 0000", 0, []),
]


@pytest.mark.parametrize(("text", "count", "spans"), IBAN_CASES)
def test_iban(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(IBAN, text, count, spans)


IP_CASES: list[Case] = [
    ("Server at 192.168.1.10 is down", 1, [(10, 22)]),
    ("10.0.0.1:8080", 1, [(0, 8)]),
    ("2001:db8::1", 1, [(0, 11)]),
    ("fe80::1ff:fe23:4567:890a", 1, [(0, 24)]),
    ("::ffff:192.0.2.128", 1, [(0, 18)]),
    ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1, [(0, 39)]),
    ("[2001:db8::1]:443", 1, [(1, 12)]),
    ("addr:2001:db8::7", 1, [(5, 16)]),
    ("::1", 1, [(0, 3)]),
    # negatives
    ("999.1.1.1", 0, []),
    ("256.1.1.1", 0, []),
    ("1.2.3.4.5", 0, []),  # version string
    ("v1.2.3.4", 0, []),
    ("1.2.3", 0, []),
    ("01.02.03.04", 0, []),  # leading zeros
    ("12:30:45", 0, []),  # time
    ("x :: Int", 0, []),
    ("std::vector", 0, []),
    ("00:1A:2B:3C:4D:5E", 0, []),  # MAC address
    ("dead:beef", 0, []),
]


@pytest.mark.parametrize(("text", "count", "spans"), IP_CASES)
def test_ip_address(text: str, count: int, spans: list[tuple[int, int]]) -> None:
    check(IP_ADDRESS, text, count, spans)
