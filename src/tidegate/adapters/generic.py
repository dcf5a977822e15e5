"""A generic upstream: one JSON text field per event.

For model servers with no standard wire format. A streamed response is a
sequence of ``data: {json}`` SSE events, each carrying one text delta at a
configurable JSON path (``data: {"text": "..."}`` by default), and ends when
the upstream closes the connection: there is no terminator event. A
non-streamed response is one JSON object with the whole text at the same path.
All text is one guard channel, ``"text"``.

An in-stream error is ``data: {"error": {...}}`` (the OpenAI error shape), the
same event the OpenAI Chat adapter sends; an upstream event with a top-level
``error`` and no text is relayed as the upstream's error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tidegate.adapters.base import InputGuard, ParsedRequest, event_object, parse_json_object
from tidegate.adapters.openai_chat import dumps, guard_message, openai_error_body
from tidegate.adapters.release import QueuedTranslator
from tidegate.errors import TidegateError
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.sse import ServerSentEvent, encode_event

CHANNEL = "text"
TextPath = Sequence[str | int]


def _container(obj: Any, path: TextPath) -> tuple[Any, str | int] | None:
    """The container that holds the text at ``path`` and its key, if present."""
    if not path:
        return None
    node = obj
    for step in path[:-1]:
        node = _child(node, step)
        if node is None:
            return None
    last = path[-1]
    if _child(node, last) is None:
        return None
    return node, last


def _child(node: Any, step: str | int) -> Any:
    if isinstance(step, int) and isinstance(node, list):
        return node[step] if -len(node) <= step < len(node) else None
    if isinstance(step, str) and isinstance(node, dict):
        return node.get(step)
    return None


def _text_at(obj: Any, path: TextPath) -> tuple[str, Callable[[str], None]] | None:
    """The string at ``path`` in ``obj`` and a setter for it, if it is a string."""
    found = _container(obj, path)
    if found is None:
        return None
    node, key = found
    text = node[key]
    if not isinstance(text, str):
        return None

    def apply(value: str) -> None:
        node[key] = value

    return text, apply


class GenericTranslator(QueuedTranslator):
    """Rewrites one generic event stream through a guard.

    Args:
        guard: The response's stream guard.
        text_path: JSON path of the text delta in each event's data.
    """

    def __init__(self, guard: StreamGuard, text_path: TextPath) -> None:
        super().__init__(guard)
        self._path = tuple(text_path)
        self._complete = True  # no terminator: the upstream closing is the normal end

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`).

        Events without a text at the path (metadata, ``[DONE]``, the
        upstream's own ``{"error": ...}``) are relayed unchanged, in order.

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The event data is not JSON (except ``[DONE]``).
        """
        if self._terminated:
            return []
        queue = self._queue
        original = encode_event(event.data, event=event.event)
        if event.data.startswith("[DONE]"):
            queue.end_all()
            queue.add(original)
            return queue.drain()
        obj = event_object(event)
        pending = queue.add(original, lambda: encode_event(dumps(obj), event=event.event))
        found = _text_at(obj, self._path)
        if found is not None and found[0]:
            queue.text(pending, CHANNEL, found[0], found[1])
        return queue.drain()

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """``data: {"error": {...}}`` (OpenAI shape); held events are dropped."""
        self._terminated = True
        return [encode_event(dumps(openai_error_body(exc)))]


class GenericAdapter:
    """A configurable single-text-field wire format.

    Args:
        text_path: JSON path (object keys and array indexes) of the text in
            each streamed event and in a non-streamed body, e.g. ``("text",)``
            or ``("output", 0, "content")``.

    Raises:
        ValueError: ``text_path`` is empty.
    """

    name = "generic"

    def __init__(self, text_path: TextPath = ("text",)) -> None:
        if not text_path:
            raise ValueError("text_path must name at least one key")
        self.text_path: tuple[str | int, ...] = tuple(text_path)

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a request body: any JSON object; ``stream`` and ``model`` are optional.

        Raises:
            BadRequestError: Not a JSON object.
        """
        body = parse_json_object(raw)
        return ParsedRequest.of(body)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> None:
        """Guard ``prompt`` and ``input`` (a string or a list of strings) and ``messages``.

        Channels: ``"prompt"``, ``"input"``, ``"prompt.1"`` for list entries,
        and ``"messages.3"`` (OpenAI Chat messages, as that adapter guards them).

        Raises:
            PolicyViolation: The guard blocked an input text.
        """
        for field in ("prompt", "input"):
            value = body.get(field)
            if isinstance(value, str):
                body[field] = guard(value, field)
            elif isinstance(value, list):
                for i, entry in enumerate(value):
                    if isinstance(entry, str):
                        value[i] = guard(entry, f"{field}.{i}")
        for i, message in enumerate(body.get("messages") or ()):
            if isinstance(message, dict):
                guard_message(message, guard, f"messages.{i}")

    def new_stream(self, guard: StreamGuard) -> GenericTranslator:
        """A translator for one streamed response."""
        return GenericTranslator(guard, self.text_path)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> dict[str, Any]:
        """Guard the text at the path of a complete response body.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        found = _text_at(body, self.text_path)
        if found is not None:
            text, apply = found
            guarded = guard_whole(guard, CHANNEL, text)
            if guarded != text:
                apply(guarded)
        return body
