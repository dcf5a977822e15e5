"""Network identifiers: IP addresses and MAC addresses."""

from __future__ import annotations

import ipaddress
import string

from tidegate.detectors.pii._common import pii_detector

__all__ = ["IP_ADDRESS", "MAC_ADDRESS", "is_valid_ip", "is_valid_mac"]

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HEX = r"[0-9A-Fa-f]"
_IP_PATTERN = (
    r"(?=[0-9A-Fa-f]{0,4}[:.])"  # restates the start, for speed
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
IP_ADDRESS = pii_detector(
    "ip_address", "IP_ADDRESS", _IP_PATTERN, is_valid_ip, 0.9,
    anchor=r"[0-9]\.[0-9]|[0-9A-Fa-f]:[0-9A-Fa-f:]|::", anchor_reach=4,
)  # fmt: skip
"""IPv4/IPv6 addresses: max 45 chars (IPv6 with embedded IPv4)."""

_MAC_PATTERN = (
    rf"(?<![0-9A-Za-z_:.\-])"
    rf"(?:{_HEX}{{2}}(?::{_HEX}{{2}}){{5}}"  # IEEE 802 canonical with colons
    rf"|{_HEX}{{2}}(?:-{_HEX}{{2}}){{5}}"  # with dashes
    rf"|{_HEX}{{4}}\.{_HEX}{{4}}\.{_HEX}{{4}})"  # Cisco dotted
    r"(?![0-9A-Za-z_]|[:.\-][0-9A-Za-z])"
)


def is_valid_mac(text: str) -> bool:
    """Validate a MAC address candidate (IEEE 802 EUI-48).

    Rejects the all-zero and broadcast addresses (they identify no device)
    and, for the dotted form, groups made only of decimal digits
    (``2023.1101.0930`` is a version or a date, not a MAC address).

    Args:
        text: ``00:1A:2B:3C:4D:5E``, ``00-1A-2B-3C-4D-5E`` or ``001A.2B3C.4D5E``.

    Returns:
        True if it is a unicast or multicast device address.
    """
    hexdigits = "".join(c for c in text if c in string.hexdigits).lower()
    if hexdigits in ("0" * 12, "f" * 12):
        return False
    return not ("." in text and hexdigits.isdigit())


MAC_ADDRESS = pii_detector("mac_address", "MAC_ADDRESS", _MAC_PATTERN, is_valid_mac, 0.8)
"""MAC addresses in the colon, dash or Cisco dotted layouts: 17 chars."""
