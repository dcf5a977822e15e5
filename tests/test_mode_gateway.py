"""``mode: monitor`` in the gateway: shadow mode changes nothing and records everything."""

from __future__ import annotations

import json

import httpx

from tests.conftest import GatewayFactory
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream
from tidegate.config import parse_config
from tidegate.guard.engine import GuardEngine

KEY = "AKIAZ7VRSQ4TXLQ2BD5W"
EMAIL = "jane.doe@example.com"
PROMPT = {"role": "user", "content": f"my key {KEY}, mail {EMAIL}"}


def test_monitor_relays_byte_for_byte_and_records(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    config = {"mode": "monitor", "upstreams": [{"name": "default", "base_url": upstream_url}]}
    engine = GuardEngine(parse_config(config))
    events = chat_stream(["Here: ", KEY[:9], KEY[9:], f" and {EMAIL}."])
    upstream.reset(Script(events=events))
    with make_gateway({"mode": "monitor"}, engine=engine) as url:
        with httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [PROMPT], "stream": True},
        ) as response:
            body = b"".join(response.iter_raw())
        assert body == b"".join(events)  # nothing held, nothing changed
        assert json.loads(upstream.requests[-1]["body"])["messages"] == [PROMPT]
        upstream.reset(Script(json_body=chat_completion(f"key {KEY}")))
        answer = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": [PROMPT]})
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"] == f"key {KEY}"
    recorded = [(e.direction, e.policy, e.action) for e in engine.audit.events()]
    assert set(recorded) == {
        ("input", "block-secrets", "observe"),
        ("input", "redact-pii", "observe"),
        ("output", "block-secrets", "observe"),
        ("output", "redact-pii", "observe"),
    }


def test_enforce_is_the_default(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("hi")))
    answer = httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": [PROMPT]})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "input_blocked"
    assert upstream.requests == []
