"""``/v1/completions``, ``/v1/embeddings``, ``/v1/moderations``: gateway and SDK."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from hypothesis import HealthCheck, given, settings

import tidegate
from tests.support.recorded import CARD, EMAIL, KEY, TEXT, leaked, one_shot, splits
from tests.support.upstream import Script, ScriptedUpstream
from tidegate.sdk.transport import is_guarded


def completion_chunk(
    text: str | None = None, *, index: int = 0, finish: str | None = None
) -> bytes:
    obj: dict[str, Any] = {
        "id": "cmpl-test",
        "object": "text_completion",
        "created": 1700000000,
        "model": "scripted",
        "choices": [
            {"text": text or "", "index": index, "logprobs": None, "finish_reason": finish}
        ],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def completion_stream(pieces: list[str]) -> list[bytes]:
    return [*map(completion_chunk, pieces), completion_chunk(finish="stop"), b"data: [DONE]\n\n"]


def completion_body(text: str) -> dict[str, Any]:
    return {
        "id": "cmpl-test",
        "object": "text_completion",
        "created": 1700000000,
        "model": "scripted",
        "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5, 0.125]}],
    "model": "scripted",
    "usage": {"prompt_tokens": 3, "total_tokens": 3},
}
MODERATION = {
    "id": "modr-1",
    "model": "omni-moderation-latest",
    "results": [{"flagged": False, "categories": {"violence": False}}],
}


def sent(upstream: ScriptedUpstream) -> Any:
    return json.loads(upstream.requests[-1]["body"])


@pytest.fixture(params=["gateway", "sdk"])
def client(request: pytest.FixtureRequest, gateway: str, upstream_url: str) -> openai.OpenAI:
    """The openai SDK through the gateway, or wrapped in process."""
    if request.param == "gateway":
        return openai.OpenAI(base_url=gateway + "/v1", api_key="k", max_retries=0)
    return tidegate.Guard().wrap(openai.OpenAI(base_url=upstream_url, api_key="k", max_retries=0))


def blocked(client: openai.OpenAI, *, streaming: bool = False) -> type[Exception]:
    """What a block raises: BlockedError in process; the SDK's error from the gateway."""
    if is_guarded(client._client):
        return tidegate.BlockedError
    return openai.APIError if streaming else openai.BadRequestError


def test_completions_prompt_and_output(upstream: ScriptedUpstream, client: openai.OpenAI) -> None:
    upstream.reset(Script(json_body=completion_body(TEXT)))
    answer = client.completions.create(model="m", prompt=[f"mail {EMAIL}", "ok"])
    assert answer.choices[0].text == one_shot(TEXT)
    assert sent(upstream)["prompt"] == ["mail [EMAIL_ADDRESS]", "ok"]
    upstream.reset(Script(events=completion_stream(["Contact jane.d", "oe@acme.org", " ok"])))
    stream = client.completions.create(model="m", prompt="hi", stream=True)
    assert [c.choices[0].text for c in stream] == ["Contact [EMAIL_ADDRESS]", "", " ok", ""]


def test_completions_block(upstream: ScriptedUpstream, client: openai.OpenAI) -> None:
    upstream.reset(Script(events=completion_stream(["key ", KEY, " end"])))
    texts: list[str] = []
    with pytest.raises(blocked(client, streaming=True)):
        for c in client.completions.create(model="m", prompt="hi", stream=True):
            texts.append(c.choices[0].text)
    assert "".join(texts) == "key "
    with pytest.raises(blocked(client)):
        client.completions.create(model="m", prompt=f"key {KEY}")


def test_gateway_completions_content_filter(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=completion_stream(["key ", KEY, " end"])))
    sdk = openai.OpenAI(base_url=gateway + "/v1", api_key="k", max_retries=0)
    finishes: list[str | None] = []
    with pytest.raises(openai.APIError, match="block-secrets"):
        for c in sdk.completions.create(model="m", prompt="hi", stream=True):
            finishes.append(c.choices[0].finish_reason)
            assert c.object == "text_completion"
    assert finishes[-1] == "content_filter"


@settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=splits(TEXT))
def test_completions_zero_leak(
    upstream: ScriptedUpstream, upstream_url: str, pieces: list[str]
) -> None:
    client = tidegate.Guard().wrap(openai.OpenAI(base_url=upstream_url, api_key="k"))
    upstream.reset(Script(events=completion_stream(pieces)))
    texts = [
        c.choices[0].text for c in client.completions.create(model="m", prompt="hi", stream=True)
    ]
    assert "".join(texts) == one_shot(TEXT)
    assert leaked("".join(texts), EMAIL, CARD) == set()


def test_embeddings_input_is_guarded(upstream: ScriptedUpstream, client: openai.OpenAI) -> None:
    upstream.reset(Script(json_body=EMBEDDINGS))
    result = client.embeddings.create(model="m", input=[f"customer {EMAIL}", "plain"])
    assert result.data[0].embedding == [0.25, -0.5, 0.125]
    assert sent(upstream)["input"] == ["customer [EMAIL_ADDRESS]", "plain"]
    upstream.reset(Script(json_body=EMBEDDINGS))
    with pytest.raises(blocked(client)):
        client.embeddings.create(model="m", input=f"key {KEY}")
    assert upstream.requests == []


def test_moderations_are_relayed_as_is(upstream: ScriptedUpstream, client: openai.OpenAI) -> None:
    upstream.reset(Script(json_body=MODERATION))
    text = f"is this ok? {EMAIL} {KEY}"
    result = client.moderations.create(input=text)
    assert result.results[0].flagged is False
    assert sent(upstream)["input"] == text
