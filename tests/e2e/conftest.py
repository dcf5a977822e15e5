"""End-to-end fixtures: the real SmolLM2 model behind a real ``tidegate serve``.

The model server is llama-cpp-python's OpenAI-compatible server, started once
per session. These tests skip when ``tidegate[local]`` is not installed,
unless ``TIDEGATE_REQUIRE_E2E=1`` (CI sets it), where a missing model fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import free_port
from tidegate.embedded import EmbeddedModelServer
from tidegate.errors import EmbeddedModelError


@pytest.fixture(scope="session")
def model_url() -> Iterator[str]:
    server = EmbeddedModelServer(n_ctx=2048)
    try:
        url = server.start()
    except EmbeddedModelError as exc:
        if os.environ.get("TIDEGATE_REQUIRE_E2E") == "1":
            pytest.fail(f"embedded model required but unavailable: {exc.message}")
        pytest.skip(f"embedded model unavailable: {exc.message}")
    try:
        yield url
    finally:
        server.stop()


def start_gateway(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``tidegate serve`` as a real process; return it and its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tidegate.cli", "serve", "--listen", f"127.0.0.1:{port}", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"tidegate serve exited: {err}")
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("tidegate serve did not become healthy")


def stop_gateway(process: subprocess.Popen[bytes]) -> str:
    process.terminate()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err.decode()


@pytest.fixture(scope="session")
def gateway_url(model_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A pass-through gateway: no policies, so the guard hook releases each delta as is."""
    config = tmp_path_factory.mktemp("passthrough") / "tidegate.yaml"
    config.write_text("policies: []\n")
    process, url = start_gateway("--config", str(config), "--upstream", f"default={model_url}")
    try:
        yield url
    finally:
        stop_gateway(process)


@pytest.fixture(scope="session")
def guarded_gateway_url(model_url: str) -> Iterator[str]:
    """A gateway with the default policies: redact PII, block secrets."""
    process, url = start_gateway("--upstream", f"default={model_url}")
    try:
        yield url
    finally:
        stop_gateway(process)


@pytest.fixture(scope="session")
def redacting_gateway_url(
    model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Redact PII in the output only, so the model sees the real values and repeats them."""
    config = tmp_path_factory.mktemp("redact") / "tidegate.yaml"
    config.write_text(
        "policies:\n"
        "  - {name: redact-pii-output, detectors: [pii], direction: output, action: redact}\n"
        "  - {name: block-secrets, detectors: [secrets], direction: both, action: block}\n"
    )
    process, url = start_gateway("--config", str(config), "--upstream", f"default={model_url}")
    try:
        yield url
    finally:
        stop_gateway(process)
