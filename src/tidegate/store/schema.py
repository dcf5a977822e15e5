"""The audit schema, its migrations, and every SQL statement on it.

tidegate creates and migrates the schema itself: ``tidegate_schema_version``
holds one row per applied migration, and :func:`migrate` applies the missing
ones in one transaction that no other process runs at the same time (several
gateway workers may start together). The same SQL text serves SQLite and
PostgreSQL: types are ``TEXT``, ``INTEGER``, ``BIGINT`` and ``DOUBLE
PRECISION`` (SQLite maps them to its affinities), timestamps are ISO 8601 UTC
text (see :mod:`tidegate.store.records`), and ``INSERT … ON CONFLICT DO
NOTHING`` (SQLite 3.24+, PostgreSQL 9.5+) makes a retried batch harmless.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tidegate.store.database import Database, StoreError, fetch_dicts
from tidegate.store.records import EVENT_COLUMNS, REQUEST_COLUMNS, iso_utc

EVENTS = "tidegate_audit_events"
REQUESTS = "tidegate_audit_requests"
VERSIONS = "tidegate_schema_version"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # version 1
        f"""CREATE TABLE {EVENTS} (
            event_id TEXT PRIMARY KEY,
            request_id TEXT,
            ts TEXT NOT NULL,
            direction TEXT NOT NULL,
            route TEXT,
            upstream TEXT,
            model TEXT,
            policy TEXT NOT NULL,
            action TEXT NOT NULL,
            detector TEXT NOT NULL,
            entity_type TEXT NOT NULL,
            channel TEXT NOT NULL,
            span_start INTEGER NOT NULL,
            span_end INTEGER NOT NULL,
            score DOUBLE PRECISION NOT NULL
        )""",
        f"CREATE INDEX {EVENTS}_ts ON {EVENTS} (ts)",
        f"CREATE INDEX {EVENTS}_request ON {EVENTS} (request_id)",
        f"""CREATE TABLE {REQUESTS} (
            request_id TEXT PRIMARY KEY,
            ts TEXT NOT NULL,
            route TEXT NOT NULL,
            format TEXT NOT NULL,
            upstream TEXT,
            model TEXT,
            key_name TEXT,
            status INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            policy TEXT,
            error TEXT,
            duration_ms DOUBLE PRECISION NOT NULL,
            ttft_ms DOUBLE PRECISION,
            deltas_in BIGINT NOT NULL,
            deltas_out BIGINT NOT NULL,
            chars_in BIGINT NOT NULL,
            chars_out BIGINT NOT NULL,
            findings INTEGER NOT NULL
        )""",
        f"CREATE INDEX {REQUESTS}_ts ON {REQUESTS} (ts)",
    ),
)
"""Migration ``i`` (1-based) is ``MIGRATIONS[i - 1]``: its statements, in order."""

SCHEMA_VERSION = len(MIGRATIONS)

MAX_LIMIT = 1000
"""Most events one query returns (``limit``)."""

_CREATE_VERSIONS = (
    f"CREATE TABLE IF NOT EXISTS {VERSIONS} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
)


def _insert(table: str, columns: Sequence[str]) -> str:
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING"


INSERT_EVENT = _insert(EVENTS, EVENT_COLUMNS)
INSERT_REQUEST = _insert(REQUESTS, REQUEST_COLUMNS)


def migrate(db: Database) -> int:
    """Create or upgrade the schema to :data:`SCHEMA_VERSION`.

    Returns:
        The schema version now in the database.

    Raises:
        StoreError: The database cannot be reached, or its schema is newer
            than this tidegate knows.
    """
    conn = db.connect()
    try:
        with db.exclusive(conn):
            cur = conn.cursor()
            cur.execute(_CREATE_VERSIONS)
            cur.execute(f"SELECT MAX(version) FROM {VERSIONS}")
            current = cur.fetchone()[0] or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the audit database has schema version {current}; this tidegate "
                    f"knows up to {SCHEMA_VERSION}"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version - 1]:
                    cur.execute(statement)
                cur.execute(
                    db.sql(f"INSERT INTO {VERSIONS} (version, applied_at) VALUES (?, ?)"),
                    (version, iso_utc(time.time())),
                )
            cur.close()
        return max(current, SCHEMA_VERSION)
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot migrate the audit schema: {type(exc).__name__}: {exc}") from None
    finally:
        conn.close()


def delete_older_than(db: Database, conn: Any, cutoff_iso: str) -> None:
    """Delete events and requests recorded before ``cutoff_iso`` (retention)."""
    with db.transaction(conn):
        cur = conn.cursor()
        cur.execute(db.sql(f"DELETE FROM {EVENTS} WHERE ts < ?"), (cutoff_iso,))
        cur.execute(db.sql(f"DELETE FROM {REQUESTS} WHERE ts < ?"), (cutoff_iso,))
        cur.close()


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters of an event query; each one given narrows the result.

    Attributes:
        since: Lower bound on ``ts`` (ISO 8601 UTC, see ``parse_since``).
        policy: Exact policy name.
        action: Exact action (``observe``, ``redact``, ``block``, ``block_recorded``).
        request_id: Exact request ID.
        limit: Most events returned: the newest ones.
    """

    since: str | None = None
    policy: str | None = None
    action: str | None = None
    request_id: str | None = None
    limit: int = 100


def query_events(db: Database, query: EventQuery) -> list[dict[str, Any]]:
    """The newest events matching ``query``, oldest first.

    Raises:
        StoreError: The database cannot be read.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, value, op in (
        ("ts", query.since, ">="),
        ("policy", query.policy, "="),
        ("action", query.action, "="),
        ("request_id", query.request_id, "="),
    ):
        if value is not None:
            where.append(f"{column} {op} ?")
            params.append(value)
    text = f"SELECT {', '.join(EVENT_COLUMNS)} FROM {EVENTS}"
    if where:
        text += " WHERE " + " AND ".join(where)
    text += " ORDER BY ts DESC, event_id DESC LIMIT ?"
    params.append(query.limit)
    rows = _read(db, text, params)
    rows.reverse()
    return rows


def get_request(db: Database, request_id: str) -> dict[str, Any] | None:
    """One request record with its events (key ``events``), or None.

    Raises:
        StoreError: The database cannot be read.
    """
    rows = _read(
        db,
        f"SELECT {', '.join(REQUEST_COLUMNS)} FROM {REQUESTS} WHERE request_id = ?",
        [request_id],
    )
    events = query_events(db, EventQuery(request_id=request_id, limit=10_000))
    if not rows and not events:
        return None
    record: dict[str, Any] = rows[0] if rows else {"request_id": request_id}
    record["events"] = events
    return record


def count_rows(db: Database, table: str) -> int:
    """How many rows ``table`` holds (tests and diagnostics)."""
    rows = _read(db, f"SELECT COUNT(*) AS n FROM {table}", [])
    return int(rows[0]["n"])


def _read(db: Database, text: str, params: list[Any]) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    conn = db.connect()
    try:
        return fetch_dicts(db, conn, text, params)
    except StoreError:
        raise
    except Exception as exc:
        if _missing_table(exc):
            return []  # nothing was ever written: no schema yet
        raise StoreError(f"cannot read the audit database: {type(exc).__name__}") from None
    finally:
        conn.close()


def _missing_table(exc: Exception) -> bool:
    text = str(exc)
    return "no such table" in text or "does not exist" in text
