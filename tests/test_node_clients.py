"""The official Node SDKs (openai, @anthropic-ai/sdk) stream through tidegate too."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GatewayFactory
from tests.support.recorded import EMAIL, KEY, anthropic_stream
from tests.support.upstream import Script, ScriptedUpstream, chat_stream

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module")
def node() -> str:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are required for the Node SDK tests")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
            timeout=600,
        )
    return node


def run_client(node: str, url: str, scenario: str) -> dict[str, object]:
    result = subprocess.run(
        [node, "clients.mjs", url, scenario],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    parsed: dict[str, object] = json.loads(result.stdout)
    return parsed


@pytest.fixture
def multi(make_gateway: GatewayFactory, upstream_url: str):  # type: ignore[no-untyped-def]
    config = {
        "upstreams": [
            {"name": "oai", "base_url": upstream_url},
            {"name": "claude", "base_url": upstream_url, "format": "anthropic"},
        ]
    }
    with make_gateway(config) as url:
        yield url


def test_node_openai_sdk_redaction_and_block(
    node: str, upstream: ScriptedUpstream, multi: str
) -> None:
    upstream.reset(Script(events=chat_stream(["mail ", EMAIL[:5], EMAIL[5:], " ok"])))
    assert run_client(node, multi, "openai") == {"text": "mail [EMAIL_ADDRESS] ok", "error": None}
    upstream.reset(Script(events=chat_stream(["key ", KEY, " end"])))
    out = run_client(node, multi, "openai")
    error = out["error"]
    assert isinstance(error, dict) and "block-secrets" in str(error["message"])
    assert KEY[:4] not in str(out["text"])


def test_node_openai_sdk_sees_content_filter_then_the_error(
    node: str, upstream: ScriptedUpstream, multi: str
) -> None:
    upstream.reset(Script(events=chat_stream(["key ", KEY, " end"])))
    out = run_client(node, multi, "openai-finish")
    assert out["text"] == "key " and out["finish"] == ["content_filter"]
    error = out["error"]
    assert isinstance(error, dict) and "block-secrets" in str(error["message"])


def test_node_anthropic_sdk_redaction_and_block(
    node: str, upstream: ScriptedUpstream, multi: str
) -> None:
    upstream.reset(Script(events=anthropic_stream(["mail ", EMAIL[:5], EMAIL[5:], " ok"])))
    assert run_client(node, multi, "anthropic") == {
        "text": "mail [EMAIL_ADDRESS] ok",
        "error": None,
    }
    upstream.reset(Script(events=anthropic_stream(["key ", KEY, " end"])))
    out = run_client(node, multi, "anthropic")
    error = out["error"]
    assert isinstance(error, dict) and "block-secrets" in str(error["message"])
    assert KEY[:4] not in str(out["text"])
