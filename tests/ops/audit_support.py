"""Helpers of the audit store tests."""

from __future__ import annotations

from typing import Any

from tests.support.upstream import wait_until
from tidegate.ops.config import AuditConfig
from tidegate.store.database import Database, fetch_dicts, open_database
from tidegate.store.schema import EVENTS, REQUESTS, get_request


def database(audit: dict[str, Any]) -> Database:
    """The database an ``audit`` config section names."""
    db = open_database(AuditConfig.model_validate(audit))
    assert db is not None
    return db


def wait_for_request(db: Database, request_id: str, *, events: int = 0) -> dict[str, Any]:
    """The request's record once it and at least ``events`` of its events are written."""
    box: list[dict[str, Any] | None] = [None]

    def written() -> bool:
        box[0] = get_request(db, request_id)
        found = box[0]
        return found is not None and "outcome" in found and len(found["events"]) >= events

    assert wait_until(written, timeout=10), f"request {request_id} not written: {box[0]}"
    assert box[0] is not None
    return box[0]


def dump(db: Database) -> str:
    """Every row of both audit tables, as text."""
    conn = db.connect()
    try:
        rows = fetch_dicts(db, conn, f"SELECT * FROM {EVENTS}", [])
        rows += fetch_dicts(db, conn, f"SELECT * FROM {REQUESTS}", [])
    finally:
        conn.close()
    return repr(rows)
