"""Per-request observation: what one request did, gathered as it happens.

A :class:`RequestObservation` is created for every HTTP request by the ops
middleware and put in ``scope["state"]`` (:func:`request_observation` finds
it). The completion handler tells it what it learns (route and format, the
upstream and model, errors) and hands it to the guards as their audit sink;
wrappers count what flows through:

* the output guards it was handed (their :class:`~tidegate.guard.stream.GuardStats`
  count deltas and chars in and out, guard time per delta, the peak holdback);
* :class:`ObservedChunks` around the upstream body: upstream time to first
  byte and bytes read;
* :class:`ObservedTranslator` around the stream translator: why a stream
  ended early (blocked, upstream failed, gateway error).

The middleware adds the status, the client-side first byte and bytes sent,
and a client disconnect, then hands the observation to
:meth:`tidegate.ops.operations.Operations.finish`. Everything here is plain
attribute arithmetic: the costly parts (metrics, log lines, the store queue)
happen once per request, in ``finish``, after the last byte was sent.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tidegate.audit import GuardEvent
from tidegate.errors import (
    AuditUnavailableError,
    ClientDisconnectedError,
    OverloadedError,
    PolicyViolation,
    RequestError,
    ShuttingDownError,
    TidegateError,
    UpstreamError,
)
from tidegate.guard.stream import GuardedStream, GuardStats
from tidegate.sse import ServerSentEvent
from tidegate.store.records import Outcome, Termination

if TYPE_CHECKING:
    from tidegate.adapters.base import StreamTranslator
    from tidegate.guard.engine import GuardEngine
    from tidegate.ops.operations import Operations

OBSERVATION_STATE = "tidegate_observation"
"""Key of the request's :class:`RequestObservation` in ``scope["state"]``."""


def new_request_id() -> str:
    """A unique request ID: 32 lowercase hex chars (128 random bits)."""
    return os.urandom(16).hex()


class RequestObservation:
    """Everything recorded about one HTTP request.

    Args:
        ops: The gateway's operations object (None: observe but record nothing).
        scope: The request's ASGI scope.

    Attributes:
        request_id: The request's ID (sent back as ``x-tidegate-request-id``).
        route: Endpoint route template; None for requests that are not
            proxied completions (``/metrics``, ``/healthz``…).
        outcome: Set when the outcome is known before the end (see
            :class:`tidegate.store.records.RequestRecord`).
    """

    def __init__(self, ops: Operations | None, scope: MutableMapping[str, Any]) -> None:
        self.ops = ops
        self.request_id = new_request_id()
        self.started = time.perf_counter()
        self.started_unix = time.time()
        self.method: str = scope.get("method", "")
        self.path: str = scope.get("path", "")
        client = scope.get("client")
        self.client: str | None = client[0] if client else None
        self.route: str | None = None
        self.format = ""
        self.upstream: str | None = None
        self.model: str | None = None
        self.key_name: str | None = None
        self.policy_names: tuple[str, ...] = ()
        self.strategy = ""
        self.status = 0
        self.complete = False
        self.disconnected = False
        self.streaming = False
        self.stream_counted = False
        self.first_upstream: float | None = None
        self.first_client: float | None = None
        self.bytes_in = 0
        self.bytes_out = 0
        self.findings = 0
        self.input_guard_s = 0.0
        self.guards: list[GuardedStream] = []
        self.outcome: Outcome | None = None
        self.termination: Termination | None = None
        self.policy: str | None = None
        self.error: str | None = None
        self.upstream_error: str | None = None
        self.stream_error: str | None = None

    # ------------------------------------------------------------ told by the handler

    def begin(self, route: str, wire_format: str, key_name: str | None) -> None:
        """The request is a completion request on ``route`` in ``wire_format``."""
        self.route = route
        self.format = wire_format
        self.key_name = key_name

    def routed(self, upstream: str, model: str | None, engine: GuardEngine) -> None:
        """The request goes to ``upstream``, guarded by ``engine``.

        Raises:
            AuditUnavailableError: ``audit.on_failure: block`` and the audit
                store is failing: the request must be refused.
        """
        self.upstream = upstream
        self.model = model
        if self.ops is not None:
            self.policy_names = self.ops.output_policy_names(engine)
            self.strategy = engine.config.streaming.strategy
            self.ops.check_audit_available()

    def record(self, event: GuardEvent) -> None:
        """Audit sink: add the request's context to ``event`` and record it."""
        self.findings += 1
        if event.action == "block":
            self.policy = event.policy
        if self.ops is None:
            return
        self.ops.audit.record(
            replace(
                event,
                request_id=self.request_id,
                route=self.route or "",
                upstream=self.upstream or "",
                model=self.model or "",
                timestamp=time.time(),
            )
        )

    def failed(self, exc: TidegateError) -> None:
        """The handler answered ``exc`` as an HTTP error (no stream)."""
        if self.outcome is not None:
            return
        self.error = exc.code
        if isinstance(exc, PolicyViolation):
            self.outcome, self.policy = "terminated", exc.policy
        elif isinstance(exc, UpstreamError):
            self.outcome, self.upstream_error = "upstream_failed", exc.code
        elif isinstance(exc, ClientDisconnectedError):
            self.outcome = "client_disconnected"
        elif isinstance(exc, RequestError | AuditUnavailableError | OverloadedError):
            self.outcome = "rejected"
        else:
            self.outcome = "error"

    def upstream_status(self, status: int) -> None:
        """The upstream answered an HTTP error status, relayed to the client."""
        if self.outcome is None:
            self.outcome = "upstream_failed"
            self.error = self.upstream_error = f"http_{status}"

    def stream_failed(self, exc: BaseException) -> None:
        """The stream ended early with an error event because of ``exc``."""
        if self.outcome is not None:
            return
        code = exc.code if isinstance(exc, TidegateError) else "internal_error"
        self.error = code
        if isinstance(exc, PolicyViolation):
            self.outcome, self.termination, self.policy = "terminated", "output_blocked", exc.policy
        elif isinstance(exc, UpstreamError):
            self.outcome, self.termination = "upstream_failed", "upstream_failed"
            self.upstream_error = self.stream_error = code
        elif isinstance(exc, ShuttingDownError):  # the drain on SIGTERM ran out
            self.outcome, self.termination = "terminated", "shutdown"
        else:
            self.outcome, self.stream_error = "error", code

    def guard(self, guard: GuardedStream) -> GuardedStream:
        """Note an output guard of this request (its stats are read at the end)."""
        self.guards.append(guard)
        return guard

    def guard_timer(self) -> GuardTimer:
        """A context manager adding its duration to the request's input-guard time."""
        return GuardTimer(self)

    def guard_totals(self) -> GuardStats:
        """The output guards' stats, summed (``delta_seconds`` concatenated)."""
        total = GuardStats(seconds=self.input_guard_s)
        for guard in self.guards:
            stats = guard.stats
            total.evaluations += stats.evaluations
            total.deltas_in += stats.deltas_in
            total.chars_in += stats.chars_in
            total.deltas_out += stats.deltas_out
            total.chars_out += stats.chars_out
            total.peak_held_chars = max(total.peak_held_chars, stats.peak_held_chars)
            total.seconds += stats.seconds
            total.delta_seconds += stats.delta_seconds
        return total

    def upstream_chunks(self, chunks: AsyncIterator[bytes]) -> ObservedChunks:
        """Wrap the upstream body of a stream (marks the request as streaming)."""
        self.streaming = True
        return ObservedChunks(chunks, self)

    def translator(self, inner: StreamTranslator) -> ObservedTranslator:
        """Wrap a stream translator to learn why the stream ended."""
        return ObservedTranslator(inner, self)

    # ------------------------------------------------------------ told by the middleware

    def sent(self, size: int) -> None:
        """``size`` body bytes were sent to the client."""
        if self.first_client is None:
            self.first_client = time.perf_counter()
        self.bytes_out += size


def request_observation(scope: MutableMapping[str, Any]) -> RequestObservation:
    """The request's observation, from ``scope["state"]``.

    Returns:
        The one the ops middleware made; a detached one (recording nothing
        but the guard's own log) when the app runs without it.
    """
    state = scope.get("state") or {}
    obs = state.get(OBSERVATION_STATE)
    return obs if isinstance(obs, RequestObservation) else RequestObservation(None, scope)


class GuardTimer:
    """Adds the time spent inside the ``with`` block to the request's input-guard time."""

    __slots__ = ("_obs", "_t0")

    def __init__(self, obs: RequestObservation) -> None:
        self._obs = obs
        self._t0 = 0.0

    def __enter__(self) -> None:
        self._t0 = time.perf_counter()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._obs.input_guard_s += time.perf_counter() - self._t0


class ObservedChunks:
    """Async iterator over the upstream body that notes the first byte and counts bytes.

    Args:
        chunks: The upstream body.
        obs: The request's observation.
    """

    __slots__ = ("_it", "_obs")

    def __init__(self, chunks: AsyncIterator[bytes], obs: RequestObservation) -> None:
        self._it = chunks.__aiter__()
        self._obs = obs

    def __aiter__(self) -> ObservedChunks:
        return self

    async def __anext__(self) -> bytes:
        chunk = await self._it.__anext__()
        obs = self._obs
        if obs.first_upstream is None:
            obs.first_upstream = time.perf_counter()
        obs.bytes_in += len(chunk)
        return chunk


class ObservedTranslator:
    """A stream translator that tells the observation why the stream failed.

    Events go straight to the wrapped translator's bound methods (no extra
    call per event); only ``abort`` and ``error_events`` are intercepted.

    Args:
        inner: The wire-format translator.
        obs: The request's observation.
    """

    on_event: Callable[[ServerSentEvent], list[bytes]]
    on_end: Callable[[], list[bytes]]

    def __init__(self, inner: StreamTranslator, obs: RequestObservation) -> None:
        self._inner = inner
        self._obs = obs
        self.on_event = inner.on_event
        self.on_end = inner.on_end

    def abort(self, exc: TidegateError) -> list[bytes]:
        """The upstream failed: note it, then the wrapped translator's abort."""
        self._obs.stream_failed(exc)
        return self._inner.abort(exc)

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """The stream ends with an error: note why, then the error events."""
        self._obs.stream_failed(exc)
        return self._inner.error_events(exc)
