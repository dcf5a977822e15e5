"""The Anthropic Messages adapter: translator, termination shape, input and JSON bodies."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from anthropic.types import MessageParam, RawContentBlockDeltaEvent, TextDelta
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.recorded import (
    ANTHROPIC_OVERLOADED,
    ANTHROPIC_RECORDED,
    CARD,
    EMAIL,
    KEY,
    TEXT,
    RecordingInputGuard,
    anthropic_client,
    anthropic_stream,
    chunked,
    decode,
    leaked,
    one_shot,
    real_guard,
    relay,
    splits,
)
from tidegate.adapters.anthropic import AnthropicAdapter, AnthropicTranslator
from tidegate.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PolicyViolation,
    TidegateError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeoutError,
)
from tidegate.guard.hook import PassThroughGuard
from tidegate.sse import ServerSentEvent

TOOL_JSON = json.dumps({"to": EMAIL, "card": CARD, "note": "call me"})
MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]
ADAPTER = AnthropicAdapter()


def translate(pieces: list[bytes], guard: Any = None) -> list[ServerSentEvent]:
    out = relay(ADAPTER.new_stream(guard or real_guard()), pieces)
    return decode(b"".join(out))


def texts(events: list[ServerSentEvent], index: int, field: str) -> str:
    """The concatenated deltas of one block, as the client sees them."""
    out = []
    for event in events:
        data = json.loads(event.data)
        if event.event == "content_block_delta" and data["index"] == index:
            out.append(data["delta"].get(field, ""))
    return "".join(out)


# --- pass-through -----------------------------------------------------------


@pytest.mark.parametrize("recorded", [ANTHROPIC_RECORDED, ANTHROPIC_OVERLOADED])
@pytest.mark.parametrize("guard", [PassThroughGuard, real_guard])
def test_recorded_stream_passes_byte_for_byte(recorded: bytes, guard: Any) -> None:
    assert b"".join(relay(AnthropicTranslator(guard()), chunked(recorded, 7))) == recorded


def test_recorded_stream_reads_back_in_the_sdk() -> None:
    body = b"".join(relay(AnthropicTranslator(real_guard()), [ANTHROPIC_RECORDED]))
    client = anthropic_client(body)
    with client.messages.stream(model="m", max_tokens=64, messages=MESSAGES) as stream:
        message = stream.get_final_message()
    thinking, text, tool = message.content
    assert thinking.type == "thinking" and thinking.signature.startswith("EqQB")
    assert text.type == "text" and text.text.endswith("café ☕:")
    assert tool.type == "tool_use" and tool.input == {"location": "Paris, France"}


def test_unknown_event_names_are_refused_and_held_text_dropped() -> None:
    events = anthropic_stream(["Mail jane.doe@ac", "me.org now"])
    unknown = b'event: future_event\ndata: {"type":"future_event","x":"4111111111111111"}\n\n'
    events.insert(4, unknown)  # after the first (held) text delta
    out = b"".join(relay(AnthropicTranslator(real_guard()), events))
    assert b"future_event" not in out and b"4111" not in out and b"jane.doe" not in out
    last = decode(out)[-1]
    assert last.event == "error"
    assert json.loads(last.data)["error"]["code"] == "upstream_protocol_error"


def test_unknown_data_types_are_guarded_not_relayed_blind() -> None:
    events = anthropic_stream(["Fine."])
    unknown = b'data: {"type":"future_event","x":{"note":"card 4111 1111 1111 1111"}}\n\n'
    events.insert(4, unknown)
    out = b"".join(relay(AnthropicTranslator(real_guard()), events))
    assert b"4111" not in out
    assert b'"note":"card [CREDIT_CARD]"' in out


# --- redaction --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(text=splits(TEXT), thinking=splits(TEXT), tool=splits(TOOL_JSON), size=st.integers(1, 64))
def test_redaction_leaks_no_fragment_under_any_split(
    text: list[str], thinking: list[str], tool: list[str], size: int
) -> None:
    upstream = b"".join(anthropic_stream(text, thinking_pieces=thinking, tool_pieces=tool))
    out = b"".join(relay(AnthropicTranslator(real_guard()), chunked(upstream, size)))
    assert leaked(out.decode(), EMAIL, CARD) == set()
    events = decode(out)
    assert texts(events, 0, "thinking") == one_shot(TEXT)
    assert texts(events, 1, "text") == one_shot(TEXT)
    assert texts(events, 2, "partial_json") == one_shot(TOOL_JSON)
    assert [e.event for e in events].count("content_block_delta") == (
        len(text) + len(thinking) + len(tool) + 1  # + signature_delta
    )
    assert events[-1].event == "message_stop"


def test_initial_block_text_and_tool_input_are_guarded() -> None:
    events = [
        b"event: message_start\n"
        b'data: {"type":"message_start","message":{"id":"m","content":[]}}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":"Mail jane.doe@acme.org"}}\n\n',
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"tool_use","id":"t","name":"n",'
        b'"input":{"to":["jane.doe@acme.org"]}}}\n\n',
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":1}\n\n',
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]
    out = b"".join(relay(AnthropicTranslator(real_guard()), events))
    assert leaked(out.decode(), EMAIL) == set()
    starts = [json.loads(e.data) for e in decode(out) if e.event == "content_block_start"]
    assert starts[0]["content_block"]["text"] == "Mail [EMAIL_ADDRESS]"
    assert starts[1]["content_block"]["input"] == {"to": ["[EMAIL_ADDRESS]"]}


# --- blocking -----------------------------------------------------------------


def test_the_planted_key_is_a_secret() -> None:
    with pytest.raises(PolicyViolation):
        one_shot(f"key {KEY}")


@settings(max_examples=40, deadline=None)
@given(pieces=splits(f"Here is the key: {KEY} keep it safe."))
def test_block_closes_the_open_block_then_errors(pieces: list[str]) -> None:
    upstream = anthropic_stream(pieces, thinking_pieces=["Fine."])
    out = b"".join(relay(AnthropicTranslator(real_guard()), upstream))
    assert leaked(out.decode(), KEY) == set()
    events = decode(out)
    names = [e.event for e in events]
    assert names.count("message_start") == 1
    assert "message_stop" not in names and "message_delta" not in names
    assert names[-2:] == ["content_block_stop", "error"]
    assert json.loads(events[-2].data) == {"type": "content_block_stop", "index": 1}
    starts = [json.loads(e.data)["index"] for e in events if e.event == "content_block_start"]
    stops = [json.loads(e.data)["index"] for e in events if e.event == "content_block_stop"]
    assert starts == stops == [0, 1]
    error = json.loads(events[-1].data)
    assert error["type"] == "error"
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["code"] == "output_blocked"
    assert error["error"]["policy"] == "block-secrets"
    assert error["error"]["event_id"].startswith("evt_")


def test_a_block_start_still_held_is_not_closed() -> None:
    """Open-block state is what the client saw: a held start gets no stop."""
    upstream = [
        *anthropic_stream(["Fine."])[:4],
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"text","text":"key AKIA"}}\n\n',
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":1,'
        b'"delta":{"type":"text_delta","text":"Z3XQ7RTB2MNPLK4D"}}\n\n',
    ]
    events = decode(b"".join(relay(AnthropicTranslator(real_guard()), upstream)))
    names = [e.event for e in events]
    assert names == [
        "message_start", "content_block_start", "ping", "content_block_delta",
        "content_block_stop", "error",
    ]  # fmt: skip
    assert json.loads(events[-1].data)["error"]["code"] == "output_blocked"


@pytest.mark.parametrize("helper", [False, True])
def test_sdk_raises_the_block_with_policy_and_event_id(helper: bool) -> None:
    upstream = anthropic_stream(["Sure, the key is ", KEY[:6], KEY[6:], "."])
    out = b"".join(relay(AnthropicTranslator(real_guard()), upstream))
    error = json.loads(decode(out)[-1].data)["error"]
    client = anthropic_client(out)
    seen: list[str] = []
    with pytest.raises(anthropic.APIStatusError) as info:
        if helper:
            with client.messages.stream(model="m", max_tokens=9, messages=MESSAGES) as stream:
                seen.extend(stream.text_stream)
        else:
            for event in client.messages.create(
                model="m",
                max_tokens=9,
                messages=MESSAGES,
                stream=True,
            ):
                delta = event.delta if isinstance(event, RawContentBlockDeltaEvent) else None
                if isinstance(delta, TextDelta):
                    seen.append(delta.text)
    exc = info.value
    assert "Sure" in "".join(seen) and "AKIA" not in "".join(seen)
    assert exc.type == "invalid_request_error"
    assert "block-secrets" in str(exc) and error["event_id"] in str(exc)
    assert isinstance(exc.body, dict)
    assert exc.body["error"]["policy"] == "block-secrets"
    assert exc.body["error"]["event_id"] == error["event_id"]
    assert exc.api_message is not None and error["event_id"] in exc.api_message


def test_upstream_error_event_is_relayed_and_raised_by_the_sdk() -> None:
    out = b"".join(relay(AnthropicTranslator(real_guard()), [ANTHROPIC_OVERLOADED]))
    assert out == ANTHROPIC_OVERLOADED  # no second error appended at the end
    with pytest.raises(anthropic.APIStatusError) as info:
        list(anthropic_client(out).messages.create(
            model="m", max_tokens=9, messages=MESSAGES, stream=True
        ))  # fmt: skip
    assert info.value.type == "overloaded_error"


def test_stream_ending_early_closes_the_block_and_errors() -> None:
    upstream = anthropic_stream(["Hello", " there"])[:5]  # cut inside the text block
    out = b"".join(relay(AnthropicTranslator(real_guard()), upstream))
    events = decode(out)
    assert [e.event for e in events][-2:] == ["content_block_stop", "error"]
    error = json.loads(events[-1].data)["error"]
    assert error["type"] == "api_error" and error["code"] == "upstream_protocol_error"
    with pytest.raises(anthropic.APIStatusError, match="ended early"):
        list(anthropic_client(out).messages.create(
            model="m", max_tokens=9, messages=MESSAGES, stream=True
        ))  # fmt: skip


def test_unparseable_event_fails_closed() -> None:
    upstream = [*anthropic_stream(["Hi"])[:4], b"event: content_block_delta\ndata: {oops\n\n"]
    events = decode(b"".join(relay(AnthropicTranslator(real_guard()), upstream)))
    assert events[-1].event == "error"
    assert json.loads(events[-1].data)["error"]["code"] == "upstream_protocol_error"
    assert all("oops" not in e.data for e in events)


# --- error bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (BadRequestError("bad"), "invalid_request_error"),
        (NotFoundError("no"), "not_found_error"),
        (PayloadTooLargeError("big"), "request_too_large"),
        (UpstreamTimeoutError("slow"), "timeout_error"),
        (UpstreamProtocolError("broken"), "api_error"),
        (UpstreamError("down"), "api_error"),
        (TidegateError("internal"), "api_error"),
        (PolicyViolation("block-secrets", "evt_1", "input"), "invalid_request_error"),
    ],
)
def test_error_body(exc: TidegateError, kind: str) -> None:
    body = ADAPTER.error_body(exc)
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["error"]["message"] == exc.message
    assert body["error"]["code"] == exc.code


def test_error_body_status_mapping_and_sdk_class() -> None:
    overloaded = UpstreamError("upstream answered HTTP 529")
    overloaded.status = 529
    assert ADAPTER.error_body(overloaded)["error"]["type"] == "overloaded_error"
    violation = PolicyViolation("block-secrets", "evt_42", "input")
    body = json.dumps(ADAPTER.error_body(violation)).encode()
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client(body, status=violation.status).messages.create(
            model="m",
            max_tokens=9,
            messages=MESSAGES,
        )
    assert "evt_42" in str(info.value)
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["policy"] == "block-secrets"


# --- requests ---------------------------------------------------------------------


def test_parse_request() -> None:
    parsed = ADAPTER.parse_request(b'{"model": "claude", "messages": [], "stream": true}')
    assert parsed.stream and parsed.model == "claude"
    assert not ADAPTER.parse_request(b'{"messages": []}').stream
    for raw in (b"{nope", b"[]", b'{"model": "claude"}', b'{"messages": "hi"}'):
        with pytest.raises(BadRequestError):
            ADAPTER.parse_request(raw)


def test_map_input_texts_guards_every_documented_location() -> None:
    body: dict[str, Any] = {
        "system": [{"type": "text", "text": "sys"}],
        "messages": [
            {"role": "user", "content": "plain"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "signed", "signature": "sig"},
                {"type": "text", "text": "block"},
                {"type": "tool_use", "id": "t", "name": "n",
                 "input": {"city": "Paris", "stops": ["a", {"b": "deep"}], "n": 3}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": "result"},
                {"type": "tool_result", "tool_use_id": "t",
                 "content": [{"type": "text", "text": "part"}, {"type": "image"}]},
                {"type": "document", "source": {"type": "text", "data": "doc"}},
            ]},
        ],
    }  # fmt: skip
    guard = RecordingInputGuard()
    assert ADAPTER.map_input_texts(body, guard)
    seen = dict(guard.seen)
    assert {
        "system.0.text": "sys",
        "messages.0.content": "plain",
        "messages.1.content.0.thinking": "signed",
        "messages.1.content.1.text": "block",
        "messages.2.content.0.content": "result",
        "messages.2.content.1.content.0.text": "part",
        "messages.2.content.2.source.data": "doc",
    }.items() <= seen.items()
    # deny by default: tool input keys and values, ids and signatures are scanned too
    texts = [text for _, text in guard.seen]
    for text in ("Paris", "a", "deep", "city", "stops", "b", "t", "n", "sig"):
        assert text in texts
    assert body["system"][0]["text"] == "SYS"
    assert body["messages"][0]["content"] == "PLAIN"
    assert body["messages"][1]["content"][0]["thinking"] == "SIGNED"
    assert body["messages"][1]["content"][2]["input"] == {
        "CITY": "PARIS", "STOPS": ["A", {"B": "DEEP"}], "N": 3,
    }  # fmt: skip
    assert body["messages"][2]["content"][1]["content"][0]["text"] == "PART"
    # structural values are left alone
    assert body["messages"][1]["role"] == "assistant"
    assert body["messages"][1]["content"][2]["type"] == "tool_use"

    string_system: dict[str, Any] = {"system": "be nice", "messages": []}
    ADAPTER.map_input_texts(string_system, guard)
    assert string_system["system"] == "BE NICE" and guard.seen[-1] == ("system", "be nice")
    assert not ADAPTER.map_input_texts({"model": "m", "messages": []}, lambda t, c: t)


# --- non-streamed responses ---------------------------------------------------------


def test_guard_response_redacts_text_thinking_and_tool_input() -> None:
    body: dict[str, Any] = {
        "id": "msg_1", "type": "message", "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": f"mail {EMAIL}", "signature": "sig"},
            {"type": "text", "text": TEXT},
            {"type": "tool_use", "id": "t", "name": "n", "input": {"to": [EMAIL], "n": 1}},
        ],
    }  # fmt: skip
    assert ADAPTER.guard_response(body, real_guard())
    out = body
    assert leaked(json.dumps(out), EMAIL, CARD) == set()
    assert out["content"][1]["text"] == one_shot(TEXT)
    assert out["content"][2]["input"] == {"to": ["[EMAIL_ADDRESS]"], "n": 1}
    assert out["content"][0]["signature"] == "sig"
    with pytest.raises(PolicyViolation):
        ADAPTER.guard_response({"content": [{"type": "text", "text": KEY}]}, real_guard())


def test_the_envelope_shares_no_fragment_with_the_planted_values() -> None:
    """Keeps the leak checks meaningful: only leaked text could match."""
    upstream = anthropic_stream(["x"], thinking_pieces=["y"], tool_pieces=["z"])
    envelope = b"".join(relay(AnthropicTranslator(real_guard()), upstream))
    envelope += b"".join(relay(AnthropicTranslator(real_guard()), anthropic_stream([KEY])))
    assert leaked(envelope.decode(), EMAIL, CARD, KEY) == set()
