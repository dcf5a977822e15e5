"""``Guard.wrap`` around real ``anthropic`` clients, over real HTTP to the scripted upstream."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import pytest
from hypothesis import HealthCheck, given, settings

import tidegate
from tests.sdk.conftest import (
    CARD,
    EMAIL,
    KEY,
    REDACTED,
    TEXT,
    USER,
    USER_REDACTED,
    actions,
    anthropic_client,
    anthropic_message,
    async_anthropic_client,
)
from tests.support.recorded import anthropic_stream, leaked, splits
from tests.support.upstream import Script, ScriptedUpstream, wait_until

MODEL = "m"


def sent(upstream: ScriptedUpstream) -> Any:
    return json.loads(upstream.requests[-1]["body"])


def test_messages_stream_text_stream(upstream: ScriptedUpstream, root: str) -> None:
    client = tidegate.Guard().wrap(anthropic_client(root))
    assert type(client) is anthropic.Anthropic
    upstream.reset(Script(events=anthropic_stream(["Contact me at jane.d", "oe@acme.org", " ok"])))
    with client.messages.stream(
        model=MODEL,
        max_tokens=50,
        system=f"the user is {EMAIL}",
        messages=USER,  # type: ignore[arg-type]
    ) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_text()
    assert texts == ["Contact me at [EMAIL_ADDRESS]", "", " ok"]
    assert final == "Contact me at [EMAIL_ADDRESS] ok"
    body = sent(upstream)
    assert body["messages"] == USER_REDACTED
    assert body["system"] == "the user is [EMAIL_ADDRESS]"


@settings(
    max_examples=50,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=splits(TEXT))
def test_zero_leak_under_random_splits(
    upstream: ScriptedUpstream, root: str, pieces: list[str]
) -> None:
    client = tidegate.Guard().wrap(anthropic_client(root))
    upstream.reset(Script(events=anthropic_stream(pieces)))
    with client.messages.with_streaming_response.create(
        model=MODEL,
        max_tokens=50,
        messages=USER,  # type: ignore[arg-type]
        stream=True,
    ) as response:
        raw = b"".join(response.iter_bytes())
    assert leaked(raw.decode(), EMAIL, CARD) == set()
    upstream.reset(Script(events=anthropic_stream(pieces)))
    stream = client.messages.create(model=MODEL, max_tokens=50, messages=USER, stream=True)  # type: ignore[arg-type]
    deltas = [
        e.delta.text
        for e in stream
        if e.type == "content_block_delta" and e.delta.type == "text_delta"
    ]
    assert "".join(deltas) == REDACTED
    assert len(deltas) == len(pieces)


def test_stream_block_raises_and_is_not_retried(upstream: ScriptedUpstream, root: str) -> None:
    guard = tidegate.Guard()
    client = guard.wrap(anthropic_client(root, max_retries=2))
    pieces = ["Here it is: ", KEY[:6], KEY[6:], " and more"]
    events = anthropic_stream(pieces)
    upstream.reset(Script(events=events, hang_after=len(events) - 2))
    received: list[str] = []
    with pytest.raises(tidegate.BlockedError) as caught:  # noqa: SIM117
        with client.messages.stream(
            model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            for text in stream.text_stream:
                received.append(text)
    error = caught.value
    assert isinstance(error, anthropic.AnthropicError)
    assert "".join(received) == "Here it is: "
    assert (error.policy, error.direction) == ("block-secrets", "output")
    assert actions(guard) == [("block-secrets", "block")]
    assert len(upstream.requests) == 1
    assert wait_until(upstream.disconnected.is_set)


def test_input_block_sends_nothing_and_is_not_retried(
    upstream: ScriptedUpstream, root: str
) -> None:
    guard = tidegate.Guard()
    client = guard.wrap(anthropic_client(root, max_retries=2))
    with pytest.raises(tidegate.BlockedError) as caught:
        client.messages.create(
            model=MODEL,
            max_tokens=50,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "t1", "content": KEY}],
                }
            ],
        )
    assert isinstance(caught.value, anthropic.AnthropicError)
    assert caught.value.decision.findings[0].channel == "messages.0.content.0.content"
    assert upstream.requests == []
    assert actions(guard) == [("block-secrets", "block")]


def test_non_streamed_redaction_and_block(upstream: ScriptedUpstream, root: str) -> None:
    client = tidegate.Guard().wrap(anthropic_client(root))
    upstream.reset(Script(json_body=anthropic_message(TEXT)))
    message = client.messages.create(model=MODEL, max_tokens=50, messages=USER)  # type: ignore[arg-type]
    assert message.content[0].type == "text" and message.content[0].text == REDACTED
    upstream.reset(Script(json_body=anthropic_message(f"key {KEY}")))
    with pytest.raises(tidegate.BlockedError):
        client.messages.create(model=MODEL, max_tokens=50, messages=USER)  # type: ignore[arg-type]


def test_count_tokens_input_is_guarded(upstream: ScriptedUpstream, root: str) -> None:
    client = tidegate.Guard().wrap(anthropic_client(root))
    upstream.reset(Script(json_body={"input_tokens": 12}))
    count = client.messages.count_tokens(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert count.input_tokens == 12
    assert sent(upstream)["messages"] == USER_REDACTED


def test_monitor_mode_changes_nothing(upstream: ScriptedUpstream, root: str) -> None:
    guard = tidegate.Guard(mode="monitor")
    client = guard.wrap(anthropic_client(root))
    prompt = [{"role": "user", "content": f"{EMAIL} {KEY}"}]
    upstream.reset(Script(events=anthropic_stream([TEXT, f" {KEY}"])))
    with client.messages.stream(model=MODEL, max_tokens=50, messages=prompt) as stream:  # type: ignore[arg-type]
        assert stream.get_final_text() == f"{TEXT} {KEY}"
    assert sent(upstream)["messages"] == prompt
    assert {action for _, action in actions(guard)} == {"observe"}


@pytest.mark.anyio
async def test_async_messages(upstream: ScriptedUpstream, root: str) -> None:
    client = tidegate.Guard().wrap(async_anthropic_client(root))
    assert type(client) is anthropic.AsyncAnthropic
    upstream.reset(Script(events=anthropic_stream(["Contact me at jane.d", "oe@acme.org", " ok"])))
    async with client.messages.stream(model=MODEL, max_tokens=50, messages=USER) as stream:  # type: ignore[arg-type]
        texts = [t async for t in stream.text_stream]
    assert texts == ["Contact me at [EMAIL_ADDRESS]", "", " ok"]
    assert sent(upstream)["messages"] == USER_REDACTED
    upstream.reset(Script(json_body=anthropic_message(TEXT)))
    message = await client.messages.create(model=MODEL, max_tokens=50, messages=USER)  # type: ignore[arg-type]
    assert message.content[0].type == "text" and message.content[0].text == REDACTED
    upstream.reset(Script(events=anthropic_stream(["Here: ", KEY, " more"])))
    received: list[str] = []
    stream_ = await client.messages.create(model=MODEL, max_tokens=50, messages=USER, stream=True)  # type: ignore[arg-type]
    with pytest.raises(tidegate.BlockedError) as caught:
        async for event in stream_:
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                received.append(event.delta.text)
    assert received == ["Here: "]
    assert isinstance(caught.value, anthropic.AnthropicError)
    with pytest.raises(tidegate.BlockedError):
        await client.messages.create(
            model=MODEL, max_tokens=50, messages=[{"role": "user", "content": KEY}]
        )
