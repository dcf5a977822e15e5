"""Ops overhead benchmark: what do metrics, the audit store and the request logs add?

Method
------
``bench/relay.py``'s machinery (its raw-socket scripted upstream, its
timestamping keep-alive client, its analysis), with three gateway processes
instead of one, all on 127.0.0.1 and in front of the same upstream, each run
like ``tidegate serve`` (uvicorn, ``access_log=False``) with logging
configured as ``tidegate serve`` does (JSON lines at ``info``; written to a
file in a temporary directory instead of stderr):

* **baseline** -- tidegate as of ``--baseline-rev`` (default: the last
  ``main`` without the ops code), extracted with ``git archive``: no ops
  code at all (no metrics, no audit store, no request logs);
* **ops-off** -- this tidegate with ``metrics.enabled: false`` and
  ``audit.store: none``: the ops middleware still runs and logs the
  ``access`` and ``request_completed`` lines;
* **ops-on** -- this tidegate with the defaults: Prometheus metrics and the
  SQLite audit store (a file in the temporary directory), plus the logs.

The guard is ``--guard none`` (no policy) by default, as in relay.py, so that
what is measured is the ops layer and not the detectors; the streams carry no
finding, so the store receives one request record per stream.

Latency phase: ``--requests`` streams per target, one at a time, rotating
over direct upstream, baseline, ops-off and ops-on (the order rotates each
step) in ``--rounds`` rounds after a warm-up. TTFT and per-chunk latency as in
relay.py. *metrics + audit* = ops-on - ops-off; *whole ops layer* = ops-on -
baseline (same percentile of each distribution).

Throughput phase: short streams on ``--concurrency`` keep-alive connections,
``--throughput-seconds`` per gateway, in alternating slices.

CPU phase: in this process, no network: ``--cpu-requests`` simulated requests
through the ops layer alone (observation, a pass-through guard fed 10 deltas,
7 body sends, ``Operations.finish``), with metrics and the audit store on or
off and logging at ``info`` (to ``/dev/null``) or ``warning``. Wall time per
request, which includes the audit writer thread's share of the GIL. This
isolates the ops layer's own cost from the scheduler noise of the phases
above.

Run: ``PYTHONPATH=src .venv/bin/python bench/ops.py [--out bench/README.md]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import relay
from relay import Client, Latencies, Settings, pct

SECTION = "## Ops overhead benchmark"
GOAL_MS = 0.1  # issue 9: metrics + audit add at most 0.1 ms to TTFT p50
TARGETS = ("direct", "baseline", "ops-off", "ops-on")
ROOT = Path(__file__).resolve().parents[1]


def run_ops_gateway(
    conn: Connection, upstream_port: int, variant: str, src: str, workdir: str, guard: str
) -> None:
    """Process target: one gateway variant under uvicorn; sends its port through ``conn``."""
    sys.path.insert(0, src)
    import uvicorn

    from tidegate.app import create_app
    from tidegate.config import parse_config
    from tidegate.logs import configure_logging

    log = Path(workdir, f"{variant}.log").open("w")  # noqa: SIM115 (lives as long as the process)
    configure_logging("info", stream=log)
    data = relay.gateway_config(upstream_port, guard)
    if variant == "ops-off":
        data.update(metrics={"enabled": False}, audit={"store": "none"})
    elif variant == "ops-on":
        data["audit"] = {"store": "sqlite", "path": str(Path(workdir, "audit.db"))}
    app = create_app(parse_config(data))
    uv_config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uv_config.load()
    sock = relay._listening_socket()
    conn.send(sock.getsockname()[1])
    conn.close()
    uvicorn.Server(uv_config).run(sockets=[sock])


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)


def baseline_rev() -> str:
    """tidegate without the ops code: ``main`` where it has none yet, else the
    parent of the commit that added ``src/tidegate/ops``."""
    base = _git("merge-base", "HEAD", "main").stdout.strip()
    if base and _git("cat-file", "-e", f"{base}:src/tidegate/ops/__init__.py").returncode != 0:
        return base
    out = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", "src/tidegate/ops/__init__.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not out:
        raise SystemExit("cannot find the commit that added src/tidegate/ops; pass --baseline-rev")
    return out[-1] + "^"


def extract(rev: str, into: Path) -> str:
    """``git archive`` the ``src`` tree of ``rev`` into ``into``; return the src path."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return str(into / "src")


@contextlib.contextmanager
def processes(args: argparse.Namespace, workdir: Path) -> Iterator[dict[str, int]]:
    """Start the upstream and the three gateways; yield every target's port."""
    procs: list[BaseProcess] = []
    try:
        up, up_port = relay._start(relay.run_upstream)
        procs.append(up)
        ports = {"direct": up_port}
        sources = {
            "baseline": extract(args.baseline_rev or baseline_rev(), workdir),
            "ops-off": str(ROOT / "src"),
            "ops-on": str(ROOT / "src"),
        }
        for variant, src in sources.items():
            proc, port = relay._start(
                run_ops_gateway, up_port, variant, src, str(workdir), args.guard
            )
            procs.append(proc)
            ports[variant] = port
        yield ports
    finally:
        for proc in reversed(procs):
            relay._stop(proc)


async def latency(clients: dict[str, Client], s: Settings) -> list[dict[str, Latencies]]:
    """Rotate streams over the targets one at a time; latencies per round and target."""
    names = list(clients)
    for _ in range(s.warmup):
        for name in names:
            await relay._one(clients[name], s)
    rounds = []
    per_round = max(1, s.requests // s.rounds)
    for _ in range(s.rounds):
        got = {name: Latencies() for name in names}
        for i in range(per_round):
            for name in names[i % len(names) :] + names[: i % len(names)]:
                got[name].extend(await relay._one(clients[name], s))
                await asyncio.sleep(0.002)  # let the previous stream's teardown finish
        rounds.append(got)
    return rounds


async def _slice(port: int, s: Settings, seconds: float) -> tuple[int, float]:
    """One timed slice on fresh connections (an idle keep-alive connection would be
    closed by uvicorn after 5 s while the other gateways have their turn)."""
    clients = [await Client.connect(port) for _ in range(s.concurrency)]
    try:
        return await relay._rps_slice(clients, s.short_chunks, seconds)
    finally:
        for client in clients:
            client.close()


async def throughput(ports: dict[str, int], s: Settings) -> dict[str, float]:
    """Short streams per second per gateway, in alternating time slices."""
    names = [n for n in ports if n != "direct"]
    done = dict.fromkeys(names, 0)
    spent = dict.fromkeys(names, 0.0)
    for name in names:  # warm-up
        await _slice(ports[name], s, 0.3)
    slice_s = s.throughput_s / s.rounds
    for r in range(s.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            n, elapsed = await _slice(ports[name], s, slice_s)
            done[name] += n
            spent[name] += elapsed
    return {n: done[n] / spent[n] for n in names}


async def run(ports: dict[str, int], s: Settings) -> tuple[list[dict[str, Latencies]], Any]:
    clients = {name: await relay._wait_ready(ports[name]) for name in TARGETS}
    gc.collect()
    gc.freeze()
    try:
        print(f"latency phase: {s.requests} streams x {s.chunks} chunks per target …", flush=True)
        rounds = await latency(clients, s)
    finally:
        for client in clients.values():
            client.close()
    print(f"throughput phase: {s.throughput_s:g} s per gateway …", flush=True)
    return rounds, await throughput(ports, s)


CPU_VARIANTS: dict[str, dict[str, Any]] = {
    "metrics off, audit none": {"metrics": {"enabled": False}, "audit": {"store": "none"}},
    "metrics on, audit none": {"audit": {"store": "none"}},
    "metrics off, audit sqlite": {"metrics": {"enabled": False}, "audit": {"store": "sqlite"}},
    "metrics on, audit sqlite (default)": {"audit": {"store": "sqlite"}},
}


def cpu_per_request(
    extra: dict[str, Any], logs: bool, n: int, workdir: Path
) -> tuple[float, float]:
    """Microseconds per simulated request through the ops layer alone.

    The real :class:`~tidegate.ops.middleware.OpsMiddleware` wraps a stand-in
    for the completion handler that does what ``proxy_completion`` and the
    relay do with the observation (begin, routed, a pass-through guard fed one
    delta per chunk, the wrapped upstream chunks, one body send per chunk) for
    a 10-chunk stream, with no network and no-op ``send``/``receive``.

    Returns:
        (until the first body byte is sent, the whole request), in µs of wall
        time per request; the audit writer thread's share of the GIL included.
    """
    import time

    from tidegate.config import parse_config
    from tidegate.guard.engine import GuardEngine
    from tidegate.logs import configure_logging
    from tidegate.ops.middleware import OpsMiddleware
    from tidegate.ops.observe import request_observation
    from tidegate.ops.operations import Operations

    data: dict[str, Any] = {"policies": [], **extra}
    if data["audit"]["store"] == "sqlite":
        data["audit"] = {"store": "sqlite", "path": str(workdir / f"cpu-{time.monotonic_ns()}.db")}
    chunk = b'data: {"choices":[{"index":0,"delta":{"content":" tok"}}]}\n\n'
    first_byte = [0.0]

    async def chunks() -> Any:
        for _ in range(10):
            yield chunk

    async def handler(scope: Any, receive: Any, send: Any) -> None:
        obs = request_observation(scope)
        obs.begin("/v1/chat/completions", "openai", None)
        obs.routed("default", "bench", engine)
        guard = obs.guard(engine.new_stream(obs))
        upstream = obs.upstream_chunks(chunks())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        async for piece in upstream:
            guard.push("0:content", " tok")
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body" and not first_byte[0]:
            first_byte[0] = time.perf_counter()

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def run(app: Any) -> tuple[float, float]:
        scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "headers": []}
        to_first = 0.0
        t0 = time.perf_counter()
        for _ in range(n):
            first_byte[0] = 0.0
            started = time.perf_counter()
            await app({**scope, "client": ("127.0.0.1", 1)}, receive, send)
            to_first += first_byte[0] - started
        return to_first, time.perf_counter() - t0

    with open(os.devnull, "w") as sink:
        configure_logging("info" if logs else "warning", stream=sink)
        config = parse_config(data)
        engine = GuardEngine(config)
        ops = Operations(config, engine.audit)
        ops.start()
        to_first, spent = asyncio.run(run(OpsMiddleware(handler, ops)))
        if ops.writer is not None:
            ops.writer.close()
    return to_first / n * 1e6, spent / n * 1e6


CPU_REPEATS = 5


def cpu_phase(n: int, workdir: Path) -> dict[tuple[str, bool], tuple[float, float]]:
    """:func:`cpu_per_request` for every variant, logs off then on.

    Each variant runs :data:`CPU_REPEATS` times, interleaved with the others,
    ``n / CPU_REPEATS`` requests each; the fastest run counts (the others
    were slowed down by whatever else the machine was doing).
    """
    print(f"cpu phase: {n} simulated requests per variant …", flush=True)
    best: dict[tuple[str, bool], tuple[float, float]] = {}
    for _ in range(CPU_REPEATS):
        for name, extra in CPU_VARIANTS.items():
            for logs in (False, True):
                first, total = cpu_per_request(extra, logs, max(1, n // CPU_REPEATS), workdir)
                old = best.get((name, logs), (first, total))
                best[(name, logs)] = (min(old[0], first), min(old[1], total))
    return best


def _cpu_lines(cpu: dict[tuple[str, bool], tuple[float, float]], n: int) -> list[str]:
    base_first, base_total = cpu[("metrics off, audit none", True)]
    lines = [
        f"CPU phase ({n} simulated 10-chunk streams per variant, in {CPU_REPEATS} interleaved "
        "runs, the fastest run counts; the ops middleware around a stand-in handler, no "
        "network; µs of wall time per request, the audit writer thread included):",
        "",
        "| variant | to first byte, logs at info | whole request, logs at warning "
        "| whole request, logs at info | added over metrics off, audit none (info) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in CPU_VARIANTS:
        first, total = cpu[(name, True)]
        quiet = cpu[(name, False)][1]
        lines.append(
            f"| {name} | {first:.1f} | {quiet:.1f} | {total:.1f} "
            f"| {first - base_first:+.1f} first byte, {total - base_total:+.1f} whole |"
        )
    return [*lines, ""]


def _merge(rounds: list[dict[str, Latencies]]) -> dict[str, Latencies]:
    total = {name: Latencies() for name in TARGETS}
    for got in rounds:
        for name, lat in got.items():
            total[name].extend(lat)
    return total


def _row(label: str, metric: str, p: int, total: dict[str, Latencies]) -> str:
    v = {name: pct(getattr(total[name], metric), p) for name in TARGETS}
    cells = " | ".join(f"{v[name]:.3f}" for name in TARGETS)
    return (
        f"| {label} p{p} (ms) | {cells} | **{v['ops-on'] - v['ops-off']:+.3f}** "
        f"| {v['ops-on'] - v['baseline']:+.3f} |"
    )


def _spread(rounds: list[dict[str, Latencies]], a: str, b: str) -> str:
    added = [pct(got[b].ttft, 50) - pct(got[a].ttft, 50) for got in rounds]
    return f"{min(added):+.3f} to {max(added):+.3f}"


def render(
    rounds: list[dict[str, Latencies]],
    rps: dict[str, float],
    cpu: dict[tuple[str, bool], tuple[float, float]],
    s: Settings,
    args: argparse.Namespace,
    rev: str,
) -> str:
    total = _merge(rounds)
    on_off = pct(total["ops-on"].ttft, 50) - pct(total["ops-off"].ttft, 50)
    verdict = "**met**" if on_off <= GOAL_MS else "**NOT met**"
    on_first = cpu[("metrics on, audit sqlite (default)", True)][0]
    cpu_first_ms = (on_first - cpu[("metrics off, audit none", True)][0]) / 1000
    cpu_verdict = "**met**" if cpu_first_ms <= GOAL_MS else "**NOT met**"
    machine = relay.machine_line("auto", "auto")
    return "\n".join(
        [
            SECTION,
            "",
            "`bench/ops.py` runs bench/relay.py's upstream and client against three gateway",
            "processes at once: **baseline** (tidegate before the ops code, "
            f"`{rev}`), **ops-off** (`metrics.enabled: false`, `audit.store: none`; the "
            "access and `request_completed` log lines are still written) and **ops-on** "
            "(defaults: metrics and the SQLite audit store). All log JSON at `info` to a file, "
            "as `tidegate serve` does to stderr. Streams rotate over the targets one at a "
            "time. See the module docstring for the method.",
            "",
            f"Run: `PYTHONPATH=src .venv/bin/python bench/ops.py` (this run: `--requests "
            f"{s.requests} --chunks {s.chunks} --pace-ms {s.pace_us / 1000:g} --rounds {s.rounds} "
            f"--concurrency {s.concurrency} --throughput-seconds {s.throughput_s:g} "
            f"--guard {s.guard}`).",
            "",
            f"Machine: {machine}.",
            "",
            "| metric | direct | baseline | ops-off | ops-on | metrics + audit (on - off) "
            "| whole ops layer (on - baseline) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            _row("TTFT", "ttft", 50, total),
            _row("TTFT", "ttft", 99, total),
            _row("per-chunk", "chunk", 50, total),
            _row("per-chunk", "chunk", 99, total),
            f"| short streams ({s.short_chunks} chunks, {s.concurrency} connections), req/s | "
            f"| {rps['baseline']:.0f} | {rps['ops-off']:.0f} | {rps['ops-on']:.0f} "
            f"| {rps['ops-on'] / rps['ops-off'] - 1:+.1%} "
            f"| {rps['ops-on'] / rps['baseline'] - 1:+.1%} |",
            "",
            f"Samples: {len(total['direct'].ttft)} streams and {len(total['direct'].chunk)} chunks "
            f"per target. Noise: across the {len(rounds)} rounds, metrics + audit TTFT p50 "
            f"ranged {_spread(rounds, 'ops-off', 'ops-on')} ms and ops-off - baseline TTFT p50 "
            f"{_spread(rounds, 'baseline', 'ops-off')} ms. Every process shares the same 2 cores.",
            "",
            *_cpu_lines(cpu, args.cpu_requests),
            "| goal | measured | verdict |",
            "| --- | ---: | --- |",
            f"| metrics + audit add <= {GOAL_MS:g} ms TTFT p50 (end to end; below the run's "
            f"noise when the rounds straddle 0) | {on_off:+.3f} ms | {verdict} |",
            f"| the same, CPU phase: work before the first byte | {cpu_first_ms:+.4f} ms "
            f"| {cpu_verdict} |",
            "",
        ]
    )


def write_section(path: Path, section: str) -> None:
    """Put ``section`` in ``path``, replacing an earlier one with the same heading."""
    lines = path.read_text().splitlines(keepends=True) if path.exists() else ["# Benchmarks\n"]
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        path.write_text("".join(lines).rstrip("\n") + "\n\n" + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    rest = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + rest if rest else ""))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--requests", type=int, default=200, help="latency streams per target")
    p.add_argument("--chunks", type=int, default=40, help="content chunks per latency stream")
    p.add_argument("--pace-ms", type=float, default=1.0, help="upstream gap between events")
    p.add_argument("--rounds", type=int, default=4, help="rotation rounds (noise estimate)")
    p.add_argument("--warmup", type=int, default=20, help="warm-up streams per target")
    p.add_argument("--concurrency", type=int, default=16, help="connections, throughput phase")
    p.add_argument("--short-chunks", type=int, default=5, help="chunks per throughput stream")
    p.add_argument("--throughput-seconds", type=float, default=12.0, help="per gateway")
    p.add_argument("--guard", choices=["none", "default"], default="none")
    p.add_argument("--baseline-rev", help="git revision of the baseline gateway")
    p.add_argument("--cpu-requests", type=int, default=20000, help="simulated, per variant")
    p.add_argument("--time-cap", type=float, default=300.0, help="abort after this many seconds")
    p.add_argument("--out", default="", help="markdown file to update ('' to skip)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    s = Settings(
        requests=args.requests,
        chunks=args.chunks,
        pace_us=round(args.pace_ms * 1000),
        rounds=max(1, args.rounds),
        warmup=args.warmup,
        concurrency=args.concurrency,
        short_chunks=args.short_chunks,
        throughput_s=args.throughput_seconds,
        guard=args.guard,
    )
    rev = args.baseline_rev or baseline_rev()
    rev_hash = subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="tidegate-bench-ops-") as tmp:
        args.baseline_rev = rev
        with processes(args, Path(tmp)) as ports:
            try:
                rounds, rps = asyncio.run(asyncio.wait_for(run(ports, s), args.time_cap))
            except TimeoutError:
                print(f"aborted: the run exceeded --time-cap {args.time_cap:g} s", file=sys.stderr)
                return 1
        records = sum(1 for _ in open(os.path.join(tmp, "ops-on.log")))  # noqa: SIM115
        cpu = cpu_phase(args.cpu_requests, Path(tmp))
    section = render(rounds, rps, cpu, s, args, rev_hash)
    print()
    print(section)
    print(f"(ops-on wrote {records} log lines)")
    if args.out:
        write_section(Path(args.out), section)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
