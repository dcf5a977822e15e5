"""Log lines (request_completed, access), logging config, ops config keys, `tidegate events`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import yaml

from tests.conftest import GatewayFactory
from tests.support.upstream import Script, ScriptedUpstream, chat_stream, wait_until
from tidegate.audit import GuardEvent
from tidegate.cli import main
from tidegate.config import parse_config
from tidegate.errors import ConfigError
from tidegate.logs import configure_logging
from tidegate.store.database import SQLiteDatabase
from tidegate.store.records import REQUEST_COLUMNS
from tidegate.store.writer import AuditWriter

EMAIL = "jane.doe@example.com"


@pytest.fixture
def log_buffer() -> Iterator[io.StringIO]:
    buf = io.StringIO()
    configure_logging("info", stream=buf)
    yield buf
    structlog.reset_defaults()


def _lines(buf: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def test_request_completed_and_access_lines(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, log_buffer: io.StringIO
) -> None:
    upstream.reset(Script(events=chat_stream([f"mail {EMAIL}"])))
    with make_gateway() as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        r = httpx.post(url + "/v1/chat/completions?debug=1", json=body)
        request_id = r.headers["x-tidegate-request-id"]
        assert wait_until(lambda: any(x["event"] == "access" for x in _lines(log_buffer)))
    lines = _lines(log_buffer)
    (done,) = [x for x in lines if x["event"] == "request_completed"]
    assert set(REQUEST_COLUMNS) <= set(done)
    assert done["request_id"] == request_id and done["outcome"] == "completed"
    assert done["findings"] == 1 and done["level"] == "info" and done["timestamp"]
    (access,) = [x for x in lines if x["event"] == "access"]
    assert access["request_id"] == request_id
    assert access["method"] == "POST" and access["path"] == "/v1/chat/completions"  # no query
    assert access["status"] == 200 and access["bytes_out"] == len(r.content)
    assert access["duration_ms"] > 0 and access["client"] == "127.0.0.1"
    assert EMAIL not in log_buffer.getvalue()


def test_console_format() -> None:
    buf = io.StringIO()
    try:
        configure_logging("warning", stream=buf, fmt="console")
        log = structlog.get_logger(component="t")
        log.info("hidden")
        log.warning("shown", n=1)
    finally:
        structlog.reset_defaults()
    text = buf.getvalue()
    assert "hidden" not in text and "shown" in text and "n=1" in text
    assert not text.startswith("{")


def test_ops_config_keys() -> None:
    config = parse_config(
        {
            "audit": {"store": "postgres", "url_env": "AUDIT_URL", "retention_days": 7},
            "logging": {"level": "debug", "format": "console"},
            "metrics": {"enabled": False},
            "admin": {"keys": [{"name": "ops", "sha256": "b" * 64}]},
        }
    )
    assert config.audit.postgres_url({"AUDIT_URL": "postgresql://x/y"}) == "postgresql://x/y"
    with pytest.raises(ConfigError, match="AUDIT_URL"):
        config.audit.postgres_url({})
    assert parse_config({}).audit.store == "sqlite"
    assert parse_config({}).audit.path == "./tidegate-audit.db"
    assert parse_config({}).audit.retention_days == 30
    for bad, where in [
        ({"audit": {"store": "postgres"}}, "url"),
        ({"audit": {"store": "sqlite", "url": "postgresql://x"}}, "only for store"),
        ({"audit": {"stor": "none"}}, "audit.stor: unknown key"),
        ({"audit": {"on_failure": "retry"}}, "audit.on_failure"),
        ({"logging": {"format": "xml"}}, "logging.format"),
        ({"audit": {"retention_days": 0}}, "audit.retention_days"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_config(bad)
        assert where in str(info.value.problems)


def _write_config(tmp_path: Path, audit: dict[str, Any]) -> Path:
    path = tmp_path / "tidegate.yaml"
    path.write_text(yaml.safe_dump({"audit": audit}))
    return path


def test_events_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db_path = tmp_path / "audit.db"
    config = _write_config(tmp_path, {"path": str(db_path)})
    assert main(["events", "--config", str(config)]) == 1  # no database yet
    assert "no audit database" in capsys.readouterr().err
    writer = AuditWriter(
        SQLiteDatabase(db_path),
        queue_size=10,
        batch_size=10,
        on_failure="drop",
        retention_days=30,
        on_dropped=lambda n: None,
    )
    writer.start()
    for i, action in enumerate(["redact", "block", "redact"]):
        writer.put_event(
            GuardEvent(
                f"evt_{i}",
                "output",
                f"pol-{action}",
                action,
                "email",
                "EMAIL_ADDRESS",
                3,
                23,
                0.95,
                "0:content",
                request_id=f"req{i}",
            )
        )
    writer.close()

    assert main(["events", "--config", str(config)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "TIME",
        "(UTC)",
        "REQUEST",
        "DIR",
        "POLICY",
        "ACTION",
        "DETECTOR",
        "ENTITY",
        "CHANNEL",
        "SPAN",
        "SCORE",
    ]
    assert len(table) == 4 and "req0" in table[1] and "3-23" in table[1] and "0.95" in table[1]
    assert main(["events", "--config", str(config), "--json", "--action", "block"]) == 0
    (only,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert only["event_id"] == "evt_1" and only["policy"] == "pol-block"
    assert main(["events", "--config", str(config), "--json", "--limit", "1"]) == 0
    assert [json.loads(x)["event_id"] for x in capsys.readouterr().out.splitlines()] == ["evt_2"]
    assert main(["events", "--config", str(config), "--request-id", "nope"]) == 0
    assert capsys.readouterr().out.strip() == "no events"
    assert main(["events", "--config", str(config), "--since", "2 days"]) == 2
    assert "since" in capsys.readouterr().err
    assert main(["events", "--config", str(config), "--limit", "0"]) == 2
    disabled = _write_config(tmp_path, {"store": "none"})
    assert main(["events", "--config", str(disabled)]) == 2
    assert "disabled" in capsys.readouterr().err
