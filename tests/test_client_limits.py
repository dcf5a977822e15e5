"""Slow and huge clients: header size and deadline, body idle timeout, keep-alive.

Real sockets against the gateway served as ``tidegate serve`` serves it
(``tidegate.server.uvicorn_config``: the header-limited protocol over
uvicorn's own), in front of the scripted upstream.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.support.servers import free_port, serve_config_in_thread
from tests.support.upstream import Script, ScriptedUpstream, chat_completion
from tidegate.app import create_app
from tidegate.config import parse_config
from tidegate.server import uvicorn_config

LIMITS = {
    "max_header_bytes": 4096,
    "header_timeout_s": 0.5,
    "body_idle_timeout_s": 0.5,
    "keepalive_timeout_s": 2,
}
BODY = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()


@contextmanager
def gateway_port(upstream_url: str, limits: dict[str, Any] = LIMITS) -> Iterator[int]:
    port = free_port()
    config = parse_config(
        {
            "listen": f"127.0.0.1:{port}",
            "upstreams": [{"name": "default", "base_url": upstream_url}],
            "limits": limits,
            "shutdown": {"drain_s": 0},
            "audit": {"store": "none"},
        }
    )
    app = create_app(config)
    with serve_config_in_thread(uvicorn_config(app, config)):
        yield port


def head(path: str, length: int, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\n"
        f"content-length: {length}\r\n{extra}\r\n"
    ).encode()


def read_response(sock: socket.socket, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response with a content-length (what the gateway sends here)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(65536)
        if not piece:
            raise ConnectionError(f"closed after {data!r}")
        data += piece
    header, _, rest = data.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(rest) < int(headers["content-length"]):
        rest += sock.recv(65536)
    return int(lines[0].split()[1]), headers, rest


def closed_by_peer(sock: socket.socket, timeout: float = 5) -> bool:
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def test_limits_are_config_keys_with_defaults() -> None:
    limits = parse_config({}).limits
    assert limits.max_concurrent_streams == 1000
    assert limits.max_header_bytes == 16 * 1024
    assert limits.header_timeout_s == 10
    assert limits.body_idle_timeout_s == 10
    assert limits.keepalive_timeout_s == 5
    assert parse_config({}).shutdown.drain_s == 30
    config = parse_config({"upstreams": [{"name": "u", "base_url": "http://x/v1"}]})
    assert config.upstreams[0].max_connections == 1000


def test_requests_pass_and_keep_alive_works(upstream: ScriptedUpstream, upstream_url: str) -> None:
    upstream.reset(Script(json_body=chat_completion("ok")))
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(2):  # two requests on one connection, a pause between them
            sock.sendall(head("/v1/chat/completions", len(BODY)) + BODY)
            status, _, body = read_response(sock)
            assert status == 200
            assert json.loads(body)["choices"][0]["message"]["content"] == "ok"
            time.sleep(0.8)  # longer than header_timeout_s: idle is keep-alive's business
    assert len(upstream.requests) == 2


def test_oversized_headers_get_431_and_the_connection_is_closed(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        filler = "".join(f"x-filler-{i:03d}: {'a' * 84}\r\n" for i in range(60))  # 6,000 bytes
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\n" + filler.encode())
        status, headers, _ = read_response(sock)  # the header block never ended
        assert status == 431
        assert headers["connection"] == "close"
        assert closed_by_peer(sock)
    assert upstream.requests == []


def test_slowloris_headers_get_408_at_the_deadline(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    """A byte every 50 ms keeps the connection busy but never completes the headers."""
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nhost: t\r\nx-slow: ")
        sock.settimeout(0.05)
        reply = b""
        while not reply and time.monotonic() - started < 5:
            try:
                sock.sendall(b"a")
                reply = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert 0.4 < waited < 3
    assert upstream.requests == []


def test_a_silent_connection_is_closed_at_the_header_deadline(upstream_url: str) -> None:
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.settimeout(5)
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 408 ")
        assert closed_by_peer(sock)
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/v1/chat/completions", "openai"), ("/v1/messages", "anthropic")],
)
def test_a_stalled_body_gets_408_in_the_wire_format(
    upstream: ScriptedUpstream, upstream_url: str, path: str, shape: str
) -> None:
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.monotonic()
        sock.sendall(head(path, len(BODY)) + BODY[:10])  # then nothing more
        status, _, body = read_response(sock)
        waited = time.monotonic() - started
    assert status == 408
    error = json.loads(body)
    if shape == "openai":
        assert error["error"]["code"] == "request_timeout"
        assert error["error"]["type"] == "invalid_request_error"
    else:
        assert error["type"] == "error"
        assert error["error"]["code"] == "request_timeout"
    assert 0.4 < waited < 3
    assert upstream.requests == []


def test_a_slow_but_steady_body_is_accepted(upstream: ScriptedUpstream, upstream_url: str) -> None:
    """Pieces 0.3 s apart (timeout 0.5 s), 1.5 s in all: the idle deadline moves on per read."""
    upstream.reset(Script(json_body=chat_completion("ok")))
    with gateway_port(upstream_url) as port, socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head("/v1/chat/completions", len(BODY)))
        step = len(BODY) // 5 + 1
        for i in range(0, len(BODY), step):
            time.sleep(0.3)
            sock.sendall(BODY[i : i + step])
        status, _, body = read_response(sock)
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "ok"
