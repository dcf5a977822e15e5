"""``GET /metrics`` after real streams through a real gateway, parsed with prometheus-client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import GatewayFactory
from tests.support.metrics import Scrape, delta
from tests.support.upstream import (
    Script,
    ScriptedUpstream,
    chat_completion,
    chat_stream,
    wait_until,
)
from tidegate.store.database import SQLiteDatabase
from tidegate.store.schema import get_request

ROUTE = "/v1/chat/completions"
SECRET = "AKIAZ7VRSQ4TXLQ2BD5W"
EMAIL = "jane.doe@example.com"
MESSAGES = [{"role": "user", "content": "hi"}]
CHAT = {"route": ROUTE, "format": "openai"}


@pytest.fixture
def gw(make_gateway: GatewayFactory, tmp_path: Path) -> Iterator[str]:
    with make_gateway() as url:
        yield url


def stream(url: str, body: dict[str, Any] | None = None) -> httpx.Response:
    """A streamed completion, read to the end; ``.content`` is what the client got."""
    r = httpx.post(
        url + ROUTE, json=body or {"model": "m", "messages": MESSAGES, "stream": True}, timeout=10
    )
    return r


def settled(url: str, name: str, value: float, **labels: str) -> Scrape:
    """Scrape until ``name{labels}`` reaches ``value`` (the request's end is recorded
    right after its last byte, so a scrape can overtake it); return that scrape."""
    box: list[Scrape] = []

    def check() -> bool:
        box.append(Scrape.of(url))
        return box[-1].value(name, **labels) >= value

    wait_until(check, timeout=5)
    return box[-1]


def record(tmp_path: Path, request_id: str) -> dict[str, Any]:
    """The request's record in the gateway's SQLite store (waits for the writer)."""
    db = SQLiteDatabase(tmp_path / "audit.db")
    box: list[dict[str, Any] | None] = [None]

    def check() -> bool:
        box[0] = get_request(db, request_id)
        return box[0] is not None and "outcome" in box[0]

    assert wait_until(check, timeout=5), "request record never written"
    assert box[0] is not None
    return box[0]


def test_redacted_stream(upstream: ScriptedUpstream, gw: str, tmp_path: Path) -> None:
    events = chat_stream(["Email jane", ".doe@exa", "mple.com now", "."])
    upstream.reset(Script(events=events))
    before = Scrape.of(gw)
    r = stream(gw)
    assert EMAIL not in r.text and "[EMAIL_ADDRESS]" in r.text
    after = settled(gw, "tidegate_requests_total", 1, **CHAT, status="200")

    assert delta(before, after, "tidegate_requests_total", **CHAT, status="200") == 1
    finding = {"detector": "email", "entity_type": "EMAIL_ADDRESS", "direction": "output"}
    assert delta(before, after, "tidegate_findings_total", **finding, action="redact") == 1
    assert delta(before, after, "tidegate_stream_bytes_processed_total", direction="upstream") == (
        sum(map(len, events))
    )
    assert delta(before, after, "tidegate_stream_bytes_processed_total", direction="client") == len(
        r.content
    )
    assert delta(before, after, "tidegate_stream_duration_seconds_count") == 1
    assert delta(before, after, "tidegate_ttft_seconds_count", stage="upstream") == 1
    assert delta(before, after, "tidegate_ttft_seconds_count", stage="client") == 1
    assert after.value("tidegate_streams_active", **CHAT) == 0
    assert after.total("tidegate_stream_terminations_total") == 0
    rec = record(tmp_path, r.headers["x-tidegate-request-id"])
    assert rec["outcome"] == "completed" and rec["findings"] == 1
    assert delta(before, after, "tidegate_stream_tokens_sum") == rec["deltas_in"]
    assert (
        delta(before, after, "tidegate_guard_added_seconds_count", unit="delta")
        == (rec["deltas_in"])
    )
    assert delta(before, after, "tidegate_guard_added_seconds_count", unit="request") == 1
    assert delta(before, after, "tidegate_holdback_chars_count") == 1
    assert after.value("tidegate_holdback_chars_sum") > 0  # the email's prefix was held
    evals = delta(
        before,
        after,
        "tidegate_stream_evaluations_total",
        policy="redact-pii",
        strategy="continuous",
    )
    assert evals >= rec["deltas_in"]  # continuous: every delta, then each channel's end
    assert evals == delta(
        before,
        after,
        "tidegate_stream_evaluations_total",
        policy="block-secrets",
        strategy="continuous",
    )
    assert EMAIL not in after.text and "jane" not in after.text


def test_blocked_stream(upstream: ScriptedUpstream, gw: str) -> None:
    upstream.reset(Script(events=chat_stream(["key ", SECRET, " done"])))
    before = Scrape.of(gw)
    r = stream(gw)
    assert "output_blocked" in r.text and SECRET not in r.text
    after = settled(gw, "tidegate_requests_total", 1, **CHAT, status="200")
    assert delta(before, after, "tidegate_requests_total", **CHAT, status="200") == 1
    terminations = "tidegate_stream_terminations_total"
    assert delta(before, after, terminations, policy="block-secrets", reason="output_blocked") == 1
    assert after.total(terminations) == 1
    finding = {"detector": "aws_access_key", "entity_type": "AWS_ACCESS_KEY"}
    assert (
        delta(
            before, after, "tidegate_findings_total", **finding, action="block", direction="output"
        )
        == 1
    )
    assert after.total("tidegate_stream_errors_total") == 0
    assert after.value("tidegate_streams_active", **CHAT) == 0
    assert SECRET not in after.text


def test_client_disconnect(upstream: ScriptedUpstream, gw: str) -> None:
    release = threading.Event()
    upstream.reset(
        Script(
            events=chat_stream([f"piece {i} " for i in range(20)]),
            gate=lambda k: None if k < 3 else release.wait(10),
        )
    )
    before = Scrape.of(gw)
    with httpx.stream(
        "POST", gw + ROUTE, json={"model": "m", "messages": MESSAGES, "stream": True}
    ) as r:
        chunks = r.iter_raw()
        next(chunks)  # the stream is open (breaking out of a for loop would close it)
        during = Scrape.of(gw)
        assert during.value("tidegate_streams_active", **CHAT) == 1
    assert upstream.disconnected.wait(5)  # the gateway cancelled the upstream request
    release.set()
    name = "tidegate_stream_terminations_total"
    after = settled(gw, name, 1, policy="none", reason="client_disconnected")
    assert delta(before, after, name, policy="none", reason="client_disconnected") == 1
    assert after.total(name) == 1
    assert after.value("tidegate_streams_active", **CHAT) == 0
    assert delta(before, after, "tidegate_requests_total", **CHAT, status="200") == 1


def test_upstream_failure_mid_stream(upstream: ScriptedUpstream, gw: str) -> None:
    upstream.reset(Script(events=chat_stream(["one ", "two ", "three"]), die_after=2))
    before = Scrape.of(gw)
    r = stream(gw)
    assert "upstream_protocol_error" in r.text
    after = settled(gw, "tidegate_requests_total", 1, **CHAT, status="200")
    name = "tidegate_stream_terminations_total"
    assert delta(before, after, name, policy="none", reason="upstream_failed") == 1
    assert after.total(name) == 1
    errors = "tidegate_stream_errors_total"
    assert delta(before, after, errors, error_type="upstream_protocol_error") == 1
    kind = {"upstream": "default", "kind": "upstream_protocol_error"}
    assert delta(before, after, "tidegate_upstream_errors_total", **kind) == 1


def test_non_streamed_answers(upstream: ScriptedUpstream, gw: str) -> None:
    before = Scrape.of(gw)
    upstream.reset(Script(status=503, json_body={"error": {"message": "overloaded"}}))
    assert httpx.post(gw + ROUTE, json={"model": "m", "messages": MESSAGES}).status_code == 503
    upstream.reset(Script(json_body=chat_completion("fine")))
    assert httpx.post(gw + ROUTE, json={"model": "m", "messages": MESSAGES}).status_code == 200
    blocked = [{"role": "user", "content": f"my key is {SECRET}"}]
    assert httpx.post(gw + ROUTE, json={"model": "m", "messages": blocked}).status_code == 400
    assert httpx.post(gw + ROUTE, content=b"{not json").status_code == 400
    after = settled(gw, "tidegate_requests_total", 2, **CHAT, status="400")
    assert delta(before, after, "tidegate_requests_total", **CHAT, status="503") == 1
    assert delta(before, after, "tidegate_requests_total", **CHAT, status="200") == 1
    assert delta(before, after, "tidegate_requests_total", **CHAT, status="400") == 2
    kind = {"upstream": "default", "kind": "http_503"}
    assert delta(before, after, "tidegate_upstream_errors_total", **kind) == 1
    finding = {"detector": "aws_access_key", "entity_type": "AWS_ACCESS_KEY", "direction": "input"}
    assert delta(before, after, "tidegate_findings_total", **finding, action="block") == 1
    assert after.total("tidegate_stream_duration_seconds_count") == 0  # none was a stream
    assert SECRET not in after.text


def test_build_info_and_open_metrics_endpoint(make_gateway: GatewayFactory) -> None:
    keys = {"keys": [{"name": "alice", "sha256": "a" * 64}]}
    with make_gateway({"auth": keys}) as url:
        scrape = Scrape.of(url)  # no client key needed, like /healthz
        assert scrape.value("tidegate_build_info", version="0.1.0", python=_python()) == 1
        assert httpx.get(url + "/v1/models").status_code == 401  # other paths still need one


def test_metrics_disabled(make_gateway: GatewayFactory) -> None:
    with make_gateway({"metrics": {"enabled": False}}) as url:
        r = httpx.get(url + "/metrics")
        assert r.status_code == 404
        assert json.loads(r.text)["error"]["code"] == "not_found"


def _python() -> str:
    import platform

    return platform.python_version()
