"""Fixtures of the operations tests: a real PostgreSQL server and the audit store backends."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.postgres import PostgresServer, PostgresUnavailable


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the session.

    Skips when PostgreSQL cannot start, unless ``TIDEGATE_REQUIRE_POSTGRES=1``
    (set by ``.ci/run``): then every PostgreSQL test fails, loudly.
    """
    server = None
    try:
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        if server is not None:
            server.stop()
        if os.environ.get("TIDEGATE_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required (TIDEGATE_REQUIRE_POSTGRES=1): {exc}")
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgres"])
def audit_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The ``audit`` config section of a fresh, empty store of each backend."""
    if request.param == "sqlite":
        return {"store": "sqlite", "path": str(tmp_path / "audit.db")}
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return {"store": "postgres", "url": server.new_database()}
