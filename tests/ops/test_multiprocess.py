"""Two uvicorn worker processes: ``/metrics`` sums both (prometheus-client multiprocess mode)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml
from prometheus_client.multiprocess import MultiProcessCollector

from tests.support.metrics import Scrape
from tests.support.servers import free_port
from tests.support.upstream import Script, ScriptedUpstream, chat_stream

SRC = str(Path(__file__).resolve().parents[2] / "src")
CHAT = {"route": "/v1/chat/completions", "format": "openai", "status": "200"}
BATCH = 20


async def _batch(url: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True}

    async def one() -> None:
        async with httpx.AsyncClient(timeout=30) as client:  # a new connection each
            r = await client.post(url + "/v1/chat/completions", json=body)
            assert r.status_code == 200

    await asyncio.gather(*(one() for _ in range(BATCH)))


def _requests_per_worker(metrics_dir: Path) -> dict[str, float]:
    """tidegate_requests_total as each worker's own file holds it, by pid."""
    counts = {}
    for path in metrics_dir.glob("counter_*.db"):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for sample in metric.samples:
                if sample.name == "tidegate_requests_total":
                    total += sample.value
        counts[path.stem.split("_")[-1]] = total
    return counts


def test_two_workers_are_summed(
    upstream: ScriptedUpstream, upstream_url: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    config = tmp_path / "tidegate.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "upstreams": [{"name": "default", "base_url": upstream_url}],
                "audit": {"path": str(tmp_path / "audit.db")},
                "logging": {"level": "warning"},
            }
        )
    )
    env = dict(os.environ)
    env.update(
        PYTHONPATH=SRC + os.pathsep + env.get("PYTHONPATH", ""),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        TIDEGATE_CONFIG=str(config),
    )
    upstream.reset(Script(events=chat_stream(["hello ", "there"])))
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "tidegate.ops.worker:app_from_env"]
    cmd += ["--workers", "2", "--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.1)
        sent = 0
        while sent < 20 * BATCH:  # until both workers served some (the kernel picks)
            asyncio.run(_batch(url))
            sent += BATCH
            per_worker = _requests_per_worker(metrics_dir)
            if (
                sum(1 for n in per_worker.values() if n > 0) >= 2
                and sum(per_worker.values()) == sent
            ):
                break
        per_worker = _requests_per_worker(metrics_dir)
        assert sum(1 for n in per_worker.values() if n > 0) == 2, per_worker
        assert sum(per_worker.values()) == sent
        for _ in range(4):  # whichever worker answers the scrape, it reports both
            scrape = Scrape.of(url)
            assert scrape.value("tidegate_requests_total", **CHAT) == sent
            assert scrape.value("tidegate_stream_duration_seconds_count") == sent
            assert (
                scrape.value("tidegate_streams_active", route=CHAT["route"], format="openai") == 0
            )
            assert scrape.value("tidegate_build_info", version="0.1.0", python=_python()) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _python() -> str:
    import platform

    return platform.python_version()
