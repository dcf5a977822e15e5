"""The real ``tidegate serve`` process: an event written before SIGTERM is there after a restart,
and ``tidegate events`` (a real process too) prints it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.servers import free_port
from tests.support.upstream import Script, ScriptedUpstream, chat_stream

SRC = str(Path(__file__).resolve().parents[2] / "src")
EMAIL = "jane.doe@example.com"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@contextmanager
def serve(config: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``tidegate serve --config F`` until stopped by the test (or killed at the end)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tidegate.cli", "serve", "--config", str(config)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "tidegate serve did not start"
            time.sleep(0.05)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def events_cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidegate.cli", "events", "--config", str(config), *args],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_event_survives_sigterm_and_restart(
    upstream: ScriptedUpstream,
    upstream_url: str,
    tmp_path: Path,
    audit_config: dict[str, Any],
) -> None:
    port = free_port()
    config = tmp_path / "tidegate.yaml"
    data = {
        "listen": f"127.0.0.1:{port}",
        "upstreams": [{"name": "default", "base_url": upstream_url}],
        "audit": audit_config,
    }
    config.write_text(yaml.safe_dump(data))
    upstream.reset(Script(events=chat_stream([f"write to {EMAIL} soon"])))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with serve(config, port) as proc:
        r = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=10)
        assert "[EMAIL_ADDRESS]" in r.text
        request_id = r.headers["x-tidegate-request-id"]
        proc.send_signal(signal.SIGTERM)  # at once: the queued records are written on shutdown
        assert proc.wait(20) is not None
        stderr = proc.stderr.read().decode() if proc.stderr else ""
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    completed = [line for line in lines if line["event"] == "request_completed"]
    assert [c["request_id"] for c in completed] == [request_id]
    assert completed[0]["outcome"] == "completed" and completed[0]["findings"] == 1
    access = [line for line in lines if line["event"] == "access"]
    assert access and access[0]["path"] == "/healthz" and access[-1]["status"] == 200
    assert EMAIL not in stderr

    with serve(config, port):  # the restarted gateway still has it
        admin = httpx.get(f"http://127.0.0.1:{port}/admin/events")
        assert admin.status_code == 404  # no admin keys configured
        result = events_cli(config, "--json", "--request-id", request_id)
    assert result.returncode == 0, result.stderr
    (event,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["request_id"] == request_id
    assert event["detector"] == "email" and event["action"] == "redact"
    table = events_cli(config, "--since", "1h")
    assert table.returncode == 0 and "redact-pii" in table.stdout and request_id in table.stdout
    assert EMAIL not in table.stdout + result.stdout
