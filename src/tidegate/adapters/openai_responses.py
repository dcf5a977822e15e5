"""OpenAI Responses (``POST /v1/responses``).

Streaming responses are named SSE events whose ``event:`` is the data's
``type`` (https://platform.openai.com/docs/api-reference/responses-streaming).
Text arrives twice: as deltas (``response.output_text.delta``,
``response.refusal.delta``, ``response.function_call_arguments.delta``,
``response.custom_tool_call_input.delta``, ``response.reasoning_text.delta``,
``response.reasoning_summary_text.delta``) and then again, whole, in the
``.done`` event of that text, in ``response.content_part.done`` /
``response.reasoning_summary_part.done``, in ``response.output_item.done`` and
in ``response.output`` of ``response.completed`` (or ``.failed`` /
``.incomplete``).

Each text is one guard channel, named by output index, kind and part index
(``"0:text:0"``, ``"1:args"``, ``"2:summary:0"``). Deltas go through the
:class:`~tidegate.adapters.release.ReleaseQueue`. When an event repeats a
whole text, its channel is ended first and the text is replaced by the
concatenation of the channel's *released* deltas, so a redaction made in the
deltas is never undone by the repeat. A whole text that never streamed (or
that differs from its deltas) is guarded as one delta. ``logprobs`` of a
changed text are emptied: their tokens would spell the original.

The openai SDK's ``Stream`` (``openai/_streaming.py``) raises
``openai.APIError`` for any event whose data has a truthy top-level
``error`` (Responses events never have one), with ``error.message`` as the
message and the ``error`` object as ``exc.body``. tidegate's termination
event is therefore the documented ``error`` event (``type``, ``code``,
``message``, ``param``, ``sequence_number``) plus that ``error`` object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from tidegate.adapters.base import InputGuard, ParsedRequest, dumps, event_object, parse_json_object
from tidegate.adapters.leaf_guard import guard_input_body
from tidegate.adapters.openai_chat import openai_error_body
from tidegate.adapters.release import PendingEvent, QueuedTranslator, guard_body
from tidegate.adapters.responses_tables import (
    DELTAS,
    DONES,
    EVENTS,
    PARTS,
    RESPONSES_REQUEST_TABLE,
    RESPONSES_TABLE,
    TERMINAL,
)
from tidegate.errors import BadRequestError, TidegateError, UpstreamProtocolError
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.sse import ServerSentEvent, encode_event

_SNAPSHOTS = frozenset({"response.created", "response.queued", "response.in_progress"})

# A whole text inside an event: (channel, the dict that holds it, its key).
Field = tuple[str, dict[str, Any], str]


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _part_fields(output: int, index: int, part: Any) -> Iterator[Field]:
    """The whole text of one content or summary part."""
    if isinstance(part, dict):
        spec = PARTS.get(str(part.get("type")))
        if spec is not None and isinstance(part.get(spec[1]), str):
            yield f"{output}:{spec[0]}:{index}", part, spec[1]


def item_fields(output: int, item: Any) -> Iterator[Field]:
    """Every whole text of one output item (message, tool call, reasoning).

    Args:
        output: The item's ``output_index``.
        item: The output item object.
    """
    if not isinstance(item, dict):
        return
    kind = item.get("type")
    if kind == "function_call" and isinstance(item.get("arguments"), str):
        yield f"{output}:args", item, "arguments"
    elif kind == "custom_tool_call" and isinstance(item.get("input"), str):
        yield f"{output}:input", item, "input"
    for key in ("content", "summary"):
        parts = item.get(key)
        for index, part in enumerate(parts if isinstance(parts, list) else ()):
            yield from _part_fields(output, index, part)


def _response_fields(response: Any) -> Iterator[Field]:
    output = response.get("output") if isinstance(response, dict) else None
    for index, item in enumerate(output if isinstance(output, list) else ()):
        yield from item_fields(index, item)


def _event_fields(kind: str, obj: dict[str, Any]) -> Iterator[Field]:
    """Every whole text that ``obj`` (an event of type ``kind``) repeats."""
    output = _int(obj.get("output_index"))
    done = DONES.get(kind)
    if done is not None:
        channel_kind, index_field, field = done
        if isinstance(obj.get(field), str):
            suffix = "" if index_field is None else f":{_int(obj.get(index_field))}"
            yield f"{output}:{channel_kind}{suffix}", obj, field
    elif kind.startswith(("response.content_part.", "response.reasoning_summary_part.")):
        index_field = "content_index" if "content_part" in kind else "summary_index"
        yield from _part_fields(output, _int(obj.get(index_field)), obj.get("part"))
    elif kind.startswith("response.output_item."):
        yield from item_fields(output, obj.get("item"))
    elif kind in TERMINAL or kind in _SNAPSHOTS:
        yield from _response_fields(obj.get("response"))


class _RecordingGuard:
    """Wraps a guard; keeps, per channel, what was pushed and what was released."""

    def __init__(self, guard: StreamGuard) -> None:
        self.guard = guard
        self.pushed: dict[str, list[str]] = {}
        self.released: dict[str, list[str]] = {}

    def push(self, channel: str, text: str) -> list[str]:
        self.pushed.setdefault(channel, []).append(text)
        out = self.guard.push(channel, text)
        self.released.setdefault(channel, []).extend(out)
        return out

    def end(self, channel: str) -> list[str]:
        out = self.guard.end(channel)
        self.released.setdefault(channel, []).extend(out)
        return out

    def holding(self) -> bool:
        return self.guard.holding()

    def active(self) -> bool:
        return self.guard.active()

    def is_clean(self, text: str) -> bool:
        return self.guard.is_clean(text)


class ResponsesTranslator(QueuedTranslator):
    """Rewrites one Responses event stream through a guard.

    Args:
        guard: The response's stream guard.
    """

    table = RESPONSES_TABLE
    event_names = frozenset({None, *EVENTS})

    def __init__(self, guard: StreamGuard) -> None:
        self._guard = guard
        self._recorder = _RecordingGuard(guard)
        super().__init__(self._recorder)
        self._whole: dict[str, tuple[str, str]] = {}  # channel -> (original, released)
        self._sequence = -1

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`).

        Raises:
            PolicyViolation: The guard blocked the output.
            UpstreamProtocolError: The event data is not a JSON object, or its
                ``event:`` name is not a Responses event or disagrees with its
                ``type``.
        """
        if self._terminated:
            return []
        self._check_name(event)
        queue = self._queue
        if event.data == "[DONE]":  # not sent by OpenAI; some servers do
            self._complete = True
            queue.end_all()
            queue.add(encode_event("[DONE]", event=event.event))
            return queue.drain()
        obj = event_object(event)
        kind = str(obj.get("type"))
        if event.event is not None and kind != event.event:
            raise UpstreamProtocolError("upstream event name and data type disagree")
        sequence = obj.get("sequence_number")
        if isinstance(sequence, int):
            self._sequence = max(self._sequence, sequence)
        pending = self._pending(event, obj)
        prefix = f"{_int(obj.get('output_index'))}:" if "output_index" in obj else ""
        delta = DELTAS.get(kind)
        if delta is not None:
            text = obj.get("delta")
            if isinstance(text, str) and text:
                channel_kind, index_field = delta
                suffix = "" if index_field is None else f":{_int(obj.get(index_field))}"
                channel = f"{prefix}{channel_kind}{suffix}"
                queue.text(pending, channel, text, _delta_setter(obj), (obj, "delta"))
        elif kind != "error":
            if kind in TERMINAL:
                self._complete = True
                queue.end_all()
            final = kind in TERMINAL or kind.endswith(".done")
            if self._rewrite(_event_fields(kind, obj), final=final, pending=pending):
                pending.dirty = True
        self._walk(pending, obj, prefix=prefix)
        if kind == "error" or kind in TERMINAL:
            self._complete = True  # the end, or the upstream's own in-stream error
            queue.end_all()
        return queue.drain()

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """One ``event: error`` that the openai SDK raises; held events are dropped.

        Data: ``{"type": "error", "code", "message", "param", "sequence_number",
        "error": {"message", "type", "code", "param"[, "policy", "event_id"]}}``.
        The Responses stream has no terminator event after an error.
        """
        self._terminated = True
        body = openai_error_body(exc)
        data = {
            "type": "error",
            "code": exc.code,
            "message": exc.message,
            "param": None,
            "sequence_number": self._sequence + 1,
            **body,
        }
        return [encode_event(dumps(data), event="error")]

    def _rewrite(self, fields: Iterator[Field], *, final: bool, pending: PendingEvent) -> bool:
        """Replace whole texts by their guarded versions; return whether any changed.

        ``final`` texts (``.done`` and terminal events) complete their channel:
        it is ended, and the text becomes the concatenation of its released
        deltas. Other texts (``.added`` items and parts, ``response.created``
        snapshots; normally empty) are guarded on their own, on a separate
        channel, without ending anything.
        """
        changed = False
        for channel, container, key in fields:
            text = container[key]
            pending.claimed.add((id(container), key))
            if not text:
                continue
            if final:
                new = self._final_text(channel, text)
            else:
                new = guard_whole(self._guard, f"{channel}#snapshot", text)
            if new != text:
                container[key] = new
                if "logprobs" in container:
                    container["logprobs"] = []
                changed = True
        return changed

    def _final_text(self, channel: str, text: str) -> str:
        self._queue.end(channel)
        recorder = self._recorder
        if channel in recorder.pushed:
            original = "".join(recorder.pushed.pop(channel))
            released = "".join(recorder.released.pop(channel, ()))
            self._whole[channel] = (original, released)
        known = self._whole.get(channel)
        if known is not None and known[0] == text:
            return known[1]
        guarded = guard_whole(self._guard, channel, text)
        self._whole[channel] = (text, guarded)
        return guarded


def _delta_setter(obj: dict[str, Any]) -> Callable[[str], None]:
    def apply(value: str) -> None:
        obj["delta"] = value
        if "logprobs" in obj:
            obj["logprobs"] = []

    return apply


class ResponsesAdapter:
    """The OpenAI Responses wire format."""

    name = "responses"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/responses`` body.

        Raises:
            BadRequestError: Not a JSON object; ``input`` is not a string or a
                list; ``instructions`` is not a string.
        """
        body = parse_json_object(raw)
        if "input" in body and not isinstance(body["input"], (str, list)):
            raise BadRequestError("'input' must be a string or a list of input items")
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise BadRequestError("'instructions' must be a string")
        return ParsedRequest.of(body)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard every non-structural string of the request (deny by default).

        Covers ``instructions``, ``input`` (a string or items: message text,
        function call arguments, tool outputs…), tool definitions and
        metadata; channels are dotted paths (``input.*.content.*.text``).

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, RESPONSES_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> ResponsesTranslator:
        """A translator for one streamed response."""
        return ResponsesTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard a ``response`` body in place; return whether it changed.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, RESPONSES_TABLE, guard)
