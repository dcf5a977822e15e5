"""Relay benchmark: how much latency and throughput does the tidegate gateway cost?

Method
------
Three processes, all on 127.0.0.1:

* **upstream** -- a minimal asyncio raw-socket HTTP/1.1 server (no framework) that
  answers ``POST /v1/chat/completions`` with a chunked ``text/event-stream``:
  ``K`` ``chat.completion.chunk`` events with small tokens (the first one carries
  ``role`` and the first token), a ``finish_reason`` chunk, then ``data: [DONE]``.
  Events are paced ``--pace-ms`` apart so each one reaches its reader as a read
  of its own. Every chunk carries the upstream's send time,
  ``time.monotonic_ns()`` (``CLOCK_MONOTONIC``, system-wide on Linux), in its
  ``system_fingerprint`` field (``"t<ns>"``), taken right before the write.
  The request body chooses ``K`` (``max_tokens``) and the pacing
  (``bench_pace_us``), so one server serves both phases.
* **gateway** -- ``tidegate.app.create_app`` under uvicorn, run like ``tidegate
  serve`` (``access_log=False``, ``log_level=warning``), with the upstream above
  as its only upstream and no policy configured (``--guard none``, the default:
  a pass-through guard, so the relay itself is measured) or the project's
  default policies (``--guard default``).
* **client** -- this process: a minimal asyncio ``Protocol`` HTTP/1.1 client on
  keep-alive connections. It timestamps each ``data_received`` call with
  ``time.monotonic_ns()`` before doing anything else and defers all JSON parsing
  until the stream has ended, so that client work does not delay the timestamps.

Latency phase: ``--requests`` streams to each target, one at a time, alternating
direct/through (the order flips every pair) in ``--rounds`` rounds, after a warm-up.

* TTFT = client request write -> receipt of the first event with non-empty
  ``delta.content``.
* per-chunk latency = upstream send time -> client receipt, for every later
  chunk event (the first event is TTFT's).

Percentiles are computed for the direct and the through distributions
separately; "added" is through minus direct of the same percentile (not a
percentile of paired differences). The per-round spread of the added values is
reported as a measure of the noise.

Throughput phase: short streams (``--short-chunks`` events, no pacing) with
``--concurrency`` keep-alive connections for a fixed time per target,
alternating direct/through over ``--rounds`` slices; reported as completed
streams per second. The client and upstream share the same 2 cores as the
gateway, so the through figure is the gateway's capacity on a loaded machine.

Run: ``.venv/bin/python bench/relay.py [--requests N] [--chunks K]
[--concurrency C] [--out bench/README.md]``. The results table is printed and
written to the ``## Relay benchmark`` section of ``--out`` (replaced on re-run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import gc
import importlib.metadata
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
SECTION = "## Relay benchmark"
GOAL_TTFT_P50_MS = 1.0
GOAL_CHUNK_P99_MS = 0.2

# --------------------------------------------------------------------------- upstream

_SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)
_NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nnot found"
)
_EVENT_PREFIX = (
    b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk",'
    b'"created":1700000000,"model":"bench","system_fingerprint":"t'
)
_FIRST_CHOICE = b'{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}'
_TOKEN_CHOICE = b'{"index":0,"delta":{"content":" tok"},"finish_reason":null}'
_FINISH_CHOICE = b'{"index":0,"delta":{},"finish_reason":"stop"}'
_DONE = b"data: [DONE]\n\n"


def _upstream_event(k: int, n: int) -> bytes:
    """SSE event ``k`` of a stream with ``n`` content chunks, stamped now."""
    if k > n:
        return _DONE
    choice = _FIRST_CHOICE if k == 0 else _TOKEN_CHOICE if k < n else _FINISH_CHOICE
    return b'%s%d","choices":[%s]}\n\n' % (_EVENT_PREFIX, time.monotonic_ns(), choice)


def _frame(data: bytes) -> bytes:
    """One HTTP/1.1 chunked-encoding chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


def _parse_request_head(head: bytes) -> tuple[str, str, int]:
    """Method, path and content length of an HTTP/1.1 request head."""
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return method, path, length


def _stream_params(body: bytes) -> tuple[int, float]:
    """Number of content chunks and pacing (seconds) asked for by the client."""
    obj = json.loads(body)
    return int(obj.get("max_tokens", 16)), int(obj.get("bench_pace_us", 0)) / 1e6


async def _send_stream(writer: asyncio.StreamWriter, n: int, pace_s: float) -> None:
    """Write ``n`` content chunks, a finish chunk and ``[DONE]``, paced."""
    head = _SSE_HEAD
    for k in range(n + 2):
        if k and pace_s > 0:
            await asyncio.sleep(pace_s)
        out = head + _frame(_upstream_event(k, n))
        if k == n + 1:
            out += b"0\r\n\r\n"
        writer.write(out)
        head = b""
    await writer.drain()


async def _upstream_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve requests on one keep-alive connection until the peer closes it."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, length = _parse_request_head(head)
            body = await reader.readexactly(length) if length else b""
            if method == "POST" and path.endswith("/chat/completions"):
                await _send_stream(writer, *_stream_params(body))
            else:
                writer.write(_NOT_FOUND)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _upstream_serve(sock: socket.socket) -> None:
    server = await asyncio.start_server(_upstream_connection, sock=sock)
    async with server:
        await server.serve_forever()


def _listening_socket() -> socket.socket:
    """A bound, listening loopback socket on a free port.

    ``proto`` must be ``IPPROTO_TCP``: asyncio only sets ``TCP_NODELAY`` on
    accepted sockets whose ``proto`` says TCP, and with Nagle on, paced small
    writes stall ~40 ms behind delayed ACKs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(512)
    return sock


def run_upstream(conn: Connection) -> None:
    """Process target: the scripted upstream; sends its port through ``conn``."""
    sock = _listening_socket()
    conn.send(sock.getsockname()[1])
    conn.close()
    asyncio.run(_upstream_serve(sock))


# --------------------------------------------------------------------------- gateway


def gateway_config(upstream_port: int, guard: str) -> dict[str, Any]:
    """Gateway configuration; ``guard="none"`` configures no policy (pass-through)."""
    from tidegate.config import TidegateConfig

    data: dict[str, Any] = {
        "upstreams": [{"name": "default", "base_url": f"http://{HOST}:{upstream_port}/v1"}]
    }
    if guard == "none" and "policies" in TidegateConfig.model_fields:
        data["policies"] = []
    return data


def _has_audit_config() -> bool:
    from tidegate.config import TidegateConfig

    return "audit" in TidegateConfig.model_fields


def _loop_name(uv_config: Any) -> str:
    factory = uv_config.get_loop_factory()
    probe = factory() if factory is not None else asyncio.new_event_loop()
    probe.close()
    return str(type(probe).__module__).split(".")[0]


def run_gateway(conn: Connection, upstream_port: int, guard: str, loop: str, http: str) -> None:
    """Process target: tidegate under uvicorn; sends port and loop/http used."""
    import uvicorn

    from tidegate.app import create_app
    from tidegate.config import parse_config

    data = gateway_config(upstream_port, guard)
    if _has_audit_config():  # code with the ops layer: log and audit as `tidegate serve` does
        from tidegate.logs import configure_logging

        configure_logging("info", stream=open(os.devnull, "w"))  # noqa: SIM115
        data["audit"] = {"path": str(Path(tempfile.mkdtemp(prefix="tidegate-bench-")) / "a.db")}
    app = create_app(parse_config(data))
    uv_config = uvicorn.Config(
        app, loop=loop, http=http, log_level="warning", access_log=False, lifespan="on"
    )
    uv_config.load()
    sock = _listening_socket()
    http_name = uv_config.http_protocol_class.__name__
    conn.send((sock.getsockname()[1], _loop_name(uv_config), http_name))
    conn.close()
    uvicorn.Server(uv_config).run(sockets=[sock])


# --------------------------------------------------------------------------- processes


def _start(target: Callable[..., None], *args: object) -> tuple[BaseProcess, Any]:
    """Start ``target`` in a fresh (spawned) process; return it and its first message."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(child, *args), daemon=True)
    proc.start()
    child.close()
    if not parent.poll(30):
        raise RuntimeError(f"{target.__name__} did not start")
    return proc, parent.recv()


def _stop(proc: BaseProcess) -> None:
    if proc.is_alive():
        proc.terminate()
        proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join(5)


# --------------------------------------------------------------------------- client


@dataclass
class Response:
    """One response: request write time and each SSE event with its receipt time."""

    status: int
    sent_ns: int
    events: list[tuple[int, bytes]] = field(default_factory=list)
    body: bytes = b""


class _ClientProtocol(asyncio.Protocol):
    """HTTP/1.1 keep-alive client that timestamps every read on arrival."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._sse = bytearray()
        self._response: Response | None = None
        self._future: asyncio.Future[Response] | None = None
        self._head_done = False
        self._chunked = False
        self._remaining = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_exception(exc or ConnectionError("connection closed"))

    def request(self, raw: bytes) -> asyncio.Future[Response]:
        assert self.transport is not None and self._future is None
        self._future = asyncio.get_running_loop().create_future()
        self._head_done = False
        sent = time.monotonic_ns()
        self._response = Response(status=0, sent_ns=sent)
        self.transport.write(raw)
        return self._future

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        self._buf += data
        while self._response is not None and self._step(now):
            pass

    def _step(self, now: int) -> bool:
        """Consume one unit (head, chunk, body) from the buffer; False when short."""
        if not self._head_done:
            return self._parse_head()
        if self._chunked:
            return self._parse_chunk(now)
        take = min(self._remaining, len(self._buf))
        self._body(bytes(self._buf[:take]), now)
        del self._buf[:take]
        self._remaining -= take
        if self._remaining == 0:
            self._finish()
        return False

    def _parse_head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = self._buf[:end].decode("latin-1").split("\r\n")
        del self._buf[: end + 4]
        assert self._response is not None
        self._response.status = int(lines[0].split(" ", 2)[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        self._chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        self._remaining = int(headers.get("content-length", "0"))
        self._head_done = True
        if not self._chunked and self._remaining == 0:
            self._finish()
            return False
        return True

    def _parse_chunk(self, now: int) -> bool:
        eol = self._buf.find(b"\r\n")
        if eol < 0:
            return False
        size = int(self._buf[:eol].split(b";", 1)[0], 16)
        if len(self._buf) < eol + 2 + size + 2:
            return False
        data = bytes(self._buf[eol + 2 : eol + 2 + size])
        del self._buf[: eol + 2 + size + 2]
        if size == 0:
            self._finish()
            return False
        self._body(data, now)
        return True

    def _body(self, data: bytes, now: int) -> None:
        assert self._response is not None
        if self._response.status != 200:
            self._response.body += data
            return
        self._sse += data
        while (end := self._sse.find(b"\n\n")) >= 0:
            self._response.events.append((now, bytes(self._sse[:end])))
            del self._sse[: end + 2]

    def _finish(self) -> None:
        future, response = self._future, self._response
        self._future = self._response = None
        self._sse.clear()
        if future is not None and response is not None and not future.done():
            future.set_result(response)


class Client:
    """One keep-alive connection to a target port."""

    def __init__(self, port: int, protocol: _ClientProtocol) -> None:
        self.port = port
        self._protocol = protocol

    @classmethod
    async def connect(cls, port: int) -> Client:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_ClientProtocol, HOST, port)
        return cls(port, protocol)

    async def stream(self, chunks: int, pace_us: int) -> Response:
        """POST one streaming chat completion; return the timestamped events."""
        body = json.dumps(
            {
                "model": "bench",
                "messages": [{"role": "user", "content": "hello"}],
                "stream": True,
                "max_tokens": chunks,
                "bench_pace_us": pace_us,
            }
        ).encode()
        raw = (
            b"POST /v1/chat/completions HTTP/1.1\r\nhost: %s:%d\r\n"
            b"content-type: application/json\r\naccept: text/event-stream\r\n"
            b"content-length: %d\r\n\r\n%s" % (HOST.encode(), self.port, len(body), body)
        )
        response = await self._protocol.request(raw)
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status} from :{self.port}: {response.body[:200]!r}")
        return response

    def close(self) -> None:
        if self._protocol.transport is not None:
            self._protocol.transport.close()


# --------------------------------------------------------------------------- analysis


@dataclass
class Latencies:
    """Latency samples (ms) of one target."""

    ttft: list[float] = field(default_factory=list)
    chunk: list[float] = field(default_factory=list)

    def extend(self, other: Latencies) -> None:
        self.ttft += other.ttft
        self.chunk += other.chunk


def _event_stamp(raw: bytes) -> tuple[int, str] | None:
    """Upstream send time and delta content of one event; None for ``[DONE]``."""
    if not raw.startswith(b"data: {"):
        return None
    obj = json.loads(raw[6:])
    delta = obj["choices"][0]["delta"]
    return int(obj["system_fingerprint"][1:]), delta.get("content") or ""


def analyse(response: Response, chunks: int) -> Latencies:
    """TTFT and per-chunk latencies (ms) of one streamed response."""
    out = Latencies()
    stamped = 0
    for recv_ns, raw in response.events:
        stamp = _event_stamp(raw)
        if stamp is None:
            continue
        stamped += 1
        send_ns, content = stamp
        if not out.ttft and content:
            out.ttft.append((recv_ns - response.sent_ns) / 1e6)
        else:
            out.chunk.append((recv_ns - send_ns) / 1e6)
    if stamped != chunks + 1 or not out.ttft:
        raise RuntimeError(f"expected {chunks + 1} chunk events, got {stamped}")
    return out


def pct(values: Sequence[float], p: int) -> float:
    """The ``p``-th percentile (inclusive linear interpolation)."""
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


# --------------------------------------------------------------------------- phases


@dataclass
class Settings:
    """Benchmark parameters (see ``--help``)."""

    requests: int
    chunks: int
    pace_us: int
    rounds: int
    warmup: int
    concurrency: int
    short_chunks: int
    throughput_s: float
    guard: str = "none"


@dataclass
class LatencyResult:
    direct: Latencies
    through: Latencies
    rounds: list[tuple[Latencies, Latencies]]


async def _one(client: Client, s: Settings) -> Latencies:
    return analyse(await client.stream(s.chunks, s.pace_us), s.chunks)


async def latency_phase(direct: Client, through: Client, s: Settings) -> LatencyResult:
    """Alternate direct/through streams one at a time; collect latencies."""
    for _ in range(s.warmup):
        await _one(direct, s)
        await _one(through, s)
    result = LatencyResult(Latencies(), Latencies(), [])
    per_round = max(1, s.requests // s.rounds)
    for _ in range(s.rounds):
        d_round, t_round = Latencies(), Latencies()
        for i in range(per_round):
            order = ((direct, d_round), (through, t_round))
            for client, sink in order if i % 2 == 0 else order[::-1]:
                sink.extend(await _one(client, s))
                await asyncio.sleep(0.002)  # let the previous stream's teardown finish
        result.rounds.append((d_round, t_round))
        result.direct.extend(d_round)
        result.through.extend(t_round)
    return result


async def _rps_worker(client: Client, chunks: int, deadline: float) -> int:
    done = 0
    while time.monotonic() < deadline:
        await client.stream(chunks, 0)
        done += 1
    return done


async def _rps_slice(clients: list[Client], chunks: int, seconds: float) -> tuple[int, float]:
    start = time.monotonic()
    counts = await asyncio.gather(*(_rps_worker(c, chunks, start + seconds) for c in clients))
    return sum(counts), time.monotonic() - start


async def throughput_phase(direct_port: int, through_port: int, s: Settings) -> tuple[float, float]:
    """Streams per second, direct and through, alternating in time slices."""
    pools = {
        port: [await Client.connect(port) for _ in range(s.concurrency)]
        for port in (direct_port, through_port)
    }
    done = dict.fromkeys(pools, 0)
    spent = dict.fromkeys(pools, 0.0)
    try:
        for clients in pools.values():  # warm-up
            await _rps_slice(clients, s.short_chunks, 0.3)
        slice_s = s.throughput_s / s.rounds
        for r in range(s.rounds):
            order = [direct_port, through_port] if r % 2 == 0 else [through_port, direct_port]
            for port in order:
                n, elapsed = await _rps_slice(pools[port], s.short_chunks, slice_s)
                done[port] += n
                spent[port] += elapsed
    finally:
        for clients in pools.values():
            for client in clients:
                client.close()
    return done[direct_port] / spent[direct_port], done[through_port] / spent[through_port]


# --------------------------------------------------------------------------- report


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_line(loop_used: str, http_used: str) -> str:
    """One line describing the machine and the software stack."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    installed = {m: importlib.util.find_spec(m) is not None for m in ("uvloop", "httptools")}
    return (
        f"{_cpu_model()}, {cores} cores ({usable} usable), Linux {platform.release()}; "
        f"Python {platform.python_version()}; uvicorn {_version('uvicorn')} "
        f"(loop: {loop_used}, http: {http_used}; uvloop "
        f"{'installed' if installed['uvloop'] else 'not installed'}, httptools "
        f"{'installed' if installed['httptools'] else 'not installed'}), "
        f"aiohttp {_version('aiohttp')} (upstream client), starlette {_version('starlette')}; "
        f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def _ms(value: float) -> str:
    return f"{value:.3f}"


def _row(name: str, d: Sequence[float], t: Sequence[float], p: int) -> str:
    dp, tp = pct(d, p), pct(t, p)
    return f"| {name} p{p} (ms) | {_ms(dp)} | {_ms(tp)} | **{_ms(tp - dp)}** |"


def _round_spread(res: LatencyResult, metric: str, p: int) -> str:
    added = [pct(getattr(t, metric), p) - pct(getattr(d, metric), p) for d, t in res.rounds]
    return f"{_ms(min(added))} to {_ms(max(added))}"


def _verdict(measured: float, goal: float) -> str:
    return "**met**" if measured <= goal else "**NOT met**"


def _method_lines(s: Settings, machine: str) -> list[str]:
    guard = "no policy, so a pass-through guard" if s.guard == "none" else "default policies"
    return [
        "`bench/relay.py` measures what the gateway adds on top of talking to the upstream",
        "directly: a raw-socket scripted upstream and the gateway (uvicorn;",
        f"{guard}) each run in their own process on 127.0.0.1; the client alternates",
        "direct and through requests in one run. TTFT is request write to first content event;",
        "per-chunk latency is the upstream's send stamp (`CLOCK_MONOTONIC`, carried in",
        "`system_fingerprint`) to the client's read. Percentiles are taken per distribution;",
        "*added* = through - direct.",
        "See the module docstring for the full method.",
        "",
        "Run: `.venv/bin/python bench/relay.py` "
        f"(this run: `--requests {s.requests} --chunks {s.chunks} --pace-ms {s.pace_us / 1000:g} "
        f"--concurrency {s.concurrency} --short-chunks {s.short_chunks} "
        f"--throughput-seconds {s.throughput_s:g} --rounds {s.rounds} --guard {s.guard}`).",
        "",
        f"Machine: {machine}.",
        "",
    ]


def _result_lines(res: LatencyResult, rps: tuple[float, float], s: Settings) -> list[str]:
    d, t = res.direct, res.through
    return [
        "| metric | direct | through tidegate | added |",
        "| --- | ---: | ---: | ---: |",
        _row("TTFT", d.ttft, t.ttft, 50),
        _row("TTFT", d.ttft, t.ttft, 99),
        _row("per-chunk", d.chunk, t.chunk, 50),
        _row("per-chunk", d.chunk, t.chunk, 99),
        f"| short streams ({s.short_chunks} chunks, {s.concurrency} connections), req/s "
        f"| {rps[0]:.0f} | {rps[1]:.0f} | {rps[1] / rps[0]:.0%} of direct |",
        "",
        f"Samples: {len(d.ttft)} streams and {len(d.chunk)} chunks per target. Noise: across the "
        f"{len(res.rounds)} rounds of this run, added TTFT p50 ranged "
        f"{_round_spread(res, 'ttft', 50)} ms and added per-chunk p99 "
        f"{_round_spread(res, 'chunk', 99)} ms. A p99 rests on the slowest 1% of samples and "
        "moves with scheduler noise: client, upstream and gateway share the same 2 cores. "
        "The direct req/s is bounded by this Python client and upstream, not the network.",
        "",
    ]


def _goal_lines(res: LatencyResult) -> list[str]:
    d, t = res.direct, res.through
    ttft = pct(t.ttft, 50) - pct(d.ttft, 50)
    chunk = pct(t.chunk, 99) - pct(d.chunk, 99)
    return [
        "| project goal (on a 2-core machine) | measured | verdict |",
        "| --- | ---: | --- |",
        f"| added TTFT p50 <= {GOAL_TTFT_P50_MS:g} ms | {_ms(ttft)} ms "
        f"| {_verdict(ttft, GOAL_TTFT_P50_MS)} |",
        f"| added per-chunk p99 <= {GOAL_CHUNK_P99_MS:g} ms | {_ms(chunk)} ms "
        f"| {_verdict(chunk, GOAL_CHUNK_P99_MS)} |",
        "",
    ]


def render(res: LatencyResult, rps: tuple[float, float], s: Settings, machine: str) -> str:
    """The markdown section (heading included)."""
    lines = [
        SECTION,
        "",
        *_method_lines(s, machine),
        *_result_lines(res, rps, s),
        *_goal_lines(res),
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Put ``section`` in ``path``, replacing an earlier one of the same heading."""
    text = path.read_text() if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        head = text.rstrip("\n")
        path.write_text((head + "\n\n" if head else "") + section)
        return
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))),
        len(lines),
    )
    rest = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + rest if rest else ""))


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--requests", type=int, default=200, help="latency streams per target")
    p.add_argument("--chunks", type=int, default=40, help="content chunks per latency stream")
    p.add_argument("--pace-ms", type=float, default=1.0, help="upstream gap between events")
    p.add_argument("--rounds", type=int, default=4, help="alternation rounds (noise estimate)")
    p.add_argument("--warmup", type=int, default=20, help="warm-up streams per target")
    p.add_argument("--concurrency", type=int, default=16, help="connections, throughput phase")
    p.add_argument("--short-chunks", type=int, default=5, help="chunks per throughput stream")
    p.add_argument("--throughput-seconds", type=float, default=5.0, help="per target")
    p.add_argument(
        "--guard",
        choices=("none", "default"),
        default="none",
        help="none: no policy (pass-through relay); default: the project's default policies",
    )
    p.add_argument("--uvicorn-loop", default="auto", help="gateway event loop (auto, asyncio, …)")
    p.add_argument("--uvicorn-http", default="auto", help="gateway HTTP impl (auto, h11, …)")
    p.add_argument("--time-cap", type=float, default=150.0, help="abort after this many seconds")
    p.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "README.md"),
        help="markdown file to update ('' to skip)",
    )
    return p.parse_args(argv)


def _settings(args: argparse.Namespace) -> Settings:
    return Settings(
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


async def _wait_ready(port: int) -> Client:
    """A connection to ``port`` once a one-chunk stream succeeds on it."""
    deadline = time.monotonic() + 20
    while True:
        client: Client | None = None
        try:
            client = await Client.connect(port)
            await client.stream(1, 0)
            return client
        except (OSError, RuntimeError):
            if client is not None:
                client.close()
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


async def run(up_port: int, gw_port: int, s: Settings) -> tuple[LatencyResult, tuple[float, float]]:
    """Both phases; returns latency samples and (direct, through) req/s."""
    direct, through = await _wait_ready(up_port), await _wait_ready(gw_port)
    gc.collect()
    gc.freeze()
    try:
        print(f"latency phase: {s.requests} streams x {s.chunks} chunks per target …", flush=True)
        lat = await latency_phase(direct, through, s)
    finally:
        direct.close()
        through.close()
    print(f"throughput phase: {s.throughput_s:g} s per target …", flush=True)
    rps = await throughput_phase(up_port, gw_port, s)
    return lat, rps


@contextlib.contextmanager
def _processes(args: argparse.Namespace) -> Iterator[tuple[int, int, str, str]]:
    """Start upstream and gateway; yield their ports and the gateway's loop/http."""
    procs: list[BaseProcess] = []
    try:
        up, up_port = _start(run_upstream)
        procs.append(up)
        gw, (gw_port, loop_used, http_used) = _start(
            run_gateway, up_port, args.guard, args.uvicorn_loop, args.uvicorn_http
        )
        procs.append(gw)
        print(f"upstream pid {up.pid} :{up_port}, gateway pid {gw.pid} :{gw_port}", flush=True)
        yield up_port, gw_port, loop_used, http_used
    finally:
        for proc in reversed(procs):
            _stop(proc)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    s = _settings(args)
    with _processes(args) as (up_port, gw_port, loop_used, http_used):
        try:
            lat, rps = asyncio.run(asyncio.wait_for(run(up_port, gw_port, s), args.time_cap))
        except TimeoutError:
            print(f"aborted: the run exceeded --time-cap {args.time_cap:g} s", file=sys.stderr)
            return 1
    section = render(lat, rps, s, machine_line(loop_used, http_used))
    print()
    print(section)
    if args.out:
        write_section(Path(args.out), section)
        print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
