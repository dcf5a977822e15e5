"""The real openai SDK streams SmolLM2 output through a real ``tidegate serve``."""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import openai
import pytest

from tests.e2e.conftest import start_gateway, stop_gateway

pytestmark = pytest.mark.e2e

PROMPT = [{"role": "user", "content": "Name three colours of the rainbow."}]
PARAMS: dict[str, Any] = {"model": "smollm2", "temperature": 0, "seed": 7, "max_tokens": 40}


def stream_deltas(base_url: str) -> list[str]:
    client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
    stream = client.chat.completions.create(messages=PROMPT, stream=True, **PARAMS)  # type: ignore[call-overload]
    return [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]


def test_streamed_text_and_deltas_equal_direct(model_url: str, gateway_url: str) -> None:
    direct = stream_deltas(model_url)
    through = stream_deltas(gateway_url + "/v1")
    assert len(direct) > 5
    assert through == direct  # same text, and the same number of deltas: nothing merged


@pytest.mark.anyio
async def test_async_sdk_streams_through_gateway(model_url: str, gateway_url: str) -> None:
    client = openai.AsyncOpenAI(base_url=gateway_url + "/v1", api_key="unused", max_retries=0)
    stream = await client.chat.completions.create(messages=PROMPT, stream=True, **PARAMS)  # type: ignore[call-overload]
    deltas = [
        c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content
    ]
    await client.close()
    assert deltas == stream_deltas(model_url)


def test_non_streamed_text_equals_direct(model_url: str, gateway_url: str) -> None:
    def complete(base_url: str) -> str:
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)
        result = client.chat.completions.create(messages=PROMPT, **PARAMS)  # type: ignore[call-overload]
        return str(result.choices[0].message.content)

    direct = complete(model_url)
    assert direct
    assert complete(gateway_url + "/v1") == direct


def test_models_and_readiness(gateway_url: str) -> None:
    assert httpx.get(gateway_url + "/readyz").status_code == 200
    client = openai.OpenAI(base_url=gateway_url + "/v1", api_key="unused")
    assert [m.id for m in client.models.list()] == ["smollm2-135m-instruct"]


def _port_open(url: str) -> bool:
    host, port = url.split("//")[1].split("/")[0].split(":")
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


def test_serve_without_upstream_manages_embedded_model() -> None:
    pytest.importorskip("llama_cpp")
    process, url = start_gateway()
    try:
        deltas = stream_deltas(url + "/v1")
        assert deltas
    finally:
        log = stop_gateway(process)
    assert "embedded_model_ready" in log
    assert "embedded_model_stopped" in log
    model_url = next(line for line in log.splitlines() if "embedded_model_ready" in line)
    base_url = model_url.split('"base_url": "')[1].split('"')[0]
    assert not _port_open(base_url)  # the child server is gone


def test_embedded_model_dies_with_a_killed_gateway() -> None:
    pytest.importorskip("llama_cpp")
    process, _ = start_gateway()
    process.kill()  # SIGKILL: no chance to clean up
    log = stop_gateway(process)
    line = next(line for line in log.splitlines() if "embedded_model_ready" in line)
    base_url = line.split('"base_url": "')[1].split('"')[0]
    deadline = time.monotonic() + 10
    while _port_open(base_url) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _port_open(base_url)
