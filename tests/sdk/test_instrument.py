"""``tidegate.instrument`` / ``uninstrument`` on the real SDK classes."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

import anthropic
import openai
import pytest

import tidegate
from tests.sdk.conftest import (
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
    async_openai_client,
    openai_client,
)
from tests.support.recorded import anthropic_stream
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream

pytestmark = pytest.mark.usefixtures("no_instrumentation")
CLASSES = (openai.OpenAI, openai.AsyncOpenAI, anthropic.Anthropic, anthropic.AsyncAnthropic)


def sent_messages(upstream: ScriptedUpstream) -> Any:
    return json.loads(upstream.requests[-1]["body"])["messages"]


def chat_text(client: openai.OpenAI) -> str:
    completion = client.chat.completions.create(model="m", messages=USER)  # type: ignore[arg-type]
    return completion.choices[0].message.content or ""


def test_instrument_guards_clients_made_before_and_after(
    upstream: ScriptedUpstream, upstream_url: str, root: str
) -> None:
    before = openai_client(upstream_url)
    guard = tidegate.instrument()
    after = openai_client(upstream_url)
    for client in (before, after):
        upstream.reset(Script(json_body=chat_completion(TEXT)))
        assert chat_text(client) == REDACTED
        assert sent_messages(upstream) == USER_REDACTED
    upstream.reset(Script(events=anthropic_stream(["Here: ", KEY, " more"])))
    with pytest.raises(tidegate.BlockedError):  # noqa: SIM117
        with anthropic_client(root).messages.stream(model="m", max_tokens=9, messages=USER) as s:  # type: ignore[arg-type]
            s.until_done()
    assert ("block-secrets", "block") in actions(guard)


def test_uninstrument_restores_the_originals(upstream: ScriptedUpstream, upstream_url: str) -> None:
    client = openai_client(upstream_url)
    own = client._client
    tidegate.instrument()
    assert client._client is not own and all("_client" in vars(cls) for cls in CLASSES)
    copy = client.with_options(timeout=5)  # made while instrumented
    assert tidegate.uninstrument() is True
    assert not any("_client" in vars(cls) for cls in CLASSES)
    assert client._client is own
    assert copy._client is own  # the copy shares the own client, not a guarded one
    for c in (client, copy):
        upstream.reset(Script(json_body=chat_completion(TEXT)))
        assert chat_text(c) == TEXT
        assert sent_messages(upstream) == USER
    assert tidegate.uninstrument() is False


def test_monitor_mode_and_responses_off(upstream: ScriptedUpstream, upstream_url: str) -> None:
    guard = tidegate.instrument(mode="monitor")
    assert guard.mode == "monitor"
    client = openai_client(upstream_url)
    upstream.reset(Script(events=chat_stream([TEXT, f" {KEY}"])))
    stream = client.chat.completions.create(model="m", messages=USER, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream) == f"{TEXT} {KEY}"
    assert sent_messages(upstream) == USER
    assert {a for _, a in actions(guard)} == {"observe"}
    tidegate.instrument(scan_responses=False)  # replaces the previous instrumentation
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    assert chat_text(client) == TEXT
    assert sent_messages(upstream) == USER_REDACTED


def test_wrap_wins_over_instrument(upstream: ScriptedUpstream, upstream_url: str) -> None:
    instrumented = tidegate.instrument()
    watcher = tidegate.Guard(mode="monitor")
    client = watcher.wrap(openai_client(upstream_url))
    upstream.reset(Script(json_body=chat_completion(TEXT)))
    assert chat_text(client) == TEXT  # guarded once, by the wrap's monitor guard
    assert instrumented.audit.events() == []
    assert len(watcher.audit.events()) == 3  # the prompt's address; the answer's two values


@pytest.mark.anyio
async def test_async_clients_are_instrumented(
    upstream: ScriptedUpstream, upstream_url: str, root: str
) -> None:
    tidegate.instrument(config={"policies": [{"name": "no-mail", "detectors": ["email"]}]})
    upstream.reset(Script(json_body=anthropic_message("hi")))
    with pytest.raises(tidegate.BlockedError) as caught:
        await async_anthropic_client(root).messages.create(model="m", max_tokens=9, messages=USER)  # type: ignore[arg-type]
    assert caught.value.policy == "no-mail"
    assert upstream.requests == []
    upstream.reset(Script(json_body=chat_completion(f"write to {EMAIL}")))
    with pytest.raises(tidegate.BlockedError):
        await async_openai_client(upstream_url).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )


def test_close_closes_the_own_client(upstream_url: str) -> None:
    client = openai_client(upstream_url)
    own = client._client
    tidegate.instrument()
    client.close()
    assert own.is_closed and client.is_closed()


def test_guard_and_config_are_exclusive() -> None:
    with pytest.raises(ValueError, match="either"):
        tidegate.instrument(mode="monitor", guard=tidegate.Guard())


def test_instrumented_clients_are_not_kept_alive(upstream_url: str) -> None:
    tidegate.instrument()
    refs = []
    for _ in range(3):
        client = openai_client(upstream_url)
        refs.append((weakref.ref(client), weakref.ref(client._client.inner)))
        del client
    gc.collect()
    assert [(c(), own()) for c, own in refs] == [(None, None)] * 3


def test_the_promptguard_instrumentation_snippet(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    """PromptGuard's ``init(mode, scan_responses)`` snippet, with tidegate's names."""
    tidegate.instrument(mode="enforce", scan_responses=True)
    client = openai.OpenAI(base_url=upstream_url, api_key="sk-test", max_retries=0)
    upstream.reset(Script(events=chat_stream(["Sure: ", KEY, " done"])))
    printed: list[str] = []
    try:
        stream = client.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": "Hello"}], stream=True
        )
        for chunk in stream:
            content = chunk.choices[0].delta.content or ""
            printed.append(content)
        printed.append("\n\nStream completed safely!")
    except tidegate.BlockedError as e:
        printed.append(f"\n\nResponse contained: {e.decision.threat_type}")
    assert "".join(printed) == "Sure: \n\nResponse contained: AWS_ACCESS_KEY"
