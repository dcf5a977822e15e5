"""Deny by default: a value planted in *any* string leaf never reaches the client.

Hypothesis builds events of every wire format with a planted value split
across consecutive events at the same path: under unknown keys at any depth,
inside lists, in known events and in event types the adapter has never heard
of. The bytes go through the real relay pump and translators, cut at random
sizes. Not one 4-char fragment of the value may reach the client, in any
field, and the structural fields (ids, model, types, indexes) are unchanged.
The same holds for request bodies and the bytes that go upstream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.recorded import CARD, EMAIL, KEY, chunked, decode, leaked, real_guard, relay
from tidegate.adapters.anthropic import AnthropicAdapter, AnthropicTranslator
from tidegate.adapters.base import WireAdapter
from tidegate.adapters.generic import GenericAdapter, GenericTranslator
from tidegate.adapters.openai_chat import OpenAIChatAdapter, OpenAIChatTranslator
from tidegate.adapters.openai_responses import ResponsesAdapter, ResponsesTranslator
from tidegate.adapters.release import QueuedTranslator
from tidegate.config import parse_config
from tidegate.errors import PolicyViolation
from tidegate.guard.engine import GuardEngine

PLANTED = [CARD.replace(" ", ""), CARD, EMAIL, KEY]
STRUCTURAL = {"id": "chatcmpl-x", "model": "scripted-model"}


def _sse(obj: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(obj) + "\n\n").encode()


# --- where a value is planted --------------------------------------------------

keys = st.text("abcxyz_", min_size=1, max_size=6).map(lambda k: "x_" + k)
carrier_paths = st.lists(st.one_of(keys, st.just(0)), min_size=1, max_size=4).filter(
    lambda p: isinstance(p[0], str)
)


def nest(path: list[str | int], leaf: str) -> dict[str, Any]:
    """``{"x_a": [{"x_b": leaf}]}`` for path ``["x_a", 0, "x_b"]``."""
    value: Any = leaf
    for step in reversed(path):
        value = [value] if isinstance(step, int) else {step: value}
    assert isinstance(value, dict)
    return value


# Each format: placement name -> (envelope head, one event per piece, envelope tail).
Events = Callable[[dict[str, Any]], bytes]


def chat_placements() -> dict[str, Events]:
    def chunk(extra: dict[str, Any], where: str) -> bytes:
        choice: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": None}
        obj: dict[str, Any] = {**STRUCTURAL, "object": "chat.completion.chunk", "choices": [choice]}
        {"top": obj, "choice": choice, "delta": choice["delta"]}[where].update(extra)
        return _sse(obj)

    return {
        "top": lambda e: chunk(e, "top"),
        "choice": lambda e: chunk(e, "choice"),
        "delta": lambda e: chunk(e, "delta"),
        "unknown_event": lambda e: _sse({**STRUCTURAL, **e}),
    }


def chat_envelope(middle: list[bytes]) -> list[bytes]:
    base = {**STRUCTURAL, "object": "chat.completion.chunk"}
    start = _sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant"}}]})
    end = _sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return [start, *middle, end, b"data: [DONE]\n\n"]


def anthropic_placements() -> dict[str, Events]:
    def delta(extra: dict[str, Any], kind: str) -> bytes:
        obj = {"type": "content_block_delta", "index": 0, "delta": {"type": kind, **extra}}
        return _sse(obj, "content_block_delta")

    return {
        "text_delta": lambda e: delta({"text": "", **e}, "text_delta"),
        "unknown_delta": lambda e: delta(e, "future_delta"),
        "unknown_event": lambda e: _sse({"type": "future_event", **e}),
        "message_delta": lambda e: _sse({"type": "message_delta", "delta": e}, "message_delta"),
    }


def anthropic_envelope(middle: list[bytes]) -> list[bytes]:
    message = {"id": STRUCTURAL["id"], "type": "message", "role": "assistant", "content": []}
    return [
        _sse({"type": "message_start", "message": {**message, "model": STRUCTURAL["model"]}},
             "message_start"),
        _sse({"type": "content_block_start", "index": 0,
              "content_block": {"type": "text", "text": ""}}, "content_block_start"),
        *middle,
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse({"type": "message_stop"}, "message_stop"),
    ]  # fmt: skip


def responses_placements() -> dict[str, Events]:
    def text_delta(extra: dict[str, Any]) -> bytes:
        obj = {"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
               "item_id": "msg_x", "delta": "", **extra}  # fmt: skip
        return _sse(obj, "response.output_text.delta")

    return {
        "text_delta": text_delta,
        "unknown_event": lambda e: _sse({"type": "response.future.delta", **e}),
        "chat_chunk": chat_placements()["delta"],
    }


def responses_envelope(middle: list[bytes]) -> list[bytes]:
    response = {"id": "resp_x", "object": "response", "model": STRUCTURAL["model"], "output": []}
    return [
        _sse({"type": "response.created", "response": {**response, "status": "in_progress"}},
             "response.created"),
        *middle,
        _sse({"type": "response.completed", "response": {**response, "status": "completed"}},
             "response.completed"),
    ]  # fmt: skip


FORMATS: dict[str, tuple[Callable[[], QueuedTranslator], dict[str, Events], Any]] = {
    "chat": (lambda: OpenAIChatTranslator(real_guard()), chat_placements(), chat_envelope),
    "anthropic": (
        lambda: AnthropicTranslator(real_guard()),
        anthropic_placements(),
        anthropic_envelope,
    ),
    "responses": (
        lambda: ResponsesTranslator(real_guard()),
        responses_placements(),
        responses_envelope,
    ),
    "generic": (
        lambda: GenericTranslator(real_guard(), ("text",)),
        {"top": lambda e: _sse({"text": "", **e})},
        lambda middle: middle,
    ),
}


@st.composite
def planted_streams(draw: st.DrawFn) -> tuple[str, str, list[bytes]]:
    """(format, planted value, upstream bytes) with the value split over events."""
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    _, placements, envelope = FORMATS[fmt]
    place = placements[draw(st.sampled_from(sorted(placements)))]
    value = draw(st.sampled_from(PLANTED))
    path = draw(carrier_paths)
    cuts = sorted(draw(st.lists(st.integers(0, len(value)), max_size=5)))
    pieces = [value[a:b] for a, b in zip([0, *cuts], [*cuts, len(value)], strict=True)]
    middle = [place(nest(path, piece)) for piece in pieces]
    return fmt, value, envelope(middle)


def client_view(out: bytes) -> str:
    """Everything the client can read: raw bytes and every decoded JSON string."""
    texts = [out.decode(errors="replace")]
    for event in decode(out):
        try:
            texts.append(json.dumps(json.loads(event.data), ensure_ascii=False))
        except ValueError:
            texts.append(event.data)
    return "\n".join(texts)


@settings(max_examples=300, deadline=None)
@given(case=planted_streams(), size=st.integers(1, 64))
def test_no_planted_value_reaches_the_client_in_any_field(
    case: tuple[str, str, list[bytes]], size: int
) -> None:
    fmt, value, upstream = case
    out = b"".join(relay(FORMATS[fmt][0](), chunked(b"".join(upstream), size)))
    assert leaked(client_view(out), value) == set()
    for event in decode(out):
        obj = json.loads(event.data) if event.data.startswith("{") else {}
        for key, expected in STRUCTURAL.items():  # structural fields are unchanged
            if key in obj:
                assert obj[key] == expected
        if fmt == "chat" and "choices" in obj:
            assert [c["index"] for c in obj["choices"]] == [0]
    if value == KEY:  # a block policy: the stream ends with the block event
        assert b"output_blocked" in out


def test_a_planted_value_in_an_unknown_leaf_is_redacted_not_dropped() -> None:
    """Guarded, not deleted: the unknown field still arrives, with the placeholder."""
    upstream = chat_envelope(
        [chat_placements()["delta"]({"x_note": p}) for p in ("4111 11", "11 1111 1111")]
    )
    events = [
        json.loads(e.data) for e in decode(b"".join(relay(FORMATS["chat"][0](), upstream)))[:-1]
    ]
    notes = "".join(e["choices"][0]["delta"].get("x_note", "") for e in events)
    assert notes == "[CREDIT_CARD]"


# --- request bodies: what goes upstream --------------------------------------------

ADAPTERS: dict[str, WireAdapter] = {
    "chat": OpenAIChatAdapter(),
    "anthropic": AnthropicAdapter(),
    "responses": ResponsesAdapter(),
    "generic": GenericAdapter(),
}
REQUEST_BASES: dict[str, dict[str, Any]] = {
    "chat": {"model": "m", "messages": [{"role": "user", "content": "hi"}],
             "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
    "anthropic": {"model": "m", "max_tokens": 5, "system": [{"type": "text", "text": "s"}],
                  "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]},
    "responses": {"model": "m", "instructions": "i", "input": [{"role": "user", "content": "hi"}]},
    "generic": {"model": "m", "prompt": "hi"},
}  # fmt: skip


def _input_engine() -> GuardEngine:
    return GuardEngine(parse_config({}))


@settings(max_examples=200, deadline=None)
@given(
    fmt=st.sampled_from(sorted(ADAPTERS)),
    value=st.sampled_from(PLANTED),
    path=carrier_paths,
    where=st.sampled_from(["top", "first_message", "tool", "as_key"]),
)
def test_no_planted_value_goes_upstream_from_any_request_field(
    fmt: str, value: str, path: list[str | int], where: str
) -> None:
    from tidegate.bodies import guard_input

    body = json.loads(json.dumps(REQUEST_BASES[fmt]))
    planted = nest(path, value) if where != "as_key" else {value: 1}
    if where == "top" or where == "as_key":
        body.update(planted)
    elif where == "first_message":
        container = body.get("messages") or body.get("input")
        target = container[0] if isinstance(container, list) else body
        target.update(planted)
    else:
        tools = body.setdefault("tools", [{}])
        tools[0].update({"description": value} if path[0] == "x_a" else planted)
    raw = json.dumps(body).encode()
    adapter = ADAPTERS[fmt]
    try:
        sent = guard_input(_input_engine(), adapter, adapter.parse_request(raw), raw)
    except PolicyViolation:
        assert value == KEY  # secrets block the request: nothing goes upstream
        return
    assert value != KEY
    assert leaked(json.dumps(json.loads(sent), ensure_ascii=False), value) == set()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "m", "messages": [], "content": "AKIAZ3XQ7RTB2MNPLK4D", "content": "hi"}',
        b'{"model": "m", "messages": [{"role": "user", "content": "\\ud800"}]}',
        b'{"model": "m", "messages": [], "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"model": "m", "messages": [], "x": ' + b"[" * 150 + b"]" * 150 + b"}",
    ],
    ids=["duplicate-key", "lone-surrogate", "parser-depth", "walker-depth"],
)
def test_ambiguous_or_malformed_bodies_are_refused(raw: bytes) -> None:
    from tidegate.bodies import guard_input
    from tidegate.errors import BadRequestError

    adapter = ADAPTERS["chat"]
    with pytest.raises(BadRequestError):
        guard_input(_input_engine(), adapter, adapter.parse_request(raw), raw)


def test_the_release_queue_fails_closed_without_a_renderer() -> None:
    from tidegate.adapters.release import ReleaseQueue
    from tidegate.errors import TidegateError
    from tidegate.guard.hook import PassThroughGuard

    class Redacting(PassThroughGuard):
        def push(self, channel: str, text: str) -> list[str]:
            return [text.upper()]

    queue = ReleaseQueue(Redacting())
    event = queue.add(b"original bytes")  # no renderer
    queue.text(event, "c", "secret", lambda value: None)
    with pytest.raises(TidegateError):
        queue.drain()
