"""A hostile upstream: one scripted misbehaviour per mode.

Each :class:`Mode` is a :class:`~tests.support.upstream.Script` for the
scripted upstream (a real HTTP server on loopback) that smuggles a planted
value through a field, event or channel an adapter that knows fields by name
would relay blind. Shapes follow the providers' documentation: Chat
Completions chunks with ``logprobs`` (``choices[].logprobs.content[].token``,
``bytes``, ``top_logprobs``), ``reasoning_content`` as sent by
OpenAI-compatible servers, the legacy ``function_call``, Anthropic
``citations_delta``, Responses ``response.mcp_call_arguments.delta``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.support.upstream import Script, chat_completion

CARD = "4111111111111111"
SECRET = "AKIAZ7VRSQ4TXLQ2BD5W"
BASE = {"id": "chatcmpl-h", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def sse(obj: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(obj, separators=(",", ":")) + "\n\n").encode()


def chat_chunk(delta: dict[str, Any], finish: str | None = None, **choice: Any) -> bytes:
    return sse(
        {**BASE, "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **choice}]}
    )


def chat_around(middle: list[bytes]) -> list[bytes]:
    return [chat_chunk({"role": "assistant", "content": ""}), *middle,
            chat_chunk({}, "stop"), b"data: [DONE]\n\n"]  # fmt: skip


def logprob(token: str) -> dict[str, Any]:
    entry = {"token": token, "logprob": -0.1, "bytes": list(token.encode())}
    return {**entry, "top_logprobs": [dict(entry)]}


@dataclass(frozen=True)
class Mode:
    """One misbehaviour.

    Attributes:
        name: Test id.
        path: Gateway path the client calls.
        stream: Whether the client asks for a stream.
        script: What the upstream answers.
        planted: The value that must never reach the client.
        headers: Extra request headers.
    """

    name: str
    path: str
    stream: bool
    script: Script
    planted: str = CARD
    headers: dict[str, str] = field(default_factory=dict)


def _card_tokens() -> list[str]:
    return ["Card ", "4111", "1111", "1111", "1111", " ok."]


def _logprob_stream() -> list[bytes]:
    return chat_around(
        [chat_chunk({"content": t}, logprobs={"content": [logprob(t)], "refusal": None})
         for t in _card_tokens()]
    )  # fmt: skip


def _logprob_json() -> dict[str, Any]:
    body = chat_completion("".join(_card_tokens()))
    body["choices"][0]["logprobs"] = {"content": [logprob(t) for t in _card_tokens()]}
    return body


def _split(value: str) -> list[str]:
    third = len(value) // 3
    return [value[:third], value[third : 2 * third], value[2 * third :]]


def _anthropic_citations() -> list[bytes]:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_h",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    citation = {
        "type": "char_location",
        "cited_text": f"card {CARD}",
        "document_index": 0,
        "document_title": "doc",
        "start_char_index": 0,
        "end_char_index": 21,
    }
    return [
        sse(start, "message_start"),
        sse({"type": "content_block_start", "index": 0,
             "content_block": {"type": "text", "text": "", "citations": []}},
            "content_block_start"),
        sse({"type": "content_block_delta", "index": 0,
             "delta": {"type": "citations_delta", "citation": citation}}, "content_block_delta"),
        sse({"type": "content_block_delta", "index": 0,
             "delta": {"type": "text_delta", "text": "As the document says."}},
            "content_block_delta"),
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
             "usage": {"output_tokens": 5}}, "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]  # fmt: skip


def _responses_mcp() -> list[bytes]:
    resp = {"id": "resp_h", "object": "response", "model": "m", "output": []}
    deltas = [
        sse({"type": "response.mcp_call_arguments.delta", "output_index": 0, "item_id": "mcp_1",
             "delta": piece, "sequence_number": i + 1}, "response.mcp_call_arguments.delta")
        for i, piece in enumerate(_split(json.dumps({"card": CARD})))
    ]  # fmt: skip
    return [
        sse({"type": "response.created", "response": {**resp, "status": "in_progress"},
             "sequence_number": 0}, "response.created"),
        *deltas,
        sse({"type": "response.completed", "response": {**resp, "status": "completed"},
             "sequence_number": 9}, "response.completed"),
    ]  # fmt: skip


def modes() -> list[Mode]:
    """Every misbehaviour, one mode each."""
    chat, responses, messages = "/v1/chat/completions", "/v1/responses", "/v1/messages"
    return [
        Mode("chat-logprobs-stream", chat, True, Script(events=_logprob_stream())),
        Mode("chat-logprobs-json", chat, False, Script(json_body=_logprob_json())),
        Mode("chat-logprobs-only", chat, True, Script(events=chat_around(
            [chat_chunk({"content": "x"}, logprobs={"content": [logprob(t)]})
             for t in _card_tokens()]
        ))),
        *(
            Mode(f"chat-{key}", chat, True,
                 Script(events=chat_around([chat_chunk({key: p}) for p in _split(CARD)])))
            for key in ("reasoning_content", "reasoning")
        ),
        Mode("chat-legacy-function-call", chat, True, Script(events=chat_around(
            [chat_chunk({"function_call": {"arguments": p}}) for p in _split(f'{{"n":"{CARD}"}}')]
        ))),
        Mode("chat-content-parts", chat, True, Script(events=chat_around(
            [chat_chunk({"content": [{"type": "text", "text": p}]}) for p in _split(CARD)]
        ))),
        Mode("chat-unknown-nested-field", chat, True, Script(events=chat_around(
            [chat_chunk({"x_meta": {"notes": [p]}}) for p in _split(CARD)]
        ))),
        Mode("sse-comment", chat, True, Script(events=chat_around(
            [f": {SECRET}\n".encode(), chat_chunk({"content": "Hi."})]
        )), planted=SECRET),
        Mode("sse-event-name", chat, True, Script(events=chat_around(
            [f"event: {CARD}\ndata: {{}}\n\n".encode()]
        ))),
        Mode("sse-id-field", chat, True, Script(events=chat_around(
            [f"id: {SECRET}\n".encode() + chat_chunk({"content": "Hi."})]
        )), planted=SECRET),
        Mode("error-json-400", chat, True, Script(status=400, json_body={"error": {
            "message": f"invalid prompt: card {CARD}", "type": "invalid_request_error"}})),
        Mode("error-html-502", chat, False, Script(
            status=502, raw_body=f"<html><body>bad gateway {CARD}</body></html>".encode(),
            content_type="text/html")),
        Mode("in-stream-error", chat, True, Script(events=[
            chat_chunk({"role": "assistant", "content": ""}),
            sse({"error": {"message": f"echo: {CARD}", "type": "server_error"}})])),
        Mode("anthropic-citations", messages, True, Script(events=_anthropic_citations())),
        Mode("responses-mcp-arguments", responses, True, Script(events=_responses_mcp())),
        Mode("responses-gets-chat-chunks", responses, True, Script(events=chat_around(
            [chat_chunk({"content": p}) for p in _split(CARD)]
        ))),
    ]  # fmt: skip
