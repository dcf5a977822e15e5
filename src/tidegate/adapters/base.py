"""What every wire-format adapter provides.

An adapter maps one wire format (OpenAI Chat Completions, Anthropic Messages,
…) to and from text deltas. It never touches the network (that is the
transport's job) and never decides what to redact (that is the guard's).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tidegate.errors import BadRequestError, TidegateError, UpstreamProtocolError
from tidegate.guard.hook import StreamGuard
from tidegate.sse import ServerSentEvent

InputGuard = Callable[[str, str], str]
"""Guards one input text: ``(text, channel) -> text to send upstream``."""


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """A client request body, parsed and checked.

    Attributes:
        body: The JSON object.
        stream: Whether the client asked for a streamed response.
        model: The ``model`` field, if any.
    """

    body: dict[str, Any]
    stream: bool
    model: str | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> ParsedRequest:
        """Read ``stream`` and ``model`` (every format names them so) from ``body``."""
        model = body.get("model")
        return cls(body, bool(body.get("stream")), model if isinstance(model, str) else None)


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 kept as is (how OpenAI and llama.cpp encode)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class DuplicateKeyError(ValueError):
    """A JSON object repeats a key: parsers disagree on which value wins."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKeyError("a JSON object repeats a key")
    return obj


def loads_strict(raw: bytes | str) -> Any:
    """Parse JSON, refusing duplicate keys.

    ``{"content": "AKIA…", "content": "hi"}`` means one thing to a parser
    that keeps the last value and another to one that keeps the first; the
    guard must see exactly what the receiver sees, so such input is refused.

    Raises:
        ValueError: Invalid JSON, a duplicate key (:class:`DuplicateKeyError`),
            invalid UTF-8, or nesting too deep for the parser.
    """
    try:
        return json.loads(raw, object_pairs_hook=_unique_pairs)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object.

    Args:
        raw: The body bytes (UTF-8 JSON).

    Raises:
        BadRequestError: Not UTF-8, not JSON, a duplicate key, nested too
            deep, or not an object.
    """
    try:
        body = loads_strict(raw)
    except DuplicateKeyError:
        raise BadRequestError("request body repeats a JSON key in one object") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequestError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequestError("request body must be a JSON object")
    return body


def parse_messages_request(raw: bytes) -> ParsedRequest:
    """Parse a body whose ``messages`` must be a list (Chat Completions, Messages).

    Raises:
        BadRequestError: Not a JSON object, or ``messages`` is not a list.
    """
    body = parse_json_object(raw)
    if not isinstance(body.get("messages"), list):
        raise BadRequestError("'messages' must be a list of message objects")
    return ParsedRequest.of(body)


def event_object(event: ServerSentEvent) -> dict[str, Any]:
    """Parse an upstream event's data, which must be a JSON object.

    Raises:
        UpstreamProtocolError: It is not, or it repeats a key. An event that cannot be parsed
            cannot be guarded, so it is never relayed (fail closed).
    """
    try:
        obj = loads_strict(event.data)
    except ValueError:
        obj = None
    if not isinstance(obj, dict):
        raise UpstreamProtocolError(
            "upstream sent an event that is not one JSON object with unique keys"
        )
    return obj


class StreamTranslator(Protocol):
    """Per-response state that rewrites upstream SSE events for the client."""

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event into the bytes to send to the client.

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The upstream sent an in-stream error or
                something that is not valid in its format.
        """
        ...

    def on_end(self) -> list[bytes]:
        """The upstream stream ended: flush held text if the stream was complete.

        Raises:
            PolicyViolation: The guard blocked the remaining output.
        """
        ...

    def abort(self, exc: TidegateError) -> list[bytes]:
        """The upstream failed: the held text is evaluated, never released; then ``exc``."""
        ...

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """The in-stream error event for ``exc`` and the stream terminator."""
        ...


class WireAdapter(Protocol):
    """One wire format."""

    name: str

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse and check a client request body.

        Raises:
            BadRequestError: The body is malformed for this format.
        """
        ...

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """The JSON error body for ``exc`` in this format."""
        ...

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Apply ``guard`` to every non-structural string of a request body, in place.

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        ...

    def new_stream(self, guard: StreamGuard) -> StreamTranslator:
        """Create the translator for one streamed response."""
        ...

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Apply the guard to a complete (non-streamed) response body, in place.

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The body is nested too deep to guard.
        """
        ...
