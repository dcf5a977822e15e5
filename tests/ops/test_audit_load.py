"""200 concurrent streams, a finding in each: the store holds exactly every event."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.conftest import GatewayFactory
from tests.ops.audit_support import database
from tests.support.metrics import Scrape
from tests.support.upstream import Script, ScriptedUpstream, chat_stream, wait_until
from tidegate.store.database import fetch_dicts
from tidegate.store.schema import EVENTS, REQUESTS, count_rows

STREAMS = 200
EMAIL = "jane.doe@example.com"


async def _one(client: httpx.AsyncClient, url: str) -> tuple[int, str, str]:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with client.stream("POST", url + "/v1/chat/completions", json=body) as r:
        text = (await r.aread()).decode()
        return r.status_code, r.headers["x-tidegate-request-id"], text


async def _all(url: str) -> list[tuple[int, str, str]]:
    limits = httpx.Limits(max_connections=STREAMS, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        return await asyncio.gather(*(_one(client, url) for _ in range(STREAMS)))


def test_200_concurrent_streams_lose_no_event(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, audit_config: dict[str, Any]
) -> None:
    upstream.reset(Script(events=chat_stream(["Contact ", "jane.doe@exam", "ple.com please."])))
    started = time.monotonic()
    with make_gateway({"audit": audit_config}) as url:
        results = asyncio.run(_all(url))
        assert all(status == 200 for status, _, _ in results)
        assert all("[EMAIL_ADDRESS]" in text and EMAIL not in text for _, _, text in results)
        db = database(audit_config)
        assert wait_until(lambda: count_rows(db, REQUESTS) == STREAMS, timeout=30)
        assert Scrape.of(url).value("tidegate_audit_dropped_total") == 0
    assert time.monotonic() - started < 60
    assert count_rows(db, EVENTS) == STREAMS  # exactly one finding per stream, none lost
    conn = db.connect()
    try:
        rows = fetch_dicts(db, conn, f"SELECT request_id, findings FROM {REQUESTS}", [])
        per_request = fetch_dicts(
            db, conn, f"SELECT request_id, COUNT(*) AS n FROM {EVENTS} GROUP BY request_id", []
        )
    finally:
        conn.close()
    assert {r["request_id"] for r in rows} == {rid for _, rid, _ in results}
    assert all(r["findings"] == 1 for r in rows)
    assert sorted(int(r["n"]) for r in per_request) == [1] * STREAMS
