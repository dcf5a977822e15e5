"""Anthropic Messages (``POST /v1/messages``).

Streaming responses are named SSE events (``event: <type>`` then one
``data: {json}`` line), in the order the Messages streaming docs give
(https://docs.anthropic.com/en/docs/build-with-claude/streaming):
``message_start``, then per content block ``content_block_start``,
``content_block_delta``\\* and ``content_block_stop``, then ``message_delta``
and ``message_stop``; ``ping`` may appear anywhere and ``error`` ends the
stream. Guarded text lives in ``text_delta.text``, ``input_json_delta.partial_json``
and ``thinking_delta.thinking``; each content block index is its own set of
guard channels (``"0:thinking"``, ``"1:text"``, ``"2:tool"``). ``signature_delta``
and unknown events pass through untouched, in order.

An in-stream error is ``event: error`` with data
``{"type": "error", "error": {"type", "message", ...}}``. The anthropic SDK
raises it from ``Stream.__stream__`` (``anthropic/_streaming.py``) as
``anthropic.APIStatusError`` (status 200, the stream's), with the parsed data
as ``exc.body`` and its repr as ``str(exc)``. Before it, tidegate closes the
content block the client has open, so the event sequence stays well formed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from tidegate.adapters.anthropic_tables import (
    ANTHROPIC_REQUEST_TABLE,
    ANTHROPIC_TABLE,
    EVENTS,
    STATUS_ERROR_TYPES,
)
from tidegate.adapters.base import (
    InputGuard,
    ParsedRequest,
    dumps,
    event_object,
    parse_messages_request,
)
from tidegate.adapters.leaf_guard import guard_input_body
from tidegate.adapters.release import PendingEvent, QueuedTranslator, guard_body
from tidegate.errors import (
    NotFoundError,
    PayloadTooLargeError,
    PolicyViolation,
    TidegateError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
)
from tidegate.guard.hook import StreamGuard
from tidegate.sse import ServerSentEvent, encode_event

# Delta type -> (field that holds the text, channel suffix).
_DELTA_FIELDS = MappingProxyType(
    {
        "text_delta": ("text", "text"),
        "input_json_delta": ("partial_json", "tool"),
        "thinking_delta": ("thinking", "thinking"),
    }
)


def anthropic_error_type(exc: TidegateError) -> str:
    """The Anthropic ``error.type`` for ``exc``.

    Uses only the documented types: a policy violation (HTTP 400) is an
    ``invalid_request_error`` whose ``code`` says ``input_blocked`` or
    ``output_blocked``; a timeout is ``timeout_error``; other errors map by
    HTTP status, other 4xx to ``invalid_request_error`` and 5xx to ``api_error``.
    """
    if isinstance(exc, PolicyViolation):
        return "invalid_request_error"
    if isinstance(exc, NotFoundError):
        return "not_found_error"
    if isinstance(exc, PayloadTooLargeError):
        return "request_too_large"
    if isinstance(exc, UpstreamTimeoutError):
        return "timeout_error"
    known = STATUS_ERROR_TYPES.get(exc.status)
    if known is not None:
        return known
    return "invalid_request_error" if 400 <= exc.status < 500 else "api_error"


def anthropic_error_body(exc: TidegateError) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message", "code"}}`` for ``exc``.

    ``code`` is tidegate's stable error code (``output_blocked``,
    ``upstream_timeout``…); policy violations add ``policy`` and ``event_id`` (and ``threat_type``
    and ``score`` for threat detectors).
    (``error.details`` is left out on purpose: the anthropic SDK parses it
    into a typed union keyed on ``details.error_code``, and an unknown code
    would come out as an unrelated detail class.)
    """
    error: dict[str, Any] = {
        "type": anthropic_error_type(exc),
        "message": exc.message,
        "code": exc.code,
    }
    if isinstance(exc, PolicyViolation):
        error["policy"] = exc.policy
        error["event_id"] = exc.event_id
        if exc.threat_type is not None:
            error["threat_type"] = exc.threat_type
            error["score"] = exc.score
    return {"type": "error", "error": error}


class AnthropicTranslator(QueuedTranslator):
    """Rewrites one Anthropic Messages event stream through a guard.

    Args:
        guard: The response's stream guard.
    """

    table = ANTHROPIC_TABLE
    event_names = frozenset({None, *EVENTS})

    def __init__(self, guard: StreamGuard) -> None:
        super().__init__(guard)
        # One entry per queued event, in queue order: ("start" | "stop", index) or None.
        self._effects: deque[tuple[str, int] | None] = deque()
        self._open: set[int] = set()  # blocks started and not stopped, as released

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`).

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The event data is not a JSON object, its
                ``event:`` name is not a Messages event, or disagrees with
                its ``type``.
        """
        if self._terminated:
            return []
        self._check_name(event)
        obj = event_object(event)
        kind = obj.get("type")
        if event.event is not None and kind != event.event:
            raise UpstreamProtocolError("upstream event name and data type disagree")
        index = obj.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = 0
        prefix = f"{index}:"
        queue = self._queue
        effect: tuple[str, int] | None = None
        if kind == "content_block_stop":
            effect = ("stop", index)
        elif kind == "content_block_start":
            effect = ("start", index)
        pending = self._add_pending(event, obj, effect)
        if kind == "content_block_start":
            block = obj.get("content_block")
            if isinstance(block, dict):
                self._guard_block(pending, block, prefix, stream=True)
        elif kind == "content_block_delta":
            delta = obj.get("delta")
            fields = _DELTA_FIELDS.get(str(delta.get("type"))) if isinstance(delta, dict) else None
            if isinstance(delta, dict) and fields is not None:
                field, suffix = fields
                text = delta.get(field)
                if isinstance(text, str) and text:
                    queue.text(
                        pending, f"{prefix}{suffix}", text, _setter(delta, field), (delta, field)
                    )
        elif kind == "message_start":
            message = obj.get("message")
            blocks = message.get("content") if isinstance(message, dict) else None
            for j, block in enumerate(blocks if isinstance(blocks, list) else ()):
                if isinstance(block, dict):
                    self._guard_block(pending, block, f"start.{j}:", stream=False)
        block_scoped = kind in ("content_block_start", "content_block_delta", "content_block_stop")
        self._walk(pending, obj, prefix=prefix if block_scoped else "")
        if kind == "content_block_stop":
            for channel in queue.channels():
                if channel.startswith(prefix):
                    queue.end(channel)
        elif kind in ("message_stop", "error"):
            self._complete = True  # the end, or the upstream's own in-stream error
            queue.end_all()
        return self._drain()

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """Close the client's open content block, then ``event: error``.

        Events still held are dropped (they may hold the blocked text). The
        open block is the one whose ``content_block_start`` was *released*
        and whose ``content_block_stop`` was not. No ``message_start`` and no
        ``message_stop`` are added: as on Anthropic's own wire, ``error`` is
        the last event of the stream.
        """
        self._terminated = True
        out = [
            encode_event(
                dumps({"type": "content_block_stop", "index": i}), event="content_block_stop"
            )
            for i in sorted(self._open)
        ]
        self._open.clear()
        out.append(encode_event(dumps(anthropic_error_body(exc)), event="error"))
        return out

    def _guard_block(
        self, pending: PendingEvent, block: dict[str, Any], prefix: str, *, stream: bool
    ) -> None:
        """Guard a content block's own text (a block start or a message_start block).

        With ``stream`` the ``text``/``thinking`` is the first delta of the
        block's channel (its deltas follow); otherwise its channel ends at
        once. Every other leaf (tool ``input``, citations…) is left to the
        field walker.
        """
        queue = self._queue
        kind = block.get("type")
        for field in ("text", "thinking"):
            text = block.get(field)
            if kind == field and isinstance(text, str) and text:
                channel = f"{prefix}{field}"
                queue.text(pending, channel, text, _setter(block, field), (block, field))
                if not stream:
                    queue.end(channel)

    def _add_pending(
        self, event: ServerSentEvent, obj: dict[str, Any], effect: tuple[str, int] | None
    ) -> PendingEvent:
        self._effects.append(effect)
        return self._pending(event, obj)

    def _drain(self) -> list[bytes]:
        """Drain the queue; track which blocks the client now has open."""
        out = self._queue.drain()
        for _ in out:
            effect = self._effects.popleft()
            if effect is not None:
                action, index = effect
                if action == "start":
                    self._open.add(index)
                else:
                    self._open.discard(index)
        return out


def _setter(container: Any, key: Any) -> Callable[[str], None]:
    def apply(value: str) -> None:
        container[key] = value

    return apply


class AnthropicAdapter:
    """The Anthropic Messages wire format."""

    name = "anthropic"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/messages`` body.

        Raises:
            BadRequestError: Not a JSON object, or ``messages`` is not a list.
        """
        return parse_messages_request(raw)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """Anthropic-shaped error JSON (see :func:`anthropic_error_body`)."""
        return anthropic_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard every non-structural string of the request (deny by default).

        Covers ``system``, every message block (text, ``tool_result``
        content, ``tool_use`` input, documents, thinking), tool
        definitions and metadata; channels are dotted paths
        (``messages.*.content.*.text``).

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, ANTHROPIC_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> AnthropicTranslator:
        """A translator for one streamed response."""
        return AnthropicTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard a ``message`` body in place; return whether it changed.

        Redacting a ``thinking`` block invalidates its signature; that is the
        price of not leaking it (the client cannot send it back unchanged).

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, ANTHROPIC_TABLE, guard)
