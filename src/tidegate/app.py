"""The ASGI application: routes, request handling and the app factory.

All state is created by :func:`create_app` and hangs off the returned app's
``state.gateway``; there are no module-level globals, so tests can run several
gateways side by side.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.adapters.base import ParsedRequest, WireAdapter
from tidegate.adapters.generic import GenericAdapter
from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.adapters.openai_responses import ResponsesAdapter
from tidegate.config import TidegateConfig
from tidegate.errors import (
    NotFoundError,
    PayloadTooLargeError,
    TidegateError,
    UpstreamError,
)
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import StreamGuard
from tidegate.logs import get_logger
from tidegate.relay import SSERelayResponse
from tidegate.routing import Router
from tidegate.upstream import Upstream, UpstreamResponse

# Upstream response headers worth relaying to the client on JSON answers.
_RELAYED_HEADER_PREFIXES = ("x-request-id", "request-id", "openai-", "anthropic-", "x-ratelimit-")


@dataclass
class Gateway:
    """Everything one gateway instance owns.

    Attributes:
        config: The validated configuration.
        upstreams: Upstreams by name, in config order (the first is default).
        engine: The guard engine with the global policies.
        router: Picks the upstream and engine per request.
        adapters: Wire-format adapters by endpoint format.
        keepalive_s: Idle seconds before an SSE keep-alive comment.
    """

    config: TidegateConfig
    upstreams: dict[str, Upstream]
    engine: GuardEngine
    router: Router
    keepalive_s: float = 15.0
    adapters: dict[str, WireAdapter] = field(default_factory=dict)

    def default_upstream(self) -> Upstream:
        """The first configured upstream.

        Raises:
            NotFoundError: No upstream is configured.
        """
        for upstream in self.upstreams.values():
            return upstream
        raise NotFoundError("no upstream is configured")

    async def aclose(self) -> None:
        """Close every upstream connection pool."""
        for upstream in self.upstreams.values():
            await upstream.aclose()


def _request_id() -> str:
    return uuid.uuid4().hex


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing more than ``limit`` bytes.

    Raises:
        PayloadTooLargeError: Declared or actual size over ``limit`` bytes.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body of {declared} bytes exceeds {limit} bytes")
    size = 0
    parts: list[bytes] = []
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise PayloadTooLargeError(f"request body exceeds {limit} bytes")
        parts.append(part)
    return b"".join(parts)


def error_response(adapter: WireAdapter, exc: TidegateError) -> JSONResponse:
    """Render ``exc`` as a JSON error response in the adapter's format."""
    return JSONResponse(adapter.error_body(exc), status_code=exc.status)


def _relayed_headers(response: UpstreamResponse) -> dict[str, str]:
    return {
        k: v for k, v in response.headers.items() if k.lower().startswith(_RELAYED_HEADER_PREFIXES)
    }


async def _relay_upstream_error(
    adapter: WireAdapter, upstream: Upstream, response: UpstreamResponse
) -> Response:
    """Relay an upstream 4xx/5xx with its status; wrap a non-JSON body."""
    body = await upstream.read(response)
    headers = _relayed_headers(response)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return Response(
            body, status_code=response.status_code, headers=headers, media_type="application/json"
        )
    exc = UpstreamError(
        f"upstream {upstream.name!r} answered HTTP {response.status_code}: "
        + body[:200].decode(errors="replace")
    )
    exc.status = response.status_code
    return JSONResponse(adapter.error_body(exc), status_code=response.status_code, headers=headers)


async def proxy_completion(
    gateway: Gateway,
    request: Request,
    adapter: WireAdapter,
    path: str,
    *,
    upstream_name: str | None = None,
) -> Response:
    """Proxy one completion request (streamed or not) through the guard.

    Args:
        gateway: The gateway instance.
        request: The client request.
        adapter: Wire format of the endpoint.
        path: Upstream path below the version prefix.
        upstream_name: Use this upstream instead of routing (generic endpoint).
    """
    log = get_logger("relay").bind(request_id=_request_id(), format=adapter.name)
    try:
        raw = await read_body(request, gateway.config.limits.max_body_bytes)
        parsed = adapter.parse_request(raw)
        if upstream_name is not None:
            upstream, engine = gateway.router.upstream(upstream_name), gateway.engine
        else:
            upstream, engine = gateway.router.select(adapter.name, request.url.path, parsed.model)
        raw = await engine.call("input", guard_input, engine, adapter, parsed, raw)
        guard = engine.new_stream()
        stack = AsyncExitStack()
        response = await stack.enter_async_context(
            upstream.open("POST", path, headers=request.headers, content=raw)
        )
    except TidegateError as exc:
        log.info("request_failed", error=exc.code, status=exc.status)
        return error_response(adapter, exc)
    try:
        if response.status_code >= 400:
            log.info("upstream_error_status", status=response.status_code)
            return await _relay_upstream_error(adapter, upstream, response)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            relay = SSERelayResponse(
                chunks=guard.paced(upstream.aiter_bytes(response)),
                translator=adapter.new_stream(guard),
                close=stack.aclose,
                keepalive_s=gateway.keepalive_s,
                logger=log,
            )
            stack = AsyncExitStack()  # ownership moved to the relay
            return relay  # type: ignore[return-value]  # an ASGI response
        body = await upstream.read(response)
        return await engine.call("output", _guard_json_body, adapter, guard, body, response)
    except TidegateError as exc:
        log.info("request_failed", error=exc.code, status=exc.status)
        return error_response(adapter, exc)
    finally:
        await stack.aclose()


def guard_input(
    engine: GuardEngine, adapter: WireAdapter, parsed: ParsedRequest, raw: bytes
) -> bytes:
    """Guard the prompt texts; return the body to send upstream.

    The client's bytes go upstream unchanged unless a redaction changed a text.

    Raises:
        PolicyViolation: An input block policy matched.
    """
    if not engine.input_plan.detectors and not engine.input_plan.classifiers:
        return raw
    changed = False

    def guard(text: str, channel: str) -> str:
        nonlocal changed
        out = engine.guard_input_text(text, channel=channel)
        changed |= out != text
        return out

    adapter.map_input_texts(parsed.body, guard)
    return json.dumps(parsed.body, ensure_ascii=False).encode() if changed else raw


def _guard_json_body(
    adapter: WireAdapter, guard: StreamGuard, body: bytes, response: UpstreamResponse
) -> Response:
    """Guard a complete JSON response; relay the upstream bytes if unchanged."""
    headers = _relayed_headers(response)
    try:
        obj = json.loads(body)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise UpstreamError("upstream answered with a body that is not a JSON object")
    original = copy.deepcopy(obj)
    guarded = adapter.guard_response(obj, guard)
    if guarded == original:
        return Response(body, headers=headers, media_type="application/json")
    return JSONResponse(guarded, headers=headers)


async def models(request: Request) -> Response:
    """``GET /v1/models``: relayed from the default upstream."""
    gateway: Gateway = request.app.state.gateway
    adapter = gateway.adapters["openai"]
    try:
        upstream = gateway.default_upstream()
        async with upstream.open("GET", "/models", headers=request.headers) as response:
            if response.status_code >= 400:
                return await _relay_upstream_error(adapter, upstream, response)
            body = await upstream.read(response)
            return Response(body, headers=_relayed_headers(response), media_type="application/json")
    except TidegateError as exc:
        return error_response(adapter, exc)


async def healthz(request: Request) -> Response:
    """Liveness: the process serves requests."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the default upstream answers ``GET /models``."""
    gateway: Gateway = request.app.state.gateway
    try:
        upstream = gateway.default_upstream()
        async with upstream.open("GET", "/models", headers={}) as response:
            await upstream.read(response)
            ok = response.status_code < 500
    except TidegateError as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.code}, status_code=503)
    if not ok:
        return JSONResponse({"status": "unavailable", "reason": "upstream_error"}, status_code=503)
    return JSONResponse({"status": "ready", "upstream": upstream.name})


def _completion_endpoint(adapter_name: str, path: str) -> Any:
    async def endpoint(request: Request) -> Response:
        gateway: Gateway = request.app.state.gateway
        adapter = gateway.adapters[adapter_name]
        return await _never_crash(adapter, proxy_completion(gateway, request, adapter, path))

    return endpoint


async def _never_crash(adapter: WireAdapter, handler: Awaitable[Response]) -> Response:
    """Run a handler; a bug becomes a logged HTTP 500 in the client's wire format."""
    try:
        return await handler
    except Exception:
        get_logger("app").exception("internal_error")
        return error_response(adapter, TidegateError("internal gateway error"))


async def generic_endpoint(request: Request) -> Response:
    """``POST /generic/{upstream}/{path}``: a ``generic``-format upstream.

    The request body is forwarded as is to ``base_url/{path}``; the text at
    the upstream's ``text_path`` is guarded in the response.
    """
    gateway: Gateway = request.app.state.gateway
    name = request.path_params["upstream"]
    fallback = gateway.adapters["openai"]
    upstream = gateway.upstreams.get(name)
    if upstream is None or upstream.config.format != "generic":
        return error_response(fallback, NotFoundError(f"no generic upstream named {name!r}"))
    adapter = GenericAdapter(upstream.config.text_path)
    path = "/" + request.path_params["path"]
    handler = proxy_completion(gateway, request, adapter, path, upstream_name=name)
    return await _never_crash(adapter, handler)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    gateway: Gateway = request.app.state.gateway
    error = NotFoundError(f"{request.method} {request.url.path}: {exc.detail}")
    error.status = exc.status_code
    return error_response(gateway.adapters["openai"], error)


def create_app(
    config: TidegateConfig,
    *,
    engine: GuardEngine | None = None,
    keepalive_s: float | None = None,
) -> ASGIApp:
    """Build a gateway application.

    Args:
        config: Validated configuration; its upstreams must be set (the CLI
            adds the embedded model's before calling this).
        engine: Guard engine; built from ``config`` by default.
        keepalive_s: Idle seconds before an SSE keep-alive comment
            (default ``streaming.keepalive_s``).

    Raises:
        ConfigError: The policies or custom detectors are invalid.

    Returns:
        A Starlette application; ``app.state.gateway`` is its :class:`Gateway`.
    """
    engine = engine or GuardEngine(config)
    upstreams = {u.name: Upstream(u) for u in config.upstreams}
    gateway = Gateway(
        config=config,
        upstreams=upstreams,
        engine=engine,
        router=Router(config, upstreams, engine, engine.audit),
        keepalive_s=config.streaming.keepalive_s if keepalive_s is None else keepalive_s,
        adapters={
            "openai": OpenAIChatAdapter(),
            "responses": ResponsesAdapter(),
            "anthropic": AnthropicAdapter(),
        },
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        await gateway.aclose()

    app = Starlette(
        routes=[
            Route(
                "/v1/chat/completions",
                _completion_endpoint("openai", "/chat/completions"),
                methods=["POST"],
            ),
            Route("/v1/messages", _completion_endpoint("anthropic", "/messages"), methods=["POST"]),
            Route(
                "/v1/responses", _completion_endpoint("responses", "/responses"), methods=["POST"]
            ),
            Route("/generic/{upstream}/{path:path}", generic_endpoint, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
