"""E-mail addresses."""

from __future__ import annotations

from tidegate.detectors.pii._common import pii_detector

__all__ = ["EMAIL", "is_valid_email"]

_EMAIL_PATTERN = (
    r"(?<![A-Za-z0-9_%+\-])"
    r"[A-Za-z0-9_%+\-][A-Za-z0-9._%+\-]{0,63}"  # local part, RFC 5321: <= 64 chars
    r"[@\uff20][A-Za-z0-9.\-]{1,160}\.[A-Za-z]{2,24}"  # domain and alphabetic TLD
    r"(?![A-Za-z0-9\-])"
)


def is_valid_email(text: str) -> bool:
    """Check the structure of an e-mail address candidate.

    Rules from RFC 5321/5322 (dot-atom local part) and RFC 1035 (host names):
    the local part has no empty dot-separated atom; each domain label is 1-63
    chars and does not start or end with a hyphen; the whole address is at most
    254 chars. The full-width commercial at (U+FF20, FULLWIDTH COMMERCIAL AT) is read as ``@``:
    it is a common way to slip an address past a filter.

    Args:
        text: The candidate, e.g. ``"jane.doe@example.com"``.

    Returns:
        True if the candidate is a well-formed address.
    """
    local, _, domain = text.replace("\uff20", "@").rpartition("@")
    if len(text) > 254 or not local or "" in local.split("."):
        return False
    labels = domain.split(".")
    return all(0 < len(x) <= 63 and x[0] != "-" and x[-1] != "-" for x in labels)


EMAIL = pii_detector(
    "email", "EMAIL_ADDRESS", _EMAIL_PATTERN, is_valid_email, 0.95, anchor="[@\uff20]",
    anchor_reach=64,
)  # fmt: skip
"""E-mail addresses (``@`` or the full-width U+FF20): max 250 chars (64 local + ``@`` +
185 domain), 1 char of context."""
