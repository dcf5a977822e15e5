"""Hostile-load benchmark: what one client's misbehaviour costs the others.

Method
------
Three processes on 127.0.0.1: a scripted upstream (a pure ASGI app under
uvicorn), the gateway as ``python -m tidegate.cli serve`` with the
default config (default policies) and this client (asyncio, aiohttp). The
gateway is a black box started from ``--src``, so the same script measures
an older checkout ("before") and this one ("after").

Scenarios:

* **vanish**: 100 raw-socket clients each send a non-streamed request the
  upstream holds for a minute, then close their sockets once the upstream
  has all 100. Then one normal request: its latency and status, and how many
  of the 100 upstream requests the upstream saw cancelled within 2 s.
* **streams**: ``--streams`` streamed requests at once; the upstream holds
  every stream until all have arrived (or 20 s passed), then sends 5 chunks
  and ``[DONE]``. Reported: completed streams, errors by kind, wall time.
* **ttft**: TTFT of a small stream (request write to first content chunk),
  after 5 warm-up streams, ``--rounds`` times alone and ``--rounds`` times
  150 ms after a 4,000,000-char prompt was sent (non-streamed; the default
  policies scan it, most of a second of CPU).

Run: ``.venv/bin/python bench/load.py [--src DIR] [--streams N] [--rounds R]``;
prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]
Scope = dict[str, Any]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def chunk(text: str | None, finish: str | None = None) -> bytes:
    delta = {} if text is None else {"content": text}
    obj = {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "bench",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


STREAM = [chunk(t) for t in ("Hel", "lo", " there", ", friend", "!")] + [
    chunk(None, "stop"),
    b"data: [DONE]\n\n",
]
COMPLETION = json.dumps(
    {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "bench",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
        ],
    }
).encode()


class Upstream:
    """The scripted upstream; the request's ``model`` picks the behaviour.

    ``hold``: answer nothing for 60 s (a client that goes away is counted);
    ``barrier-N``: stream once N such streams arrived (or after 20 s);
    anything else: answer at once. ``GET /stats`` reports the counters.
    """

    def __init__(self) -> None:
        self.stats: Counter[str] = Counter()
        self.arrived = 0
        self.all_in = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["path"] == "/stats":
            await self._send(send, 200, json.dumps(self.stats).encode(), b"application/json")
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body)
        model = str(request.get("model"))
        self.stats["requests"] += 1
        if model == "hold":
            with anyio_timeout(60):
                await receive()  # only http.disconnect can come now
                self.stats["disconnects"] += 1
            return
        if model.startswith("barrier-"):
            self.arrived += 1
            if self.arrived >= int(model.removeprefix("barrier-")):
                self.all_in.set()
            with anyio_timeout(20):
                await self.all_in.wait()
        if not request.get("stream"):
            await self._send(send, 200, COMPLETION, b"application/json")
            return
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for piece in STREAM:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _send(send: Any, status: int, body: bytes, content_type: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", content_type)],
            }
        )
        await send({"type": "http.response.body", "body": body})


@contextmanager
def anyio_timeout(seconds: float) -> Iterator[None]:
    import anyio

    with anyio.move_on_after(seconds):
        yield


def run_upstream(port: int) -> None:
    import uvicorn

    raise_fd_limit()
    uvicorn.run(Upstream(), host=HOST, port=port, log_level="error", lifespan="off", backlog=4096)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 16384 if hard == resource.RLIM_INFINITY else min(hard, 16384)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, int(url.rsplit(":", 1)[1])), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


@contextmanager
def servers(src: Path) -> Iterator[tuple[str, str]]:
    """The upstream and the gateway (from ``src``); yields their base URLs."""
    up_port, gw_port = free_port(), free_port()
    upstream = multiprocessing.get_context("spawn").Process(target=run_upstream, args=(up_port,))
    upstream.start()
    env = {**os.environ, "PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "tidegate.cli", "serve", "--listen", f"{HOST}:{gw_port}"]
    command += ["--upstream", f"default=http://{HOST}:{up_port}/v1", "--log-level", "warning"]
    gateway = subprocess.Popen(command, env=env, preexec_fn=raise_fd_limit)
    try:
        wait_for(f"http://{HOST}:{up_port}")
        wait_for(f"http://{HOST}:{gw_port}")
        yield f"http://{HOST}:{up_port}", f"http://{HOST}:{gw_port}"
    finally:
        gateway.kill()
        gateway.wait()
        upstream.kill()
        upstream.join()


def body(model: str, stream: bool, content: str = "hi") -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": content}]}


async def stats(session: aiohttp.ClientSession, upstream: str) -> Counter[str]:
    async with session.get(upstream + "/stats") as r:
        return Counter(await r.json())


async def vanish(session: aiohttp.ClientSession, upstream: str, gateway: str) -> dict[str, Any]:
    port = int(gateway.rsplit(":", 1)[1])
    writers = []
    for _ in range(100):
        _, writer = await asyncio.open_connection(HOST, port)
        raw = json.dumps(body("hold", False)).encode()
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: b\r\ncontent-type: application/json\r\n"
            + b"content-length: %d\r\n\r\n" % len(raw)
            + raw
        )
        writers.append(writer)
    while (await stats(session, upstream))["requests"] < 100:
        await asyncio.sleep(0.05)
    for writer in writers:
        writer.close()
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    async with session.post(gateway + "/v1/chat/completions", json=body("fast", False)) as r:
        await r.read()
        status = r.status
    latency_ms = (time.perf_counter() - started) * 1000
    await asyncio.sleep(2)
    return {
        "status": status,
        "latency_ms": latency_ms,
        "cancelled": (await stats(session, upstream))["disconnects"],
    }


async def one_stream(session: aiohttp.ClientSession, url: str, payload: dict[str, Any]) -> str:
    try:
        async with session.post(url + "/v1/chat/completions", json=payload) as r:
            data = await r.read()
            if r.status != 200:
                return f"HTTP {r.status}"
            return (
                "ok"
                if data.endswith(b"data: [DONE]\n\n") and b'"error"' not in data
                else "bad body"
            )
    except (aiohttp.ClientError, TimeoutError) as exc:
        return type(exc).__name__


async def streams(session: aiohttp.ClientSession, gateway: str, count: int) -> dict[str, Any]:
    started = time.perf_counter()
    payload = body(f"barrier-{count}", True)
    outcomes = Counter(
        await asyncio.gather(*(one_stream(session, gateway, payload) for _ in range(count)))
    )
    return {"outcomes": dict(outcomes), "wall_s": time.perf_counter() - started}


async def ttft(session: aiohttp.ClientSession, gateway: str) -> float:
    started = time.perf_counter()
    async with session.post(gateway + "/v1/chat/completions", json=body("fast", True)) as r:
        async for line in r.content:
            if b'"content"' in line:
                elapsed = (time.perf_counter() - started) * 1000
                await r.read()
                return elapsed
    raise RuntimeError("no content chunk")


async def ttft_beside_big(
    session: aiohttp.ClientSession, gateway: str, rounds: int
) -> dict[str, Any]:
    words = "Lorem ipsum dolor 42 sit amet, consectetur adipiscing elit; sed do 7 eiusmod. "
    prompt = (words * (4_000_000 // len(words) + 1))[:4_000_000]
    for _ in range(5):  # warm-up: first requests pay for imports and caches
        await ttft(session, gateway)
    alone = [await ttft(session, gateway) for _ in range(rounds)]
    beside, big_ms = [], []
    for _ in range(rounds):
        started = time.perf_counter()
        big = asyncio.create_task(
            session.post(gateway + "/v1/chat/completions", json=body("fast", False, prompt))
        )
        await asyncio.sleep(0.15)
        beside.append(await ttft(session, gateway))
        async with await big as r:
            await r.read()
        big_ms.append((time.perf_counter() - started) * 1000)
    return {
        "alone_ms": statistics.median(alone),
        "beside_ms": statistics.median(beside),
        "beside_max_ms": max(beside),
        "big_ms": statistics.median(big_ms),
    }


async def run(src: Path, count: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        with servers(src) as (upstream, gateway):
            results["vanish"] = await vanish(session, upstream, gateway)
        with servers(src) as (upstream, gateway):
            results["streams"] = await streams(session, gateway, count)
        with servers(src) as (upstream, gateway):
            results["ttft"] = await ttft_beside_big(session, gateway, rounds)
    return results


def report(results: dict[str, Any], count: int) -> str:
    v, s, t = results["vanish"], results["streams"], results["ttft"]
    ok = s["outcomes"].get("ok", 0)
    errors = ", ".join(f"{n} {k}" for k, n in s["outcomes"].items() if k != "ok") or "none"
    rows = [
        ("100 vanishing clients: next request", f"HTTP {v['status']} in {v['latency_ms']:.0f} ms"),
        ("100 vanishing clients: upstream requests cancelled", f"{v['cancelled']} of 100"),
        (f"{count} concurrent streams: completed", f"{ok} of {count} in {s['wall_s']:.1f} s"),
        (f"{count} concurrent streams: errors", errors),
        ("small-stream TTFT p50, alone", f"{t['alone_ms']:.1f} ms"),
        (
            "small-stream TTFT p50 (max), beside a 4 MB prompt",
            f"{t['beside_ms']:.1f} ms ({t['beside_max_ms']:.1f} ms)",
        ),
        ("4 MB prompt, non-streamed, total", f"{t['big_ms']:.0f} ms"),
    ]
    return "\n".join(
        ["| measurement | result |", "| --- | ---: |"] + [f"| {a} | {b} |" for a, b in rows]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="tidegate sources to run")
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    raise_fd_limit()
    results = asyncio.run(run(args.src.resolve(), args.streams, args.rounds))
    print(json.dumps(results))
    print(report(results, args.streams))


if __name__ == "__main__":
    main()
