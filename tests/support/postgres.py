"""A real PostgreSQL server for tests: ``initdb`` in a temp dir, on a loopback port.

Uses Debian's ``postgresql`` package (``/usr/lib/postgresql/<v>/bin``).
``initdb`` and ``postgres`` refuse to run as root, so as root they run as
the ``postgres`` user (``runuser``), in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from tests.support.servers import free_port


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed or did not start."""


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb``.

    Raises:
        PostgresUnavailable: None is installed.
    """
    root = Path("/usr/lib/postgresql")
    found = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresUnavailable(
            "no PostgreSQL in /usr/lib/postgresql (apt-get install postgresql; "
            "scripts/setup.sh does it)"
        )
    return found[-1]


class PostgresServer:
    """A throwaway PostgreSQL cluster.

    Attributes:
        port: Its loopback TCP port.
    """

    def __init__(self) -> None:
        self._bin = find_bindir()
        self._root = Path(tempfile.mkdtemp(prefix="tidegate-pg-"))
        self._data = self._root / "data"
        self._as_postgres = os.geteuid() == 0
        self.port = free_port()
        if self._as_postgres:
            shutil.chown(self._root, user="postgres", group="postgres")

    def _run(self, args: Sequence[str], timeout: float = 60) -> None:
        cmd = list(args)
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=timeout, cwd=self._root)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise PostgresUnavailable(
                f"{' '.join(cmd)} failed: {exc}; {detail.decode(errors='replace')[-500:]}"
            ) from None

    def start(self) -> None:
        """``initdb`` then ``pg_ctl start``; waits until it accepts connections.

        Raises:
            PostgresUnavailable: It did not start.
        """
        self._run(
            [str(self._bin / "initdb"), "-D", str(self._data), "-A", "trust", "-U", "postgres"]
        )
        options = f"-p {self.port} -k {self._root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            [
                str(self._bin / "pg_ctl"),
                "-D",
                str(self._data),
                "-o",
                options,
                "-l",
                str(self._root / "server.log"),
                "-w",
                "start",
            ]
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self._query("postgres", "SELECT 1")
                return
            except Exception as exc:
                if time.monotonic() > deadline:
                    raise PostgresUnavailable(
                        f"PostgreSQL did not accept connections: {exc}"
                    ) from None
                time.sleep(0.1)

    def url(self, database: str = "postgres") -> str:
        """A connection URL for ``database``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _query(self, database: str, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        self._query("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        with contextlib.suppress(PostgresUnavailable):
            self._run([str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", "immediate", "stop"])
        shutil.rmtree(self._root, ignore_errors=True)
