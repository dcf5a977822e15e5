"""The audit store through the real gateway, against SQLite and a real PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx
import pytest

from tests.conftest import GatewayFactory
from tests.ops.audit_support import database, dump, wait_for_request
from tests.support.upstream import Script, ScriptedUpstream, chat_stream
from tidegate.audit import GuardEvent
from tidegate.auth import hash_key
from tidegate.store.database import Database, StoreError
from tidegate.store.schema import (
    EVENTS,
    REQUESTS,
    SCHEMA_VERSION,
    VERSIONS,
    EventQuery,
    count_rows,
    migrate,
    query_events,
)
from tidegate.store.writer import AuditWriter

ROUTE = "/v1/chat/completions"
EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 2671"
SECRET = "AKIAZ7VRSQ4TXLQ2BD5W"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ADMIN_KEY = "admin-key-for-tests"
CLIENT_KEY = "client-key-for-tests"


def chat(url: str, content: str, *, stream: bool = True, **headers: str) -> httpx.Response:
    body = {
        "model": "gpt-test",
        "messages": [{"role": "user", "content": content}],
        "stream": stream,
    }
    return httpx.post(url + ROUTE, json=body, headers=headers, timeout=10)


def test_events_and_request_record(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, audit_config: dict[str, Any]
) -> None:
    upstream.reset(Script(events=chat_stream(["Mail jane", ".doe@example", ".com today."])))
    with make_gateway({"audit": audit_config}) as url:
        r = chat(url, f"call me at {PHONE}")
        assert r.status_code == 200 and EMAIL not in r.text
        request_id = r.headers["x-tidegate-request-id"]
        db = database(audit_config)
        rec = wait_for_request(db, request_id, events=2)

    assert ISO.match(rec["ts"])
    assert rec["route"] == ROUTE and rec["format"] == "openai"
    assert rec["upstream"] == "default" and rec["model"] == "gpt-test"
    assert rec["key_name"] is None  # no auth configured
    assert rec["status"] == 200 and rec["outcome"] == "completed"
    assert rec["policy"] is None and rec["error"] is None
    assert rec["findings"] == 2
    assert rec["duration_ms"] > 0 and 0 < rec["ttft_ms"] <= rec["duration_ms"]
    assert rec["deltas_in"] == rec["deltas_out"] > 0
    assert rec["chars_out"] == rec["chars_in"] - len(EMAIL) + len("[EMAIL_ADDRESS]")
    inp, out = sorted(rec["events"], key=lambda e: e["direction"])
    assert inp["direction"] == "input" and inp["entity_type"] == "PHONE_NUMBER"
    assert out["direction"] == "output" and out["entity_type"] == "EMAIL_ADDRESS"
    for event in rec["events"]:
        assert event["request_id"] == request_id and event["event_id"].startswith("evt_")
        assert ISO.match(event["ts"])
        assert event["route"] == ROUTE and event["upstream"] == "default"
        assert event["model"] == "gpt-test"
        assert event["policy"] == "redact-pii" and event["action"] == "redact"
        assert event["span_end"] > event["span_start"] >= 0 and 0 < event["score"] <= 1
    assert out["detector"] == "email" and out["channel"] == "0:content"
    assert out["span_end"] - out["span_start"] == len(EMAIL)
    text = dump(db)
    assert EMAIL not in text and PHONE not in text and "jane" not in text


def test_outcomes(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, audit_config: dict[str, Any]
) -> None:
    with make_gateway({"audit": audit_config}) as url:
        db = database(audit_config)
        upstream.reset(Script(events=chat_stream(["key ", SECRET, " ok"])))
        blocked = chat(url, "hi")
        upstream.reset(Script(events=chat_stream(["one ", "two ", "three"]), die_after=2))
        failed = chat(url, "hi")
        rejected = httpx.post(url + ROUTE, content=b"{oops")
        input_blocked = chat(url, f"my key {SECRET}", stream=False)
        recs = {
            name: wait_for_request(db, r.headers["x-tidegate-request-id"])
            for name, r in [
                ("blocked", blocked),
                ("failed", failed),
                ("rejected", rejected),
                ("input_blocked", input_blocked),
            ]
        }
    assert recs["blocked"]["outcome"] == "terminated"
    assert recs["blocked"]["policy"] == "block-secrets"
    assert recs["blocked"]["error"] == "output_blocked"
    assert [e["action"] for e in recs["blocked"]["events"]] == ["block"]
    assert recs["failed"]["outcome"] == "upstream_failed"
    assert recs["failed"]["error"] == "upstream_protocol_error"
    assert recs["rejected"]["outcome"] == "rejected" and recs["rejected"]["status"] == 400
    assert recs["rejected"]["upstream"] is None
    assert recs["input_blocked"]["outcome"] == "terminated"
    assert recs["input_blocked"]["status"] == 400 and recs["input_blocked"]["ttft_ms"] is None
    assert SECRET not in dump(db)


def test_admin_endpoints(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, audit_config: dict[str, Any]
) -> None:
    config = {
        "audit": audit_config,
        "admin": {"keys": [{"name": "ops", "sha256": hash_key(ADMIN_KEY)}]},
        "auth": {"keys": [{"name": "alice", "sha256": hash_key(CLIENT_KEY)}]},
    }
    upstream.reset(Script(events=chat_stream([f"write to {EMAIL}"])))
    with make_gateway(config) as url:
        r = chat(url, "hi", authorization=f"Bearer {CLIENT_KEY}")
        request_id = r.headers["x-tidegate-request-id"]
        rec = wait_for_request(database(audit_config), request_id, events=1)
        assert rec["key_name"] == "alice"
        admin = {"authorization": f"Bearer {ADMIN_KEY}"}

        events = httpx.get(url + "/admin/events", params={"since": "1h"}, headers=admin)
        assert events.status_code == 200
        (event,) = events.json()["data"]
        assert event["request_id"] == request_id and event["detector"] == "email"
        assert EMAIL not in events.text
        none = httpx.get(url + "/admin/events", params={"action": "block"}, headers=admin)
        assert none.json() == {"object": "list", "data": []}
        by_id = httpx.get(url + f"/admin/requests/{request_id}", headers={"x-api-key": ADMIN_KEY})
        assert by_id.status_code == 200
        assert by_id.json()["outcome"] == "completed" and len(by_id.json()["events"]) == 1
        assert httpx.get(url + "/admin/requests/nope", headers=admin).status_code == 404

        bad = httpx.get(url + "/admin/events", params={"since": "yesterday"}, headers=admin)
        assert bad.status_code == 400 and "since" in bad.json()["error"]["message"]
        assert (
            httpx.get(url + "/admin/events", params={"limit": "0"}, headers=admin).status_code
            == 400
        )
        client = {"authorization": f"Bearer {CLIENT_KEY}"}
        assert httpx.get(url + "/admin/events", headers=client).status_code == 401
        assert httpx.get(url + "/admin/events").status_code == 401
        assert httpx.get(url + f"/admin/requests/{request_id}", headers=client).status_code == 401


def test_admin_is_404_without_admin_keys(make_gateway: GatewayFactory) -> None:
    with make_gateway() as url:
        r = httpx.get(url + "/admin/events", headers={"authorization": "Bearer anything"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert httpx.get(url + "/admin/requests/abc").status_code == 404


def test_schema_migration(audit_config: dict[str, Any]) -> None:
    db = database(audit_config)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            assert migrate(db) == SCHEMA_VERSION
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]  # workers starting together
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert migrate(db) == SCHEMA_VERSION
    assert count_rows(db, VERSIONS) == SCHEMA_VERSION  # each migration recorded once
    assert count_rows(db, EVENTS) == count_rows(db, REQUESTS) == 0
    conn = db.connect()
    try:
        conn.cursor().execute(db.sql(f"INSERT INTO {VERSIONS} VALUES (?, ?)"), (99, "x"))
        conn.commit()
    finally:
        conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        migrate(db)


def _event(event_id: str, age_days: float) -> GuardEvent:
    return GuardEvent(
        event_id,
        "output",
        "p",
        "observe",
        "email",
        "EMAIL_ADDRESS",
        0,
        5,
        0.9,
        "0:content",
        timestamp=time.time() - age_days * 86400,
    )


def _writer(db: Database, **kwargs: Any) -> AuditWriter:
    options: dict[str, Any] = {
        "queue_size": 100,
        "batch_size": 10,
        "on_failure": "drop",
        "retention_days": 30,
        "on_dropped": lambda n: None,
    }
    options.update(kwargs)
    return AuditWriter(db, **options)


def test_retention(audit_config: dict[str, Any]) -> None:
    db = database(audit_config)
    writer = _writer(db)
    writer.start()
    writer.put_event(_event("evt_old", 31))
    writer.put_event(_event("evt_new", 29))
    writer.close()
    assert [e["event_id"] for e in query_events(db, EventQuery())] == ["evt_old", "evt_new"]
    restarted = _writer(db)  # retention runs when the writer starts (then hourly)
    restarted.start()
    assert restarted.wait_idle()
    time.sleep(0.2)
    restarted.close()
    assert [e["event_id"] for e in query_events(db, EventQuery())] == ["evt_new"]


def test_event_query_filters(audit_config: dict[str, Any]) -> None:
    db = database(audit_config)
    writer = _writer(db)
    writer.start()
    for i in range(5):
        writer.put_event(_event(f"evt_{i}", 0.01 * (5 - i)))  # evt_4 newest
    writer.put_event(_event("evt_week", 7))
    writer.close()
    assert [e["event_id"] for e in query_events(db, EventQuery(limit=2))] == ["evt_3", "evt_4"]
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 86400))
    recent = query_events(db, EventQuery(since=since + ".000000Z"))
    assert [e["event_id"] for e in recent] == [f"evt_{i}" for i in range(5)]
    assert query_events(db, EventQuery(policy="other")) == []
