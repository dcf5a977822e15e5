"""OpenAI Chat Completions (``POST /v1/chat/completions``).

Streaming responses are ``data: {chat.completion.chunk}`` SSE events ended by
``data: [DONE]``. Guarded text lives in ``choices[i].delta.content``,
``choices[i].delta.refusal`` and ``choices[i].delta.tool_calls[j].function.arguments``;
each is its own guard channel, for every choice when ``n`` > 1.

An in-stream error is ``data: {"error": {...}}`` with no ``event:`` field:
the openai SDK raises it as ``openai.APIError`` (see ``openai/_streaming.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tidegate.adapters.base import InputGuard, ParsedRequest, event_object, parse_messages_request
from tidegate.adapters.release import PendingEvent, QueuedTranslator
from tidegate.errors import (
    PolicyViolation,
    TidegateError,
)
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.sse import ServerSentEvent, encode_event

DONE = encode_event("[DONE]")
_TEXT_FIELDS = ("content", "refusal")


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 kept as is (how OpenAI and llama.cpp encode)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


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


def guard_content(content: Any, guard: InputGuard, channel: str) -> Any:
    """Guard a ``content`` value: a string or a list of parts with ``text``."""
    if isinstance(content, str):
        return guard(content, channel)
    if isinstance(content, list):
        for j, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part["text"] = guard(part["text"], f"{channel}.{j}")
    return content


def guard_message(message: dict[str, Any], guard: InputGuard, channel: str) -> None:
    """Guard one chat message in place (content, refusal, tool-call arguments)."""
    if "content" in message:
        message["content"] = guard_content(message["content"], guard, channel)
    for k, call in enumerate(message.get("tool_calls") or ()):
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
            fn["arguments"] = guard(fn["arguments"], f"{channel}.tool_calls.{k}")


class OpenAIChatTranslator(QueuedTranslator):
    """Rewrites one Chat Completions event stream through a guard."""

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`)."""
        queue = self._queue
        if event.data.startswith("[DONE]"):
            self._complete = True
            queue.end_all()
            queue.add(DONE)
            return queue.drain()
        obj = event_object(event)
        original = encode_event(event.data, event=event.event)
        if "error" in obj and "choices" not in obj:
            self._complete = True  # the upstream's own in-stream error
            queue.add(original)
            return queue.drain()
        pending = queue.add(original, lambda: encode_event(dumps(obj), event=event.event))
        for choice in obj.get("choices") or ():
            if isinstance(choice, dict):
                self._guard_choice(pending, choice)
        return queue.drain()

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """``data: {"error": ...}`` then ``data: [DONE]``; held events are dropped."""
        self._terminated = True
        return [encode_event(dumps(openai_error_body(exc))), DONE]

    def _guard_choice(self, pending: PendingEvent, choice: dict[str, Any]) -> None:
        queue = self._queue
        index = choice.get("index", 0)
        if not isinstance(index, int):
            index = 0
        delta = choice.get("delta")
        if isinstance(delta, dict):
            for field in _TEXT_FIELDS:
                text = delta.get(field)
                if isinstance(text, str):
                    queue.text(pending, f"{index}:{field}", text, _setter(delta, field))
            for call in delta.get("tool_calls") or ():
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    channel = f"{index}:tool:{call.get('index', 0)}"
                    queue.text(pending, channel, fn["arguments"], _setter(fn, "arguments"))
        if choice.get("finish_reason") is not None:
            for channel in queue.channels():
                if channel.startswith(f"{index}:"):
                    queue.end(channel)


def _setter(container: dict[str, Any], key: str) -> Callable[[str], None]:
    def apply(value: str) -> None:
        container[key] = value

    return apply


class OpenAIChatAdapter:
    """The OpenAI Chat Completions wire format."""

    name = "openai"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/chat/completions`` body.

        Raises:
            BadRequestError: Not a JSON object, or ``messages`` is not a list.
        """
        return parse_messages_request(raw)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> None:
        """Guard every message's text: string content, text parts, tool-call arguments.

        Raises:
            PolicyViolation: The guard blocked an input text.
        """
        for i, message in enumerate(body.get("messages") or ()):
            if isinstance(message, dict):
                guard_message(message, guard, f"messages.{i}")

    def new_stream(self, guard: StreamGuard) -> OpenAIChatTranslator:
        """A translator for one streamed response."""
        return OpenAIChatTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> dict[str, Any]:
        """Guard every choice's message content, refusal and tool-call arguments.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        for choice in body.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            message = choice.get("message")
            if not isinstance(message, dict):
                continue
            for field in _TEXT_FIELDS:
                text = message.get(field)
                if isinstance(text, str):
                    message[field] = guard_whole(guard, f"{index}:{field}", text)
            for j, call in enumerate(message.get("tool_calls") or ()):
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    channel = f"{index}:tool:{j}"
                    fn["arguments"] = guard_whole(guard, channel, fn["arguments"])
        return body
