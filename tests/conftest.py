"""Shared fixtures: a scripted upstream and a gateway, both real servers on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests.support.servers import serve_in_thread
from tests.support.upstream import Script, ScriptedUpstream
from tidegate.app import create_app
from tidegate.config import parse_config


@pytest.fixture(scope="session")
def _upstream_server() -> Iterator[tuple[ScriptedUpstream, str]]:
    app = ScriptedUpstream()
    with serve_in_thread(app) as url:
        yield app, url


@pytest.fixture
def upstream(_upstream_server: tuple[ScriptedUpstream, str]) -> ScriptedUpstream:
    app, _ = _upstream_server
    app.reset(Script())
    return app


@pytest.fixture
def upstream_url(_upstream_server: tuple[ScriptedUpstream, str]) -> str:
    return _upstream_server[1] + "/v1"


# Property tests: 200 examples by default; HYPOTHESIS_PROFILE=deep for a long run.
settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile("deep", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

GatewayFactory = Callable[..., AbstractContextManager[str]]


@pytest.fixture
def make_gateway(upstream_url: str, tmp_path: Path) -> GatewayFactory:
    """Start a gateway in front of the scripted upstream; yields its base URL.

    Its SQLite audit store is in the test's temporary directory.
    """

    @contextmanager
    def factory(config: dict[str, Any] | None = None, **kwargs: Any) -> Iterator[str]:
        data: dict[str, Any] = {
            "upstreams": [{"name": "default", "base_url": upstream_url}],
            "audit": {"path": str(tmp_path / "audit.db")},
        }
        data.update(config or {})
        app = create_app(parse_config(data), **kwargs)
        with serve_in_thread(app) as url:
            yield url

    return factory


@pytest.fixture
def gateway(make_gateway: GatewayFactory) -> Iterator[str]:
    with make_gateway() as url:
        yield url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
