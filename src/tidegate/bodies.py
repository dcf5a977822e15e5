"""Guarding whole bodies: the client's request, JSON answers, error bodies.

The streaming path is the relay's; everything that arrives whole goes
through here: the request body (read with limits, guarded deny by default
before it goes upstream), a non-streamed JSON answer, an upstream error
body (JSON or not) and the header values relayed with them. CPU-heavy work
runs off the event loop (:func:`off_loop`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from tidegate.adapters.base import ParsedRequest, WireAdapter, dumps, loads_strict
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.release import guard_body
from tidegate.audit import AuditSink
from tidegate.config import LimitsConfig
from tidegate.errors import (
    ClientDisconnectedError,
    PayloadTooLargeError,
    RequestTimeoutError,
    TidegateError,
    UpstreamError,
)
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.offload import run_sized
from tidegate.upstream import Upstream, UpstreamResponse

T = TypeVar("T")

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


def relayed_headers(response: UpstreamResponse, guard: StreamGuard) -> dict[str, str]:
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


async def relay_upstream_error(
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
    headers = relayed_headers(response, engine.new_stream())
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


async def off_loop(
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


def guard_json_body(
    adapter: WireAdapter, guard: StreamGuard, body: bytes, response: UpstreamResponse
) -> Response:
    """Guard a complete JSON response; relay the upstream bytes if unchanged.

    Raises:
        UpstreamError: Not one JSON object with unique keys.
        PolicyViolation: An output block policy matched.
    """
    headers = relayed_headers(response, guard)
    try:
        obj = loads_strict(body)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise UpstreamError("upstream answered with a body that is not one JSON object")
    if adapter.guard_response(obj, guard):
        return JSONResponse(obj, headers=headers)
    return Response(body, headers=headers, media_type="application/json")
