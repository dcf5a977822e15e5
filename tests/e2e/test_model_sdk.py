"""The real SmolLM2 model through ``guard.wrap(OpenAI(base_url=embedded))``, in process."""

from __future__ import annotations

import openai
import pytest

import tidegate
from tests.e2e.test_model_guard import MESSAGES, PARAMS, VALUES, stream_text

pytestmark = pytest.mark.e2e

OUTPUT_POLICIES = {
    "policies": [
        {
            "name": "redact-pii-output",
            "detectors": ["pii"],
            "direction": "output",
            "action": "redact",
        },
        {"name": "block-secrets", "detectors": ["secrets"], "direction": "both", "action": "block"},
    ]
}


def test_wrapped_sdk_redacts_the_models_output(model_url: str) -> None:
    direct, direct_deltas = stream_text(model_url)
    for value in VALUES:  # the model really does repeat every value
        assert value in direct, direct
    guard = tidegate.Guard(OUTPUT_POLICIES)
    client = guard.wrap(openai.OpenAI(base_url=model_url, api_key="unused", max_retries=0))
    stream = client.chat.completions.create(messages=MESSAGES, stream=True, **PARAMS)  # type: ignore[call-overload]
    deltas = [c.choices[0].delta.content or "" for c in stream if c.choices]
    through = "".join(deltas)
    assert through == guard.scan(direct, direction="output").redacted_messages
    for value in VALUES:
        assert value not in through
    assert len(deltas) == direct_deltas
    assert {e.entity_type for e in guard.audit.events()} >= {"EMAIL_ADDRESS", "CREDIT_CARD"}


def test_wrapped_sdk_blocks_a_secret_prompt_before_the_model(model_url: str) -> None:
    client = tidegate.Guard().wrap(openai.OpenAI(base_url=model_url, api_key="unused"))
    with pytest.raises(tidegate.BlockedError) as caught:
        client.chat.completions.create(
            messages=[{"role": "user", "content": "my key is AKIAZ7VRSQ4TXLQ2BD5W"}], **PARAMS
        )
    assert caught.value.direction == "input"
