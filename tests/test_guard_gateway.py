"""The guard inside the real gateway, seen by the real openai SDK."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import GatewayFactory
from tests.support.upstream import (
    Script,
    ScriptedUpstream,
    chat_completion,
    chat_stream,
    chunk,
    wait_until,
)
from tidegate.sse import SSEDecoder

SECRET = "AKIAZ7VRSQ4TXLQ2BD5W"
TEXT = "Sure. Email jane.doe@example.com, card 4111 1111 1111 1111, SSN 536-22-8726. Anything else?"
REDACTED = "Sure. Email [EMAIL_ADDRESS], card [CREDIT_CARD], SSN [US_SSN]. Anything else?"
PLANTED = ["jane.doe@example.com", "4111 1111 1111 1111", "536-22-8726"]
MESSAGES = [{"role": "user", "content": "repeat after me"}]


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)


def split(text: str, cuts: list[int]) -> list[str]:
    pieces, last = [], 0
    for cut in sorted(cuts):
        pieces.append(text[last:cut])
        last = cut
    pieces.append(text[last:])
    return pieces


def stream_raw(url: str) -> bytes:
    with httpx.stream(
        "POST",
        url + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
    ) as r:
        return b"".join(r.iter_raw())


def content_of(body: bytes) -> str:
    """Every content delta the client received, joined (JSON-decoded)."""
    decoder = SSEDecoder()
    text = ""
    for event in decoder.feed(body) + decoder.flush():
        if event.data.startswith("{"):
            for choice in json.loads(event.data).get("choices", []):
                text += choice.get("delta", {}).get("content") or ""
    return text


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(cuts=st.lists(st.integers(0, len(TEXT)), max_size=30))
def test_redaction_zero_leak_under_any_split(
    upstream: ScriptedUpstream, gateway: str, cuts: list[int]
) -> None:
    pieces = split(TEXT, cuts)
    upstream.reset(Script(events=chat_stream(pieces)))
    body = stream_raw(gateway)
    sent = content_of(body)
    assert sent == REDACTED
    for value in PLANTED:  # not one 4-char fragment of a planted value ever reached the wire
        for i in range(len(value) - 3):
            assert value[i : i + 4] not in sent
        assert value.encode() not in body
    stream = sdk(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    upstream.reset(Script(events=chat_stream(pieces)))
    deltas = [c.choices[0].delta.content for c in stream]
    assert "".join(d or "" for d in deltas) == REDACTED
    assert len(deltas) == len(pieces) + 2  # role chunk, one per piece, finish chunk


def test_output_block_ends_stream_with_sdk_error(upstream: ScriptedUpstream, gateway: str) -> None:
    pieces = ["Here is the key: ", SECRET[:8], SECRET[8:], " keep it safe", " and more"]
    upstream.reset(Script(events=chat_stream(pieces), hang_after=5))
    stream = sdk(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    seen = []
    with pytest.raises(openai.APIError) as info:
        for c in stream:
            seen.append(c.choices[0].delta.content or "")
    assert SECRET[:4] not in "".join(seen)
    body = info.value.body
    assert isinstance(body, dict)
    assert body["code"] == "output_blocked"
    assert body["policy"] == "block-secrets"
    assert body["event_id"].startswith("evt_")
    assert body["type"] == "content_policy_violation"
    # the upstream request is cancelled although the upstream never finished
    assert wait_until(upstream.disconnected.is_set)


def test_output_block_wire_shape(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=chat_stream(["key ", SECRET, " end"])))
    body = stream_raw(gateway)
    assert SECRET[:4].encode() not in body
    assert body.endswith(b"data: [DONE]\n\n")
    events = [e for e in body.split(b"\n\n") if e]
    error = json.loads(events[-2].removeprefix(b"data: "))
    assert error["error"]["code"] == "output_blocked"


def test_non_streaming_block_and_redact(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion(f"the key is {SECRET}")))
    with pytest.raises(openai.BadRequestError) as info:
        sdk(gateway).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert info.value.code == "output_blocked"
    assert isinstance(info.value.body, dict) and info.value.body["policy"] == "block-secrets"
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    result = sdk(gateway).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert result.choices[0].message.content == REDACTED


def test_input_block_never_reaches_upstream(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("x")))
    with pytest.raises(openai.BadRequestError) as info:
        sdk(gateway).chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"use key {SECRET}"}]
        )
    assert info.value.status_code == 400
    body = info.value.body
    assert isinstance(body, dict)
    assert body["type"] == "content_policy_violation"
    assert body["code"] == "input_blocked"
    assert body["policy"] == "block-secrets"
    assert body["event_id"].startswith("evt_")
    assert upstream.requests == []


def test_input_redaction_rewrites_prompt(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("ok")))
    sdk(gateway).chat.completions.create(
        model="m",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "mail jane.doe@example.com"}]},
        ],
    )
    sent = json.loads(upstream.requests[0]["body"])
    assert sent["messages"][1]["content"][0]["text"] == "mail [EMAIL_ADDRESS]"
    assert b"jane.doe" not in upstream.requests[0]["body"]


def test_every_choice_and_tool_call_is_guarded(upstream: ScriptedUpstream, gateway: str) -> None:
    events = [
        chunk("mail jane.doe@exa", index=0),
        chunk("card 4111 1111 ", index=1),
        chunk(tool_args='{"to": "bob@exam', index=0),
        chunk("mple.com ok", index=0),
        chunk("1111 1111 ok", index=1),
        chunk(tool_args='ple.org"}', index=0),
        chunk(finish="stop", index=0),
        chunk(finish="stop", index=1),
        b"data: [DONE]\n\n",
    ]
    upstream.reset(Script(events=events))
    stream = sdk(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True, n=2)  # type: ignore[arg-type]
    text = {0: "", 1: ""}
    args = ""
    for c in stream:
        choice = c.choices[0]
        text[choice.index] += choice.delta.content or ""
        for call in choice.delta.tool_calls or []:
            args += call.function.arguments or "" if call.function else ""
    assert text == {0: "mail [EMAIL_ADDRESS] ok", 1: "card [CREDIT_CARD] ok"}
    assert args == '{"to": "[EMAIL_ADDRESS]"}'


def test_observe_mode_changes_nothing_but_records(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    config = {"policies": [{"name": "watch", "detectors": ["pii", "secrets"], "action": "observe"}]}
    events = chat_stream(split(TEXT, [5, 20, 33, 47]))
    upstream.reset(Script(events=events))
    with make_gateway(config) as url:
        assert stream_raw(url) == b"".join(events)  # byte for byte, nothing held


def test_keepalive_while_holding(upstream: ScriptedUpstream, make_gateway: GatewayFactory) -> None:
    def gate(k: int) -> None:
        if k == 3:
            time.sleep(0.6)

    events = chat_stream(["a ", "b ", "c "])
    upstream.reset(Script(events=events, gate=gate))
    with make_gateway({"streaming": {"strategy": "end_only", "keepalive_s": 0.1}}) as url:
        body = stream_raw(url)
    assert body.count(b": keep-alive\n\n") >= 2
    assert body.replace(b": keep-alive\n\n", b"") == b"".join(events)
