"""Connections to the audit database: SQLite (``sqlite3``) or PostgreSQL (psycopg 3).

Both dialects run the same SQL text; the only differences kept here are the
parameter placeholder (``?`` for SQLite, ``%s`` for psycopg), how a
connection is opened, and how the schema migration is serialised between
processes (``BEGIN IMMEDIATE`` in SQLite, an advisory lock in PostgreSQL).
Every call here blocks: callers run them on the writer thread or in a worker
thread, never on the event loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from tidegate.errors import ConfigError
from tidegate.ops.config import AuditConfig

# Key of PostgreSQL's advisory lock held while migrating (any constant; "tdgt").
_PG_MIGRATION_LOCK = 0x74646774
# Seconds a SQLite writer waits for another process's lock before failing.
_SQLITE_BUSY_TIMEOUT_S = 10.0
# Seconds to wait for a PostgreSQL connection.
_PG_CONNECT_TIMEOUT_S = 5


class StoreError(Exception):
    """The audit database cannot be opened, read or written."""


class Database(Protocol):
    """Opens connections to one audit database.

    Attributes:
        dialect: ``"sqlite"`` or ``"postgres"``.
        description: Where it is, safe to log (a path, or host and database
            without the password).
    """

    dialect: str
    description: str

    def connect(self) -> Any:
        """A new DB-API connection (the caller closes it).

        Raises:
            StoreError: The database cannot be opened.
        """
        ...

    def sql(self, text: str) -> str:
        """``text`` with ``?`` placeholders in this dialect's style."""
        ...

    @contextmanager
    def exclusive(self, conn: Any) -> Iterator[None]:
        """A transaction no other process runs at the same time (for migrations)."""
        ...

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        """A transaction, committed on success and rolled back on error."""
        ...

    def exists(self) -> bool:
        """Whether the database may hold data (False: a SQLite file that is not there)."""
        ...


class SQLiteDatabase:
    """A SQLite file, in WAL mode so that readers do not block the writer.

    Args:
        path: The database file; created on first :meth:`connect` unless
            ``read_only``.
        read_only: Open without creating or writing.
    """

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.description = str(self.path)

    def connect(self) -> sqlite3.Connection:
        """Open the file (autocommit mode: transactions are explicit)."""
        try:
            if self.read_only:
                uri = self.path.resolve().as_uri() + "?mode=ro"
                conn = sqlite3.connect(
                    uri, uri=True, timeout=_SQLITE_BUSY_TIMEOUT_S, isolation_level=None
                )
            else:
                conn = sqlite3.connect(
                    self.path,
                    timeout=_SQLITE_BUSY_TIMEOUT_S,
                    isolation_level=None,
                    check_same_thread=False,
                )
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite audit database {self.path}: {exc}") from None
        return conn

    def sql(self, text: str) -> str:
        """SQLite takes ``?`` placeholders as they are."""
        return text

    @contextmanager
    def exclusive(self, conn: Any) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: takes the write lock at once."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        """``BEGIN`` … ``COMMIT``."""
        with self.exclusive(conn):
            yield

    def exists(self) -> bool:
        """Whether the file is there."""
        return self.path.exists()


class PostgresDatabase:
    """A PostgreSQL database reached through psycopg 3.

    Args:
        url: libpq connection URL; it may carry a password, so it is never
            logged (see :attr:`description`).
    """

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self._url = url
        self.description = _safe_pg_description(url)

    def connect(self) -> Any:
        """Open a connection (not autocommit: each transaction is explicit)."""
        import psycopg

        try:
            return psycopg.connect(self._url, connect_timeout=_PG_CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL audit database {self.description}: "
                f"{type(exc).__name__}"
            ) from None

    def sql(self, text: str) -> str:
        """psycopg takes ``%s`` placeholders."""
        return text.replace("?", "%s")

    @contextmanager
    def exclusive(self, conn: Any) -> Iterator[None]:
        """A transaction holding an advisory lock until it ends."""
        with self.transaction(conn):
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
            yield

    @contextmanager
    def transaction(self, conn: Any) -> Iterator[None]:
        """Commit on success, roll back on error."""
        try:
            yield
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def exists(self) -> bool:
        """A server database always may hold data."""
        return True


def _safe_pg_description(url: str) -> str:
    """``host:port/dbname`` of a libpq URL or key=value string, never the password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:
        return "<unparsable url>"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"{host}:{port}/{info.get('dbname') or ''}"


def open_database(config: AuditConfig, *, read_only: bool = False) -> Database | None:
    """The database an ``audit`` config section names.

    Args:
        config: The ``audit`` section.
        read_only: SQLite: open the file read-only (for queries).

    Returns:
        The database, or None for ``store: none``.

    Raises:
        ConfigError: ``url_env`` names an unset variable, or psycopg is not
            installed.
    """
    if config.store == "sqlite":
        return SQLiteDatabase(config.path, read_only=read_only)
    if config.store == "postgres":
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise ConfigError(
                ["audit.store: 'postgres' needs psycopg 3: pip install 'tidegate[postgres]'"]
            ) from None
        return PostgresDatabase(config.postgres_url())
    return None


def fetch_dicts(db: Database, conn: Any, text: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    """Run a query; return each row as a column-name mapping."""
    cur = conn.cursor()
    try:
        cur.execute(db.sql(text), tuple(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()
