"""Upstream transport: pooled HTTP connections and error mapping.

One :class:`httpx.AsyncClient` (a keep-alive connection pool) per configured
upstream. Low-level httpx errors are mapped to the most specific tidegate
error, ``raise Mapped(...) from exc``, in one place. Requests are never
retried here: a retried streaming request could replay tokens to the client.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx

from tidegate.config import UpstreamConfig
from tidegate.errors import (
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
    UpstreamUnreachableError,
)

# Request headers that describe the client's own connection and must not be
# forwarded (RFC 9110 section 7.6.1), plus those httpx sets itself.
_HOP_BY_HOP = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
        "content-length",
        "accept-encoding",
    }
)
_AUTH_HEADERS = frozenset({"authorization", "x-api-key"})


def map_httpx_error(exc: httpx.HTTPError, upstream: str) -> UpstreamError:
    """Map an httpx error to the matching :class:`UpstreamError`.

    Args:
        exc: The httpx exception.
        upstream: Upstream name, for the message.
    """
    if isinstance(exc, httpx.TimeoutException):
        return UpstreamTimeoutError(f"upstream {upstream!r} timed out ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return UpstreamUnreachableError(f"upstream {upstream!r} is unreachable")
    return UpstreamProtocolError(f"upstream {upstream!r} failed: {type(exc).__name__}")


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
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                connect=config.timeouts.connect_s,
                read=config.timeouts.read_s,
                write=config.timeouts.read_s,
                pool=config.timeouts.connect_s,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections,
                max_keepalive_connections=config.max_connections,
            ),
            follow_redirects=False,
        )

    def url(self, path: str) -> str:
        """Absolute upstream URL for a path below the version prefix.

        Args:
            path: Path after ``/v1``, e.g. ``"/chat/completions"``.
        """
        return self.config.base_url + path

    def headers(self, client_headers: Mapping[str, str]) -> dict[str, str]:
        """Headers to send upstream.

        End-to-end headers pass through; hop-by-hop ones do not. With
        ``api_key_env`` set, the configured key replaces the client's
        ``Authorization``/``x-api-key`` in the header style of the format.
        Compression is disabled so that SSE can be relayed byte by byte.
        """
        out = {k: v for k, v in client_headers.items() if k.lower() not in _HOP_BY_HOP}
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
    ) -> AsyncIterator[httpx.Response]:
        """Send a request and yield the response with its body unread.

        The response is closed on exit, which returns its connection to the
        pool, or drops the connection when the body was not read to the end
        (the way an upstream learns that its client went away).

        Raises:
            UpstreamError: Connect failure, timeout or protocol error.
        """
        request = self._client.build_request(
            method, self.url(path), headers=self.headers(headers), content=content
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, self.name) from exc
        try:
            yield response
        finally:
            await response.aclose()

    async def aiter_bytes(self, response: httpx.Response) -> AsyncIterator[bytes]:
        """Iterate a response body as it arrives, mapping errors.

        Raises:
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        try:
            async for chunk in response.aiter_raw():
                yield chunk
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, self.name) from exc

    async def read(self, response: httpx.Response) -> bytes:
        """Read a whole response body, mapping errors.

        Raises:
            UpstreamError: The upstream timed out or broke off mid-body.
        """
        try:
            return await response.aread()
        except httpx.HTTPError as exc:
            raise map_httpx_error(exc, self.name) from exc

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
