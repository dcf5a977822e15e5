"""Anthropic Messages, OpenAI Responses and generic upstreams through the real gateway.

Real SDK clients talk to a real gateway, in front of a scripted upstream that
replays streams in each provider's documented wire shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.conftest import GatewayFactory
from tests.support.recorded import (
    ANTHROPIC_RECORDED,
    CARD,
    EMAIL,
    KEY,
    RESPONSES_RECORDED,
    anthropic_stream,
    generic_stream,
    leaked,
    responses_stream,
)
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream


def split_events(data: bytes) -> list[bytes]:
    return [e + b"\n\n" for e in data.split(b"\n\n") if e]


@pytest.fixture
def multi(make_gateway: GatewayFactory, upstream_url: str) -> Iterator[str]:
    config = {
        "upstreams": [
            {"name": "oai", "base_url": upstream_url},
            {"name": "claude", "base_url": upstream_url, "format": "anthropic"},
            {
                "name": "gen",
                "base_url": upstream_url.removesuffix("/v1"),
                "format": "generic",
                "text_path": ["out", "text"],
            },
        ],
        "routes": [
            {
                "name": "lenient",
                "model": "lenient-*",
                "upstream": "oai",
                "policies": [
                    {"name": "watch", "detectors": ["pii", "secrets"], "action": "observe"}
                ],
            },
        ],
    }
    with make_gateway(config) as url:
        yield url


def claude(url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0)


def oai(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)


MSG: dict[str, Any] = {
    "model": "claude-test",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
}


# --- Anthropic -------------------------------------------------------------------------


def test_anthropic_passthrough_is_byte_for_byte(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(Script(events=split_events(ANTHROPIC_RECORDED)))
    with httpx.stream(
        "POST",
        multi + "/v1/messages",
        json={**MSG, "stream": True},
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
    ) as r:
        assert r.status_code == 200
        assert b"".join(r.iter_raw()) == ANTHROPIC_RECORDED
    headers = upstream.requests[0]["headers"]
    assert upstream.requests[0]["path"] == "/v1/messages"
    assert (headers["x-api-key"], headers["anthropic-version"]) == ("k", "2023-06-01")


def test_anthropic_sdk_stream_redacts(upstream: ScriptedUpstream, multi: str) -> None:
    pieces = ["Mail ", EMAIL[:6], EMAIL[6:], " or card ", CARD[:7], CARD[7:], " ok"]
    upstream.reset(Script(events=anthropic_stream(pieces, tool_pieces=['{"to": "', EMAIL, '"}'])))
    with claude(multi).messages.stream(**MSG) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Mail [EMAIL_ADDRESS] or card [CREDIT_CARD] ok"
    assert not leaked(text, EMAIL, CARD)
    tool = next(b for b in final.content if b.type == "tool_use")
    assert tool.input == {"to": "[EMAIL_ADDRESS]"}


def test_anthropic_sdk_raises_on_block(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(Script(events=anthropic_stream(["key ", KEY[:9], KEY[9:], " end"])))
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        claude(multi).messages.stream(**MSG) as stream,
    ):
        for _ in stream.text_stream:
            pass
    body = info.value.body
    assert isinstance(body, dict)
    assert body["error"]["policy"] == "block-secrets"
    assert body["error"]["event_id"].startswith("evt_")
    assert "block-secrets" in str(info.value)


def test_anthropic_block_wire_shape(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(Script(events=anthropic_stream(["key ", KEY, " end"])))
    with httpx.stream("POST", multi + "/v1/messages", json={**MSG, "stream": True}) as r:
        body = b"".join(r.iter_raw())
    assert KEY[:4].encode() not in body
    assert body.count(b"event: message_start") == 1
    events = split_events(body)
    assert events[-2].startswith(b"event: content_block_stop")  # the open block is closed
    assert events[-1].startswith(b"event: error")


def test_anthropic_non_streaming_and_input_block(upstream: ScriptedUpstream, multi: str) -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [{"type": "text", "text": f"write to {EMAIL}"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    upstream.reset(Script(json_body=message))
    result = claude(multi).messages.create(**MSG)
    assert result.content[0].text == "write to [EMAIL_ADDRESS]"  # type: ignore[union-attr]
    upstream.reset(Script(json_body=message))
    with pytest.raises(anthropic.BadRequestError) as info:
        claude(multi).messages.create(**{**MSG, "system": f"use {KEY}"})
    assert info.value.status_code == 400
    body = info.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["policy"] == "block-secrets"
    assert upstream.requests == []


def test_anthropic_input_tool_result_is_redacted(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(
        Script(
            json_body={
                "id": "m",
                "type": "message",
                "role": "assistant",
                "model": "x",
                "content": [],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
        )
    )
    claude(multi).messages.create(
        **{
            **MSG,
            "messages": [
                {"role": "user", "content": "look up the user"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "user"}}
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": f"email: {EMAIL}"}
                    ],
                },
            ],
        }
    )
    sent = upstream.requests[0]["body"]
    assert EMAIL.encode() not in sent
    assert json.loads(sent)["messages"][2]["content"][0]["content"] == "email: [EMAIL_ADDRESS]"


# --- OpenAI Responses ----------------------------------------------------------------


def test_responses_passthrough_is_byte_for_byte(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(Script(events=split_events(RESPONSES_RECORDED)))
    with httpx.stream(
        "POST", multi + "/v1/responses", json={"model": "gpt-test", "input": "hi", "stream": True}
    ) as r:
        assert b"".join(r.iter_raw()) == RESPONSES_RECORDED
    assert upstream.requests[0]["path"] == "/v1/responses"


def test_responses_sdk_stream_redacts_deltas_and_full_texts(
    upstream: ScriptedUpstream, multi: str
) -> None:
    pieces = ["Send to ", EMAIL[:5], EMAIL[5:], " please."]
    upstream.reset(Script(events=responses_stream(pieces, ['{"to":"', EMAIL, '"}'])))
    stream = oai(multi).responses.create(model="gpt-test", input="hi", stream=True)
    deltas, completed = [], None
    for event in stream:
        if event.type == "response.output_text.delta":
            deltas.append(event.delta)
        if event.type == "response.completed":
            completed = event.response
    assert "".join(deltas) == "Send to [EMAIL_ADDRESS] please."
    assert completed is not None
    assert completed.output_text == "Send to [EMAIL_ADDRESS] please."
    dumped = completed.model_dump_json()
    assert EMAIL not in dumped and not leaked(dumped, EMAIL)


def test_responses_sdk_raises_on_block(upstream: ScriptedUpstream, multi: str) -> None:
    upstream.reset(Script(events=responses_stream(["the key is ", KEY, "."])))
    stream = oai(multi).responses.create(model="gpt-test", input="hi", stream=True)
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert info.value.code == "output_blocked"
    body = info.value.body
    assert isinstance(body, dict) and body["policy"] == "block-secrets"
    assert body["event_id"].startswith("evt_")


def test_responses_input_block(upstream: ScriptedUpstream, multi: str) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        oai(multi).responses.create(model="gpt-test", instructions=f"key {KEY}", input="hi")
    assert info.value.code == "input_blocked"
    assert upstream.requests == []


# --- generic upstreams and routing ---------------------------------------------------


def test_generic_upstream_is_guarded(upstream: ScriptedUpstream, multi: str) -> None:
    events = [
        b"data: " + json.dumps({"out": {"text": p}}).encode() + b"\n\n"
        for p in ["call ", EMAIL[:4], EMAIL[4:], " now"]
    ]
    upstream.reset(Script(events=events))
    with httpx.stream(
        "POST", multi + "/generic/gen/generate", json={"prompt": "hi", "stream": True}
    ) as r:
        body = b"".join(r.iter_raw())
    texts = [json.loads(e.removeprefix(b"data: "))["out"]["text"] for e in split_events(body)]
    assert "".join(texts) == "call [EMAIL_ADDRESS] now"
    assert len(texts) == 4
    assert upstream.requests[0]["path"] == "/generate"
    assert generic_stream(["x"])  # the recorded helper shape is the default text path


def test_unknown_generic_upstream_is_404(multi: str) -> None:
    assert httpx.post(multi + "/generic/nope/x", json={}).status_code == 404


def test_route_by_model_uses_its_own_policies(upstream: ScriptedUpstream, multi: str) -> None:
    events = chat_stream(["mail ", EMAIL, " ok"])
    upstream.reset(Script(events=events))
    with httpx.stream(
        "POST",
        multi + "/v1/chat/completions",
        json={"model": "lenient-1", "messages": [], "stream": True},
    ) as r:
        assert b"".join(r.iter_raw()) == b"".join(events)  # observe only: untouched
    upstream.reset(Script(json_body=chat_completion(f"mail {EMAIL}")))
    result = oai(multi).chat.completions.create(model="strict", messages=[])
    assert result.choices[0].message.content == "mail [EMAIL_ADDRESS]"


def test_route_to_wrong_format_is_a_clear_error(
    make_gateway: GatewayFactory, upstream_url: str
) -> None:
    config = {
        "upstreams": [{"name": "oai", "base_url": upstream_url}],
        "routes": [{"path_prefix": "/v1/messages", "upstream": "oai"}],
    }
    with make_gateway(config) as url:
        r = httpx.post(url + "/v1/messages", json=MSG)
    assert r.status_code == 400
    assert r.json()["type"] == "error"
    assert "speaks openai" in r.json()["error"]["message"]


def test_anthropic_configured_key_replaces_client_key(
    upstream: ScriptedUpstream,
    make_gateway: GatewayFactory,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIDEGATE_TEST_ANTHROPIC_KEY", "sk-ant-upstream")
    config = {
        "upstreams": [
            {
                "name": "claude",
                "base_url": upstream_url,
                "format": "anthropic",
                "api_key_env": "TIDEGATE_TEST_ANTHROPIC_KEY",
            }
        ]
    }
    upstream.reset(Script(events=split_events(ANTHROPIC_RECORDED)))
    with make_gateway(config) as url, claude(url).messages.stream(**MSG) as stream:
        stream.get_final_message()
    headers = upstream.requests[0]["headers"]
    assert headers["x-api-key"] == "sk-ant-upstream"
    assert "authorization" not in headers
    assert headers["anthropic-version"]  # the SDK's own header passes through
