"""Upstream transport: pooled HTTP connections and error mapping.

One :class:`aiohttp.ClientSession` (a keep-alive :class:`aiohttp.TCPConnector`
pool) per configured upstream, created on first use inside the running event
loop and closed by :meth:`Upstream.aclose`. Low-level aiohttp errors are mapped
to the most specific tidegate error, ``raise Mapped(...) from exc``, in one
place. Requests are never retried here: a retried streaming request could
replay tokens to the client. (aiohttp itself resends an idempotent request,
such as ``GET /models``, once when a pooled keep-alive connection turns out to
have been closed by the upstream; never a ``POST``.)

``max_connections`` bounds the requests in flight to one upstream: one more is
refused at once with HTTP 429 (:mod:`tidegate.slots`) instead of queueing for
a pooled connection until the connect timeout (a 504 after 5 s).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from multidict import CIMultiDictProxy

from tidegate.config import UpstreamConfig
from tidegate.errors import (
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)
from tidegate.slots import Slots

# Request headers forwarded upstream: an allow-list, so that cookies,
# X-Forwarded-*, hop-by-hop headers (RFC 9110 section 7.6.1) and anything else
# the client's side adds stay here. The transport sets Content-Length and
# Accept-Encoding itself.
_FORWARDED = frozenset({"authorization", "x-api-key", "content-type", "accept", "user-agent"})
_FORWARDED_PREFIXES = ("openai-", "anthropic-", "x-stainless-")
_AUTH_HEADERS = frozenset({"authorization", "x-api-key"})

# Headers aiohttp would otherwise add when the client did not send them: its
# own User-Agent, and Content-Type: application/octet-stream on a POST.
_SKIP_AUTO_HEADERS = ("User-Agent", "Content-Type")

# Idle seconds before a pooled connection is dropped (httpx's default, kept);
# below the usual server keep-alive timeouts, so a pooled connection is rarely
# one the upstream is just closing.
_KEEPALIVE_S = 5.0

# What aiohttp raises for a failed request or body read. ``TimeoutError`` (and
# so aiohttp's ``ServerTimeoutError``) is an ``OSError`` too.
_CLIENT_ERRORS = (aiohttp.ClientError, OSError)


def map_aiohttp_error(exc: BaseException, upstream: str) -> UpstreamError:
    """Map an aiohttp (or socket) error to the matching :class:`UpstreamError`.

    Args:
        exc: The exception, one of :data:`_CLIENT_ERRORS`.
        upstream: Upstream name, for the message.
    """
    if isinstance(exc, TimeoutError):  # connect timeout, or sock_read between reads
        return UpstreamTimeoutError(f"upstream {upstream!r} timed out ({type(exc).__name__})")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return UpstreamUnreachableError(f"upstream {upstream!r} is unreachable")
    return UpstreamProtocolError(f"upstream {upstream!r} failed: {type(exc).__name__}")


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """An upstream response whose body has not been read yet.

    Attributes:
        status_code: The HTTP status.
        headers: The response headers (case-insensitive).
        raw: The underlying aiohttp response; read it with
            :meth:`Upstream.aiter_bytes` or :meth:`Upstream.read`.
    """

    status_code: int
    headers: CIMultiDictProxy[str]
    raw: aiohttp.ClientResponse


class Upstream:
    """One upstream API with its connection pool.

    Args:
        config: The upstream's configuration.
        environ: Environment for ``api_key_env`` (defaults to ``os.environ``).
    """

    def __init__(self, config: UpstreamConfig, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.name = config.name
        env = os.environ if environ is None else environ
        self._api_key = env.get(config.api_key_env) if config.api_key_env else None
        self._session: aiohttp.ClientSession | None = None
        self.slots = Slots(config.max_connections, f"upstream {config.name!r}")

    def _new_session(self) -> aiohttp.ClientSession:
        """The connection pool; needs the running event loop."""
        timeouts = self.config.timeouts
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=self.config.max_connections, keepalive_timeout=_KEEPALIVE_S
            ),
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=timeouts.connect_s,  # pool acquire + connect
                sock_connect=timeouts.connect_s,
                sock_read=timeouts.read_s,  # the longest wait for the next bytes
            ),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=_SKIP_AUTO_HEADERS,
        )

    def url(self, path: str) -> str:
        """Absolute upstream URL for a path below the version prefix.

        Args:
            path: Path after ``/v1``, e.g. ``"/chat/completions"``.
        """
        return self.config.base_url + path

    def headers(self, client_headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to send upstream.

        Only ``Authorization``, ``x-api-key``, ``Content-Type``, ``Accept``,
        ``User-Agent`` and ``openai-*``, ``anthropic-*`` and ``x-stainless-*``
        headers pass through, and none that the client's ``Connection`` header
        names (RFC 9110 section 7.6.1). With ``api_key_env`` set, the
        configured key replaces the client's ``Authorization``/``x-api-key``
        in the header style of the format. (With client auth configured, the
        auth middleware has already removed the client's key headers.)
        Compression is disabled so that SSE can be relayed byte by byte.

        Args:
            client_headers: The client's request headers (Starlette's
                ``Headers`` or any mapping).
        """
        items = list(client_headers.items())
        named = {
            token.strip().lower()
            for k, v in items
            if k.lower() == "connection"
            for token in v.split(",")
        }
        out = {
            k: v
            for k, v in items
            if (k.lower() in _FORWARDED or k.lower().startswith(_FORWARDED_PREFIXES))
            and k.lower() not in named
        }
        if self._api_key is not None:
            out = {k: v for k, v in out.items() if k.lower() not in _AUTH_HEADERS}
            if self.config.format == "anthropic":
                out["x-api-key"] = self._api_key
            else:
                out["authorization"] = f"Bearer {self._api_key}"
        out["accept-encoding"] = "identity"
        return out

    @asynccontextmanager
    async def open(
        self, method: str, path: str, *, headers: Mapping[str, str], content: bytes | None = None
    ) -> AsyncIterator[UpstreamResponse]:
        """Send a request and yield the response with its body unread.

        On exit, a response read to the end returns its connection to the
        pool; one that was not (the client went away, or the upstream broke
        off) drops its connection, which is how an upstream learns that its
        client went away.

        The request holds one of the upstream's ``max_connections`` slots
        until the response is closed, so the pool never makes it wait.

        Raises:
            OverloadedError: ``max_connections`` requests are in flight already.
            UpstreamError: Connect failure, timeout or protocol error.
        """
        session = self._session
        if session is None:
            session = self._session = self._new_session()
        with self.slots.hold():
            try:
                raw = await session.request(
                    method,
                    self.url(path),
                    headers=self.headers(headers),
                    data=content,
                    allow_redirects=False,
                )
            except _CLIENT_ERRORS as exc:
                raise map_aiohttp_error(exc, self.name) from exc
            try:
                yield UpstreamResponse(raw.status, raw.headers, raw)
            finally:
                if raw.content.at_eof():
                    raw.release()
                else:
                    raw.close()

    async def aiter_bytes(self, response: UpstreamResponse) -> AsyncIterator[bytes]:
        """Iterate a response body as it arrives, mapping errors.

        Each chunk is whatever the socket delivered (``iter_any``): nothing
        waits for a line end or a fixed size.

        Raises:
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        try:
            async for chunk in response.raw.content.iter_any():
                yield chunk
        except _CLIENT_ERRORS as exc:
            raise map_aiohttp_error(exc, self.name) from exc

    async def read(self, response: UpstreamResponse) -> bytes:
        """Read a whole response body, mapping errors.

        Raises:
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        try:
            return await response.raw.read()
        except _CLIENT_ERRORS as exc:
            raise map_aiohttp_error(exc, self.name) from exc

    async def read_prefix(self, response: UpstreamResponse, limit: int) -> bytes:
        """Read a response body to its end, or its first ``limit`` bytes if longer.

        Raises:
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        parts: list[bytes] = []
        size = 0
        try:
            while size < limit:
                part = await response.raw.content.read(limit - size)
                if not part:
                    break
                parts.append(part)
                size += len(part)
        except _CLIENT_ERRORS as exc:
            raise map_aiohttp_error(exc, self.name) from exc
        return b"".join(parts)

    async def read_capped(self, response: UpstreamResponse, limit: int) -> bytes:
        """Read a whole response body of at most ``limit`` bytes.

        Raises:
            UpstreamProtocolError: The body is longer than ``limit`` bytes.
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        body = await self.read_prefix(response, limit + 1)
        if len(body) > limit:
            raise UpstreamProtocolError(f"upstream {self.name!r} sent a body over {limit} bytes")
        return body

    async def aclose(self) -> None:
        """Close the connection pool (a later request opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()
