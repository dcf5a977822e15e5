"""``deploy/grafana/tidegate.json``: valid dashboard JSON whose every query names a real series."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import GatewayFactory
from tests.support.metrics import Scrape
from tests.support.upstream import Script, ScriptedUpstream, chat_stream

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tidegate.json"
SERIES = re.compile(r"\btidegate_[a-z_]+\b")
# ``sum by (a, b)`` groupings and ``{a="x"}`` matchers: the label names a query uses.
BY = re.compile(r"\bby \(([^)]*)\)")

# Every series the README documents; the dashboard shows each one.
FAMILIES = {
    "tidegate_streams_active",
    "tidegate_stream_evaluations_total",
    "tidegate_stream_terminations_total",
    "tidegate_stream_bytes_processed_total",
    "tidegate_stream_duration_seconds",
    "tidegate_stream_tokens",
    "tidegate_stream_errors_total",
    "tidegate_requests_total",
    "tidegate_findings_total",
    "tidegate_guard_added_seconds",
    "tidegate_holdback_chars",
    "tidegate_ttft_seconds",
    "tidegate_upstream_errors_total",
    "tidegate_audit_dropped_total",
    "tidegate_build_info",
}


def _targets(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for panel in dashboard["panels"] for t in panel["targets"]]


def test_dashboard_is_valid_json_with_real_series(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"] and isinstance(dashboard["schemaVersion"], int)
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) > 0
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat"} and panel["title"]
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["datasource"]["type"] == "prometheus" and panel["targets"]

    # Every series a stream produces: streams redacted, blocked, and an upstream error.
    upstream.reset(Script(events=chat_stream(["mail jane.doe@example.com AKIAZ7VRSQ4TXLQ2BD5W"])))
    with make_gateway() as url:
        body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}
        httpx.post(url + "/v1/chat/completions", json=body)
        upstream.reset(Script(events=chat_stream(["a", "b"]), die_after=1))
        httpx.post(url + "/v1/chat/completions", json=body)
        scrape = Scrape.of(url)
    exposed = scrape.names()
    labels = {name: set() for name in exposed}
    for name, pairs in scrape.samples:
        labels[name] |= {k for k, _ in pairs}

    used = set()
    for target in _targets(dashboard):
        expr = target["expr"]
        names = set(SERIES.findall(expr))
        assert names, f"query names no tidegate series: {expr}"
        for name in names:
            assert name in exposed, f"{name} (in {expr!r}) is not a series tidegate exposes"
        grouped = {label.strip() for group in BY.findall(expr) for label in group.split(",")}
        known = set().union(*(labels[n] for n in names))
        assert grouped <= known, f"{expr!r} groups by unknown labels {grouped - known}"
        used |= {_family(n) for n in names}
    assert used == FAMILIES


def _family(sample: str) -> str:
    for suffix in ("_bucket", "_sum", "_count"):
        if sample.endswith(suffix) and not sample.endswith("_total"):
            return sample.removesuffix(suffix)
    return sample
