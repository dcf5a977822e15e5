"""The audit writer: a bounded queue drained in batches by one thread.

The event loop only ever calls :meth:`AuditWriter.put_event` and
:meth:`AuditWriter.put_request`, which append to a :class:`queue.Queue`
without waiting (``put_nowait``). A writer thread takes what has queued up,
at most ``batch_size`` records, and writes them in one transaction. Nothing
the database does (a slow disk, a PostgreSQL server that is down) can block
the event loop.

When a record cannot be written, what happens depends on ``on_failure``:

* ``drop``: the queue was full, or the batch failed: the records are dropped
  and counted (``on_dropped``, which feeds ``tidegate_audit_dropped_total``),
  a warning is logged at most once a minute, and the writer reconnects for
  the next batch.
* ``block``: a failed batch is kept and retried every ``retry_s`` seconds;
  meanwhile :attr:`AuditWriter.available` is false, and the gateway refuses
  new requests. Only records that do not fit in the full queue are dropped.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from tidegate.audit import GuardEvent
from tidegate.logs import get_logger
from tidegate.store.database import Database
from tidegate.store.records import RequestRecord, event_row, iso_utc
from tidegate.store.schema import INSERT_EVENT, INSERT_REQUEST, delete_older_than, migrate

# Seconds the writer waits after the first record of a batch for more to queue.
_LINGER_S = 0.02
# Seconds between retention passes.
_RETENTION_EVERY_S = 3600.0
# Seconds between two "audit store failing" warnings.
_LOG_EVERY_S = 60.0

_STOP = object()
_Item = tuple[str, Any]


class AuditWriter:
    """Persists guard events and request records off the event loop.

    Args:
        db: The database.
        queue_size: Most records waiting to be written.
        batch_size: Most records per transaction.
        on_failure: ``"drop"`` or ``"block"`` (see the module docstring).
        retention_days: Records older than this are deleted at start and hourly.
        on_dropped: Called with the number of records dropped (from any
            thread); must be thread-safe.
        retry_s: ``block``: seconds between retries of a failed batch.
    """

    def __init__(
        self,
        db: Database,
        *,
        queue_size: int,
        batch_size: int,
        on_failure: str,
        retention_days: int,
        on_dropped: Callable[[int], None],
        retry_s: float = 1.0,
    ) -> None:
        self.db = db
        self._queue: queue.Queue[_Item | object] = queue.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._block = on_failure == "block"
        self._retention_s = retention_days * 86400.0
        self._on_dropped = on_dropped
        self._retry_s = retry_s
        self._conn: Any = None
        self._migrated = False
        self._store_ok = True
        self._next_retention = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._log = get_logger("audit_store")
        self._log_lock = threading.Lock()
        self._last_log = -_LOG_EVERY_S
        self._dropped_unlogged = 0

    @property
    def available(self) -> bool:
        """Whether the store is writing and the queue has room."""
        return self._store_ok and not self._queue.full()

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="tidegate-audit", daemon=True)
            self._thread.start()

    def put_event(self, event: GuardEvent) -> None:
        """Queue one guard event; never blocks (a full queue drops it)."""
        self._put(("event", event))

    def put_request(self, record: RequestRecord) -> None:
        """Queue one request record; never blocks (a full queue drops it)."""
        self._put(("request", record))

    def _put(self, item: _Item) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self._dropped(1, "queue_full")

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued record was written or dropped.

        Returns:
            Whether that happened within ``timeout_s`` seconds.
        """
        deadline = time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        """Write what is queued, then stop the thread (blocks up to ``timeout_s``)."""
        if self._thread is None:
            return
        self._stopping.set()
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout_s)
        self._thread.join(timeout_s)
        self._thread = None

    # ------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        self._connect()
        self._maybe_retain()
        while True:
            batch, stop = self._next_batch()
            if not batch and not stop:  # idle while the store is down: try again
                self._connect()
                continue
            if batch:
                self._write(batch)
            for _ in range(len(batch) + stop):
                self._queue.task_done()
            if stop:
                break
            self._maybe_retain()
        self._close_conn()
        left = 0
        while True:  # records queued after the stop: nobody will write them
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            self._queue.task_done()
            left += 1
        if left:
            self._dropped(left, "shutdown")

    def _next_batch(self) -> tuple[list[_Item], bool]:
        """The next records to write, and whether the writer must stop after them.

        While the store is down, waits at most ``retry_s`` (then returns no
        records), so that :attr:`available` recovers without traffic.
        """
        try:
            first = self._queue.get(timeout=None if self._store_ok else self._retry_s)
        except queue.Empty:
            return [], False
        if first is _STOP:
            return [], True
        if not self._stopping.is_set() and self._queue.qsize() < self._batch_size:
            time.sleep(_LINGER_S)
        batch: list[_Item] = [first]  # type: ignore[list-item]
        stop = False
        while len(batch) < self._batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                break
            batch.append(item)  # type: ignore[arg-type]
        return batch, stop

    def _write(self, batch: list[_Item]) -> None:
        events = [event_row(e) for kind, e in batch if kind == "event"]
        requests = [r.row() for kind, r in batch if kind == "request"]
        while True:
            try:
                self._write_once(events, requests)
                self._store_ok = True
                return
            except Exception as exc:
                self._close_conn()
                self._store_ok = False
                self._warn(exc)
                if not self._block or self._stopping.is_set():
                    self._dropped(len(batch), "store_failed")
                    return
                self._stopping.wait(self._retry_s)

    def _connect(self) -> None:
        """Migrate (once) and connect; on failure mark the store down and warn."""
        try:
            self._open()
            self._store_ok = True
        except Exception as exc:
            self._close_conn()
            self._store_ok = False
            self._warn(exc)

    def _open(self) -> Any:
        """The writer's connection, after migrating the schema once.

        Raises:
            StoreError: The database cannot be reached or migrated.
        """
        if not self._migrated:
            migrate(self.db)
            self._migrated = True
        if self._conn is None:
            self._conn = self.db.connect()
        return self._conn

    def _write_once(self, events: list[tuple[Any, ...]], requests: list[tuple[Any, ...]]) -> None:
        db = self.db
        conn = self._open()
        with db.transaction(conn):
            cur = conn.cursor()
            if events:
                cur.executemany(db.sql(INSERT_EVENT), events)
            if requests:
                cur.executemany(db.sql(INSERT_REQUEST), requests)
            cur.close()

    def _maybe_retain(self) -> None:
        now = time.monotonic()
        if now < self._next_retention or not self._store_ok:
            return
        self._next_retention = now + _RETENTION_EVERY_S
        try:
            delete_older_than(self.db, self._open(), iso_utc(time.time() - self._retention_s))
        except Exception as exc:
            self._close_conn()
            self._warn(exc)

    def _close_conn(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to release
                self._conn.close()
            self._conn = None

    # ------------------------------------------------------------------ failures

    def _dropped(self, count: int, reason: str) -> None:
        self._on_dropped(count)
        with self._log_lock:
            self._dropped_unlogged += count
        self._warn(None, reason=reason)

    def _warn(self, exc: Exception | None, *, reason: str = "store_failed") -> None:
        """Log at most once per minute, with the drops since the last line."""
        now = time.monotonic()
        with self._log_lock:
            if now - self._last_log < _LOG_EVERY_S:
                return
            self._last_log = now
            dropped, self._dropped_unlogged = self._dropped_unlogged, 0
        self._log.warning(
            "audit_store_failing",
            reason=reason,
            error=type(exc).__name__ if exc is not None else None,
            detail=str(exc)[:200] if exc is not None else None,
            store=self.db.description,
            dropped_since_last_log=dropped,
            on_failure="block" if self._block else "drop",
        )
