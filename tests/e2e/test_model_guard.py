"""The real SmolLM2 model repeats PII; through tidegate the client sees only placeholders."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tidegate.config import parse_config
from tidegate.guard.engine import GuardEngine

pytestmark = pytest.mark.e2e

VALUES = ["jane.doe@example.com", "4012 8888 8888 1881", "536-22-8726"]
MESSAGES = [
    {"role": "system", "content": "You repeat the user's text exactly."},
    {
        "role": "user",
        "content": "Copy the following line exactly, with no other words:\n"
        f"Contact: {VALUES[0]} | Card: {VALUES[1]} | SSN: {VALUES[2]}",
    },
]
PARAMS: dict[str, Any] = {"model": "smollm2", "temperature": 0, "seed": 1, "max_tokens": 60}


def stream_text(base_url: str) -> tuple[str, int]:
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
    stream = client.chat.completions.create(messages=MESSAGES, stream=True, **PARAMS)  # type: ignore[call-overload]
    deltas = [c.choices[0].delta.content or "" for c in stream if c.choices]
    return "".join(deltas), len(deltas)


def test_model_output_is_redacted_mid_stream(model_url: str, redacting_gateway_url: str) -> None:
    direct, direct_deltas = stream_text(model_url)
    for value in VALUES:  # the model really does repeat every value
        assert value in direct, direct
    through, through_deltas = stream_text(redacting_gateway_url + "/v1")
    engine = GuardEngine(parse_config({}))
    expected = engine.guard_input_text(direct)  # one-shot redaction of the same text
    assert through == expected
    for placeholder in ("[EMAIL_ADDRESS]", "[CREDIT_CARD]", "[US_SSN]"):
        assert placeholder in through
    for value in VALUES:
        fragments = {value[i : i + 4] for i in range(len(value) - 3)}
        assert not [f for f in fragments if f in through and f not in expected], value
        assert value not in through
    assert through_deltas == direct_deltas  # redaction rewrites deltas, never merges them
