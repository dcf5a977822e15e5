"""``termination:``: the seeds' own client snippets catch tidegate's blocks.

Each test configures the termination error as the README documents for one
guard, runs that guard's client snippet (rewritten against the real openai
SDK and the real gateway), and checks that it catches the block the way the
snippet expects.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.conftest import GatewayFactory
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream, chunk
from tidegate.errors import ConfigError
from tidegate.guard.engine import GuardEngine
from tidegate.sse import SSEDecoder

KEY = "AKIAZ7VRSQ4TXLQ2BD5W"
PIECES = ["The SSN is ", "on file. Key: ", KEY[:7], KEY[7:], " done."]
OXIDESHIELD = {"code": "streaming_terminated", "message": "Response blocked by OxideShield"}
KEEPTRUSTS = {"type": "policy_violation", "http_status": 409}
PROMPTGUARD = {"message": "policy_violation: blocked by {policy} (event {event_id})"}


def client(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)


def error_event(url: str) -> dict[str, Any]:
    """The in-stream error object a raw SSE client receives."""
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", url + "/v1/chat/completions", json=body) as response:
        raw = b"".join(response.iter_raw())
    decoder = SSEDecoder()
    errors = [
        json.loads(e.data)["error"]
        for e in [*decoder.feed(raw), *decoder.flush()]
        if e.data.startswith('{"error"')
    ]
    assert len(errors) == 1
    assert raw.endswith(b"data: [DONE]\n\n")
    error: dict[str, Any] = errors[0]
    return error


def test_oxideshield_streaming_terminated(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    with make_gateway({"termination": OXIDESHIELD}) as url:
        upstream.reset(Script(events=chat_stream(PIECES)))
        error = error_event(url)
        assert error["type"] == "content_policy_violation"
        assert error["message"] == "Response blocked by OxideShield"
        assert error["code"] == "streaming_terminated"
        # The seed's client: the openai SDK raises the event as APIError.
        upstream.reset(Script(events=chat_stream(PIECES)))
        printed = []
        with pytest.raises(openai.APIError) as caught:
            stream = client(url).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            for chunk in stream:
                printed.append(chunk.choices[0].delta.content or "")
        assert caught.value.code == "streaming_terminated"
        assert KEY[:7] not in "".join(printed)


def test_keeptrusts_409_policy_violation(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    def safe_stream(url: str, prompt: str) -> str:  # the seed's safe_stream
        chunks: list[str] = []
        try:
            stream = client(url).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": prompt}], stream=True
            )
            for chunk in stream:
                content = chunk.choices[0].delta.content
                if content:
                    chunks.append(content)
        except openai.APIStatusError as e:
            if e.status_code == 409:
                error_body = e.response.json()
                policy = error_body.get("error", {}).get("policy", "unknown")
                chunks.append(f"\n\n[Stream terminated by policy: {policy}]")
            else:
                raise
        return "".join(chunks)

    with make_gateway({"termination": KEEPTRUSTS}) as url:
        upstream.reset(Script(events=chat_stream(["hi"])))
        assert safe_stream(url, f"my key {KEY}") == (
            "\n\n[Stream terminated by policy: block-secrets]"
        )
        assert upstream.requests == []
        upstream.reset(Script(json_body=chat_completion(f"key {KEY}")))
        with pytest.raises(openai.ConflictError) as caught:
            client(url).chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
        assert caught.value.body["type"] == "policy_violation"  # type: ignore[index]
        upstream.reset(Script(events=chat_stream(PIECES)))
        error = error_event(url)  # mid-stream: the seed's wire shape
        assert (error["type"], error["policy"], error["code"]) == (
            "policy_violation",
            "block-secrets",
            "output_blocked",
        )


def test_promptguard_message_contains_policy_violation(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    def run(url: str, prompt: str) -> str:  # the seed's error handling
        try:
            stream = client(url).chat.completions.create(
                model="gpt-5-nano", messages=[{"role": "user", "content": prompt}], stream=True
            )
            for _ in stream:
                pass
        except Exception as e:
            if "policy_violation" in str(e):
                return "Request blocked by security policy"
            return f"Error: {e}"
        return "ok"

    with make_gateway({"termination": PROMPTGUARD}) as url:
        upstream.reset(Script(events=chat_stream(PIECES)))
        assert run(url, "hi") == "Request blocked by security policy"
        upstream.reset(Script(events=chat_stream(["fine"])))
        assert run(url, f"key {KEY}") == "Request blocked by security policy"
        upstream.reset(Script(events=chat_stream(["fine"])))
        assert run(url, "hi") == "ok"


def test_anthropic_errors_keep_the_documented_type(
    make_gateway: GatewayFactory, upstream_url: str
) -> None:
    config = {
        "termination": {**KEEPTRUSTS, **OXIDESHIELD},
        "upstreams": [{"name": "claude", "base_url": upstream_url, "format": "anthropic"}],
    }
    with make_gateway(config) as url:
        sdk = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
        with pytest.raises(anthropic.ConflictError) as caught:
            sdk.messages.create(
                model="m", max_tokens=5, messages=[{"role": "user", "content": KEY}]
            )
    error = caught.value.body["error"]  # type: ignore[index]
    assert error["type"] == "invalid_request_error"
    assert (error["code"], error["message"]) == (
        "streaming_terminated",
        "Response blocked by OxideShield",
    )


def test_defaults_are_unchanged_and_templates_checked() -> None:
    engine = GuardEngine(_config({}))
    assert engine.config.termination.http_status == 400
    with pytest.raises(ConfigError, match=r"termination.message"):
        _config({"termination": {"message": "blocked by {rule}"}})
    with pytest.raises(ConfigError, match=r"termination.http_status"):
        _config({"termination": {"http_status": 200}})


def _config(data: dict[str, Any]) -> Any:
    from tidegate.config import parse_config

    return parse_config(data)


def test_openai_block_finishes_open_choices_with_content_filter(
    upstream: ScriptedUpstream, gateway: str
) -> None:
    events = [
        chunk("", role="assistant", index=0),
        chunk("", role="assistant", index=1),
        chunk("first answer.", index=0),
        chunk("second: ", index=1),
        chunk(KEY, index=1),
        chunk(" more", index=0),
    ]
    upstream.reset(Script(events=events))
    finishes: list[tuple[int, str | None]] = []
    with pytest.raises(openai.APIError, match="block-secrets"):
        stream = client(gateway).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True, n=2
        )
        for c in stream:
            finishes += [(ch.index, ch.finish_reason) for ch in c.choices if ch.finish_reason]
            assert c.id == "chatcmpl-test" and c.model == "scripted"
    assert finishes == [(0, "content_filter"), (1, "content_filter")]


def test_a_finished_choice_gets_no_content_filter(upstream: ScriptedUpstream, gateway: str) -> None:
    events = [
        chunk("done.", index=0),
        chunk(finish="stop", index=0),
        chunk("then ", index=1),
        chunk(KEY, index=1),
    ]
    upstream.reset(Script(events=events))
    finishes: list[tuple[int, str | None]] = []
    with pytest.raises(openai.APIError):
        stream = client(gateway).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True, n=2
        )
        for c in stream:
            finishes += [(ch.index, ch.finish_reason) for ch in c.choices if ch.finish_reason]
    assert finishes == [(0, "stop"), (1, "content_filter")]


def test_a_block_found_at_the_finish_still_gets_content_filter(
    upstream: ScriptedUpstream, gateway: str
) -> None:
    upstream.reset(Script(events=[chunk("key "), chunk(KEY), chunk(finish="stop")]))
    finishes: list[str | None] = []
    with pytest.raises(openai.APIError):
        stream = client(gateway).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for c in stream:
            finishes += [ch.finish_reason for ch in c.choices if ch.finish_reason]
    assert finishes == ["content_filter"]  # the upstream's "stop" never passed the guard
