"""The first secret detectors: code hosts, registries, LLM vendors, keys, JWTs, URLs.

Formats follow the vendors' published token formats. Where Yelp's
``detect-secrets`` ships a plugin for the same kind, the pattern here is that
plugin's ``denylist`` regex made bounded (``+`` and ``{n,}`` replaced by
``{m,n}`` ranges) and anchored with look-arounds (see
:data:`~tidegate.detectors.secrets.DETECT_SECRETS_PLUGINS`). Secret values are
never logged by this module.
"""

from __future__ import annotations

import base64
import binascii
import json

import regex

from tidegate.detectors.base import PatternDetector, Validator
from tidegate.detectors.secrets._build import GROUP, not_placeholder
from tidegate.detectors.secrets._build import B as _B
from tidegate.detectors.secrets._build import E as _E

__all__ = ["CORE_DETECTORS", "is_plausible_password", "is_valid_jwt"]


def _detector(
    name: str,
    entity_type: str,
    pattern: str,
    max_match_chars: int,
    context_chars: int = 1,
    *,
    validator: Validator | None = not_placeholder,
    score: float = 1.0,
    span_group: int | str = 0,
    anchor: str | None = None,
    anchor_reach: int = 0,
) -> PatternDetector:
    return PatternDetector.compile(
        name, GROUP, entity_type, pattern, max_match_chars, context_chars,
        validator=validator, score=score, span_group=span_group,
        anchor=anchor, anchor_reach=anchor_reach,
    )  # fmt: skip


AWS_ACCESS_KEY = _detector(
    "aws_access_key",
    "AWS_ACCESS_KEY",
    r"(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    20,
)
"""AWS access key IDs (``AKIA``/``ASIA``/... + 16 chars), detect-secrets
``AWSKeyDetector``: exactly 20 chars, 1 char of context."""

GITHUB_TOKEN = _detector(
    "github_token",
    "GITHUB_TOKEN",
    _B + r"(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})" + _E,
    255,
)
"""GitHub tokens (``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_`` and fine-grained
``github_pat_``), GitHub's token format (2021), detect-secrets
``GitHubTokenDetector``: max 255 chars (GitHub's documented maximum). The CRC32
checksum in the last 6 chars is deliberately not enforced: a redactor should also
hide mistyped or truncated tokens."""

GITLAB_TOKEN = _detector(
    "gitlab_token",
    "GITLAB_TOKEN",
    _B
    + r"(?:gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|oas|agent|ffct)-[A-Za-z0-9_.\-]{19,80}"
    + r"[A-Za-z0-9_\-]|GR1348941[A-Za-z0-9_\-]{20,50})"
    + _E,
    89,
)
"""GitLab tokens (``glpat-`` personal, ``glptt-`` trigger, ``GR1348941`` runner
registration, ...), GitLab's token prefixes, detect-secrets
``GitLabTokenDetector``: max 89 chars, 1 char of context."""

STRIPE_KEY = _detector(
    "stripe_key",
    "STRIPE_KEY",
    _B + r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,247}" + _E,
    255,
)
"""Stripe secret and restricted keys, live and test (publishable ``pk_`` keys are
public and not reported), detect-secrets ``StripeDetector`` (live only): max 255
chars (Stripe's documented maximum), 1 char of context."""

OPENAI_API_KEY = _detector(
    "openai_api_key",
    "OPENAI_API_KEY",
    _B
    + r"sk-(?:(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_\-]{20,120}T3BlbkFJ[A-Za-z0-9_\-]{20,120}"
    + r"|(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{40,240})"
    + _E,
    259,
)
"""OpenAI API keys: legacy ``sk-`` keys and project/service-account/admin keys,
recognised by the ``T3BlbkFJ`` marker (base64 of "OpenAI") or by their
``sk-proj-``/``sk-svcacct-``/``sk-admin-`` prefix, detect-secrets
``OpenAIDetector``: max 259 chars, 1 char of context."""

ANTHROPIC_API_KEY = _detector(
    "anthropic_api_key",
    "ANTHROPIC_API_KEY",
    _B + r"sk-ant-[a-z]{3,6}[0-9]{2}-[A-Za-z0-9_\-]{80,120}" + _E,
    136,
)
"""Anthropic API keys (``sk-ant-api03-...``, admin and OAuth variants),
Anthropic's key format: max 136 chars, 1 char of context."""

GOOGLE_API_KEY = _detector(
    "google_api_key",
    "GOOGLE_API_KEY",
    _B + r"AIza[0-9A-Za-z_\-]{35}" + _E,
    39,
)
"""Google Cloud / Firebase API keys (``AIza`` + 35 chars): 39 chars, 1 char of
context."""

HUGGINGFACE_TOKEN = _detector(
    "huggingface_token",
    "HUGGINGFACE_TOKEN",
    _B + r"(?:hf_|api_org_)[A-Za-z]{34}" + _E,
    42,
)
"""Hugging Face user (``hf_``) and organisation (``api_org_``) tokens: max 42
chars, 1 char of context."""

NPM_TOKEN = _detector("npm_token", "NPM_TOKEN", _B + r"npm_[A-Za-z0-9]{36}" + _E, 40)
"""npm access tokens (``npm_`` + 36 chars), detect-secrets ``NpmDetector``:
40 chars, 1 char of context."""

PYPI_TOKEN = _detector(
    "pypi_token",
    "PYPI_TOKEN",
    _B + r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{70,400}" + _E,
    427,
)
"""PyPI and TestPyPI upload tokens (macaroons whose base64 starts with the
issuer), detect-secrets ``PypiTokenDetector``: max 427 chars, 1 char of context."""

SENDGRID_API_KEY = _detector(
    "sendgrid_api_key",
    "SENDGRID_API_KEY",
    _B + r"SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}" + _E,
    69,
)
"""SendGrid API keys, detect-secrets ``SendGridDetector``: 69 chars, 1 char of
context."""

MAILCHIMP_API_KEY = _detector(
    "mailchimp_api_key",
    "MAILCHIMP_API_KEY",
    r"(?<![0-9A-Za-z])[0-9a-f]{32}-us[0-9]{1,2}(?![0-9A-Za-z])",
    37,
    anchor=r"-us[0-9]",  # always at offset 32
    anchor_reach=32,
)
"""Mailchimp API keys (32 hex + ``-us`` data centre), detect-secrets
``MailchimpDetector``: max 37 chars, 1 char of context."""


def _b64url_json(part: str) -> object:
    """Decode one base64url JWT segment (RFC 7515 section 2) as JSON."""
    raw = base64.urlsafe_b64decode(part.rstrip("=") + "=" * (-len(part.rstrip("=")) % 4))
    return json.loads(raw.decode("utf-8"))


def is_valid_jwt(text: str) -> bool:
    """Check that a JWS compact serialization candidate has a JSON part.

    RFC 7519/7515: ``header.payload.signature``, each base64url. The candidate
    is kept if its header or its claims decode to a JSON object (one is enough,
    so a token with a damaged header is still hidden).

    Args:
        text: The candidate, ``eyJ...eyJ...[.sig]``.

    Returns:
        True if the header or the payload is a base64url-encoded JSON object.
    """
    for part in text.split(".")[:2]:
        try:
            if isinstance(_b64url_json(part), dict):
                return True
        except (binascii.Error, ValueError):  # JSON and UTF-8 errors are ValueErrors
            continue
    return False


JWT = _detector(
    "jwt",
    "JWT",
    _B + r"eyJ[A-Za-z0-9_\-]{4,400}=?\.eyJ[A-Za-z0-9_\-]{4,2400}=?\.[A-Za-z0-9_\-]{0,700}" + _E,
    3510,
    validator=is_valid_jwt,
)
"""JSON Web Tokens (JWS compact form with a JSON header ``eyJ``), detect-secrets
``JwtTokenDetector``: max 3510 chars (400-char header, 2400-char claims, 700-char
signature: an RS512 signature with a 4096-bit key is 683 chars), 1 char of
context."""

_PEM_LABEL = r"[ A-Z0-9]{0,24} PRIVATE KEY(?: BLOCK)?"
PRIVATE_KEY = _detector(
    "private_key",
    "PRIVATE_KEY",
    rf"-{{4,5}} ?BEGIN{_PEM_LABEL} ?-{{4,5}}"
    # a complete block (RFC 7468 textual encoding; headers such as
    # "Proc-Type: 4,ENCRYPTED" allowed; "\n" escapes of keys inside strings too)
    rf"(?:[A-Za-z0-9+/=\s\\:,.\-]{{16,5880}}?-{{4,5}} ?END{_PEM_LABEL} ?-{{4,5}}"
    # or a block cut short (no END line): hide the base64 lines that follow
    r"|(?:(?:\s{1,2}|\\r?\\n)[A-Za-z0-9+/=]{16,100}){1,57})",
    5996,
    0,
    validator=None,  # DER runs of "AAAAAAAA" are normal in key bodies
)
"""PEM/OpenSSH/PGP private key blocks (``-----BEGIN ... PRIVATE KEY-----`` to
the matching END line, or to the end of the base64 body when the END line never
comes), detect-secrets ``PrivateKeyDetector``: max 5996 chars (an 8192-bit RSA
key does not fit; 4096-bit keys are about 3300), no context."""

_PLACEHOLDER = regex.compile(
    r"\$\{[^}]{0,250}\}|\{\{[^}]{0,250}\}\}|\$[A-Za-z_][A-Za-z0-9_]{0,250}|%s|\*{1,256}|x{1,256}"
)


def is_plausible_password(text: str) -> bool:
    """Reject template placeholders in the password slot of a URL.

    Args:
        text: The password as written in the URL (percent-encoded).

    Returns:
        False for ``${VAR}``, ``{{var}}``, ``$VAR``, ``%s`` and runs of ``*``
        or ``x`` (masked values); True otherwise.
    """
    return _PLACEHOLDER.fullmatch(text) is None


CONNECTION_STRING_PASSWORD = _detector(
    "connection_string_password",
    "PASSWORD",
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{1,24}://"  # scheme (RFC 3986 3.1)
    r"[^\s:/?#\[\]@\"'<>]{0,128}"  # user
    r":(?P<password>[^\s/?#\[\]\"'<>]{1,256})"  # password; may contain '@' and ':'
    r"@(?=[A-Za-z0-9\[%_.\-])",  # the last '@' before the host
    414,
    validator=is_plausible_password,
    span_group="password",
    anchor="://",  # after a 2-25 char scheme
    anchor_reach=25,
)
"""The password of a URL with credentials (``postgres://user:PASSWORD@host``,
``mongodb+srv://``, ``redis://:PASSWORD@``, ``https://user:PASSWORD@``; RFC 3986
userinfo), detect-secrets ``BasicAuthDetector``. Only the password is reported;
group 0 is at most 414 chars (scheme 25, user 128, password 256), 1 char of
context."""

CORE_DETECTORS: tuple[PatternDetector, ...] = (
    AWS_ACCESS_KEY,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    STRIPE_KEY,
    OPENAI_API_KEY,
    ANTHROPIC_API_KEY,
    GOOGLE_API_KEY,
    HUGGINGFACE_TOKEN,
    NPM_TOKEN,
    PYPI_TOKEN,
    SENDGRID_API_KEY,
    MAILCHIMP_API_KEY,
    JWT,
    PRIVATE_KEY,
    CONNECTION_STRING_PASSWORD,
)
"""The first detectors, in reporting order."""
