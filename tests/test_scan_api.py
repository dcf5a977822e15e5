"""``POST /v1/guard/scan`` through the real gateway."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import tidegate
from tests.conftest import GatewayFactory
from tidegate.auth import hash_key

EMAIL = "jane.doe@acme.org"
KEY = "AKIAZ3XQ7RTB2MNPLK4D"


def scan(url: str, body: Any, **kwargs: Any) -> httpx.Response:
    return httpx.post(url + "/v1/guard/scan", json=body, **kwargs)


def test_messages_decision_has_the_sdk_shape(gateway: str) -> None:
    messages = [{"role": "user", "content": f"mail {EMAIL}"}]
    answer = scan(gateway, {"messages": messages, "direction": "input"})
    assert answer.status_code == 200
    data = answer.json()
    expected = tidegate.Guard().scan(messages).to_dict()
    for key in ("blocked", "redacted", "redacted_messages", "threat_types", "policy", "mode"):
        assert data[key] == expected[key]
    assert data["redacted_messages"] == [{"role": "user", "content": "mail [EMAIL_ADDRESS]"}]
    (finding,) = data["findings"]
    assert finding["channel"] == "messages.0.content" and finding["event_id"] == data["event_id"]
    assert EMAIL not in answer.text


def test_text_block_is_a_decision_not_an_error(gateway: str) -> None:
    answer = scan(gateway, {"text": f"key {KEY}", "direction": "output"})
    assert answer.status_code == 200
    data = answer.json()
    assert data["blocked"] is True and data["redacted_messages"] is None
    assert data["direction"] == "output" and data["threat_types"] == ["AWS_ACCESS_KEY"]
    assert KEY not in answer.text


def test_gateway_mode_applies(make_gateway: GatewayFactory) -> None:
    with make_gateway({"mode": "monitor"}) as url:
        data = scan(url, {"text": KEY}).json()
    assert data["blocked"] is False and data["mode"] == "monitor"
    assert data["findings"][0]["action"] == "observe"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"direction": "input"}, "exactly one of"),
        ({"text": "a", "messages": []}, "exactly one of"),
        ({"text": 3}, "'text' must be a string"),
        ({"messages": ["hi"]}, "list of message objects"),
        ({"text": "a", "direction": "both"}, "'direction'"),
        ({"text": "a", "style": "gemini"}, "'style'"),
        ({"text": "a", "extra": 1}, "unknown keys: extra"),
        ([], "JSON object"),
    ],
)
def test_malformed_requests_are_400(gateway: str, body: Any, message: str) -> None:
    answer = scan(gateway, body)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_json" and message in error["message"]


def test_needs_a_client_key_when_auth_is_configured(make_gateway: GatewayFactory) -> None:
    config = {"auth": {"keys": [{"name": "alice", "sha256": hash_key("tg-alice")}]}}
    with make_gateway(config) as url:
        assert scan(url, {"text": "hi"}).status_code == 401
        answer = scan(url, {"text": "hi"}, headers={"authorization": "Bearer tg-alice"})
        assert answer.status_code == 200


def test_body_limit(make_gateway: GatewayFactory) -> None:
    with make_gateway({"limits": {"max_body_bytes": 100}}) as url:
        answer = scan(url, {"text": "x" * 200})
    assert answer.status_code == 413
