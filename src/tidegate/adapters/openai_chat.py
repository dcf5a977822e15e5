"""OpenAI Chat Completions (``POST /v1/chat/completions``).

Streaming responses are ``data: {chat.completion.chunk}`` SSE events ended by
``data: [DONE]``. The known text fields, ``choices[i].delta.content``,
``choices[i].delta.refusal`` and ``choices[i].delta.tool_calls[j].function.arguments``,
are each their own guard channel, for every choice when ``n`` > 1. Every
other string, at any depth (``reasoning_content``, ``function_call.arguments``,
content parts, logprobs tokens, unknown fields and unknown event shapes), is
guarded by the field walker unless :data:`CHAT_TABLE` lists it as structural.

An in-stream error is ``data: {"error": {...}}`` with no ``event:`` field:
the openai SDK raises it as ``openai.APIError`` (see ``openai/_streaming.py``).
"""

from __future__ import annotations

from typing import Any

from tidegate.adapters.base import (
    InputGuard,
    ParsedRequest,
    dumps,
    event_object,
    parse_messages_request,
)
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.leaf_guard import guard_input_body, set_leaf
from tidegate.adapters.release import PendingEvent, QueuedTranslator, guard_body
from tidegate.errors import PolicyViolation, TidegateError
from tidegate.guard.hook import StreamGuard
from tidegate.sse import ServerSentEvent, encode_event

__all__ = ["CHAT_TABLE", "DONE", "OpenAIChatAdapter", "dumps", "openai_error_body"]

DONE = encode_event("[DONE]")
_TEXT_FIELDS = ("content", "refusal")
_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_TIERS = ("auto", "default", "flex", "scale", "priority")

CHAT_TABLE = FieldTable.of(
    enums={
        "object": ("chat.completion.chunk", "chat.completion"),
        "service_tier": _TIERS,
        "choices.*.finish_reason": (
            "stop",
            "length",
            "tool_calls",
            "content_filter",
            "function_call",
        ),
        "choices.*.delta.role": _ROLES,
        "choices.*.message.role": _ROLES,
        "choices.*.delta.tool_calls.*.type": ("function",),
        "choices.*.message.tool_calls.*.type": ("function",),
        "choices.*.delta.content.*.type": ("text", "refusal"),
        "choices.*.message.content.*.type": ("text", "refusal"),
    },
    atoms="""
        id model system_fingerprint
        choices.*.delta.tool_calls.*.id choices.*.delta.tool_calls.*.function.name
        choices.*.message.tool_calls.*.id choices.*.message.tool_calls.*.function.name
        choices.*.delta.function_call.name choices.*.message.function_call.name
    """,
    numbers="""
        created choices.*.index choices.*.delta.tool_calls.*.index usage.**
        choices.*.logprobs.content.*.logprob choices.*.logprobs.content.*.top_logprobs.*.logprob
        choices.*.logprobs.refusal.*.logprob choices.*.logprobs.refusal.*.top_logprobs.*.logprob
    """,
    keys="""
        choices delta message content refusal tool_calls function arguments text type
        logprobs token bytes top_logprobs usage reasoning_content reasoning function_call
        audio annotations error
    """,
)
"""Structural fields of a ``chat.completion`` body and a ``chat.completion.chunk``."""

_MESSAGE_TYPES = ("text", "image_url", "input_audio", "file", "refusal")
CHAT_REQUEST_TABLE = FieldTable.of(
    enums={
        "messages.*.role": _ROLES,
        "messages.*.content.*.type": _MESSAGE_TYPES,
        "messages.*.content.*.image_url.detail": ("auto", "low", "high"),
        "messages.*.tool_calls.*.type": ("function",),
        "tools.*.type": ("function",),
        "tool_choice": ("none", "auto", "required"),
        "tool_choice.type": ("function",),
        "response_format.type": ("text", "json_object", "json_schema"),
        "reasoning_effort": ("minimal", "low", "medium", "high"),
        "service_tier": _TIERS,
        "modalities.*": ("text", "audio"),
        "prediction.type": ("content",),
    },
    atoms="model",
    numbers="""
        temperature top_p n max_tokens max_completion_tokens presence_penalty
        frequency_penalty seed top_logprobs logit_bias.?
    """,
    keys="""
        messages content text image_url url input_audio data format file file_data file_id
        filename name tool_calls tool_call_id id function arguments tools description
        parameters strict properties required items enum default stream stream_options
        include_usage logprobs stop user metadata prediction response_format json_schema
        schema parallel_tool_calls store audio voice refusal
    """,
)
"""Structural fields of a Chat Completions request (everything else is scanned)."""


def openai_error_body(exc: TidegateError) -> dict[str, Any]:
    """``{"error": {"message", "type", "code", "param"}}`` for ``exc``.

    Policy violations add ``policy`` and ``event_id`` (and ``threat_type``
    and ``score`` when a threat detector blocked).
    """
    error: dict[str, Any] = {
        "message": exc.message,
        "type": exc.error_type,
        "code": exc.code,
        "param": None,
    }
    if isinstance(exc, PolicyViolation):
        error["policy"] = exc.policy
        error["event_id"] = exc.event_id
        if exc.threat_type is not None:
            error["threat_type"] = exc.threat_type
            error["score"] = exc.score
    return {"error": error}


class OpenAIChatTranslator(QueuedTranslator):
    """Rewrites one Chat Completions event stream through a guard.

    A block ends the stream as OpenAI and Azure OpenAI end a filtered one:
    a last chunk with ``finish_reason: "content_filter"`` for each open
    choice (one the upstream started and whose end the guard has not
    passed), then the error event and ``[DONE]``.
    """

    table = CHAT_TABLE
    event_names = frozenset({None, "message", "error"})
    chunk_object = "chat.completion.chunk"
    """The ``object`` of the format's chunks (the content-filter chunk's too)."""

    def __init__(self, guard: StreamGuard) -> None:
        super().__init__(guard)
        # Open choices: index -> the chunk envelope (id, created, model) last seen.
        self._open: dict[int, dict[str, Any]] = {}

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`)."""
        if self._terminated:
            return []
        self._check_name(event)
        queue = self._queue
        if event.data == "[DONE]":
            self._complete = True
            queue.end_all()
            queue.add(DONE)
            return queue.drain()
        obj = event_object(event)
        pending = self._pending(event, obj)
        choices = obj.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict):
                    self._guard_choice(pending, choice)
                else:
                    self._walk(pending, choice, path="choices.*")
            self._walk(pending, obj, skip=("choices",))
            self._track_open(obj, choices)  # after the walk: the envelope is guarded
        else:
            self._walk(pending, obj)
        if "error" in obj and "choices" not in obj:
            self._complete = True  # the upstream's own in-stream error: guarded, then relayed
            queue.end_all()
        return queue.drain()

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """``data: {"error": ...}`` then ``data: [DONE]``; held events are dropped.

        A block (:class:`PolicyViolation`) first finishes each open choice
        with ``finish_reason: "content_filter"``.
        """
        self._terminated = True
        finish = []
        if isinstance(exc, PolicyViolation):
            for index, envelope in sorted(self._open.items()):
                choice = self._filtered_choice(index)
                chunk = {**envelope, "object": self.chunk_object, "choices": [choice]}
                finish.append(encode_event(dumps(chunk)))
        return [*finish, encode_event(dumps(openai_error_body(exc))), DONE]

    def _filtered_choice(self, index: int) -> dict[str, Any]:
        """The choice of a content-filter chunk."""
        return {"index": index, "delta": {}, "finish_reason": "content_filter"}

    def _guard_choice(self, pending: PendingEvent, choice: dict[str, Any]) -> None:
        queue = self._queue
        index = choice.get("index", 0)
        if not isinstance(index, int) or isinstance(index, bool):
            index = 0
        prefix = f"{index}:"
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for field in _TEXT_FIELDS:
                text = delta.get(field)
                if isinstance(text, str):
                    queue.text(
                        pending,
                        f"{prefix}{field}",
                        text,
                        _setter(choice, delta, field),
                        (delta, field),
                    )
            calls = delta.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    k = call.get("index", 0)
                    channel = f"{prefix}tool:{k if isinstance(k, int) else 0}"
                    setter = _setter(choice, fn, "arguments")
                    queue.text(pending, channel, fn["arguments"], setter, (fn, "arguments"))
        self._walk(pending, choice, path="choices.*", prefix=prefix)
        if choice.get("finish_reason") is not None:
            for channel in queue.channels():
                if channel.startswith(prefix):
                    queue.end(channel)

    def _track_open(self, obj: dict[str, Any], choices: list[Any]) -> None:
        """Note which choices are open once an event's text passed the guard.

        A choice whose end raised a block is never marked finished: the
        client never got its ``finish_reason``.
        """
        envelope: dict[str, Any] = {k: obj[k] for k in ("id", "created", "model") if k in obj}
        for choice in choices:
            index = choice.get("index", 0) if isinstance(choice, dict) else None
            if not isinstance(index, int) or isinstance(index, bool):
                continue
            if choice.get("finish_reason") is None:
                self._open[index] = envelope
            else:
                self._open.pop(index, None)


def _setter(choice: dict[str, Any], container: dict[str, Any], key: str) -> Any:
    """Writes a released text; a changed text empties the choice's logprobs."""

    def apply(value: str) -> None:
        set_leaf(container, key, value, choice if "logprobs" in choice else None)

    return apply


class OpenAIChatAdapter:
    """The OpenAI Chat Completions wire format."""

    name = "openai"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/chat/completions`` body.

        Raises:
            BadRequestError: Not a JSON object, a duplicate key, or
                ``messages`` is not a list.
        """
        return parse_messages_request(raw)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard every non-structural string of the request (deny by default).

        Channels are dotted paths: ``messages.*.content``, ``tools.*.function.description``.

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, CHAT_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> OpenAIChatTranslator:
        """A translator for one streamed response."""
        return OpenAIChatTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard a ``chat.completion`` body in place; return whether it changed.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, CHAT_TABLE, guard)
