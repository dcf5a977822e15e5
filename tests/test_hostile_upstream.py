"""A hostile upstream, mode by mode, through the real gateway and real clients.

For every mode of :mod:`tests.support.hostile` the test checks both ends:
not one fragment of the planted value reaches the client, in any field or
SSE line, and the upstream received no planted value from the request's
side fields (tool descriptions, ``user``, ``prediction``, ``system`` blocks,
tool results).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.conftest import GatewayFactory
from tests.support.hostile import CARD, SECRET, Mode, chat_around, chat_chunk, modes
from tests.support.recorded import decode, leaked
from tests.support.upstream import Script, ScriptedUpstream

REQUEST_PII = "ops.lead@example.org"


def client_view(out: bytes) -> str:
    """Everything the client can read: the raw bytes and every decoded JSON string."""
    texts = [out.decode(errors="replace")]
    for event in decode(out):
        try:
            texts.append(json.dumps(json.loads(event.data), ensure_ascii=False))
        except ValueError:
            texts.append(event.data)
    with contextlib.suppress(ValueError):
        texts.append(json.dumps(json.loads(out), ensure_ascii=False))
    return "\n".join(texts)


def request_for(mode: Mode) -> dict[str, Any]:
    """A request that also plants PII in side fields every format has."""
    if mode.path == "/v1/messages":
        return {
            "model": "claude", "max_tokens": 10, "stream": mode.stream,
            "system": [{"type": "text", "text": f"mail {REQUEST_PII}"}],
            "messages": [{"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t",
                 "content": [{"type": "text", "text": REQUEST_PII}]}]}],
            "metadata": {"user_id": REQUEST_PII},
        }  # fmt: skip
    if mode.path == "/v1/responses":
        return {
            "model": "m", "stream": mode.stream, "instructions": f"mail {REQUEST_PII}",
            "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
            "user": REQUEST_PII,
        }  # fmt: skip
    return {
        "model": "m", "stream": mode.stream,
        "messages": [{"role": "user", "content": ["hi", REQUEST_PII], "name": REQUEST_PII}],
        "user": REQUEST_PII,
        "prediction": {"type": "content", "content": REQUEST_PII},
        "tools": [{"type": "function", "function": {
            "name": "f", "description": f"mail {REQUEST_PII}",
            "parameters": {"type": "object", "properties": {"to": {
                "type": "string", "description": REQUEST_PII, "default": REQUEST_PII,
                "enum": [REQUEST_PII]}}}}}],
    }  # fmt: skip


@pytest.fixture
def hostile_gateway(make_gateway: GatewayFactory, upstream_url: str) -> Iterator[str]:
    config = {
        "upstreams": [
            {"name": "default", "base_url": upstream_url},
            {"name": "claude", "base_url": upstream_url, "format": "anthropic"},
        ],
    }
    with make_gateway(config) as url:
        yield url


@pytest.mark.parametrize("mode", modes(), ids=lambda m: m.name)
def test_hostile_upstream_mode(
    mode: Mode, upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    upstream.reset(mode.script)
    with httpx.stream(
        "POST", hostile_gateway + mode.path, json=request_for(mode), headers=mode.headers
    ) as r:
        out = b"".join(r.iter_raw())
    assert out  # the client got an answer (data or a well-formed error)
    assert leaked(client_view(out), mode.planted) == set()
    assert len(upstream.requests) == 1
    sent = upstream.requests[0]["body"].decode()
    assert leaked(sent, REQUEST_PII) == set()
    assert "[EMAIL_ADDRESS]" in sent


def test_error_bodies_are_redacted_not_dropped(
    upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    upstream.reset(Script(status=400, json_body={"error": {"message": f"bad card {CARD}"}}))
    r = httpx.post(hostile_gateway + "/v1/chat/completions", json={"model": "m", "messages": []})
    assert r.status_code == 400
    assert r.json() == {"error": {"message": "bad card [CREDIT_CARD]"}}
    upstream.reset(Script(status=400, json_body={"error": {"message": f"key {SECRET}"}}))
    r = httpx.post(hostile_gateway + "/v1/chat/completions", json={"model": "m", "messages": []})
    assert r.json()["error"]["code"] == "output_blocked" and SECRET not in r.text


def test_models_body_is_guarded(upstream: ScriptedUpstream, hostile_gateway: str) -> None:
    upstream.reset(Script(models_body={"object": "list", "data": [
        {"id": "m", "object": "model", "created": 1, "owned_by": "org",
         "description": f"billing card {CARD}"}]}))  # fmt: skip
    r = httpx.get(hostile_gateway + "/v1/models")
    assert r.status_code == 200
    assert r.json()["data"][0] == {
        "id": "m", "object": "model", "created": 1, "owned_by": "org",
        "description": "billing card [CREDIT_CARD]",
    }  # fmt: skip


@pytest.mark.parametrize("failure", ["stall", "die"])
def test_held_text_is_never_released_when_the_upstream_fails(
    failure: str, upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    events = chat_around([chat_chunk({"content": p}) for p in ("Mail jane.doe@exam", "ple.c")])
    cut = 3  # role chunk and both pieces sent, then the upstream stalls or dies
    script = Script(events=events, **{"hang_after" if failure == "stall" else "die_after": cut})
    upstream.reset(script)
    config = {"upstreams": [{"name": "d", "base_url": upstream_url, "timeouts": {"read_s": 0.5}}]}
    with make_gateway(config) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
        got: list[str] = []
        with pytest.raises(openai.APIError) as info:
            for chunk in client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            ):
                got.append(chunk.choices[0].delta.content or "")
    assert "jane" not in "".join(got) and "exam" not in "".join(got)
    expected = "upstream_timeout" if failure == "stall" else "upstream_protocol_error"
    assert info.value.code == expected


def test_openai_sdk_logprobs_carry_no_digits(
    upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    client = openai.OpenAI(base_url=hostile_gateway + "/v1", api_key="k", max_retries=0)
    messages: Any = [{"role": "user", "content": "card?"}]
    by_name = {m.name: m for m in modes()}
    stream_mode, json_mode = by_name["chat-logprobs-stream"], by_name["chat-logprobs-json"]
    upstream.reset(stream_mode.script)
    content, tokens = "", ""
    for chunk in client.chat.completions.create(
        model="m", messages=messages, stream=True, logprobs=True, top_logprobs=1
    ):
        content += chunk.choices[0].delta.content or ""
        for entry in (chunk.choices[0].logprobs and chunk.choices[0].logprobs.content) or ():
            tokens += entry.token + bytes(entry.bytes or ()).decode()
            for top in entry.top_logprobs:
                tokens += top.token + bytes(top.bytes or ()).decode()
    assert content == "Card [CREDIT_CARD] ok."
    assert not any(digit in tokens for digit in "0123456789")
    upstream.reset(json_mode.script)
    done = client.chat.completions.create(model="m", messages=messages, logprobs=True)
    assert done.choices[0].message.content == "Card [CREDIT_CARD] ok."
    assert "4111" not in done.model_dump_json() and "1111" not in done.model_dump_json()


def test_anthropic_sdk_citations_are_guarded(
    upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    (mode,) = [m for m in modes() if m.name == "anthropic-citations"]
    upstream.reset(mode.script)
    client = anthropic.Anthropic(base_url=hostile_gateway, api_key="k", max_retries=0)
    with client.messages.stream(
        model="claude", max_tokens=10, messages=[{"role": "user", "content": "cite"}]
    ) as stream:
        message = stream.get_final_message()
    dumped = message.model_dump_json()
    assert "4111" not in dumped and "1111" not in dumped
    citation = message.content[0].citations[0]  # type: ignore[union-attr,index]
    assert citation.cited_text == "card [CREDIT_CARD]"  # type: ignore[union-attr]


def test_untouched_events_keep_the_upstream_s_exact_bytes(
    upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    """``id:``, ``retry:`` and the upstream's own spacing survive; comments do not."""
    body = (
        b'{"id":"c","object":"chat.completion.chunk",'
        b'"choices":[{"index":0,"delta":{"content":"Hi."},"finish_reason":null}]}'
    )
    events = [
        b"id: 7\nretry: 1500\ndata:" + body + b"\r\n\r\n",
        b": upstream note\n\n",
        b"data: [DONE]\n\n",
    ]
    upstream.reset(Script(events=events))
    with httpx.stream(
        "POST",
        hostile_gateway + "/v1/chat/completions",
        json={"model": "m", "messages": [], "stream": True},
    ) as r:
        out = b"".join(r.iter_raw())
    assert out == events[0] + events[2]


def test_a_huge_upstream_line_ends_the_stream_at_the_cap(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    piece = b"x" * (1024 * 1024)
    sent: list[int] = []
    upstream.reset(  # 41 MB, no newline
        Script(events=[b"data: " + piece] + [piece] * 40, gate=sent.append)
    )
    config = {
        "upstreams": [{"name": "d", "base_url": upstream_url}],
        "limits": {"max_event_bytes": 4 * 1024 * 1024},
    }
    with make_gateway(config) as url:
        with httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [], "stream": True},
        ) as r:
            out = b"".join(r.iter_raw())
        assert b"upstream_protocol_error" in out and len(out) < 1000
        # the upstream request was cancelled at the cap, not read to its end
        assert upstream.disconnected.wait(5)
        assert max(sent) < 30


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "m", "messages": [], "content": "AKIAZ7VRSQ4TXLQ2BD5W", "content": "hi"}',
        b'{"model": "m", "messages": [{"role": "user", "content": "\\udc00 lone"}]}',
        b'{"model": "m", "messages": [], "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"model": "m", "messages": [], "x": ' + b'{"a":' * 500 + b"1" + b"}" * 500 + b"}",
    ],
    ids=["duplicate-key", "lone-surrogate", "deep-arrays", "deep-objects"],
)
def test_ambiguous_request_bodies_get_400_and_nothing_goes_upstream(
    raw: bytes, upstream: ScriptedUpstream, hostile_gateway: str
) -> None:
    r = httpx.post(
        hostile_gateway + "/v1/chat/completions",
        content=raw,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert upstream.requests == []


def test_a_huge_json_body_is_refused_and_secret_headers_are_dropped(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    config = {
        "upstreams": [{"name": "d", "base_url": upstream_url}],
        "limits": {"max_event_bytes": 64 * 1024},
    }
    with make_gateway(config) as url:
        upstream.reset(Script(raw_body=b'{"x": "' + b"y" * 200_000 + b'"}'))
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": []})
        assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_protocol_error"
        body = {"id": "c", "object": "chat.completion", "choices": []}
        upstream.reset(Script(json_body=body, headers={"x-request-id": f"req {CARD}"}))
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": []})
        assert r.status_code == 200 and "x-request-id" not in r.headers
        upstream.reset(Script(json_body=body, headers={"x-request-id": "req_123"}))
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": []})
        assert r.headers["x-request-id"] == "req_123"


def test_a_long_retry_field_is_ignored_not_fatal() -> None:
    from tidegate.sse import SSEDecoder

    (event,) = SSEDecoder().feed(b"retry: " + b"9" * 5000 + b"\ndata: x\n\n")
    assert event.retry is None and event.data == "x"
