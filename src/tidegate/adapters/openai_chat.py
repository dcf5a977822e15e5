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
from typing import Any

from tidegate.adapters.base import ParsedRequest, parse_json_object
from tidegate.errors import (
    BadRequestError,
    PolicyViolation,
    TidegateError,
    UpstreamProtocolError,
)
from tidegate.guard.hook import StreamGuard
from tidegate.sse import ServerSentEvent, encode_event

DONE = encode_event("[DONE]")
_TEXT_FIELDS = ("content", "refusal")


def dumps(obj: Any) -> str:
    """Compact JSON, UTF-8 kept as is (how OpenAI and llama.cpp encode)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def openai_error_body(exc: TidegateError) -> dict[str, Any]:
    """``{"error": {"message", "type", "code", "param"}}`` for ``exc``.

    Policy violations add ``policy`` and ``event_id``.
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
    return {"error": error}


class OpenAIChatTranslator:
    """Rewrites one Chat Completions event stream through a guard."""

    def __init__(self, guard: StreamGuard) -> None:
        self._guard = guard
        self._channels: dict[int, dict[str, None]] = {}
        self._meta: dict[str, Any] = {}
        self._done = False
        self._upstream_error = False

    def on_event(self, event: ServerSentEvent) -> list[bytes]:
        """Translate one upstream event (see :class:`StreamTranslator`)."""
        if event.data.startswith("[DONE]"):
            self._done = True
            return [*self._flush_all(), DONE]
        try:
            obj = json.loads(event.data)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            # Unparseable events cannot be guarded: fail closed, do not relay.
            raise UpstreamProtocolError("upstream sent an event that is not a JSON object")
        if "error" in obj and "choices" not in obj:
            self._upstream_error = True
            return [encode_event(event.data, event=event.event)]
        for key in ("id", "object", "created", "model", "system_fingerprint"):
            if key in obj:
                self._meta[key] = obj[key]
        changed = False
        for choice in obj.get("choices") or ():
            if isinstance(choice, dict):
                changed |= self._guard_choice(choice)
        if not changed:
            return [encode_event(event.data, event=event.event)]
        return [encode_event(dumps(obj), event=event.event)]

    def on_end(self) -> list[bytes]:
        """Flush; a stream that ended without ``[DONE]`` gets an error event."""
        if self._done or self._upstream_error:
            return []
        flushed = self._flush_all()
        return [*flushed, *self.error_events(UpstreamProtocolError("upstream stream ended early"))]

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """``data: {"error": ...}`` then ``data: [DONE]``."""
        self._done = True
        return [encode_event(dumps(openai_error_body(exc))), DONE]

    def _channel(self, index: int, name: str) -> str:
        channel = f"{index}:{name}"
        self._channels.setdefault(index, {})[channel] = None
        return channel

    def _guard_choice(self, choice: dict[str, Any]) -> bool:
        index = choice.get("index", 0)
        if not isinstance(index, int):
            index = 0
        delta = choice.get("delta")
        changed = False
        if isinstance(delta, dict):
            for field in _TEXT_FIELDS:
                text = delta.get(field)
                if isinstance(text, str):
                    out = self._guard.push(self._channel(index, field), text)
                    if out != text:
                        delta[field] = out
                        changed = True
            for call in delta.get("tool_calls") or ():
                if not isinstance(call, dict):
                    continue
                fn = call.get("function")
                args = fn.get("arguments") if isinstance(fn, dict) else None
                if isinstance(fn, dict) and isinstance(args, str):
                    channel = self._channel(index, f"tool:{call.get('index', 0)}")
                    out = self._guard.push(channel, args)
                    if out != args:
                        fn["arguments"] = out
                        changed = True
        if choice.get("finish_reason") is not None:
            if not isinstance(delta, dict):
                delta = choice["delta"] = {}
            changed |= self._flush_choice(index, delta)
        return changed

    def _flush_choice(self, index: int, delta: dict[str, Any]) -> bool:
        changed = False
        for channel in self._channels.pop(index, {}):
            rest = self._guard.end(channel)
            if not rest:
                continue
            changed = True
            kind = channel.split(":", 2)[1]
            if kind in _TEXT_FIELDS:
                delta[kind] = (delta.get(kind) or "") + rest
                continue
            tool_index = int(channel.rsplit(":", 1)[1])
            calls = delta.setdefault("tool_calls", [])
            for call in calls:
                if isinstance(call, dict) and call.get("index", 0) == tool_index:
                    fn = call.setdefault("function", {})
                    fn["arguments"] = (fn.get("arguments") or "") + rest
                    break
            else:
                calls.append({"index": tool_index, "function": {"arguments": rest}})
        return changed

    def _flush_all(self) -> list[bytes]:
        events = []
        for index in list(self._channels):
            delta: dict[str, Any] = {}
            if self._flush_choice(index, delta):
                chunk = {
                    **self._meta,
                    "choices": [{"index": index, "delta": delta, "finish_reason": None}],
                }
                events.append(encode_event(dumps(chunk)))
        return events


class OpenAIChatAdapter:
    """The OpenAI Chat Completions wire format."""

    name = "openai"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/chat/completions`` body.

        Raises:
            BadRequestError: Not a JSON object, or ``messages`` is not a list.
        """
        body = parse_json_object(raw)
        if not isinstance(body.get("messages"), list):
            raise BadRequestError("'messages' must be a list of message objects")
        model = body.get("model")
        return ParsedRequest(
            body, bool(body.get("stream")), model if isinstance(model, str) else None
        )

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

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
                    channel = f"{index}:{field}"
                    message[field] = guard.push(channel, text) + guard.end(channel)
            for j, call in enumerate(message.get("tool_calls") or ()):
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                    channel = f"{index}:tool:{j}"
                    fn["arguments"] = guard.push(channel, fn["arguments"]) + guard.end(channel)
        return body
