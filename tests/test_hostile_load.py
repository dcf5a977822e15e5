"""Hostile load, on loopback: what one client costs the others stays bounded.

Real servers (the gateway as ``tidegate serve`` configures uvicorn, the
scripted upstream) and real clients (httpx, raw sockets, the openai and
anthropic SDKs). Bounds are generous (they hold on a busy 2-core machine);
the timing goals themselves are measured in ``bench/load.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

import tidegate
from tests.support.servers import free_port, serve_config_in_thread
from tests.support.upstream import (
    Script,
    ScriptedUpstream,
    chat_completion,
    chat_stream,
    wait_until,
)
from tidegate.app import Gateway, create_app
from tidegate.config import parse_config
from tidegate.server import uvicorn_config

MESSAGES = [{"role": "user", "content": "hi"}]


@contextmanager
def served_gateway(
    upstream_url: str, config: dict[str, Any] | None = None
) -> Iterator[tuple[str, Gateway]]:
    """The gateway as ``tidegate serve`` runs it, in a thread; yields (base URL, Gateway)."""
    data: dict[str, Any] = {
        "listen": f"127.0.0.1:{free_port()}",
        "upstreams": [{"name": "default", "base_url": upstream_url}],
        "shutdown": {"drain_s": 0},
        "audit": {"store": "none"},
    }
    data.update(config or {})
    tidegate_config = parse_config(data)
    app = create_app(tidegate_config)
    with serve_config_in_thread(uvicorn_config(app, tidegate_config)) as url:
        yield url, app.state.gateway


def http_request(path: str, body: dict[str, Any]) -> bytes:
    raw = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        f"content-length: {len(raw)}\r\n\r\n"
    ).encode() + raw


def test_vanishing_clients_release_the_upstream_at_once(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    """100 clients send a request and vanish while the upstream thinks: the 101st is served.

    With ``max_connections: 100`` the vanished clients' upstream requests
    would hold every slot until the upstream answered (here: a minute).
    """
    upstream.reset(Script(delay_s=60, events=chat_stream(["late"]), json_body=chat_completion("")))
    config = {"upstreams": [{"name": "default", "base_url": upstream_url, "max_connections": 100}]}
    with served_gateway(upstream_url, config) as (url, gateway):
        port = int(url.rsplit(":", 1)[1])
        clients = []
        for i in range(100):  # half streamed, half not
            sock = socket.create_connection(("127.0.0.1", port))
            body = {"model": "m", "messages": MESSAGES, "stream": i % 2 == 0}
            sock.sendall(http_request("/v1/chat/completions", body))
            clients.append(sock)
        assert wait_until(lambda: len(upstream.requests) == 100, timeout=30)
        for sock in clients:
            sock.close()
        # Only the gateway dropping each upstream connection can tell the
        # (sleeping) upstream that its client went away.
        assert wait_until(lambda: upstream.disconnects == 100, timeout=15), upstream.disconnects
        assert wait_until(lambda: gateway.slots.in_use == 0, timeout=5)
        assert gateway.upstreams["default"].slots.in_use == 0

        upstream.script = Script(json_body=chat_completion("served"))
        started = time.monotonic()
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
        waited = time.monotonic() - started
    assert r.status_code == 200
    assert r.json()["choices"][0]["message"]["content"] == "served"
    assert waited < 3  # not a pool wait (5 s) nor the upstream's minute


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= needed:
        return
    if hard != resource.RLIM_INFINITY and hard < needed:
        pytest.skip(f"needs {needed} file descriptors, the hard limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


async def _stream_all(url: str, count: int) -> tuple[list[bytes], list[str]]:
    bodies: list[bytes] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=count + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(90)) as client:

        async def one() -> None:
            try:
                async with client.stream(
                    "POST",
                    url + "/v1/chat/completions",
                    json={"model": "m", "messages": MESSAGES, "stream": True},
                ) as r:
                    body = await r.aread()
                    if r.status_code != 200:
                        errors.append(f"HTTP {r.status_code}: {body[:200]!r}")
                    else:
                        bodies.append(body)
            except httpx.HTTPError as exc:
                errors.append(repr(exc))

        await asyncio.gather(*(one() for _ in range(count)))
    return bodies, errors


def test_default_config_serves_1000_concurrent_streams(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    """1,000 streams open at the same time (the upstream holds them until all arrived): 0 errors."""
    count = 1000
    _raise_fd_limit(6 * count)  # client, gateway (both sides) and upstream sockets, and slack
    events = chat_stream(["Hel", "lo", "!"])

    def all_in(k: int) -> None:
        if k == 1:
            assert wait_until(lambda: len(upstream.requests) >= count, timeout=60)

    upstream.reset(Script(events=events, gate=all_in))
    started = time.monotonic()
    with served_gateway(upstream_url) as (url, gateway):
        bodies, errors = asyncio.run(_stream_all(url, count))
        assert wait_until(lambda: gateway.slots.in_use == 0, timeout=10)
    assert errors == []
    assert len(bodies) == count
    assert all(body == b"".join(events) for body in bodies)
    assert len(upstream.requests) == count
    assert time.monotonic() - started < 120


@pytest.mark.parametrize("streams", [True, False])
def test_past_max_concurrent_streams_is_429_at_once(
    upstream: ScriptedUpstream, upstream_url: str, streams: bool
) -> None:
    """Past the limit: 429 with Retry-After in each endpoint's format; the slots come back."""
    upstream.reset(
        Script(events=chat_stream(["a", "b"]), hang_after=2, json_body=chat_completion("x"))
    )
    config = {"limits": {"max_concurrent_streams": 2}}
    with served_gateway(upstream_url, config) as (url, gateway), httpx.Client() as http:
        held = []
        for _ in range(2):
            request = http.build_request(
                "POST",
                url + "/v1/chat/completions",
                json={"model": "m", "messages": MESSAGES, "stream": True},
            )
            response = http.send(request, stream=True)
            pieces = response.iter_raw()  # kept: a dropped iterator closes the stream
            next(pieces)  # the stream is open, holding its slot
            held.append((response, pieces))
        assert gateway.slots.in_use == 2

        started = time.monotonic()
        oai = openai.OpenAI(base_url=url + "/v1", api_key="sk", max_retries=0)
        with pytest.raises(openai.RateLimitError) as oai_info:
            oai.chat.completions.create(model="m", messages=MESSAGES, stream=streams)  # type: ignore[call-overload]
        ant = anthropic.Anthropic(base_url=url, api_key="sk", max_retries=0)
        with pytest.raises(anthropic.RateLimitError) as ant_info:
            ant.messages.create(
                model="m",
                max_tokens=10,
                messages=MESSAGES,
                stream=streams,  # type: ignore[call-overload, arg-type]
            )
        assert time.monotonic() - started < 3  # at once: no queue, no timeout

        assert oai_info.value.status_code == 429
        assert oai_info.value.response.headers["retry-after"] == "1"
        assert oai_info.value.code == "gateway_overloaded"
        assert oai_info.value.type == "rate_limit_error"
        assert ant_info.value.response.headers["retry-after"] == "1"
        assert ant_info.value.body == {
            "type": "error",
            "error": {
                "type": "rate_limit_error",
                "message": ant_info.value.body["error"]["message"],  # type: ignore[index]
                "code": "gateway_overloaded",
            },
        }
        assert len(upstream.requests) == 2  # the refused ones never went upstream

        for response, _ in held:  # the clients go away: their slots come back
            response.close()
        assert wait_until(lambda: gateway.slots.in_use == 0, timeout=5)
        upstream.script = Script(json_body=chat_completion("again"))
        r = http.post(url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
        assert r.status_code == 200


def test_a_4mb_prompt_does_not_stall_a_small_stream(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    """A 4 MB prompt is scanned (default policies, ~1 s of CPU) while a small stream flows.

    Run on the event loop, the scan would hold the small stream back until
    it ended: the small stream could not finish before the big request was
    sent upstream, nor take less than a fraction of its time.
    """
    pieces = ["Hel", "lo", " there", "!"]
    upstream.reset(Script(events=chat_stream(pieces), json_body=chat_completion("ok")))
    words = "Lorem ipsum dolor 42 sit amet, consectetur adipiscing elit; sed do 7 eiusmod. "
    prompt = (words * (4_000_000 // len(words) + 1))[:4_000_000]
    big_body = {"model": "m", "messages": [{"role": "user", "content": prompt}]}
    big: dict[str, float] = {}

    def send_big() -> None:
        big["start"] = time.monotonic()
        r = httpx.post(url + "/v1/chat/completions", json=big_body, timeout=60)
        big["done"] = time.monotonic()
        big["status"] = r.status_code

    with served_gateway(upstream_url) as (url, gateway):
        thread = threading.Thread(target=send_big)
        thread.start()
        assert wait_until(lambda: gateway.slots.in_use == 1, timeout=10)
        time.sleep(0.3)  # the body is read and parsed; the scan is running
        small_start = time.monotonic()
        with httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "m", "messages": MESSAGES, "stream": True},
        ) as r:
            body = b"".join(r.iter_raw())
        small_done = time.monotonic()
        big_upstream = [q for q in upstream.requests if len(q["body"]) > 1_000_000]
        thread.join(timeout=60)
    assert body == b"".join(chat_stream(pieces))
    assert big["status"] == 200
    assert small_done < big["done"]
    assert not big_upstream or big_upstream[0]["received_at"] > small_done
    small_s, big_s = small_done - small_start, big["done"] - big["start"]
    assert small_s < big_s / 3, (small_s, big_s)


def test_sigterm_drains_streams_then_terminates_the_rest(
    upstream: ScriptedUpstream, upstream_url: str, tmp_path: Path
) -> None:
    """SIGTERM: no new connections; a stream that ends within drain_s ends normally;
    one still open then gets the termination event and [DONE]; exit code 0."""
    sigterm_sent = threading.Event()
    arrived: list[int] = []  # streams that reached their third event, in order
    lock = threading.Lock()

    def gate(k: int) -> None:
        if k != 2:
            return
        with lock:
            arrived.append(len(arrived))
            mine = arrived[-1]
        if mine == 0:  # stream A: finishes during the drain
            assert sigterm_sent.wait(timeout=30)
            time.sleep(0.2)
        else:  # stream B: the upstream never sends more
            time.sleep(60)

    events = chat_stream(["one", "two", "three"])
    upstream.reset(Script(events=events, gate=gate))
    config = tmp_path / "tidegate.yaml"
    config.write_text("shutdown:\n  drain_s: 1.5\npolicies: []\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    src = str(Path(tidegate.__file__).resolve().parents[1])
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "tidegate.cli", "serve", "--config", str(config)),
            *("--upstream", f"default={upstream_url}", "--listen", f"127.0.0.1:{port}"),
        ],
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": src},
    )
    try:
        assert wait_until(lambda: _healthy(url), timeout=30)
        bodies: dict[str, bytes] = {}

        def stream(name: str) -> None:
            with httpx.stream(
                "POST",
                url + "/v1/chat/completions",
                json={"model": "m", "messages": MESSAGES, "stream": True},
                timeout=30,
            ) as r:
                bodies[name] = b"".join(r.iter_raw())

        threads = [threading.Thread(target=stream, args=(n,)) for n in "AB"]
        for i, thread in enumerate(threads):
            thread.start()
            assert wait_until(lambda i=i: len(arrived) == i + 1, timeout=10)
        sigterm_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        sigterm_sent.set()
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):  # no longer accepting
            httpx.get(url + "/healthz")
        for thread in threads:
            thread.join(timeout=30)
        ended_at = time.monotonic()
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        stderr = process.communicate()[1].decode()
    assert code == 0, stderr
    assert bodies["A"] == b"".join(events)  # finished during the drain, untouched
    b_events = [e for e in bodies["B"].split(b"\n\n") if e]
    assert b_events[:2] == [e.rstrip(b"\n") for e in events[:2]]
    error = json.loads(b_events[-2].removeprefix(b"data: "))["error"]
    assert error["code"] == "gateway_shutting_down"
    assert b_events[-1] == b"data: [DONE]"
    assert ended_at - sigterm_at > 1.0  # B ran on for the drain time
    logs = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    draining = next(e for e in logs if e["event"] == "draining")
    stopped = next(e for e in logs if e["event"] == "stopped")
    assert draining["streams"] == 2
    assert stopped["streams_terminated"] == 1
    assert stopped["requests_left"] == 0


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
