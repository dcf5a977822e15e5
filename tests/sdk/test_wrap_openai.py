"""``Guard.wrap`` around real ``openai`` clients, over real HTTP to the scripted upstream."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
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
    async_openai_client,
    openai_client,
)
from tests.support.recorded import leaked, responses_stream, splits
from tests.support.upstream import (
    Script,
    ScriptedUpstream,
    chat_completion,
    chat_stream,
    chunk,
    wait_until,
)

MODEL = "m"


def sent_messages(upstream: ScriptedUpstream) -> Any:
    return json.loads(upstream.requests[-1]["body"])["messages"]


def test_chat_stream_guards_input_and_output(upstream: ScriptedUpstream, upstream_url: str) -> None:
    original = openai_client(upstream_url)
    client = tidegate.Guard().wrap(original)
    assert type(client) is openai.OpenAI and client is not original
    upstream.reset(Script(events=chat_stream(["Contact me at jane.d", "oe@acme.org", " ok"])))
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    deltas = [c.choices[0].delta.content for c in stream]
    assert deltas == ["", "Contact me at [EMAIL_ADDRESS]", "", " ok", None]
    assert sent_messages(upstream) == USER_REDACTED
    # The original client is untouched.
    upstream.reset(Script(events=chat_stream([EMAIL])))
    stream = original.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream) == EMAIL
    assert sent_messages(upstream) == USER


@settings(
    max_examples=50,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=splits(TEXT))
def test_chat_stream_zero_leak_under_random_splits(
    upstream: ScriptedUpstream, upstream_url: str, pieces: list[str]
) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    upstream.reset(Script(events=chat_stream(pieces)))
    with client.chat.completions.with_streaming_response.create(
        model=MODEL,
        messages=USER,  # type: ignore[arg-type]
        stream=True,
    ) as response:
        raw = b"".join(response.iter_bytes())
    assert leaked(raw.decode(), EMAIL, CARD) == set()
    upstream.reset(Script(events=chat_stream(pieces)))
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    deltas = [c.choices[0].delta.content for c in stream]
    assert "".join(d or "" for d in deltas) == REDACTED
    assert len(deltas) == len(pieces) + 2  # role chunk, one per piece, finish chunk


def test_output_block_raises_at_termination(upstream: ScriptedUpstream, upstream_url: str) -> None:
    guard = tidegate.Guard()
    client = guard.wrap(openai_client(upstream_url))
    pieces = ["Here it is. ", "The key: ", KEY[:8], KEY[8:], " keep it", " safe"]
    upstream.reset(Script(events=chat_stream(pieces), hang_after=6))
    received: list[str] = []
    stream = client.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    with pytest.raises(tidegate.BlockedError) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    error = caught.value
    assert isinstance(error, openai.OpenAIError)
    assert "".join(received) == "Here it is. The key: "  # the key never arrives
    assert (error.policy, error.direction, error.code) == (
        "block-secrets",
        "output",
        "output_blocked",
    )
    assert error.event_id == error.decision.event_id
    assert error.event_id in {e.event_id for e in guard.audit.events() if e.action == "block"}
    # The decision covers the whole call: the prompt's address, then the key.
    assert error.decision.threat_types == ("EMAIL_ADDRESS", "AWS_ACCESS_KEY")
    # The stream was closed, so the upstream request is cancelled.
    assert wait_until(upstream.disconnected.is_set)


def test_input_block_sends_nothing_and_is_not_retried(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    guard = tidegate.Guard()
    client = guard.wrap(openai_client(upstream_url, max_retries=2))
    upstream.reset(Script(json_body=chat_completion("hi")))
    with pytest.raises(tidegate.BlockedError) as caught:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"key {KEY}"}]
        )
    assert caught.value.direction == "input"
    assert caught.value.decision.findings[0].channel == "messages.0.content"
    assert upstream.requests == []
    assert actions(guard) == [("block-secrets", "block")]


def test_non_streamed_redaction_and_block(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    completion = client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == REDACTED
    upstream.reset(Script(json_body=chat_completion(f"the key is {KEY}")))
    with pytest.raises(tidegate.BlockedError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert caught.value.direction == "output"


def test_upstream_error_body_is_guarded(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    error = {"error": {"message": f"bad prompt from {EMAIL}", "type": "invalid_request_error"}}
    upstream.reset(Script(status=400, json_body=error))
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert caught.value.message.endswith("bad prompt from [EMAIL_ADDRESS]")


def test_malformed_body_gets_the_gateways_400(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url, max_retries=2))
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/chat/completions", body={"model": MODEL}, cast_to=object)
    assert caught.value.code == "invalid_json"
    assert upstream.requests == []


def test_other_endpoints_pass_through(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    assert [m.id for m in client.models.list()] == ["scripted"]


def test_truncated_stream_never_releases_held_text(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    upstream.reset(Script(events=chat_stream(["Write to jane.d", "oe@acm"], done=False)[:-1]))
    received: list[str] = []
    with pytest.raises(openai.APIError, match="ended early"):
        for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True):  # type: ignore[arg-type]
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == ""  # "Write to jane.d" was held: it may start an address


def test_upstream_dying_mid_stream_raises_the_transport_error(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    upstream.reset(
        Script(events=chat_stream(["Fine. ", "Write to jane.d", "oe@acme.org"]), die_after=3)
    )
    received: list[str] = []
    # The SDK's own error for a broken connection, as without tidegate.
    with pytest.raises(openai.APIConnectionError) as caught:
        for chunk in client.chat.completions.create(model=MODEL, messages=USER, stream=True):  # type: ignore[arg-type]
            received.append(chunk.choices[0].delta.content or "")
    assert isinstance(caught.value.__cause__, httpx2.TransportError)
    assert "".join(received) == "Fine. "


def test_monitor_mode_changes_nothing(upstream: ScriptedUpstream, upstream_url: str) -> None:
    guard = tidegate.Guard(mode="monitor")
    client = guard.wrap(openai_client(upstream_url))
    prompt = [{"role": "user", "content": f"{EMAIL} {KEY}"}]
    upstream.reset(Script(events=chat_stream([TEXT[:20], TEXT[20:], f" {KEY}"])))
    stream = client.chat.completions.create(model=MODEL, messages=prompt, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream) == f"{TEXT} {KEY}"
    assert sent_messages(upstream) == prompt
    assert {action for _, action in actions(guard)} == {"observe"}
    assert {policy for policy, _ in actions(guard)} == {"redact-pii", "block-secrets"}


def test_scan_responses_off_guards_only_requests(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url), scan_responses=False)
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    completion = client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == TEXT
    assert sent_messages(upstream) == USER_REDACTED


def test_responses_stream_helper_and_create(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    pieces = ["Contact me at jane.d", "oe@acme.org", " ok"]
    upstream.reset(Script(events=responses_stream(pieces)))
    with client.responses.stream(model=MODEL, input=f"hi {EMAIL}") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert deltas == ["Contact me at [EMAIL_ADDRESS]", "", " ok"]
    assert final.output_text == "Contact me at [EMAIL_ADDRESS] ok"
    assert json.loads(upstream.requests[-1]["body"])["input"] == "hi [EMAIL_ADDRESS]"
    upstream.reset(Script(events=responses_stream(["key ", KEY, " ok"])))
    with pytest.raises(tidegate.BlockedError):
        for _ in client.responses.create(model=MODEL, input="hi", stream=True):
            pass


@pytest.mark.anyio
async def test_async_chat_and_responses(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(async_openai_client(upstream_url))
    assert type(client) is openai.AsyncOpenAI
    upstream.reset(Script(events=chat_stream(["Contact me at jane.d", "oe@acme.org", " ok"])))
    stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == (
        "Contact me at [EMAIL_ADDRESS] ok"
    )
    assert sent_messages(upstream) == USER_REDACTED
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    completion = await client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    assert completion.choices[0].message.content == REDACTED
    upstream.reset(Script(events=responses_stream(["key ", KEY, " ok"])))
    received: list[str] = []
    with pytest.raises(tidegate.BlockedError) as caught:
        async for event in await client.responses.create(model=MODEL, input="hi", stream=True):
            if event.type == "response.output_text.delta":
                received.append(event.delta)
    assert caught.value.direction == "output"
    assert received == ["key "]
    with pytest.raises(tidegate.BlockedError):
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": KEY}]
        )


@pytest.mark.anyio
async def test_async_stream_block(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = tidegate.Guard().wrap(async_openai_client(upstream_url))
    upstream.reset(Script(events=chat_stream(["Here: ", KEY[:5], KEY[5:], " bye"])))
    received: list[str] = []
    stream = await client.chat.completions.create(model=MODEL, messages=USER, stream=True)  # type: ignore[arg-type]
    with pytest.raises(tidegate.BlockedError) as caught:
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Here: "
    assert isinstance(caught.value, openai.OpenAIError)


def test_wrap_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="cannot guard"):
        tidegate.Guard().wrap(object())


@pytest.mark.parametrize("ending", ["truncated", "dies"])
def test_a_key_held_at_an_abnormal_end_is_raised_as_the_block(
    upstream: ScriptedUpstream, upstream_url: str, ending: str
) -> None:
    """The held tail is evaluated when the stream breaks: a key in it is a block."""
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    events = chat_stream(["Fine. ", f"Key {KEY}"], done=False)[:-1]  # no finish, no [DONE]
    if ending == "truncated":
        upstream.reset(Script(events=events))
    else:
        upstream.reset(Script(events=[*events, chunk("more")], die_after=len(events)))
    received: list[str] = []
    with pytest.raises(tidegate.BlockedError) as caught:
        for event in client.chat.completions.create(model=MODEL, messages=USER, stream=True):  # type: ignore[arg-type]
            received.append(event.choices[0].delta.content or "")
    assert caught.value.direction == "output"
    assert "".join(received) == "Fine. "


def test_the_own_http_clients_settings_still_apply(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    seen: list[str] = []
    own = httpx2.Client(
        headers={"x-team": "blue"},
        params={"tenant": "7"},
        event_hooks={"request": [lambda request: seen.append(str(request.url))]},
    )
    client = tidegate.Guard().wrap(openai_client(upstream_url, http_client=own))
    upstream.reset(Script(json_body=chat_completion("hi")))
    client.chat.completions.create(model=MODEL, messages=USER)  # type: ignore[arg-type]
    request = upstream.requests[-1]
    assert request["headers"]["x-team"] == "blue"
    assert request["query_string"] == b"tenant=7"
    assert seen == [upstream_url + "/chat/completions?tenant=7"]
    assert json.loads(request["body"])["messages"] == USER_REDACTED


def test_responses_non_streamed(upstream: ScriptedUpstream, upstream_url: str) -> None:
    from tests.support.recorded import _response

    part = {"type": "output_text", "annotations": [], "text": TEXT}
    message = {"id": "msg_1", "type": "message", "status": "completed", "role": "assistant",
               "content": [part]}  # fmt: skip
    client = tidegate.Guard().wrap(openai_client(upstream_url))
    upstream.reset(Script(json_body=_response("completed", [message])))
    response = client.responses.create(model=MODEL, input=[{"role": "user", "content": EMAIL}])
    assert response.output_text == REDACTED
    assert json.loads(upstream.requests[-1]["body"])["input"][0]["content"] == "[EMAIL_ADDRESS]"
