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

from tidegate.adapters.base import InputGuard, ParsedRequest, event_object, parse_messages_request
from tidegate.adapters.openai_chat import dumps
from tidegate.adapters.release import PendingEvent, QueuedTranslator
from tidegate.errors import (
    NotFoundError,
    PayloadTooLargeError,
    PolicyViolation,
    TidegateError,
    UpstreamTimeoutError,
)
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.sse import ServerSentEvent, encode_event

# Delta type -> (field that holds the text, channel suffix).
_DELTA_FIELDS = MappingProxyType(
    {
        "text_delta": ("text", "text"),
        "input_json_delta": ("partial_json", "tool"),
        "thinking_delta": ("thinking", "thinking"),
    }
)
# Blocks whose ``input`` is a JSON object of model-written arguments.
_TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})

# HTTP status -> Anthropic error type (https://docs.anthropic.com/en/api/errors).
_STATUS_TYPES = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        504: "timeout_error",
        529: "overloaded_error",
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
    known = _STATUS_TYPES.get(exc.status)
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


def map_json_strings(value: Any, fn: Callable[[str, str], str], path: str) -> Any:
    """Apply ``fn(text, path)`` to every string leaf of a JSON value, in place.

    Args:
        value: A decoded JSON value (object, array, string, number…).
        fn: Maps one string leaf; gets the leaf's dotted path.
        path: The path of ``value`` itself.

    Returns:
        The new value (strings are immutable, so a string leaf is replaced).
    """
    if isinstance(value, str):
        return fn(value, path)
    if isinstance(value, dict):
        for key in value:
            value[key] = map_json_strings(value[key], fn, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = map_json_strings(item, fn, f"{path}.{i}")
    return value


def _guard_input_blocks(content: Any, guard: InputGuard, channel: str) -> Any:
    """Guard a message ``content`` (or ``system``): a string or a list of blocks.

    ``thinking`` blocks are not touched: they carry a signature over their
    text, and the API rejects a turn whose thinking was changed.
    """
    if isinstance(content, str):
        return guard(content, channel)
    if not isinstance(content, list):
        return content
    for j, block in enumerate(content):
        if not isinstance(block, dict):
            continue
        kind, where = block.get("type"), f"{channel}.{j}"
        if kind == "text" and isinstance(block.get("text"), str):
            block["text"] = guard(block["text"], where)
        elif kind == "tool_result" and "content" in block:
            block["content"] = _guard_input_blocks(block["content"], guard, where)
        elif kind in _TOOL_BLOCKS and "input" in block:
            block["input"] = map_json_strings(block["input"], guard, f"{where}.input")
        elif kind == "document":
            source = block.get("source")
            if (
                isinstance(source, dict)
                and source.get("type") == "text"
                and isinstance(source.get("data"), str)
            ):
                source["data"] = guard(source["data"], f"{where}.source")
    return content


class AnthropicTranslator(QueuedTranslator):
    """Rewrites one Anthropic Messages event stream through a guard.

    Args:
        guard: The response's stream guard.
    """

    def __init__(self, guard: StreamGuard) -> None:
        super().__init__(guard)
        # One entry per queued event, in queue order: ("start" | "stop", index) or None.
        self._effects: deque[tuple[str, int] | None] = deque()
        self._open: set[int] = set()  # blocks started and not stopped, as released

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`).

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The event data is not a JSON object.
        """
        if self._terminated:
            return []
        obj = event_object(event)
        kind = event.event or obj.get("type")
        original = encode_event(event.data, event=event.event)
        index = obj.get("index")
        if not isinstance(index, int):
            index = 0
        queue = self._queue
        if kind == "error":
            self._complete = True  # the upstream's own in-stream error
        elif kind == "message_stop":
            self._complete = True
            queue.end_all()
        elif kind == "content_block_stop":
            for channel in queue.channels():
                if channel.startswith(f"{index}:"):
                    queue.end(channel)
            return self._add(original, None, ("stop", index))

        def render() -> bytes:
            return encode_event(dumps(obj), event=event.event)

        if kind == "content_block_start":
            pending = self._add_pending(original, render, ("start", index))
            block = obj.get("content_block")
            if isinstance(block, dict):
                self._guard_block(pending, block, str(index), stream=True)
        elif kind == "content_block_delta":
            pending = self._add_pending(original, render, None)
            delta = obj.get("delta")
            fields = _DELTA_FIELDS.get(str(delta.get("type"))) if isinstance(delta, dict) else None
            if isinstance(delta, dict) and fields is not None:
                field, suffix = fields
                text = delta.get(field)
                if isinstance(text, str) and text:
                    queue.text(pending, f"{index}:{suffix}", text, _setter(delta, field))
        elif kind == "message_start":
            pending = self._add_pending(original, render, None)
            message = obj.get("message")
            blocks = message.get("content") if isinstance(message, dict) else None
            for j, block in enumerate(blocks if isinstance(blocks, list) else ()):
                if isinstance(block, dict):
                    self._guard_block(pending, block, f"start.{j}", stream=False)
        else:  # ping, message_delta, error, message_stop and unknown events
            self._add_pending(original, None, None)
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
        block's channel (its deltas follow); otherwise its channel ends at once.
        Tool ``input`` string leaves each get a channel that ends at once.
        """
        queue = self._queue
        kind = block.get("type")
        for field in ("text", "thinking"):
            text = block.get(field)
            if kind == field and isinstance(text, str) and text:
                queue.text(pending, f"{prefix}:{field}", text, _setter(block, field))
                if not stream:
                    queue.end(f"{prefix}:{field}")
        if kind in _TOOL_BLOCKS and isinstance(block.get("input"), (dict, list)):
            for path, text, apply in string_leaves(block["input"], "input"):
                if text:
                    queue.text(pending, f"{prefix}:{path}", text, apply)
                    queue.end(f"{prefix}:{path}")

    def _add(
        self, original: bytes, render: Callable[[], bytes] | None, effect: tuple[str, int] | None
    ) -> list[bytes]:
        self._add_pending(original, render, effect)
        return self._drain()

    def _add_pending(
        self, original: bytes, render: Callable[[], bytes] | None, effect: tuple[str, int] | None
    ) -> PendingEvent:
        self._effects.append(effect)
        return self._queue.add(original, render)

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


def string_leaves(value: Any, path: str) -> list[tuple[str, str, Callable[[str], None]]]:
    """Every string leaf under a JSON container: ``(path, text, setter)``, in order.

    Args:
        value: A decoded JSON object or array.
        path: The dotted path of ``value``.
    """
    leaves: list[tuple[str, str, Callable[[str], None]]] = []
    items: Any = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        where = f"{path}.{key}"
        if isinstance(item, str):
            leaves.append((where, item, _setter(value, key)))
        elif isinstance(item, (dict, list)):
            leaves.extend(string_leaves(item, where))
    return leaves


def _setter(container: Any, key: Any) -> Callable[[str], None]:
    def apply(value: str) -> None:
        container[key] = value

    return apply


def _guard_response_block(block: dict[str, Any], guard: StreamGuard, index: int) -> None:
    kind = block.get("type")
    for field in ("text", "thinking"):
        if kind == field and isinstance(block.get(field), str):
            block[field] = guard_whole(guard, f"{index}:{field}", block[field])
    if kind in _TOOL_BLOCKS and "input" in block:
        block["input"] = map_json_strings(
            block["input"],
            lambda text, path: guard_whole(guard, f"{index}:{path}", text),
            "input",
        )


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

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> None:
        """Guard the system prompt and every message's text, in place.

        Covered: ``system`` (a string or text blocks; channels ``"system"``,
        ``"system.0"``), each message's string ``content`` (``"messages.3"``)
        or blocks (``"messages.3.1"``): ``text``, ``tool_result`` content
        (a string or text blocks, ``"messages.3.1.0"``), string leaves of
        ``tool_use`` ``input`` (``"messages.3.1.input.city"``) and plain-text
        ``document`` sources. Signed ``thinking`` blocks are left alone.

        Raises:
            PolicyViolation: The guard blocked an input text.
        """
        if "system" in body:
            body["system"] = _guard_input_blocks(body["system"], guard, "system")
        for i, message in enumerate(body.get("messages") or ()):
            if isinstance(message, dict) and "content" in message:
                message["content"] = _guard_input_blocks(message["content"], guard, f"messages.{i}")

    def new_stream(self, guard: StreamGuard) -> AnthropicTranslator:
        """A translator for one streamed response."""
        return AnthropicTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> dict[str, Any]:
        """Guard a ``message`` body: text, thinking and tool input string leaves.

        Redacting a ``thinking`` block invalidates its signature; that is the
        price of not leaking it (the client cannot send it back unchanged).

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        for i, block in enumerate(body.get("content") or ()):
            if isinstance(block, dict):
                _guard_response_block(block, guard, i)
        return body
