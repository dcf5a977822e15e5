"""One guarded SDK request and its response, without any I/O.

The HTTP transports (:mod:`tidegate.sdk.transport`) hand an :class:`Exchange`
the bytes the SDK is about to send and the bytes the API answers; it runs
them through the gateway's own parts:

* the request body through the wire format's ``map_input_texts`` with the
  engine's input guard (deny by default, as the gateway's ``guard_input``);
* a JSON answer through the format's ``guard_response`` (an error answer
  through the gateway's error-body table);
* an SSE answer through the format's stream translator and the relay's own
  :class:`~tidegate.relay.StreamPump`, so the holdback, the zero-leak rule
  and the handling of broken or truncated streams are the gateway's.

Where the gateway would answer with a policy error, the exchange raises the
SDK's :class:`~tidegate.sdk.decision.BlockedError` instead: the SDK then
never sees the error event, and the caller gets the decision.
"""

from __future__ import annotations

from typing import Any

from tidegate.adapters.base import WireAdapter, dumps, loads_strict
from tidegate.adapters.release import guard_body
from tidegate.audit import EventCollector
from tidegate.bodies import ERROR_TABLE
from tidegate.errors import PolicyViolation, UpstreamError, UpstreamProtocolError
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import guard_whole
from tidegate.logs import get_logger
from tidegate.relay import StreamPump
from tidegate.sdk.decision import BlockedError, Decision


class Exchange:
    """Guards one request and its response for an in-process SDK client.

    Args:
        engine: The guard engine.
        adapter: The endpoint's wire format.
        blocked_error: The :class:`BlockedError` subclass to raise (one per SDK).
        scan_responses: Guard the response too (else only the request).
    """

    def __init__(
        self,
        engine: GuardEngine,
        adapter: WireAdapter,
        blocked_error: type[BlockedError],
        *,
        scan_responses: bool = True,
    ) -> None:
        self.engine = engine
        self.adapter = adapter
        self.scan_responses = scan_responses
        self._blocked_error = blocked_error
        self.events = EventCollector(engine.audit)
        """The guard events of this exchange (input and output)."""
        self.log = get_logger("sdk").bind(format=adapter.name)

    def blocked(self) -> BlockedError | None:
        """The error to raise if a block policy matched in this exchange."""
        if self.events.block() is None:
            return None
        decision: Decision[Any] = Decision.of(
            self.events.events,
            direction="input",
            mode=self.engine.config.mode,
            redacted_messages=None,
            redacted=False,
        )
        return self._blocked_error(decision)

    def _error_for(self, violation: PolicyViolation) -> BlockedError:
        """The :class:`BlockedError` that replaces ``violation`` (logged)."""
        error = self.blocked()
        if error is None:  # pragma: no cover - a violation always records its block
            raise violation
        self.log.info("sdk_blocked", policy=error.policy, event_id=error.event_id)
        return error

    def guard_request(self, raw: bytes) -> bytes | None:
        """Guard the request body the SDK is about to send.

        Args:
            raw: The body bytes (JSON).

        Returns:
            The body to send instead, or ``None`` to send ``raw`` unchanged.

        Raises:
            BlockedError: An input block policy matched; nothing is sent.
            BadRequestError: The body is not what the format expects (the
                transport answers it as the gateway would, with a 400).
        """
        parsed = self.adapter.parse_request(raw)
        if not self.engine.input_plan.detectors:
            return None

        def guard(text: str, channel: str) -> str:
            return self.engine.guard_input_text(text, channel=channel, audit=self.events)

        try:
            changed = self.adapter.map_input_texts(parsed.body, guard)
        except PolicyViolation as violation:
            raise self._error_for(violation) from violation
        return dumps(parsed.body).encode() if changed else None

    def guard_body(self, status: int, body: bytes) -> bytes | None:
        """Guard a complete (non-SSE) response body.

        A success body must be one JSON object and goes through the format's
        ``guard_response``; an error body (status >= 400) through the
        gateway's error table if it is JSON, else as one text.

        Returns:
            The body to hand to the SDK instead, or ``None`` if unchanged.

        Raises:
            BlockedError: An output block policy matched.
            UpstreamError: A success body that is not one JSON object.
        """
        if not self.scan_responses:
            return None
        guard = self.engine.new_stream(audit=self.events)
        try:
            obj = loads_strict(body)
        except ValueError:
            obj = None
        try:
            if isinstance(obj, dict):
                table_changed = (
                    guard_body(obj, ERROR_TABLE, guard)
                    if status >= 400
                    else self.adapter.guard_response(obj, guard)
                )
                return dumps(obj).encode() if table_changed else None
            if status < 400:
                raise UpstreamError("upstream answered with a body that is not one JSON object")
            text = body.decode(errors="replace")
            guarded = guard_whole(guard, "error", text)
            return guarded.encode() if guarded != text else None
        except PolicyViolation as violation:
            raise self._error_for(violation) from violation

    def sse(self) -> SSEGuard:
        """The guard for an SSE response body."""
        return SSEGuard(self)


class _Pump(StreamPump):
    """The relay's pump, except that a block ends it without an error event.

    The events released before the block are kept; the block itself is
    raised by :class:`SSEGuard` as the SDK's :class:`BlockedError`.
    """

    def __init__(self, exchange: Exchange) -> None:
        guard = exchange.engine.new_stream(audit=exchange.events)
        super().__init__(exchange.adapter.new_stream(guard), exchange.log)
        self.violation: PolicyViolation | None = None

    def fail(self, exc: BaseException) -> list[bytes]:
        """End the stream; a block yields no bytes (it is raised instead)."""
        if isinstance(exc, PolicyViolation) and not self.done:
            self.done = True
            self.violation = exc
            return []
        return super().fail(exc)


class SSEGuard:
    """Turns an upstream SSE body into the guarded body the SDK parses.

    Feed it the upstream bytes as they arrive; it returns the bytes to hand
    to the SDK. After each call, :meth:`raise_if_blocked` raises the
    :class:`BlockedError` of a block: the bytes returned by that call are
    the events released before the block, and are to be delivered first.
    Other failures (a broken upstream event, a stream cut before its end)
    come out as the format's error event, exactly as from the gateway.

    Args:
        exchange: The exchange this response belongs to.
    """

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._pump = _Pump(exchange)

    @property
    def done(self) -> bool:
        """Whether the stream has ended (normally, by an error, or by a block)."""
        return self._pump.done

    def feed(self, chunk: bytes) -> bytes:
        """The guarded bytes for one piece of the upstream body."""
        return self._checked(self._pump.feed(chunk))

    def end(self) -> bytes:
        """The upstream body ended: the last guarded bytes (or the error event)."""
        return self._checked(self._pump.end())

    def upstream_failed(self, exc: Exception) -> None:
        """Reading the upstream failed: the held text is evaluated, never released.

        The caller re-raises its own transport error afterwards, unless this
        raises the block that the held text contained.

        Raises:
            BlockedError: The held text contained a blocked value.
        """
        self._checked(self._pump.fail(UpstreamProtocolError(f"upstream read failed: {exc}")))
        self.raise_if_blocked()

    def raise_if_blocked(self) -> None:
        """Raise the exchange's block, if the stream was blocked.

        Raises:
            BlockedError: A block policy matched.
        """
        error = self._exchange.blocked()
        if error is not None:
            violation = self._pump.violation
            self._exchange.log.info("sdk_blocked", policy=error.policy, event_id=error.event_id)
            raise error from violation

    def _checked(self, out: list[bytes]) -> bytes:
        if self._pump.violation is None and self._exchange.blocked() is not None:
            # A block found while ending or aborting: ``out`` is only the
            # format's error events, which the raised block replaces.
            return b""
        return b"".join(out)
