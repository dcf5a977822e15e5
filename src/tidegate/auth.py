"""Client authentication: a pure ASGI middleware that checks tidegate keys.

When ``auth`` is configured, every request except ``GET /healthz`` and
``GET /readyz`` must carry one of the configured keys, as
``Authorization: Bearer <key>`` (the openai SDK's header) or
``x-api-key: <key>`` (the anthropic SDK's). Only SHA-256 digests of the keys
are configured; the digest of the presented key is compared with every
configured digest with :func:`hmac.compare_digest`, so the time taken does
not depend on how much of a digest matched, nor on which key matched.

``GET /metrics`` is open too, and paths under ``/admin/`` check their own
(admin) keys instead (:mod:`tidegate.ops.admin`).

A request without a valid key gets HTTP 401 in its endpoint's wire format
and never reaches a route, so nothing goes upstream. An accepted request
reaches the app with its ``Authorization`` and ``x-api-key`` headers removed
(the tidegate key is never forwarded upstream nor seen by a handler) and with
the key's configured name in ``scope["state"]`` (:func:`client_key_name`).

This is a pure ASGI middleware rather than Starlette's ``BaseHTTPMiddleware``,
which Starlette's docs advise against for streaming responses.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tidegate.adapters.anthropic import anthropic_error_body
from tidegate.adapters.openai_chat import openai_error_body
from tidegate.config import AuthConfig, AuthKey
from tidegate.errors import AuthenticationError
from tidegate.logs import get_logger

KEY_NAME_STATE = "tidegate_key_name"
"""Key of the authenticated key's name in ``scope["state"]``."""

# Paths served without a key: liveness and readiness probes and Prometheus
# scrapers carry none.
_OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Paths that check admin keys themselves (tidegate.ops.admin).
_ADMIN_PREFIX = "/admin/"
# Request headers that may carry the tidegate key (ASGI header names are lowercase).
_KEY_HEADERS = frozenset({b"authorization", b"x-api-key"})
_ANTHROPIC_PATH = "/v1/messages"


def hash_key(key: str) -> str:
    """The configured form of a key: SHA-256 of its UTF-8 bytes, lowercase hex.

    Args:
        key: The client key, as the client sends it.

    Returns:
        64 lowercase hex digits, the value of ``auth.keys[].sha256``.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def client_key_name(scope: Scope) -> str | None:
    """The name of the key that authenticated this request.

    Args:
        scope: The ASGI scope of the request.

    Returns:
        The configured key name, or None when auth is not configured.
    """
    state = scope.get("state") or {}
    name = state.get(KEY_NAME_STATE)
    return name if isinstance(name, str) else None


def presented_keys(headers: Iterable[tuple[bytes, bytes]]) -> list[bytes]:
    """Every key the request presents, as raw header bytes.

    Args:
        headers: ASGI header pairs (lowercase names).

    Returns:
        The token of each ``Authorization: Bearer`` header (scheme matched
        case-insensitively) and the value of each ``x-api-key`` header,
        stripped of surrounding whitespace; empty ones are left out.
    """
    keys = []
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.strip().partition(b" ")
            if scheme.lower() == b"bearer":
                keys.append(token.strip())
        elif name == b"x-api-key":
            keys.append(value.strip())
    return [k for k in keys if k]


class KeyRing:
    """The configured key digests.

    Args:
        keys: The configured keys (names and digests unique, checked by config).
    """

    def __init__(self, keys: Sequence[AuthKey]) -> None:
        self._digests = [(k.name, bytes.fromhex(k.sha256)) for k in keys]

    def match(self, key: bytes) -> str | None:
        """The name of the configured key equal to ``key``, if any.

        Compares the digest of ``key`` with every configured digest, each
        with :func:`hmac.compare_digest`, without stopping at a match.

        Args:
            key: A presented key, raw header bytes.
        """
        digest = hashlib.sha256(key).digest()
        found = None
        for name, expected in self._digests:
            if hmac.compare_digest(digest, expected) and found is None:
                found = name
        return found


class AuthMiddleware:
    """Refuses requests without a configured key; strips the key from the rest.

    Args:
        app: The wrapped ASGI app.
        keys: The accepted keys.
    """

    def __init__(self, app: ASGIApp, keys: Sequence[AuthKey]) -> None:
        self.app = app
        self.ring = KeyRing(keys)
        self._log = get_logger("auth")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        path = scope.get("path", "")
        if (
            scope["type"] not in ("http", "websocket")
            or path in _OPEN_PATHS
            or path.startswith(_ADMIN_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        keys = presented_keys(scope["headers"])
        names = [self.ring.match(key) for key in keys]
        name = next((n for n in names if n is not None), None)
        if name is None:
            reason = "unknown_key" if keys else "missing_key"
            self._log.info("auth_failed", reason=reason, path=scope["path"])
            await self._reject(scope, receive, send, reason)
            return
        headers = [(k, v) for k, v in scope["headers"] if k not in _KEY_HEADERS]
        state = {**(scope.get("state") or {}), KEY_NAME_STATE: name}
        await self.app({**scope, "headers": headers, "state": state}, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, reason: str) -> None:
        """HTTP 401 in the endpoint's wire format (a websocket is closed, 1008)."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if reason == "missing_key":
            message = "missing tidegate key: send 'Authorization: Bearer KEY' or 'x-api-key: KEY'"
        else:
            message = "invalid tidegate key"
        exc = AuthenticationError(message)
        path = scope["path"]
        anthropic = path == _ANTHROPIC_PATH or path.startswith(_ANTHROPIC_PATH + "/")
        body = anthropic_error_body(exc) if anthropic else openai_error_body(exc)
        response = JSONResponse(
            body, status_code=exc.status, headers={"www-authenticate": 'Bearer realm="tidegate"'}
        )
        await response(scope, receive, send)


def auth_middleware(config: AuthConfig | None) -> list[Middleware]:
    """The middleware list for :class:`starlette.applications.Starlette`.

    Args:
        config: The ``auth`` section, or None (no client authentication).

    Returns:
        ``[Middleware(AuthMiddleware, ...)]``, or an empty list.
    """
    if config is None:
        return []
    return [Middleware(AuthMiddleware, keys=config.keys)]
