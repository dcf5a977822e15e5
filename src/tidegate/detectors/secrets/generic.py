"""Formats not tied to one vendor: assignments, auth headers, connection strings, netrc.

These need the most care against false positives: the keyword (``password``,
``Authorization``) is part of the bounded match, and the value must pass an
entropy and placeholder check (:func:`~._build.is_high_entropy_value`), so
``password = "your_password_here"`` or ``token: str`` in an answer about code
is not reported.
"""

from __future__ import annotations

import base64
import binascii

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import (
    BOUNDARY,
    assignment,
    is_high_entropy_value,
    not_placeholder,
    secret_detector,
)

__all__ = ["GENERIC_DETECTORS", "is_basic_auth_credential"]

# 8-128 chars, not ending in sentence punctuation ("the password is correct.").
_VALUE = r"[^\s\"'`,;<>(){}\[\]]{7,127}[^\s\"'`,;<>(){}\[\].!?:]"


def is_basic_auth_credential(text: str) -> bool:
    """Check an HTTP Basic credential (RFC 7617): base64 of ``user:password``.

    Args:
        text: The base64 text after ``Basic``.

    Returns:
        True if it decodes to UTF-8 with a ``:`` and a non-placeholder password.
    """
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return False
    user, sep, password = raw.partition(":")
    return bool(sep and user and len(password) >= 3 and password not in ("password", "pass"))


def _secret_value(text: str) -> bool:
    return is_high_entropy_value(text, 2.5)


def _assigned(name: str, key: str) -> PatternDetector:
    """A ``KEY = value`` detector whose value must look like a credential."""
    return secret_detector(
        name,
        "SECRET",
        assignment(key, _VALUE, gap=8, prose=True) + r"(?![^\s\"'`,;<>(){}\[\]])",
        validator=_secret_value,
        score=0.6,
        span_group="value",
    )


def _not_a_variable(text: str) -> bool:
    return not_placeholder(text) and not text.startswith(("$", "%", "{{"))


_CRYPT = r"[./0-9A-Za-z]"


GENERIC_DETECTORS: tuple[PatternDetector, ...] = (
    # password / secret / token / API key assignments with a high-entropy value:
    # one detector per key word, each starting with that word (fast search).
    _assigned("password_assignment", rf"{BOUNDARY}(?i:pass)(?:(?i:word)|(?i:wd)|(?i:phrase))?"),
    _assigned("secret_assignment", rf"{BOUNDARY}(?i:secret)(?:[_\-]?(?i:key))?"),
    _assigned("token_assignment", rf"{BOUNDARY}(?i:token)"),
    _assigned(
        "api_key_assignment",
        r"(?i:key)(?:(?<=(?i:apikey))|(?<=(?i:api_key))|(?<=(?i:api-key))|(?<=(?i:accesskey))"
        r"|(?<=(?i:access_key))|(?<=(?i:privatekey))|(?<=(?i:private_key))"
        r"|(?<=(?i:signing_key))|(?<=(?i:signingkey)))",
    ),
    # .NET appSettings: <add key="...Password" value="..."/>.
    secret_detector(
        "dotnet_config_secret",
        "SECRET",
        r"<add[ \t]{1,3}key=\"[A-Za-z0-9_.\-]{0,40}(?i:password|pwd|secret|token|apikey|api_key)"
        r"[A-Za-z0-9_.\-]{0,20}\"[ \t]{1,3}value=\"(?P<value>[^\"\n]{4,128})\"",
        validator=_secret_value,
        span_group="value",
    ),
    # curl / wget basic credentials on the command line: -u USER:PASSWORD.
    secret_detector(
        "cli_user_password",
        "PASSWORD",
        r"(?<![A-Za-z0-9_\-])(?:-u|--user|--http-password=|--password=)[ \t]{0,3}[\"']?"
        r"[^\s:\"'$]{1,100}:(?P<value>[^\s\"'@$]{3,128})(?=[\s\"']|$)",
        validator=_not_a_variable,
        span_group="value",
    ),
    # Password hashes in crypt(3) / hashcat formats: md5crypt ($1$), bcrypt ($2*$),
    # sha256crypt ($5$), sha512crypt ($6$), Cisco type 8/9, Kerberos AS-REP.
    secret_detector(
        "password_hash",
        "PASSWORD_HASH",
        rf"(?<![A-Za-z0-9$])(?:\$1\${_CRYPT}{{0,8}}\${_CRYPT}{{22}}"
        rf"|\$2[abxy]?\$[0-9]{{2}}\${_CRYPT}{{53}}"
        rf"|\$[56]\$(?:rounds=[0-9]{{1,9}}\$)?{_CRYPT}{{0,16}}\$(?:{_CRYPT}{{86}}|{_CRYPT}{{43}})"
        rf"|\$[89]\${_CRYPT}{{14}}\${_CRYPT}{{43}}"
        r"|\$krb5asrep\$23\$(?:[^$:\s]{1,128}:)?[a-f0-9]{32}\$[a-f0-9]{64,4096})"
        r"(?![A-Za-z0-9./$])",
    ),
    # Facebook app secrets: 32 hex after a facebook key name.
    secret_detector(
        "facebook_app_secret",
        "FACEBOOK_SECRET",
        assignment(
            rf"{BOUNDARY}(?i:f)(?:(?i:acebook)|(?i:b))[_.]?(?:(?i:app)[_.]?)?"
            r"(?:(?i:secret)|(?i:key)|(?i:api)_?(?i:key)|(?i:client)_?(?i:secret))",
            r"[a-f0-9]{32}",
            gap=12,
        )
        + r"(?![A-Za-z0-9])",
        span_group="value",
    ),
    # HTTP Basic credentials in an Authorization header (RFC 7617).
    secret_detector(
        "http_basic_auth",
        "HTTP_CREDENTIALS",
        r"(?i:authorization)[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?(?i:basic)[ \t]{1,3}"
        r"(?P<value>[A-Za-z0-9+/]{8,340}={0,2})(?![A-Za-z0-9+/=])",
        validator=is_basic_auth_credential,
        span_group="value",
    ),
    # Bearer tokens in an Authorization header (RFC 6750); JWTs have their own detector.
    secret_detector(
        "http_bearer_token",
        "HTTP_CREDENTIALS",
        r"(?i:authorization)[\"']?[ \t]{0,3}[:=][ \t]{0,3}[\"']?(?i:bearer)[ \t]{1,3}"
        r"(?P<value>[A-Za-z0-9_\-.~+/]{12,500}={0,2})(?![A-Za-z0-9_\-.~+/=])",
        validator=_secret_value,
        span_group="value",
    ),
    # Passwords in ODBC / ADO.NET / JDBC connection strings: a Password= or PWD=
    # item after another item's ";" (Server=db;User Id=sa;Password=...;).
    secret_detector(
        "connection_string_keyvalue",
        "PASSWORD",
        r"(?:(?<=;)|(?<=; ))(?:(?i:password)|(?i:pwd))[ \t]{0,2}=[ \t]{0,2}"
        r"(?P<value>[^;\s\"'<>]{1,128}|\{[^}\n]{1,128}\})(?=[;\s\"']|$)",
        validator=_secret_value,
        span_group="value",
    ),
    # .netrc / _netrc entries: machine HOST login USER password PASS.
    secret_detector(
        "netrc_password",
        "PASSWORD",
        r"(?<![A-Za-z0-9])machine[ \t]{1,4}[^\s]{1,253}[ \t\n]{1,4}login[ \t]{1,4}[^\s]{1,128}"
        r"[ \t\n]{1,4}password[ \t]{1,4}(?P<value>[^\s]{1,128})",
        validator=lambda v: v not in ("PASSWORD", "password", "<password>"),
        span_group="value",
    ),
    # Docker config.json registry credentials ("auth": base64(user:password)).
    secret_detector(
        "docker_config_auth",
        "DOCKER_CREDENTIALS",
        r"\"auth\"[ \t]{0,3}:[ \t]{0,3}\"(?P<value>[A-Za-z0-9+/]{8,400}={0,2})\"",
        validator=is_basic_auth_credential,
        span_group="value",
    ),
)
"""Generic detectors, in reporting order."""
