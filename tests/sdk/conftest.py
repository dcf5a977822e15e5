"""Real SDK clients pointed at the scripted upstream (no gateway in between)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

import tidegate

EMAIL = "jane.doe@acme.org"
CARD = "4111 1111 1111 1111"
KEY = "AKIAZ3XQ7RTB2MNPLK4D"
TEXT = f"Contact me at {EMAIL} or charge {CARD} today, thanks!"
REDACTED = "Contact me at [EMAIL_ADDRESS] or charge [CREDIT_CARD] today, thanks!"
USER = [{"role": "user", "content": f"my mail is {EMAIL}"}]
USER_REDACTED = [{"role": "user", "content": "my mail is [EMAIL_ADDRESS]"}]


@pytest.fixture
def root(upstream_url: str) -> str:
    """The scripted upstream's base URL without ``/v1`` (the anthropic SDK adds it)."""
    return upstream_url.removesuffix("/v1")


def openai_client(upstream_url: str, **kwargs: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=upstream_url, api_key="sk-test", **{"max_retries": 0, **kwargs})


def async_openai_client(upstream_url: str, **kwargs: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=upstream_url, api_key="sk-test", **{"max_retries": 0, **kwargs}
    )


def anthropic_client(root: str, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=root, api_key="sk-test", **{"max_retries": 0, **kwargs})


def async_anthropic_client(root: str, **kwargs: Any) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=root, api_key="sk-test", **{"max_retries": 0, **kwargs}
    )


def anthropic_message(text: str) -> dict[str, Any]:
    """A non-streamed Messages answer."""
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 3, "output_tokens": 5},
    }


def actions(guard: tidegate.Guard) -> list[tuple[str, str]]:
    """``(policy, action)`` of every audit event, oldest first."""
    return [(e.policy, e.action) for e in guard.audit.events()]


@pytest.fixture
def no_instrumentation() -> Iterator[None]:
    """Whatever a test instruments is undone afterwards."""
    tidegate.uninstrument()
    yield
    tidegate.uninstrument()
