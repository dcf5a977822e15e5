"""The ASGI application: routes, request handling and the app factory.

All state is created by :func:`create_app` and hangs off the returned app's
``state.gateway``; there are no module-level globals, so tests can run several
gateways side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.adapters.base import ParsedRequest, WireAdapter, dumps, loads_strict
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.generic import GenericAdapter
from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.adapters.openai_completions import CompletionsAdapter
from tidegate.adapters.openai_embeddings import EmbeddingsAdapter, ModerationsAdapter
from tidegate.adapters.openai_responses import ResponsesAdapter
from tidegate.adapters.release import guard_body
from tidegate.admission import AdmissionControl
from tidegate.audit import AuditSink
from tidegate.auth import auth_middleware, client_key_name
from tidegate.config import LimitsConfig, TidegateConfig
from tidegate.disconnect import CancelOnDisconnect
from tidegate.drain import Drain
from tidegate.errors import (
    BadRequestError,
    ClientDisconnectedError,
    NotFoundError,
    PayloadTooLargeError,
    RequestTimeoutError,
    TidegateError,
    UpstreamError,
)
from tidegate.generic_path import generic_target
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.logs import get_logger
from tidegate.offload import run_sized
from tidegate.ops.admin import AdminEndpoints
from tidegate.ops.middleware import OpsMiddleware
from tidegate.ops.observe import request_observation
from tidegate.ops.operations import Operations
from tidegate.relay import SSERelayResponse
from tidegate.routing import Router
from tidegate.scan_api import scan_response
from tidegate.slots import Slots
from tidegate.upstream import Upstream, UpstreamResponse

# Upstream response headers worth relaying to the client on JSON answers.
_RELAYED_HEADER_PREFIXES = ("x-request-id", "request-id", "openai-", "anthropic-", "x-ratelimit-")
# Statuses whose Retry-After is relayed too (RFC 9110 section 10.2.3).
_RETRY_AFTER_STATUSES = frozenset({429, 503})

# An upstream error body: every string in it is text (errors echo prompts).
ERROR_TABLE = FieldTable.of(keys="error message type code param")
# ``GET /models``: model ids are structural atoms; every other string is text.
MODELS_TABLE = FieldTable.of(
    enums={"object": ("list",), "data.*.object": ("model",)},
    atoms="data.*.id data.*.owned_by",
    numbers="data.*.created",
    keys="data",
)
# The longest upstream error body read, in bytes; the rest is not relayed.
_MAX_ERROR_BODY = 1024 * 1024


T = TypeVar("T")


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
        slots: Completion requests in flight (``limits.max_concurrent_streams``).
        drain: The open event streams, for a graceful shutdown.
        ops: Metrics, audit store and request logs.
    """

    config: TidegateConfig
    upstreams: dict[str, Upstream]
    engine: GuardEngine
    router: Router
    slots: Slots
    ops: Operations
    keepalive_s: float = 15.0
    adapters: dict[str, WireAdapter] = field(default_factory=dict)
    drain: Drain = field(default_factory=Drain)

    def default_upstream(self) -> Upstream:
        """The first configured upstream.

        Raises:
            NotFoundError: No upstream is configured.
        """
        for upstream in self.upstreams.values():
            return upstream
        raise NotFoundError("no upstream is configured")

    async def aclose(self) -> None:
        """Close every upstream connection pool; write what the audit queue holds."""
        for upstream in self.upstreams.values():
            await upstream.aclose()
        await self.ops.aclose()


async def read_body(request: Request, limits: LimitsConfig) -> bytes:
    """Read the request body, refusing more than ``limits.max_body_bytes``.

    Raises:
        PayloadTooLargeError: Declared or actual size over the limit.
        RequestTimeoutError: No body bytes came for ``limits.body_idle_timeout_s``
            (up to 1.1 times that).
        ClientDisconnectedError: The client went away before sending it all.
    """
    limit = limits.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"request body of {declared} bytes exceeds {limit} bytes")
    size = 0
    parts: list[bytes] = []
    # The idle deadline is moved on only once a tenth of it has passed: a
    # stalled body is refused after 1 to 1.1 timeouts of silence, and a body
    # that comes at once costs one timer, not one per read (~5 µs each).
    timeout = limits.body_idle_timeout_s
    clock = asyncio.get_running_loop().time  # anyio's clock on asyncio, without its lookup
    stream = request.stream()
    try:
        with anyio.CancelScope(deadline=clock() + 1.1 * timeout) as idle:
            while True:
                part = await anext(stream, None)
                if part is None:
                    return b"".join(parts)
                size += len(part)
                if size > limit:
                    raise PayloadTooLargeError(f"request body exceeds {limit} bytes")
                parts.append(part)
                now = clock()
                if idle.deadline - now < timeout:
                    idle.deadline = now + 1.1 * timeout
    except ClientDisconnect:
        raise ClientDisconnectedError("the client went away while sending its request") from None
    finally:
        await stream.aclose()
    raise RequestTimeoutError(f"no request body bytes for {limits.body_idle_timeout_s} s")


def error_response(adapter: WireAdapter, exc: TidegateError) -> JSONResponse:
    """Render ``exc`` as a JSON error response in the adapter's format."""
    return JSONResponse(adapter.error_body(exc), status_code=exc.status, headers=exc.headers())


def _relayed_headers(response: UpstreamResponse, guard: StreamGuard) -> dict[str, str]:
    """The upstream headers relayed on a JSON answer.

    Only the allow-listed names; a value in which any detector finds
    something is dropped (header values are strings that cross tidegate too).
    """
    headers = {
        k: v for k, v in response.headers.items() if k.lower().startswith(_RELAYED_HEADER_PREFIXES)
    }
    if response.status_code in _RETRY_AFTER_STATUSES and "retry-after" in response.headers:
        headers["retry-after"] = response.headers["retry-after"]
    return {k: v for k, v in headers.items() if guard.is_clean(v)}


async def _relay_upstream_error(
    adapter: WireAdapter,
    engine: GuardEngine,
    upstream: Upstream,
    response: UpstreamResponse,
    audit: AuditSink | None = None,
) -> Response:
    """Relay an upstream 4xx/5xx with its status, guarded like any output.

    Error bodies echo prompts, so every string in a JSON body is scanned with
    the output policies (a block answers with the policy error instead). A
    non-JSON body (HTML from a proxy) is cut to 200 chars, guarded, and
    wrapped in the client's error shape.

    Raises:
        PolicyViolation: An output block policy matched the error body.
    """
    body = await upstream.read_prefix(response, _MAX_ERROR_BODY)
    headers = _relayed_headers(response, engine.new_stream())
    try:
        parsed = loads_strict(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        guard_body(parsed, ERROR_TABLE, engine.new_stream(audit))
        return JSONResponse(parsed, status_code=response.status_code, headers=headers)
    excerpt = guard_whole(engine.new_stream(audit), "error", body[:200].decode(errors="replace"))
    exc = UpstreamError(
        f"upstream {upstream.name!r} answered HTTP {response.status_code}: {excerpt}"
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
    obs = request_observation(request.scope)  # ops: counts, audit context, request record
    key_name = client_key_name(request.scope)
    obs.begin(_route_template(request), adapter.name, key_name)
    log = get_logger("relay").bind(request_id=obs.request_id, format=adapter.name)
    log = log.bind(key_name=key_name)
    try:
        raw = await read_body(request, gateway.config.limits)
        parsed = adapter.parse_request(raw)
        if upstream_name is not None:
            upstream, engine = gateway.router.upstream(upstream_name), gateway.engine
        else:
            upstream, engine = gateway.router.select(adapter.name, request.url.path, parsed.model)
        obs.routed(upstream.name, parsed.model, engine)
        with obs.guard_timer():
            raw = await _off_loop(
                engine, "input", len(raw), guard_input, engine, adapter, parsed, raw, obs
            )
        guard = obs.guard(engine.new_stream(obs))
        stack = AsyncExitStack()
        response = await stack.enter_async_context(
            upstream.open("POST", path, headers=request.headers, content=raw)
        )
    except TidegateError as exc:
        obs.failed(exc)
        log.info("request_failed", error=exc.code, status=exc.status)
        return error_response(adapter, exc)
    try:
        if response.status_code >= 400:
            obs.upstream_status(response.status_code)
            log.info("upstream_error_status", status=response.status_code)
            return await _relay_upstream_error(adapter, engine, upstream, response, obs)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            relay = SSERelayResponse(
                chunks=guard.paced(obs.upstream_chunks(upstream.aiter_bytes(response))),
                translator=obs.translator(adapter.new_stream(guard)),
                close=stack.aclose,
                keepalive_s=gateway.keepalive_s,
                logger=log,
                max_event_bytes=gateway.config.limits.max_event_bytes,
                drain=gateway.drain,
            )
            stack = AsyncExitStack()  # ownership moved to the relay
            return relay  # type: ignore[return-value]  # an ASGI response
        body = await upstream.read_capped(response, gateway.config.limits.max_event_bytes)
        return await _off_loop(
            engine, "output", len(body), _guard_json_body, adapter, guard, body, response
        )
    except TidegateError as exc:
        obs.failed(exc)
        log.info("request_failed", error=exc.code, status=exc.status)
        return error_response(adapter, exc)
    finally:
        await stack.aclose()


def _route_template(request: Request) -> str:
    """The matched route's path template: a bounded metric label, never the raw path."""
    template = getattr(request.scope.get("route"), "path", None)
    return template if isinstance(template, str) else "unknown"


async def _off_loop(
    engine: GuardEngine, direction: str, size: int, fn: Callable[..., T], *args: Any
) -> T:
    """Run CPU-heavy guard work off the event loop when it may be slow.

    With classifier detectors in the direction's plan, always (the engine's
    worker threads); otherwise when the input is over the offload threshold.
    """
    if engine.plan(direction).classifiers:
        return await engine.call(direction, fn, *args)
    return await run_sized(size, fn, *args)


def guard_input(
    engine: GuardEngine,
    adapter: WireAdapter,
    parsed: ParsedRequest,
    raw: bytes,
    audit: AuditSink | None = None,
) -> bytes:
    """Guard every text of the request; return the body to send upstream.

    Deny by default: every string that the format's request table does not
    list as structural is scanned. The client's bytes go upstream unchanged
    unless something was redacted; then the re-serialised body goes instead.
    (Bodies that could parse two ways, with a repeated key, were refused
    when parsed.)

    Args:
        engine: The request's guard engine.
        adapter: The endpoint's wire format.
        parsed: The parsed request.
        raw: The request body as the client sent it.
        audit: Where findings go (default: the engine's audit log).

    Raises:
        PolicyViolation: An input block policy matched.
        BadRequestError: Too deeply nested, or a lone surrogate.
    """
    if not engine.input_plan.detectors and not engine.input_plan.classifiers:
        return raw

    def guard(text: str, channel: str) -> str:
        return engine.guard_input_text(text, channel=channel, audit=audit)

    if adapter.map_input_texts(parsed.body, guard):
        return dumps(parsed.body).encode()
    return raw


def _guard_json_body(
    adapter: WireAdapter, guard: StreamGuard, body: bytes, response: UpstreamResponse
) -> Response:
    """Guard a complete JSON response; relay the upstream bytes if unchanged.

    Raises:
        UpstreamError: Not one JSON object with unique keys.
        PolicyViolation: An output block policy matched.
    """
    headers = _relayed_headers(response, guard)
    try:
        obj = loads_strict(body)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise UpstreamError("upstream answered with a body that is not one JSON object")
    if adapter.guard_response(obj, guard):
        return JSONResponse(obj, headers=headers)
    return Response(body, headers=headers, media_type="application/json")


async def models(request: Request) -> Response:
    """``GET /v1/models``: relayed from the default upstream."""
    gateway: Gateway = request.app.state.gateway
    adapter = gateway.adapters["openai"]
    engine = gateway.engine
    try:
        upstream = gateway.default_upstream()
        async with upstream.open("GET", "/models", headers=request.headers) as response:
            if response.status_code >= 400:
                return await _relay_upstream_error(adapter, engine, upstream, response)
            body = await upstream.read_capped(response, gateway.config.limits.max_event_bytes)
            try:
                obj = loads_strict(body)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                raise UpstreamError("upstream answered /models with a body that is not JSON")
            if guard_body(obj, MODELS_TABLE, engine.new_stream()):
                return JSONResponse(obj, headers=_relayed_headers(response, engine.new_stream()))
            headers = _relayed_headers(response, engine.new_stream())
            return Response(body, headers=headers, media_type="application/json")
    except TidegateError as exc:
        return error_response(adapter, exc)


async def guard_scan(request: Request) -> Response:
    """``POST /v1/guard/scan``: a decision as JSON (see :mod:`tidegate.scan_api`)."""
    gateway: Gateway = request.app.state.gateway
    try:
        raw = await read_body(request, gateway.config.limits)
    except TidegateError as exc:
        return error_response(gateway.adapters["openai"], exc)
    return await scan_response(gateway.engine, raw)


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
    the upstream's ``text_path`` is guarded in the response. A path that
    could leave ``base_url`` is a 400 (:func:`generic_target`); the query
    string goes along only with the upstream's ``forward_query``.
    """
    gateway: Gateway = request.app.state.gateway
    name = request.path_params["upstream"]
    fallback = gateway.adapters["openai"]
    upstream = gateway.upstreams.get(name)
    if upstream is None or upstream.config.format != "generic":
        return error_response(fallback, NotFoundError(f"no generic upstream named {name!r}"))
    adapter = GenericAdapter(upstream.config.text_path)
    try:
        path = generic_target(request.scope, name, forward_query=upstream.config.forward_query)
    except BadRequestError as exc:
        return error_response(adapter, exc)
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
) -> Starlette:
    """Build a gateway application.

    Args:
        config: Validated configuration; its upstreams must be set (the CLI
            adds the embedded model's before calling this).
        engine: Guard engine; built from ``config`` by default.
        keepalive_s: Idle seconds before an SSE keep-alive comment
            (default ``streaming.keepalive_s``).

    Raises:
        ConfigError: The policies or custom detectors are invalid,
            ``audit.url_env`` is unset, or ``PROMETHEUS_MULTIPROC_DIR`` is unusable.

    Returns:
        A Starlette application; ``app.state.gateway`` is its :class:`Gateway`.
    """
    engine = engine or GuardEngine(config)
    upstreams = {u.name: Upstream(u) for u in config.upstreams}
    ops = Operations(config, engine.audit)
    gateway = Gateway(
        config=config,
        upstreams=upstreams,
        engine=engine,
        router=Router(config, upstreams, engine, engine.audit),
        slots=Slots(config.limits.max_concurrent_streams, "the gateway"),
        ops=ops,
        keepalive_s=config.streaming.keepalive_s if keepalive_s is None else keepalive_s,
        adapters={
            "openai": OpenAIChatAdapter(),
            "responses": ResponsesAdapter(),
            "anthropic": AnthropicAdapter(),
            "completions": CompletionsAdapter(),
            "embeddings": EmbeddingsAdapter(),
            "moderations": ModerationsAdapter(),
        },
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        ops.start()
        yield
        await gateway.aclose()

    def admitted(adapter_name: str) -> list[Middleware]:
        """A slot per request (or 429), and cancellation when its client leaves."""
        adapter = gateway.adapters[adapter_name]
        return [
            Middleware(AdmissionControl, slots=gateway.slots, adapter=adapter),
            Middleware(CancelOnDisconnect),
        ]

    app = Starlette(
        routes=[
            Route(
                "/v1/chat/completions",
                _completion_endpoint("openai", "/chat/completions"),
                methods=["POST"],
                middleware=admitted("openai"),
            ),
            Route(
                "/v1/messages",
                _completion_endpoint("anthropic", "/messages"),
                methods=["POST"],
                middleware=admitted("anthropic"),
            ),
            Route(
                "/v1/responses",
                _completion_endpoint("responses", "/responses"),
                methods=["POST"],
                middleware=admitted("responses"),
            ),
            Route(
                "/generic/{upstream}/{path:path}",
                generic_endpoint,
                methods=["POST"],
                middleware=admitted("openai"),
            ),
            Route(
                "/v1/completions",
                _completion_endpoint("completions", "/completions"),
                methods=["POST"],
                middleware=admitted("completions"),
            ),
            Route(
                "/v1/embeddings",
                _completion_endpoint("embeddings", "/embeddings"),
                methods=["POST"],
                middleware=admitted("embeddings"),
            ),
            Route(
                "/v1/moderations",
                _completion_endpoint("moderations", "/moderations"),
                methods=["POST"],
                middleware=admitted("moderations"),
            ),
            Route("/v1/models", models, methods=["GET"]),
            Route("/v1/guard/scan", guard_scan, methods=["POST"], middleware=admitted("openai")),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *AdminEndpoints(ops, config.admin).routes(),
        ],
        exception_handlers={HTTPException: _http_error},
        middleware=[Middleware(OpsMiddleware, ops=ops), *auth_middleware(config.auth)],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app
