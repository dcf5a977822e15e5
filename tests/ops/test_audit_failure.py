"""When the audit store is down: ``on_failure: drop`` keeps serving, ``block`` fails closed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from tests.conftest import GatewayFactory
from tests.ops.audit_support import database, wait_for_request
from tests.support.metrics import Scrape
from tests.support.postgres import PostgresServer
from tests.support.servers import free_port
from tests.support.upstream import Script, ScriptedUpstream, chat_stream, wait_until
from tidegate.logs import configure_logging

ROUTE = "/v1/chat/completions"
EMAIL = "jane.doe@example.com"
PASSWORD = "s3cret-pw-never-logged"

LogLines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """Every JSON log line written while the test runs."""
    buf = io.StringIO()
    configure_logging("info", stream=buf)
    yield lambda: [json.loads(line) for line in buf.getvalue().splitlines()]
    structlog.reset_defaults()


def _down_store(kind: str, tmp_path: Path) -> dict[str, Any]:
    if kind == "sqlite":
        return {"store": "sqlite", "path": str(tmp_path / "missing-dir" / "audit.db")}
    url = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/audit"  # nothing listens
    return {"store": "postgres", "url": url}


def _stream(url: str) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return httpx.post(url + ROUTE, json=body, timeout=10)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_drop_keeps_serving_and_counts(
    kind: str,
    upstream: ScriptedUpstream,
    make_gateway: GatewayFactory,
    tmp_path: Path,
    log_lines: LogLines,
) -> None:
    upstream.reset(Script(events=chat_stream([f"mail {EMAIL} now"])))
    with make_gateway({"audit": _down_store(kind, tmp_path)}) as url:
        for _ in range(3):
            r = _stream(url)
            assert r.status_code == 200 and "[EMAIL_ADDRESS]" in r.text
        # 3 findings + 3 request records, none persisted
        assert wait_until(lambda: Scrape.of(url).value("tidegate_audit_dropped_total") == 6)
    failing = [line for line in log_lines() if line["event"] == "audit_store_failing"]
    assert len(failing) == 1  # at most one line a minute
    assert failing[0]["level"] == "warning"
    text = json.dumps(log_lines())
    assert PASSWORD not in text and EMAIL not in text


def _block_case(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[dict[str, Any], Callable[[], None]]:
    """A store that is down, and a function that brings it up."""
    if kind == "sqlite":
        folder = tmp_path / "later"
        return {"store": "sqlite", "path": str(folder / "audit.db")}, folder.mkdir
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = "created_later"
    url = server.url(name)

    def create() -> None:
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")

    return {"store": "postgres", "url": url}, create


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_block_fails_closed_then_recovers(
    kind: str,
    upstream: ScriptedUpstream,
    make_gateway: GatewayFactory,
    upstream_url: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    audit, bring_up = _block_case(kind, tmp_path, request)
    config = {
        "audit": {**audit, "on_failure": "block"},
        "upstreams": [
            {"name": "default", "base_url": upstream_url},
            {"name": "claude", "base_url": upstream_url, "format": "anthropic"},
        ],
    }
    upstream.reset(Script(events=chat_stream(["hello"])))
    with make_gateway(config) as url:
        assert wait_until(lambda: _stream(url).status_code == 503)
        r = _stream(url)
        assert r.json()["error"]["code"] == "audit_unavailable"
        anthropic = httpx.post(
            url + "/v1/messages",
            json={"model": "c", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        )
        assert anthropic.status_code == 503
        assert anthropic.json()["type"] == "error"
        assert upstream.requests == []  # nothing went upstream
        assert httpx.get(url + "/healthz").status_code == 200

        bring_up()
        assert wait_until(lambda: _stream(url).status_code == 200, timeout=10)
        ok = _stream(url)
        assert ok.status_code == 200
        record = wait_for_request(database(audit), ok.headers["x-tidegate-request-id"])
        assert record["outcome"] == "completed"
