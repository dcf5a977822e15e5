"""Cryptocurrency wallet addresses: Bitcoin and Ethereum."""

from __future__ import annotations

from Crypto.Hash import keccak
from stdnum import bitcoin

from tidegate.detectors.pii._common import pii_detector

__all__ = ["BTC_ADDRESS", "ETH_ADDRESS", "is_valid_btc_address", "is_valid_eth_address"]

_BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32M_CONST = 0x2BC830A3  # BIP 350

_BTC_PATTERN = (
    r"(?<![0-9A-Za-z_])"
    r"(?:[13][1-9A-HJ-NP-Za-km-z]{25,34}"  # base58check: P2PKH (1...) and P2SH (3...)
    r"|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,87})"  # bech32 / bech32m segwit
    r"(?![0-9A-Za-z_])"
)


def _is_valid_bech32m(address: str) -> bool:
    """BIP 350 bech32m checksum for segwit v1+ (taproot ``bc1p...``) addresses."""
    data = [_BECH32_ALPHABET.index(c) for c in address[3:]]
    hrp = [ord(c) >> 5 for c in "bc"] + [0] + [ord(c) & 31 for c in "bc"]
    if not 1 <= data[0] <= 16 or bitcoin.bech32_checksum(hrp + data) != _BECH32M_CONST:
        return False
    program = bitcoin.b32decode(data[1:-6])
    return 2 <= len(program) <= 40


def is_valid_btc_address(text: str) -> bool:
    """Validate a Bitcoin mainnet address.

    ``stdnum.bitcoin`` checks base58check addresses (double SHA-256 checksum,
    25 bytes) and bech32 segwit v0 addresses (BIP 173); segwit v1+ (taproot)
    addresses use the bech32m checksum of BIP 350, checked here. Mixed-case
    bech32 is invalid (BIP 173).

    Args:
        text: ``1...``, ``3...`` or ``bc1...``.

    Returns:
        True if the checksum holds.
    """
    if text[:3].lower() == "bc1":
        if text != text.lower() and text != text.upper():
            return False
        text = text.lower()
        if text[3] != "q":
            try:
                return _is_valid_bech32m(text)
            except Exception:  # stdnum raises its own ValidationError types
                return False
    return bool(bitcoin.is_valid(text))


_ETH_PATTERN = r"(?<![0-9A-Za-z_])0x[0-9a-fA-F]{40}(?![0-9A-Za-z_])"


def is_valid_eth_address(text: str) -> bool:
    """Validate an Ethereum address.

    ``0x`` + 40 hex digits. An all-lowercase or all-uppercase address carries no
    checksum and is accepted; a mixed-case one must match its EIP-55 checksum
    (the case of each letter follows the Keccak-256 hash of the lowercase
    address). The zero address is rejected (it belongs to nobody).

    Args:
        text: ``0x`` followed by 40 hex digits.

    Returns:
        True if the address is well formed and any checksum holds.
    """
    body = text[2:]
    if body == "0" * 40:
        return False
    if body in (body.lower(), body.upper()):
        return True
    digest = keccak.new(digest_bits=256, data=body.lower().encode("ascii")).hexdigest()
    return all(
        c.isdigit() or (c.isupper() == (int(h, 16) >= 8))
        for c, h in zip(body, digest, strict=False)
    )


BTC_ADDRESS = pii_detector("btc_address", "CRYPTO", _BTC_PATTERN, is_valid_btc_address, 1.0)
"""Bitcoin addresses (base58check or bech32/bech32m): max 90 chars."""

ETH_ADDRESS = pii_detector("eth_address", "CRYPTO", _ETH_PATTERN, is_valid_eth_address, 0.9)
"""Ethereum addresses (``0x`` + 40 hex, EIP-55 when mixed case): 42 chars."""
