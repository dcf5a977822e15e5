"""CLI compatibility: ``--streaming-strategy``, bare upstream URLs, ``scan --redact`` and exits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tidegate.cli import SCAN_BLOCKED, main
from tidegate.config import load_config

KEY = "AKIAZ7VRSQ4TXLQ2BD5W"


@pytest.mark.parametrize(
    ("flag", "base_url"),
    [
        ("openai=https://api.openai.com", "https://api.openai.com/v1"),
        ("openai=https://api.openai.com/", "https://api.openai.com/v1"),
        ("local=http://127.0.0.1:8101/v1", "http://127.0.0.1:8101/v1"),
        ("azure=https://x.example/openai", "https://x.example/openai"),
    ],
)
def test_bare_upstream_url_gets_the_version_prefix(flag: str, base_url: str) -> None:
    assert load_config(upstreams=[flag], environ={}).upstreams[0].base_url == base_url


def test_prefix_is_logged_only_when_added() -> None:
    with capture_logs() as logs:
        load_config(upstreams=["openai=https://api.openai.com"], environ={})
        load_config(upstreams=["local=http://127.0.0.1:8101/v1"], environ={})
    added = [e for e in logs if e["event"] == "upstream_version_prefix_added"]
    assert added == [
        {
            "event": "upstream_version_prefix_added",
            "upstream": "openai",
            "base_url": "https://api.openai.com/v1",
            "log_level": "info",
            "component": "config",
        }
    ]


def test_streaming_strategy_flag_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tidegate.yaml"
    path.write_text("streaming: {strategy: end_only, eval_interval_chars: 50}\n")
    config = load_config(path, streaming_strategy="periodic", environ={})
    assert config.streaming.strategy == "periodic"
    assert config.streaming.eval_interval_chars == 50
    assert load_config(path, environ={}).streaming.strategy == "end_only"


def test_serve_rejects_an_unknown_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["serve", "--streaming-strategy", "sometimes"])
    assert caught.value.code == 2
    assert "--streaming-strategy" in capsys.readouterr().err


def run_scan(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    """``tidegate scan`` in a subprocess, as a shell pipeline runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tidegate.cli", "scan", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def test_scan_redact_prints_the_redacted_text() -> None:
    result = run_scan("--redact", stdin="mail jane.doe@example.com today\n")
    assert (result.returncode, result.stdout) == (0, "mail [EMAIL_ADDRESS] today\n")


def test_scan_exit_status_for_pipelines() -> None:
    blocked = run_scan("--redact", stdin=f"key {KEY}")
    assert (blocked.returncode, blocked.stdout) == (SCAN_BLOCKED, "")
    assert run_scan(stdin=f"key {KEY}").returncode == SCAN_BLOCKED == 3
    assert run_scan(stdin="nothing here").returncode == 0


def test_scan_in_monitor_mode_never_blocks(tmp_path: Path) -> None:
    path = tmp_path / "tidegate.yaml"
    path.write_text("mode: monitor\n")
    result = run_scan("--redact", "--config", str(path), stdin=f"key {KEY}")
    assert (result.returncode, result.stdout) == (0, f"key {KEY}")
