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

from tidegate.adapters.base import InputGuard, ParsedRequest, dumps, event_object, parse_json_object
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.leaf_guard import guard_input_body
from tidegate.adapters.openai_chat import CHAT_REQUEST_TABLE, openai_error_body
from tidegate.adapters.release import QueuedTranslator, guard_body
from tidegate.errors import TidegateError
from tidegate.guard.hook import StreamGuard
from tidegate.sse import ServerSentEvent, encode_event

CHANNEL = "text"
TextPath = Sequence[str | int]

GENERIC_TABLE = FieldTable.of(
    atoms="id model",
    numbers="created index usage.**",
    keys="text error message",
)
"""Structural fields of a generic event or body: few; every other string is text."""

GENERIC_REQUEST_TABLE = FieldTable.of(
    enums=CHAT_REQUEST_TABLE.enums(),
    atoms="model",
    numbers="temperature top_p max_tokens max_new_tokens n seed top_k",
    keys=" ".join(CHAT_REQUEST_TABLE.known_keys) + " prompt input",
)
"""Structural fields of a generic request: Chat-like fields, ``prompt`` and ``input``."""


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


def _text_at(
    obj: Any, path: TextPath
) -> tuple[str, Callable[[str], None], tuple[Any, str | int]] | None:
    """The string at ``path`` in ``obj``, a setter and its ``(container, key)``."""
    found = _container(obj, path)
    if found is None:
        return None
    node, key = found
    text = node[key]
    if not isinstance(text, str):
        return None

    def apply(value: str) -> None:
        node[key] = value

    return text, apply, (node, key)


class GenericTranslator(QueuedTranslator):
    """Rewrites one generic event stream through a guard.

    Args:
        guard: The response's stream guard.
        text_path: JSON path of the text delta in each event's data.
    """

    table = GENERIC_TABLE
    event_names = frozenset({None, "message", "error"})

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
        self._check_name(event)
        queue = self._queue
        if event.data == "[DONE]":
            queue.end_all()
            queue.add(encode_event("[DONE]", event=event.event))
            return queue.drain()
        obj = event_object(event)
        pending = self._pending(event, obj)
        found = _text_at(obj, self._path)
        if found is not None and found[0]:
            text, apply, claim = found
            queue.text(pending, CHANNEL, text, apply, claim)
        self._walk(pending, obj)
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

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard every non-structural string of the request (deny by default).

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, GENERIC_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> GenericTranslator:
        """A translator for one streamed response."""
        return GenericTranslator(guard, self.text_path)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard a complete response body in place; return whether it changed.

        Every string is text except the few structural fields of
        :data:`GENERIC_TABLE`, so the text at the path is guarded like the rest.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, GENERIC_TABLE, guard)
