"""Recorded wire streams, stream builders, a relay stand-in, and SDK clients without a server.

The recorded streams are byte-for-byte in each provider's documented wire
shape (Anthropic Messages streaming; OpenAI Responses streaming): named SSE
events, compact JSON, one ``data:`` line each. The builders produce the same
shapes around test-chosen text pieces; their ids and numbers share no
4-char fragment with the values the tests plant. The anthropic and openai
SDKs use ``httpx2``, so their clients here take an ``httpx2.MockTransport``.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterable, Sequence
from typing import Any

import anthropic
import httpx2
import openai
from hypothesis import strategies as st

from tidegate.adapters.base import StreamTranslator
from tidegate.config import parse_config
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.logs import get_logger
from tidegate.relay import StreamPump
from tidegate.sse import ServerSentEvent, SSEDecoder

EMAIL = "jane.doe@acme.org"
"""A planted email; no 4-char fragment of it occurs in any stream envelope here
(``jane.doe@example.com`` would not do: ``response.completed`` contains ``e.co``)."""
CARD = "4111 1111 1111 1111"
"""A planted card number (a Luhn-valid test number)."""
KEY = "AKIAZ3XQ7RTB2MNPLK4D"
"""A planted AWS access key id (not AWS's documented example key)."""
TEXT = f"Contact me at {EMAIL} or charge {CARD} today, thanks!"


def _sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


# --- Anthropic Messages ------------------------------------------------------

ANTHROPIC_RECORDED = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_01Wr2XbT7cN9aQzKpLmVvE3d",'
    b'"type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2}}}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking",'
    b'"thinking":"","signature":""}}\n\n'
    b"event: ping\n"
    b'data: {"type": "ping"}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
    b'"thinking":"The user wants the weather in Paris. "}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta",'
    b'"thinking":"I should call get_weather."}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta",'
    b'"signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":0}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta",'
    b'"text":"Okay, let\'s check"}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta",'
    b'"text":" the weather for Paris \xe2\x80\x94 caf\xc3\xa9 \xe2\x98\x95:"}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":1}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":2,"content_block":{"type":"tool_use",'
    b'"id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":"{\\"location\\": \\"Par"}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta",'
    b'"partial_json":"is, France\\"}"}}\n\n'
    b"event: content_block_stop\n"
    b'data: {"type":"content_block_stop","index":2}\n\n'
    b"event: message_delta\n"
    b'data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},'
    b'"usage":{"output_tokens":89}}\n\n'
    b"event: message_stop\n"
    b'data: {"type":"message_stop"}\n\n'
)
"""Extended thinking (thinking + signature), text, a tool_use with JSON deltas, ping."""

ANTHROPIC_OVERLOADED = (
    b"event: message_start\n"
    b'data: {"type":"message_start","message":{"id":"msg_01Hq5ZkR8xW2nFfJtYcGbD7s",'
    b'"type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,'
    b'"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}\n\n'
    b"event: content_block_start\n"
    b'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
    b'"text":"Hello"}}\n\n'
    b"event: error\n"
    b'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
)
"""A stream that the upstream ends with an in-stream ``overloaded_error``."""

ANTHROPIC_MESSAGE_ID = "msg_test"


def anthropic_stream(
    text_pieces: Sequence[str],
    *,
    thinking_pieces: Sequence[str] = (),
    tool_pieces: Sequence[str] = (),
    stop: bool = True,
) -> list[bytes]:
    """An Anthropic stream: optional thinking block, a text block, optional tool_use block."""

    def ev(kind: str, **fields: Any) -> bytes:
        return _sse(kind, {"type": kind, **fields})

    message = {"id": ANTHROPIC_MESSAGE_ID, "type": "message", "role": "assistant", "model": "m"}
    usage = {"input_tokens": 3, "output_tokens": 2}
    events = [
        ev("message_start", message={**message, "content": [], "stop_reason": None,
                                     "stop_sequence": None, "usage": usage}),
    ]  # fmt: skip
    thinking = {"type": "thinking", "thinking": "", "signature": ""}
    tool = {"type": "tool_use", "id": "toolu_test", "name": "send", "input": {}}
    blocks: list[tuple[dict[str, Any], str, str, Sequence[str]]] = [
        (thinking, "thinking_delta", "thinking", thinking_pieces),
        ({"type": "text", "text": ""}, "text_delta", "text", text_pieces),
        (tool, "input_json_delta", "partial_json", tool_pieces),
    ]
    blocks = [b for b in blocks if b[2] == "text" or b[3]]
    for index, (block, delta_type, field, pieces) in enumerate(blocks):
        events.append(ev("content_block_start", index=index, content_block=block))
        if index == 0:
            events.append(ev("ping"))
        deltas = [{"type": delta_type, field: piece} for piece in pieces]
        if delta_type == "thinking_delta":
            deltas.append({"type": "signature_delta", "signature": "c2lnbmF0dXJl"})
        events += [ev("content_block_delta", index=index, delta=delta) for delta in deltas]
        events.append(ev("content_block_stop", index=index))
    stop_reason = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(ev("message_delta", delta=stop_reason, usage={"output_tokens": 9}))
    if stop:
        events.append(ev("message_stop"))
    return events


# --- OpenAI Responses --------------------------------------------------------

RESPONSE_ID = "resp_test"


def _response(status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": RESPONSE_ID,
        "object": "response",
        "created_at": 1741290958,
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": "gpt-4.1-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": None
        if status != "completed"
        else {
            "input_tokens": 37,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 29,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 66,
        },
        "user": None,
        "metadata": {},
    }


def responses_stream(
    text_pieces: Sequence[str],
    args_pieces: Sequence[str] = (),
    *,
    complete: bool = True,
) -> list[bytes]:
    """A Responses stream: a message with output_text deltas, optionally a function call.

    Every whole-text field (``.done`` events, ``output_item.done``,
    ``response.completed``) repeats the concatenated pieces, as OpenAI does.
    """
    seq = iter(range(10_000))
    text, args = "".join(text_pieces), "".join(args_pieces)

    def ev(kind: str, **fields: Any) -> bytes:
        return _sse(kind, {"type": kind, "sequence_number": next(seq), **fields})

    msg_id, fc_id = "msg_test", "fc_test"
    at = {"item_id": msg_id, "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    message = {"id": msg_id, "type": "message", "status": "completed", "role": "assistant",
               "content": [part]}  # fmt: skip
    events = [
        ev("response.created", response=_response("in_progress", [])),
        ev("response.in_progress", response=_response("in_progress", [])),
        ev("response.output_item.added", output_index=0,
           item={**message, "status": "in_progress", "content": []}),
        ev("response.content_part.added", **at, part={**part, "text": ""}),
        *(ev("response.output_text.delta", **at, delta=p, logprobs=[]) for p in text_pieces),
        ev("response.output_text.done", **at, text=text, logprobs=[]),
        ev("response.content_part.done", **at, part=part),
        ev("response.output_item.done", output_index=0, item=message),
    ]  # fmt: skip
    output: list[dict[str, Any]] = [message]
    if args_pieces:
        call = {
            "type": "function_call",
            "id": fc_id,
            "call_id": "call_test",
            "name": "send_email",
            "arguments": args,
            "status": "completed",
        }
        fc = {"item_id": fc_id, "output_index": 1}
        events += [
            ev("response.output_item.added", output_index=1,
               item={**call, "arguments": "", "status": "in_progress"}),
            *(ev("response.function_call_arguments.delta", **fc, delta=p) for p in args_pieces),
            ev("response.function_call_arguments.done", **fc, name="send_email", arguments=args),
            ev("response.output_item.done", output_index=1, item=call),
        ]  # fmt: skip
        output.append(call)
    if complete:
        events.append(ev("response.completed", response=_response("completed", output)))
    return events


RESPONSES_RECORDED = b"".join(
    responses_stream(
        ["I'll", " email", " the", " summary", " now", "."],
        ['{"to":', '"team', '",', '"subject":"Weekly ', 'report"}'],
    )
)
"""Text deltas, then a function call with argument deltas, then ``response.completed``."""


# --- generic -----------------------------------------------------------------


def generic_stream(pieces: Iterable[str], key: str = "text") -> list[bytes]:
    """``data: {"text": piece}`` per piece; no terminator."""
    return [_sse(None, {key: piece}) for piece in pieces]


GENERIC_RECORDED = b"".join(generic_stream(["Once", " upon", " a time", " \u2014 fin."]))


# --- the relay's pump, without the network ----------------------------------


def decode(data: bytes) -> list[ServerSentEvent]:
    """Every SSE event in ``data``."""
    decoder = SSEDecoder()
    return [*decoder.feed(data), *decoder.flush()]


def relay(translator: StreamTranslator, pieces: Iterable[bytes]) -> list[bytes]:
    """Run upstream bytes through the relay's own :class:`~tidegate.relay.StreamPump`.

    Returns:
        Every byte string the client would receive, in order.
    """
    pump = StreamPump(translator, get_logger("test"))
    out: list[bytes] = []
    for piece in pieces:
        out.extend(pump.feed(piece))
    out.extend(pump.end())
    return out


# --- guards, leak checks and SDK clients over a mock transport ----------------


@functools.cache
def _engine() -> GuardEngine:
    return GuardEngine(parse_config({}))


def real_guard() -> StreamGuard:
    """A fresh output guard with the default policies (redact PII, block secrets)."""
    return _engine().new_stream()


def one_shot(text: str) -> str:
    """``text`` redacted in one piece by a fresh default guard."""
    return guard_whole(real_guard(), "one-shot", text)


def splits(text: str) -> st.SearchStrategy[list[str]]:
    """Hypothesis: ``text`` cut at random points into non-empty pieces."""
    cuts = st.lists(st.integers(1, len(text) - 1), unique=True, max_size=len(text) // 2)

    def cut(points: list[int]) -> list[str]:
        bounds = [0, *sorted(points), len(text)]
        return [text[i:j] for i, j in itertools.pairwise(bounds)]

    return cuts.map(cut)


def chunked(data: bytes, size: int) -> list[bytes]:
    """``data`` in network-like pieces of ``size`` bytes (splitting lines and UTF-8)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def fragments(value: str, size: int = 4) -> set[str]:
    """Every substring of ``value`` of length ``size``."""
    return {value[i : i + size] for i in range(len(value) - size + 1)}


def leaked(output: str, *planted: str) -> set[str]:
    """The fragments (length 4) of the planted values that appear in ``output``."""
    return {f for value in planted for f in fragments(value) if f in output}


def _transport(body: bytes, status: int) -> httpx2.Client:
    def handler(request: httpx2.Request) -> httpx2.Response:
        content_type = "text/event-stream" if status == 200 else "application/json"
        return httpx2.Response(status, headers={"content-type": content_type}, content=body)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def anthropic_client(body: bytes, status: int = 200) -> anthropic.Anthropic:
    """A real anthropic client whose every request is answered with ``body``."""
    return anthropic.Anthropic(
        base_url="http://test", api_key="x", max_retries=0, http_client=_transport(body, status)
    )


def openai_client(body: bytes, status: int = 200) -> openai.OpenAI:
    """A real openai client whose every request is answered with ``body``."""
    return openai.OpenAI(
        base_url="http://test/v1", api_key="x", max_retries=0, http_client=_transport(body, status)
    )


class RecordingInputGuard:
    """An input guard that records ``(channel, text)`` and upper-cases the text."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, text: str, channel: str) -> str:
        self.seen.append((channel, text))
        return text.upper()
