"""The guarded HTTP clients that wrapped and instrumented SDK clients send through.

The ``openai`` and ``anthropic`` SDKs send every request through an
``httpx2`` client. :class:`GuardedHttpClient` (and its async twin) is an
``httpx2`` client whose transport guards each request to a guarded endpoint
(see :class:`~tidegate.sdk.clients.SDKBinding`) with an
:class:`~tidegate.sdk.exchange.Exchange`, then sends it with the SDK's own
``httpx2`` client (its pool, proxies, timeouts and event hooks). Guarding at
this level covers every call of those endpoints — streamed or not, sync or
async, ``messages.stream()``, ``text_stream``, the Responses and Chat stream
helpers — because the SDK parses only the guarded bytes.

What the SDK gets back:

* an input block: :class:`~tidegate.BlockedError` (the SDK's subclass),
  raised from the call before anything is sent;
* a blocked JSON answer: the same, raised from the call;
* a blocked stream: the events released before the block, then the error,
  raised from the iteration;
* a request body that is not what its format expects: the 400 answer the
  gateway would give (``x-should-retry: false``), which the SDK raises as
  its own ``BadRequestError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeGuard

import httpx2

from tidegate.errors import TidegateError
from tidegate.guard.engine import GuardEngine
from tidegate.sdk.clients import SDKBinding
from tidegate.sdk.decision import BlockedError
from tidegate.sdk.exchange import Exchange, SSEGuard

# Headers that describe the upstream body's encoding, not the guarded one.
_BODY_HEADERS = ("content-encoding", "content-length", "transfer-encoding")


class Router:
    """Starts an :class:`Exchange` for each request to a guarded endpoint.

    Args:
        engine: The guard engine.
        binding: The SDK's binding (endpoints, error class).
        scan_responses: Guard responses too, not only requests.
    """

    def __init__(self, engine: GuardEngine, binding: SDKBinding, *, scan_responses: bool) -> None:
        self.engine = engine
        self.binding = binding
        self.scan_responses = scan_responses

    def exchange(self, request: httpx2.Request) -> Exchange | None:
        """The exchange for ``request``, or ``None`` if its endpoint is not guarded."""
        adapter = self.binding.adapter_for(request.method, request.url.path)
        if adapter is None:
            return None
        return Exchange(
            self.engine,
            adapter,
            self.binding.blocked_error,
            scan_responses=self.scan_responses,
        )


def _with_body(request: httpx2.Request, body: bytes) -> httpx2.Request:
    headers = request.headers.copy()
    headers.pop("transfer-encoding", None)
    headers["content-length"] = str(len(body))
    return httpx2.Request(
        request.method, request.url, headers=headers, content=body, extensions=request.extensions
    )


def _error_response(exchange: Exchange, exc: TidegateError) -> httpx2.Response:
    """The gateway's answer for ``exc``, in the format's error shape, never retried."""
    return httpx2.Response(
        exc.status,
        json=exchange.adapter.error_body(exc),
        headers={"x-should-retry": "false"},
    )


def _body_headers(response: httpx2.Response) -> list[tuple[str, str]]:
    return [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]


def _is_sse(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _guarded_json(exchange: Exchange, response: httpx2.Response, body: bytes) -> httpx2.Response:
    """A complete answer, guarded.

    Raises:
        BlockedError: An output block policy matched.
    """
    try:
        guarded = exchange.guard_body(response.status_code, body)
    except BlockedError:
        raise
    except TidegateError as exc:
        return _error_response(exchange, exc)
    return httpx2.Response(
        response.status_code,
        headers=_body_headers(response),
        content=body if guarded is None else guarded,
        extensions=response.extensions,
    )


class _SyncSSEStream(httpx2.SyncByteStream):
    """The guarded SSE body: upstream bytes in, guarded bytes out, blocks raised."""

    def __init__(self, response: httpx2.Response, guard: SSEGuard) -> None:
        self._response = response
        self._guard = guard

    def __iter__(self) -> Iterator[bytes]:
        guard = self._guard
        try:
            for chunk in self._response.iter_bytes():
                out = guard.feed(chunk)
                if out:
                    yield out
                guard.raise_if_blocked()
                if guard.done:
                    return
            out = guard.end()
        except httpx2.TransportError as exc:
            guard.upstream_failed(exc)
            raise
        if out:
            yield out
        guard.raise_if_blocked()

    def close(self) -> None:
        self._response.close()


class _AsyncSSEStream(httpx2.AsyncByteStream):
    """The async twin of :class:`_SyncSSEStream`."""

    def __init__(self, response: httpx2.Response, guard: SSEGuard) -> None:
        self._response = response
        self._guard = guard

    async def __aiter__(self) -> AsyncIterator[bytes]:
        guard = self._guard
        try:
            async for chunk in self._response.aiter_bytes():
                out = guard.feed(chunk)
                if out:
                    yield out
                guard.raise_if_blocked()
                if guard.done:
                    return
            out = guard.end()
        except httpx2.TransportError as exc:
            guard.upstream_failed(exc)
            raise
        if out:
            yield out
        guard.raise_if_blocked()

    async def aclose(self) -> None:
        await self._response.aclose()


class GuardTransport(httpx2.BaseTransport):
    """Guards requests, then sends them with the SDK's own ``httpx2`` client.

    Args:
        inner: The SDK client's original ``httpx2.Client``; closed with this.
        router: Picks the guarded endpoints.
    """

    def __init__(self, inner: httpx2.Client, router: Router) -> None:
        self._inner = inner
        self._router = router

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Guard and send one request (see the module docstring).

        Raises:
            BlockedError: A block policy matched the request or the answer.
        """
        exchange = self._router.exchange(request)
        if exchange is None:
            return self._inner.send(request, stream=True)
        try:
            body = exchange.guard_request(request.read())
        except BlockedError:
            raise
        except TidegateError as exc:
            return _error_response(exchange, exc)
        if body is not None:
            request = _with_body(request, body)
        response = self._inner.send(request, stream=True)
        if not exchange.scan_responses:
            return response
        if _is_sse(response):
            return httpx2.Response(
                response.status_code,
                headers=_body_headers(response),
                stream=_SyncSSEStream(response, exchange.sse()),
                extensions=response.extensions,
            )
        try:
            content = response.read()
        finally:
            response.close()
        return _guarded_json(exchange, response, content)

    def close(self) -> None:
        """Close the SDK's own client (the guarded client replaces it)."""
        self._inner.close()


class AsyncGuardTransport(httpx2.AsyncBaseTransport):
    """The async twin of :class:`GuardTransport`.

    Args:
        inner: The SDK client's original ``httpx2.AsyncClient``; closed with this.
        router: Picks the guarded endpoints.
    """

    def __init__(self, inner: httpx2.AsyncClient, router: Router) -> None:
        self._inner = inner
        self._router = router

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Guard and send one request (see the module docstring).

        Raises:
            BlockedError: A block policy matched the request or the answer.
        """
        exchange = self._router.exchange(request)
        if exchange is None:
            return await self._inner.send(request, stream=True)
        try:
            body = exchange.guard_request(await request.aread())
        except BlockedError:
            raise
        except TidegateError as exc:
            return _error_response(exchange, exc)
        if body is not None:
            request = _with_body(request, body)
        response = await self._inner.send(request, stream=True)
        if not exchange.scan_responses:
            return response
        if _is_sse(response):
            return httpx2.Response(
                response.status_code,
                headers=_body_headers(response),
                stream=_AsyncSSEStream(response, exchange.sse()),
                extensions=response.extensions,
            )
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        return _guarded_json(exchange, response, content)

    async def aclose(self) -> None:
        """Close the SDK's own client (the guarded client replaces it)."""
        await self._inner.aclose()


def _settings_of(inner: httpx2.Client | httpx2.AsyncClient) -> dict[str, Any]:
    """What the guarded client needs of the SDK's own to build the same requests.

    The SDK builds each request with the guarded client, so it takes the own
    client's default headers, query parameters, cookies and timeout. Auth,
    event hooks, redirects, proxies and the pool stay with the own client,
    which sends. ``trust_env`` is off: environment proxies must never route
    a request around the guard.
    """
    return {
        "headers": inner.headers,
        "params": inner.params,
        "cookies": inner.cookies,
        "timeout": inner.timeout,
        "trust_env": False,
    }


class GuardedHttpClient(httpx2.Client):
    """An ``httpx2.Client`` that guards, in front of an SDK client's own.

    Args:
        inner: The SDK client's ``httpx2.Client``.
        router: The guarded endpoints and the engine.
        owner: Who made it (an instrumentation marks its own clients).

    Attributes:
        inner: The wrapped client.
        owner: As given.
    """

    def __init__(self, inner: httpx2.Client, router: Router, *, owner: object = None) -> None:
        super().__init__(transport=GuardTransport(inner, router), **_settings_of(inner))
        self.inner = inner
        self.owner = owner

    @property
    def is_closed(self) -> bool:
        """Whether the wrapped client is closed."""
        return self.inner.is_closed


class AsyncGuardedHttpClient(httpx2.AsyncClient):
    """The async twin of :class:`GuardedHttpClient`.

    Args:
        inner: The SDK client's ``httpx2.AsyncClient``.
        router: The guarded endpoints and the engine.
        owner: Who made it (an instrumentation marks its own clients).
    """

    def __init__(self, inner: httpx2.AsyncClient, router: Router, *, owner: object = None) -> None:
        super().__init__(transport=AsyncGuardTransport(inner, router), **_settings_of(inner))
        self.inner = inner
        self.owner = owner

    @property
    def is_closed(self) -> bool:
        """Whether the wrapped client is closed."""
        return self.inner.is_closed


def is_guarded(http_client: object) -> TypeGuard[GuardedHttpClient | AsyncGuardedHttpClient]:
    """Whether ``http_client`` is a guarded client made by tidegate."""
    return isinstance(http_client, GuardedHttpClient | AsyncGuardedHttpClient)


def unwrapped(http_client: Any) -> Any:
    """The SDK's own HTTP client under any guarded clients."""
    while is_guarded(http_client):
        http_client = http_client.inner
    return http_client


def guarded_http_client(
    http_client: Any, router: Router, *, is_async: bool, owner: object = None
) -> GuardedHttpClient | AsyncGuardedHttpClient:
    """A guarded client in front of ``http_client`` (itself never guarded twice).

    Raises:
        TypeError: ``http_client`` is not an ``httpx2`` client of the right
            kind (an SDK client built on the legacy ``httpx`` package).
    """
    inner = unwrapped(http_client)
    if is_async:
        if not isinstance(inner, httpx2.AsyncClient):
            raise TypeError(f"tidegate can only guard an httpx2.AsyncClient, not {inner!r}")
        return AsyncGuardedHttpClient(inner, router, owner=owner)
    if not isinstance(inner, httpx2.Client):
        raise TypeError(f"tidegate can only guard an httpx2.Client, not {inner!r}")
    return GuardedHttpClient(inner, router, owner=owner)
