"""The generic single-text-field adapter."""

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
    GENERIC_RECORDED,
    KEY,
    TEXT,
    RecordingInputGuard,
    chunked,
    decode,
    generic_stream,
    leaked,
    one_shot,
    openai_client,
    real_guard,
    relay,
    splits,
)
from tidegate.adapters.generic import GenericAdapter, GenericTranslator
from tidegate.errors import BadRequestError, PolicyViolation
from tidegate.guard.hook import PassThroughGuard

ADAPTER = GenericAdapter()


def translate(upstream: list[bytes], adapter: GenericAdapter = ADAPTER) -> bytes:
    return b"".join(relay(adapter.new_stream(real_guard()), upstream))


@pytest.mark.parametrize("guard", [PassThroughGuard, real_guard])
def test_recorded_stream_passes_byte_for_byte(guard: Any) -> None:
    out = relay(GenericTranslator(guard(), ("text",)), chunked(GENERIC_RECORDED, 3))
    assert b"".join(out) == GENERIC_RECORDED


def test_events_without_text_pass_in_order() -> None:
    upstream = [
        *generic_stream(["Mail jane.doe@ac"]),
        b'data: {"meta": {"tokens": 5}}\n\n',
        *generic_stream(["me.org now"]),
        b"data: [DONE]\n\n",
    ]
    events = decode(translate(upstream))
    assert [e.data for e in events][1:] == ['{"meta": {"tokens": 5}}', '{"text":" now"}', "[DONE]"]
    assert json.loads(events[0].data) == {"text": "Mail [EMAIL_ADDRESS]"}


@settings(max_examples=60, deadline=None)
@given(pieces=splits(TEXT), size=st.integers(1, 32))
def test_redaction_leaks_no_fragment_under_any_split(pieces: list[str], size: int) -> None:
    upstream = b"".join(generic_stream(pieces))
    out = translate(chunked(upstream, size))
    assert leaked(out.decode(), EMAIL, CARD) == set()
    events = decode(out)
    assert len(events) == len(pieces)  # no terminator added: the upstream close ends it
    assert "".join(json.loads(e.data)["text"] for e in events) == one_shot(TEXT)


def test_a_configured_text_path() -> None:
    adapter = GenericAdapter(text_path=("output", 0, "content"))
    upstream = [
        f"data: {json.dumps({'output': [{'content': p}], 'id': 7})}\n\n".encode()
        for p in ("Write jane.doe", "@acme.org", " now")
    ]
    events = decode(translate(upstream, adapter))
    assert "".join(json.loads(e.data)["output"][0]["content"] for e in events) == (
        "Write [EMAIL_ADDRESS] now"
    )
    body: dict[str, Any] = {"output": [{"content": f"mail {EMAIL}"}], "id": 7}
    assert adapter.guard_response(body, real_guard())
    assert body == {"output": [{"content": "mail [EMAIL_ADDRESS]"}], "id": 7}
    assert not adapter.guard_response({"output": []}, real_guard())
    with pytest.raises(ValueError):
        GenericAdapter(text_path=())


@settings(max_examples=30, deadline=None)
@given(pieces=splits(f"The key is {KEY}, done."))
def test_block_ends_with_an_openai_shaped_error(pieces: list[str]) -> None:
    out = translate(generic_stream(pieces))
    assert leaked(out.decode(), KEY) == set()
    events = decode(out)
    error = json.loads(events[-1].data)["error"]
    assert events[-1].event is None
    assert error["code"] == "output_blocked" and error["policy"] == "block-secrets"
    assert error["event_id"] in error["message"]


def test_the_error_event_raises_in_the_openai_sdk() -> None:
    """The generic error event is the one openai's ``Stream`` raises as ``APIError``."""
    out = translate(generic_stream(["The key is ", KEY]))
    with pytest.raises(openai.APIError, match="block-secrets") as info:
        list(openai_client(out).chat.completions.create(model="m", messages=[], stream=True))
    assert info.value.code == "output_blocked"


def test_unparseable_event_fails_closed_and_upstream_errors_pass() -> None:
    events = decode(translate([*generic_stream(["Hi. "]), b"data: not json secret\n\n"]))
    assert [json.loads(e.data).get("error", {}).get("code") for e in events] == [
        None,
        "upstream_protocol_error",
    ]
    held = decode(translate([*generic_stream(["Hi"]), b"data: not json secret\n\n"]))
    assert [json.loads(e.data)["error"]["code"] for e in held] == ["upstream_protocol_error"]
    upstream_error = b'data: {"error": {"message": "model crashed"}}\n\n'
    assert translate([upstream_error]) == upstream_error
    echoed = b'data: {"error": {"message": "bad prompt: jane.doe@example.com"}}\n\n'
    assert b"jane.doe" not in translate([echoed])


def test_stream_end_is_the_upstream_close() -> None:
    translator = GenericTranslator(real_guard(), ("text",))
    held = [e for piece in generic_stream(["mail jane.doe"]) for e in decode(piece)]
    assert translator.on_event(held[0]) == []  # could still become an email: held
    assert decode(b"".join(translator.on_end())) == decode(generic_stream(["mail jane.doe"])[0])


def test_parse_request_and_error_body() -> None:
    parsed = ADAPTER.parse_request(b'{"prompt": "hi", "stream": true, "model": "x"}')
    assert parsed.stream and parsed.model == "x"
    with pytest.raises(BadRequestError):
        ADAPTER.parse_request(b"[1]")
    body = ADAPTER.error_body(PolicyViolation("p", "evt_1", "input"))
    assert body["error"]["code"] == "input_blocked" and body["error"]["event_id"] == "evt_1"


def test_map_input_texts() -> None:
    body: dict[str, Any] = {
        "prompt": "complete this",
        "input": ["one", 2, "three"],
        "messages": [{"role": "user", "content": "hi"}],
    }
    guard = RecordingInputGuard()
    assert ADAPTER.map_input_texts(body, guard)
    assert guard.seen == [
        ("prompt", "complete this"),
        ("input.0", "one"),
        ("=input.1", "2"),  # an unknown number is checked as text too
        ("input.2", "three"),
        ("messages.0.content", "hi"),
    ]
    assert body == {
        "prompt": "COMPLETE THIS",
        "input": ["ONE", 2, "THREE"],
        "messages": [{"role": "user", "content": "HI"}],
    }


def test_guard_response() -> None:
    out: dict[str, Any] = {"text": TEXT, "done": True}
    assert ADAPTER.guard_response(out, real_guard())
    assert out == {"text": one_shot(TEXT), "done": True}
    with pytest.raises(PolicyViolation):
        ADAPTER.guard_response({"text": KEY}, real_guard())
