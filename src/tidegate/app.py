"""The ASGI application: routes, request handling and the app factory.

All state is created by :func:`create_app` and hangs off the returned app's
``state.gateway``; there are no module-level globals, so tests can run several
gateways side by side.
"""

from __future__ import annotations

from collections.abc import Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.adapters.base import WireAdapter, loads_strict
from tidegate.adapters.generic import GenericAdapter
from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.adapters.openai_completions import CompletionsAdapter
from tidegate.adapters.openai_embeddings import EmbeddingsAdapter, ModerationsAdapter
from tidegate.adapters.openai_responses import ResponsesAdapter
from tidegate.adapters.release import guard_body
from tidegate.admission import AdmissionControl
from tidegate.auth import auth_middleware, client_key_name
from tidegate.bodies import (
    MODELS_TABLE,
    error_response,
    guard_input,
    guard_json_body,
    off_loop,
    read_body,
    relay_upstream_error,
    relayed_headers,
)
from tidegate.config import TidegateConfig
from tidegate.disconnect import CancelOnDisconnect
from tidegate.drain import Drain
from tidegate.errors import (
    BadRequestError,
    NotFoundError,
    TidegateError,
    UpstreamError,
)
from tidegate.generic_path import generic_target
from tidegate.guard.engine import GuardEngine
from tidegate.logs import get_logger
from tidegate.ops.admin import AdminEndpoints
from tidegate.ops.middleware import OpsMiddleware
from tidegate.ops.observe import request_observation
from tidegate.ops.operations import Operations
from tidegate.relay import SSERelayResponse
from tidegate.routing import Router
from tidegate.scan_api import scan_response
from tidegate.slots import Slots
from tidegate.upstream import Upstream


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
            raw = await off_loop(
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
            return await relay_upstream_error(adapter, engine, upstream, response, obs)
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
        return await off_loop(
            engine, "output", len(body), guard_json_body, adapter, guard, body, response
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


async def models(request: Request) -> Response:
    """``GET /v1/models``: relayed from the default upstream."""
    gateway: Gateway = request.app.state.gateway
    adapter = gateway.adapters["openai"]
    engine = gateway.engine
    try:
        upstream = gateway.default_upstream()
        async with upstream.open("GET", "/models", headers=request.headers) as response:
            if response.status_code >= 400:
                return await relay_upstream_error(adapter, engine, upstream, response)
            body = await upstream.read_capped(response, gateway.config.limits.max_event_bytes)
            try:
                obj = loads_strict(body)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                raise UpstreamError("upstream answered /models with a body that is not JSON")
            if guard_body(obj, MODELS_TABLE, engine.new_stream()):
                return JSONResponse(obj, headers=relayed_headers(response, engine.new_stream()))
            headers = relayed_headers(response, engine.new_stream())
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
