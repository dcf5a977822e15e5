"""``tidegate.Guard.scan`` / ``ascan``: decisions on texts and message lists."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest

import tidegate
from tidegate.errors import ConfigError
from tidegate.sdk.scan import message_style

EMAIL = "jane.doe@acme.org"
CARD = "4111 1111 1111 1111"
KEY = "AKIAZ3XQ7RTB2MNPLK4D"


def test_text_redaction() -> None:
    decision = tidegate.Guard().scan(f"mail {EMAIL} or card {CARD}")
    assert decision.redacted_messages == "mail [EMAIL_ADDRESS] or card [CREDIT_CARD]"
    assert decision.redacted and not decision.blocked
    assert decision.threat_types == ("EMAIL_ADDRESS", "CREDIT_CARD")
    assert [(f.detector, f.start, f.end, f.channel) for f in decision.findings] == [
        ("email", 5, 22, "text"),
        ("credit_card", 31, 50, "text"),
    ]
    assert decision.policy == "redact-pii"
    assert decision.event_id == decision.findings[0].event_id
    assert decision.threat_type == "EMAIL_ADDRESS"
    assert decision.direction == "input" and decision.mode == "enforce"


def test_clean_text_has_no_findings() -> None:
    decision = tidegate.Guard().scan("nothing to see here")
    assert decision == dataclasses.replace(
        decision,
        blocked=False,
        redacted=False,
        redacted_messages="nothing to see here",
        findings=(),
        threat_types=(),
        policy=None,
        event_id=None,
    )


def test_block_withholds_the_value() -> None:
    guard = tidegate.Guard()
    decision = guard.scan(f"my key is {KEY}")
    assert decision.blocked and not decision.redacted
    assert decision.redacted_messages is None
    assert decision.policy == "block-secrets"
    assert decision.threat_types == ("AWS_ACCESS_KEY",)
    assert decision.threat_type == "AWS_ACCESS_KEY"
    assert decision.event_id in {e.event_id for e in guard.audit.events()}
    assert KEY not in repr(decision)


def test_openai_messages_keep_their_shape() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": [{"type": "text", "text": f"reach me at {EMAIL}"}]},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "send", "arguments": f'{{"to": "{EMAIL}"}}'},
                }
            ],
        },
    ]
    original = repr(messages)
    decision = tidegate.Guard().scan(messages)
    assert repr(messages) == original  # the input is never changed
    assert decision.redacted_messages == [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": [{"type": "text", "text": "reach me at [EMAIL_ADDRESS]"}]},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "send", "arguments": '{"to": "[EMAIL_ADDRESS]"}'},
                }
            ],
        },
    ]
    assert [f.channel for f in decision.findings] == [
        "messages.1.content.0.text",
        "messages.2.tool_calls.0.function.arguments",
    ]


def test_anthropic_messages_are_recognised() -> None:
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "weather?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"q": EMAIL}}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": KEY}],
        },
    ]
    assert message_style(messages) == "anthropic"
    assert message_style([{"role": "user", "content": [{"type": "image_url"}]}]) == "openai"
    decision = tidegate.Guard().scan(messages, style="auto")
    assert decision.blocked
    assert [f.channel for f in decision.findings] == [
        "messages.1.content.0.input.?",  # tool input keys are the caller's: "?"
        "messages.2.content.0.content",
    ]


def test_output_direction_uses_output_policies() -> None:
    config = {
        "policies": [
            {"name": "in", "detectors": ["email"], "direction": "input", "action": "block"},
            {"name": "out", "detectors": ["email"], "direction": "output", "action": "redact"},
        ]
    }
    guard = tidegate.Guard(config)
    assert guard.scan(EMAIL, "input").blocked
    out = guard.scan(EMAIL, direction="output")
    assert out.redacted_messages == "[EMAIL_ADDRESS]"
    assert out.findings[0].direction == "output"


def test_monitor_mode_changes_nothing_but_records() -> None:
    guard = tidegate.Guard(mode="monitor")
    text = f"{KEY} and {EMAIL}"
    decision = guard.scan(text)
    assert not decision.blocked and not decision.redacted
    assert decision.redacted_messages == text
    assert decision.mode == "monitor"
    assert {(f.policy, f.action) for f in decision.findings} == {
        ("block-secrets", "observe"),
        ("redact-pii", "observe"),
    }
    assert len(guard.audit.events()) == 2


def test_config_from_file_and_mode_override(tmp_path: Path) -> None:
    path = tmp_path / "tidegate.yaml"
    path.write_text("mode: monitor\npolicies:\n  - {name: p, detectors: [email], action: block}\n")
    assert tidegate.Guard(str(path)).mode == "monitor"
    guard = tidegate.Guard(path, mode="enforce")
    assert guard.scan(EMAIL).blocked
    assert guard.scan(CARD).findings == ()  # only the file's policy applies


def test_invalid_config_and_arguments() -> None:
    with pytest.raises(ConfigError, match="mode"):
        tidegate.Guard({"mode": "shadow"})
    with pytest.raises(ConfigError, match="unknown key"):
        tidegate.Guard({"polices": []})
    guard = tidegate.Guard()
    with pytest.raises(ValueError, match="direction"):
        guard.scan("x", "both")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="mapping"):
        guard.scan(["not a message"])  # type: ignore[list-item]


def test_blocked_error_pickles_with_its_decision() -> None:
    decision = tidegate.Guard().scan(KEY)
    error = tidegate.BlockedError(decision)
    assert isinstance(error, tidegate.TidegateError)
    assert (error.policy, error.event_id, error.code) == (
        "block-secrets",
        decision.event_id,
        "input_blocked",
    )
    copy = pickle.loads(pickle.dumps(error))
    assert copy.decision == decision and str(copy) == str(error)


def test_decision_is_frozen_and_serialisable() -> None:
    decision = tidegate.Guard().scan(EMAIL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.blocked = True  # type: ignore[misc]
    data = decision.to_dict()
    assert data["findings"][0]["entity_type"] == "EMAIL_ADDRESS"
    assert data["threat_types"] == ["EMAIL_ADDRESS"]


@pytest.mark.anyio
async def test_ascan_matches_scan() -> None:
    guard = tidegate.Guard()
    decision = await guard.ascan([{"role": "user", "content": f"hi {EMAIL}"}])
    assert decision.redacted_messages == [{"role": "user", "content": "hi [EMAIL_ADDRESS]"}]
