"""The OpenAI Responses adapter: deltas, repeated whole texts, termination, input."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.recorded import (
    CARD,
    EMAIL,
    KEY,
    RESPONSES_RECORDED,
    TEXT,
    RecordingInputGuard,
    chunked,
    decode,
    leaked,
    one_shot,
    openai_client,
    real_guard,
    relay,
    responses_stream,
    splits,
)
from tidegate.adapters.openai_chat import openai_error_body
from tidegate.adapters.openai_responses import ResponsesAdapter, ResponsesTranslator
from tidegate.errors import BadRequestError, PolicyViolation, UpstreamTimeoutError
from tidegate.guard.hook import PassThroughGuard
from tidegate.sse import ServerSentEvent

ARGS = json.dumps({"to": EMAIL, "card": CARD})
ADAPTER = ResponsesAdapter()


def translate(upstream: list[bytes] | bytes) -> bytes:
    pieces = [upstream] if isinstance(upstream, bytes) else upstream
    return b"".join(relay(ResponsesTranslator(real_guard()), pieces))


def data_of(events: list[ServerSentEvent], kind: str) -> list[dict[str, Any]]:
    return [json.loads(e.data) for e in events if e.event == kind]


def whole_texts(events: list[ServerSentEvent]) -> dict[str, list[str]]:
    """Every whole-text repeat of the message text and the call arguments."""
    done = data_of(events, "response.output_item.done")
    completed = data_of(events, "response.completed")[0]["response"]["output"]
    return {
        "text": [
            data_of(events, "response.output_text.done")[0]["text"],
            data_of(events, "response.content_part.done")[0]["part"]["text"],
            done[0]["item"]["content"][0]["text"],
            completed[0]["content"][0]["text"],
        ],
        "args": [
            data_of(events, "response.function_call_arguments.done")[0]["arguments"],
            done[1]["item"]["arguments"],
            completed[1]["arguments"],
        ],
    }


# --- pass-through -----------------------------------------------------------


@pytest.mark.parametrize("guard", [PassThroughGuard, real_guard])
def test_recorded_stream_passes_byte_for_byte(guard: Any) -> None:
    out = relay(ResponsesTranslator(guard()), chunked(RESPONSES_RECORDED, 5))
    assert b"".join(out) == RESPONSES_RECORDED


def test_recorded_stream_reads_back_in_the_sdk() -> None:
    client = openai_client(translate(RESPONSES_RECORDED))
    with client.responses.stream(model="m", input="hi") as stream:
        response = stream.get_final_response()
    assert response.output_text == "I'll email the summary now."
    assert response.output[1].type == "function_call"
    assert json.loads(response.output[1].arguments) == {
        "to": "team",
        "subject": "Weekly report",
    }


# --- redaction --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(text=splits(TEXT), args=splits(ARGS), size=st.integers(1, 64))
def test_redaction_leaks_no_fragment_under_any_split(
    text: list[str], args: list[str], size: int
) -> None:
    upstream = b"".join(responses_stream(text, args))
    out = b"".join(relay(ResponsesTranslator(real_guard()), chunked(upstream, size)))
    assert leaked(out.decode(), EMAIL, CARD) == set()
    events = decode(out)
    deltas = data_of(events, "response.output_text.delta")
    arg_deltas = data_of(events, "response.function_call_arguments.delta")
    assert (len(deltas), len(arg_deltas)) == (len(text), len(args))
    assert "".join(d["delta"] for d in deltas) == one_shot(TEXT)
    assert "".join(d["delta"] for d in arg_deltas) == one_shot(ARGS)
    wholes = whole_texts(events)
    assert wholes["text"] == [one_shot(TEXT)] * 4
    assert wholes["args"] == [one_shot(ARGS)] * 3
    assert [d["sequence_number"] for d in map(json.loads, (e.data for e in events))] == list(
        range(len(events))
    )


def test_sdk_sees_the_redacted_text_everywhere() -> None:
    pieces = ["Write to jane.d", "oe@ac", "me.org", " please."]
    client = openai_client(translate(responses_stream(pieces)))
    with client.responses.stream(model="m", input="hi") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        response = stream.get_final_response()
    assert "".join(deltas) == response.output_text == "Write to [EMAIL_ADDRESS] please."


def test_whole_text_that_differs_from_its_deltas_is_guarded_itself() -> None:
    upstream = responses_stream(["harmless"])
    upstream = [
        e.replace(b'"text":"harmless"', f'"text":"mail {EMAIL}"'.encode()) for e in upstream
    ]
    out = translate(upstream)
    assert leaked(out.decode(), EMAIL) == set()
    assert data_of(decode(out), "response.output_text.done")[0]["text"] == "mail [EMAIL_ADDRESS]"


def test_logprobs_of_a_changed_delta_are_dropped() -> None:
    event = {
        "type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_test",
        "output_index": 0, "content_index": 0, "delta": f"mail {EMAIL}",
        "logprobs": [{"token": "jane", "logprob": -0.1, "top_logprobs": []}],
    }  # fmt: skip
    upstream = responses_stream(["x"])
    upstream[4] = f"event: response.output_text.delta\ndata: {json.dumps(event)}\n\n".encode()
    out = translate(upstream).decode()
    assert "jane" not in out and leaked(out, EMAIL) == set()


def test_reasoning_summary_is_guarded_in_deltas_and_done() -> None:
    def ev(kind: str, **fields: Any) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}\n\n".encode()

    summary = f"User {EMAIL} asked."
    part = {"type": "summary_text", "text": summary}
    upstream = [
        ev("response.output_item.added", output_index=0,
           item={"id": "rs_1", "type": "reasoning", "summary": []}),
        ev("response.reasoning_summary_part.added", item_id="rs_1", output_index=0,
           summary_index=0, part={"type": "summary_text", "text": ""}),
        ev("response.reasoning_summary_text.delta", item_id="rs_1", output_index=0,
           summary_index=0, delta=summary[:12]),
        ev("response.reasoning_summary_text.delta", item_id="rs_1", output_index=0,
           summary_index=0, delta=summary[12:]),
        ev("response.reasoning_summary_text.done", item_id="rs_1", output_index=0,
           summary_index=0, text=summary),
        ev("response.reasoning_summary_part.done", item_id="rs_1", output_index=0,
           summary_index=0, part=part),
        ev("response.output_item.done", output_index=0,
           item={"id": "rs_1", "type": "reasoning", "summary": [part]}),
        ev("response.completed", response={"id": "r", "output": [
            {"id": "rs_1", "type": "reasoning", "summary": [part]}]}),
    ]  # fmt: skip
    out = translate(upstream).decode()
    assert leaked(out, EMAIL) == set()
    assert out.count("User [EMAIL_ADDRESS] asked.") == 4


# --- blocking -----------------------------------------------------------------


def test_the_planted_key_is_a_secret() -> None:
    with pytest.raises(PolicyViolation):
        one_shot(f"key {KEY}")


@settings(max_examples=40, deadline=None)
@given(pieces=splits(f"Here is the key: {KEY} keep it safe."))
def test_block_ends_with_one_error_event(pieces: list[str]) -> None:
    out = translate(responses_stream(pieces, ['{"a":1}']))
    assert leaked(out.decode(), KEY) == set()
    events = decode(out)
    kinds = [e.event for e in events]
    assert kinds.count("error") == 1 and kinds[-1] == "error"
    assert "response.completed" not in kinds and "response.output_text.done" not in kinds
    error = json.loads(events[-1].data)
    assert error["type"] == "error" and error["code"] == "output_blocked"
    assert error["param"] is None
    assert error["sequence_number"] > json.loads(events[-2].data)["sequence_number"]
    assert error["error"]["policy"] == "block-secrets"
    assert error["error"]["type"] == "content_policy_violation"
    assert error["error"]["event_id"] in error["message"]


@pytest.mark.parametrize("helper", [False, True])
def test_sdk_raises_the_block_with_policy_and_event_id(helper: bool) -> None:
    out = translate(responses_stream(["Sure: the key is ", KEY[:7], KEY[7:], "."]))
    event_id = json.loads(decode(out)[-1].data)["error"]["event_id"]
    client = openai_client(out)
    seen: list[str] = []
    with pytest.raises(openai.APIError) as info:
        if helper:
            with client.responses.stream(model="m", input="hi") as stream:
                seen.extend(e.delta for e in stream if e.type == "response.output_text.delta")
        else:
            for event in client.responses.create(model="m", input="hi", stream=True):
                if event.type == "response.output_text.delta":
                    seen.append(event.delta)
    exc = info.value
    assert "".join(seen) == "Sure: the key is "
    assert "block-secrets" in str(exc) and event_id in str(exc)
    assert exc.code == "output_blocked"
    assert exc.type == "content_policy_violation"
    expected = openai_error_body(PolicyViolation("block-secrets", event_id, "output"))
    assert exc.body == expected["error"]


def test_stream_ending_early_is_an_error_the_sdk_raises() -> None:
    out = translate(responses_stream(["Hello", " there"], complete=False))
    events = decode(out)
    assert events[-2].event == "response.output_item.done" and events[-1].event == "error"
    with pytest.raises(openai.APIError, match="ended early") as info:
        list(openai_client(out).responses.create(model="m", input="hi", stream=True))
    assert info.value.code == "upstream_protocol_error"


def test_upstream_error_event_is_relayed_as_is() -> None:
    error = (
        b'event: error\ndata: {"type":"error","code":"server_error",'
        b'"message":"The server had an error","param":null,"sequence_number":5}\n\n'
    )
    upstream = [*responses_stream(["Hi"], complete=False)[:5], error]
    out = translate(upstream)
    assert out == b"".join(upstream)


def test_error_events_for_other_errors() -> None:
    translator = ResponsesTranslator(real_guard())
    (event,) = decode(b"".join(translator.error_events(UpstreamTimeoutError("slow"))))
    data = json.loads(event.data)
    assert event.event == "error" and data["sequence_number"] == 0
    assert data["code"] == data["error"]["code"] == "upstream_timeout"


# --- requests -----------------------------------------------------------------------


def test_parse_request() -> None:
    parsed = ADAPTER.parse_request(b'{"model": "gpt", "input": "hi", "stream": true}')
    assert parsed.stream and parsed.model == "gpt"
    assert not ADAPTER.parse_request(b'{"input": []}').stream
    for raw in (b"{nope", b"[]", b'{"input": 3}', b'{"input": "x", "instructions": 1}'):
        with pytest.raises(BadRequestError):
            ADAPTER.parse_request(raw)


def test_error_body_is_openai_shaped() -> None:
    exc = PolicyViolation("block-secrets", "evt_1", "input")
    assert ADAPTER.error_body(exc) == openai_error_body(exc)
    assert ADAPTER.error_body(exc)["error"]["code"] == "input_blocked"


def test_map_input_texts_guards_every_documented_location() -> None:
    body: dict[str, Any] = {
        "instructions": "be brief",
        "input": [
            {"role": "user", "content": "plain"},
            {"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "asked"}, {"type": "input_image", "image_url": "u"},
            ]},
            {"type": "message", "role": "assistant", "content": [
                {"type": "output_text", "text": "answered", "annotations": []},
            ]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": '{"q":"x"}'},
            {"type": "function_call_output", "call_id": "c", "output": "result"},
            {"type": "reasoning", "id": "rs", "summary": []},
        ],
    }  # fmt: skip
    guard = RecordingInputGuard()
    assert ADAPTER.map_input_texts(body, guard)
    assert {
        "instructions": "be brief",
        "input.0.content": "plain",
        "input.1.content.0.text": "asked",
        "input.1.content.1.image_url": "u",
        "input.2.content.0.text": "answered",
        "input.3.arguments": '{"q":"x"}',
        "input.4.output": "result",
    }.items() <= dict(guard.seen).items()
    assert ("=input.3.name", "f") in guard.seen  # structural atoms are checked too
    assert body["input"][0]["role"] == "user" and body["input"][5]["type"] == "reasoning"
    assert body["instructions"] == "BE BRIEF"
    assert body["input"][1]["content"][0]["text"] == "ASKED"
    assert body["input"][4]["output"] == "RESULT"

    string_input: dict[str, Any] = {"input": "hello"}
    ADAPTER.map_input_texts(string_input, guard)
    assert string_input["input"] == "HELLO" and guard.seen[-1] == ("input", "hello")


def test_guard_response_redacts_texts_and_arguments() -> None:
    body: dict[str, Any] = {
        "id": "resp_1", "object": "response", "status": "completed",
        "output": [
            {"type": "message", "id": "m", "role": "assistant",
             "content": [{"type": "output_text", "text": TEXT, "annotations": []}]},
            {"type": "function_call", "id": "f", "call_id": "c", "name": "n", "arguments": ARGS},
        ],
    }  # fmt: skip
    assert ADAPTER.guard_response(body, real_guard())
    out = body
    assert leaked(json.dumps(out), EMAIL, CARD) == set()
    assert out["output"][0]["content"][0]["text"] == one_shot(TEXT)
    assert out["output"][1]["arguments"] == one_shot(ARGS)
    with pytest.raises(PolicyViolation):
        ADAPTER.guard_response(
            {"output": [{"type": "function_call", "arguments": KEY}]}, real_guard()
        )


def test_the_envelope_shares_no_fragment_with_the_planted_values() -> None:
    """Keeps the leak checks meaningful: only leaked text could match."""
    envelope = translate(responses_stream(["x"], ["y"])) + translate(responses_stream([KEY]))
    assert leaked(envelope.decode(), EMAIL, CARD) == set()
    assert leaked(envelope.decode().replace(KEY, ""), KEY) == set()
