"""The public API used as a user would, type-checked with ``mypy --strict``.

This module is in ``[tool.mypy] files``: it must type-check without a single
``type: ignore`` (the public API ships ``py.typed``). It also runs as a test.
"""

from __future__ import annotations

import anthropic
import openai
import pytest

import tidegate
from tests.sdk.conftest import EMAIL, KEY
from tests.support.upstream import Script, ScriptedUpstream, chat_stream


def redact_prompt(guard: tidegate.Guard, prompt: str) -> str | None:
    decision: tidegate.Decision[str] = guard.scan(prompt, direction="input")
    if decision.blocked:
        return None
    findings: tuple[tidegate.Finding, ...] = decision.findings
    assert all(isinstance(f.start, int) and isinstance(f.score, float) for f in findings)
    return decision.redacted_messages


def test_scan_types() -> None:
    guard = tidegate.Guard(config={"mode": "enforce"})
    assert redact_prompt(guard, f"hi {EMAIL}") == "hi [EMAIL_ADDRESS]"
    assert redact_prompt(guard, KEY) is None
    decision = guard.scan([{"role": "user", "content": f"hi {EMAIL}"}])
    messages: list[dict[str, object]] | None = decision.redacted_messages
    assert messages == [{"role": "user", "content": "hi [EMAIL_ADDRESS]"}]
    threats: tuple[str, ...] = decision.threat_types
    event_id: str | None = decision.event_id
    policy: str | None = decision.policy
    assert threats == ("EMAIL_ADDRESS",) and event_id and policy == "redact-pii"


def test_wrapped_clients_keep_their_types(upstream: ScriptedUpstream, upstream_url: str) -> None:
    guard = tidegate.Guard()
    client: openai.OpenAI = guard.wrap(openai.OpenAI(base_url=upstream_url, api_key="k"))
    other: anthropic.AsyncAnthropic = guard.wrap(anthropic.AsyncAnthropic(api_key="k"))
    assert isinstance(other, anthropic.AsyncAnthropic)
    upstream.reset(Script(events=chat_stream(["Here: ", KEY, " more"])))
    received: list[str] = []
    try:
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    except tidegate.BlockedError as error:
        policy: str | None = error.policy
        decision: tidegate.Decision[object] = error.decision
        assert policy == "block-secrets" and decision.blocked
    else:
        pytest.fail("the key was not blocked")
    assert "".join(received) == "Here: "


@pytest.mark.usefixtures("no_instrumentation")
def test_instrument_types() -> None:
    guard: tidegate.Guard = tidegate.instrument(mode="monitor", scan_responses=True)
    assert guard.mode == "monitor"
    removed: bool = tidegate.uninstrument()
    assert removed
    error: type[tidegate.TidegateError] = tidegate.BlockedError
    assert issubclass(error, Exception)
