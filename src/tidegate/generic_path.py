"""The upstream target of a ``/generic/{upstream}/{path}`` request, checked.

A generic request goes to ``base_url + "/" + path``. The path must stay below
``base_url``: no ``.`` or ``..`` segment, plain or percent-encoded (``%2e%2e``,
overlong UTF-8), no encoded separator (``%2F``, ``%5C``), no encoded or raw
``?``, ``#`` or backslash, no ``;`` (``..;`` is a parent directory to some
servers), no control characters and no empty segment except a trailing one.
Both the path as sent (``scope["raw_path"]``) and the decoded path the router
matched are checked, and they must agree. Anything else is a
:class:`~tidegate.errors.BadRequestError` (HTTP 400).

The client's query string is dropped unless the upstream sets
``forward_query``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, unquote_to_bytes

from starlette.types import Scope

from tidegate.errors import BadRequestError

# RFC 3986 ``pchar`` without ``;`` (see the module docstring), or a %XX escape.
_SEGMENT = re.compile(rb"(?:[A-Za-z0-9._~!$&'()*+,=:@-]|%[0-9A-Fa-f]{2})+")
# Bytes no decoded segment may hold: separators, escapes, controls.
_FORBIDDEN = frozenset(b"/\\?#%;" + bytes(range(0x20)) + b"\x7f")
# A forwarded query string: visible ASCII, no fragment.
_QUERY = re.compile(rb"[\x21-\x22\x24-\x7e]*")


class UnsafePathError(BadRequestError):
    """The generic path could leave the upstream's base path."""

    code = "invalid_path"


def _check_segments(raw_part: bytes) -> None:
    """Check each ``/``-separated segment of the raw path below the upstream name."""
    segments = raw_part.split(b"/")
    if segments[-1] == b"" and len(segments) > 1:
        segments.pop()  # a trailing slash
    for segment in segments:
        if not _SEGMENT.fullmatch(segment):
            raise UnsafePathError("empty path segment, or a character not allowed in it")
        decoded = unquote_to_bytes(segment)
        if _FORBIDDEN.intersection(decoded):
            raise UnsafePathError("encoded separator or control character in the path")
        if not decoded.strip(b". "):
            raise UnsafePathError("'.' and '..' path segments are not allowed")
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            raise UnsafePathError("path segment is not valid UTF-8") from None


def generic_target(scope: Scope, upstream: str, *, forward_query: bool) -> str:
    """The path (and query) to request below the upstream's ``base_url``.

    Args:
        scope: ASGI scope of a request routed to ``/generic/{upstream}/{path}``.
        upstream: The upstream name from the route (configured names are
            ``[A-Za-z0-9_.-]+``, so the raw and decoded forms are the same).
        forward_query: Append the client's query string.

    Returns:
        ``"/" + path`` as the client encoded it, plus ``"?" + query`` when
        ``forward_query`` is set and the client sent one.

    Raises:
        UnsafePathError: The path could leave the upstream's base path.
    """
    root = scope.get("root_path", "")
    prefix = f"{root}/generic/{upstream}/"
    raw_path: bytes = scope.get("raw_path") or quote(scope["path"]).encode()
    if not raw_path.startswith(prefix.encode()) or not scope["path"].startswith(prefix):
        raise UnsafePathError("the upstream name must be sent unencoded")
    raw_part = raw_path[len(prefix) :]
    _check_segments(raw_part)
    decoded = scope["path"][len(prefix) :]
    if unquote(raw_part.decode("ascii")) != decoded:
        raise UnsafePathError("the path was rewritten before routing")
    for segment in decoded.split("/"):
        if segment in (".", "..") or "\\" in segment:
            raise UnsafePathError("'.' and '..' path segments are not allowed")
    target = "/" + raw_part.decode("ascii")
    query: bytes = scope.get("query_string", b"")
    if forward_query and query:
        if not _QUERY.fullmatch(query):
            raise UnsafePathError("the query string holds a space, control character or '#'")
        target += "?" + query.decode("ascii")
    return target
