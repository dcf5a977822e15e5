"""The upstream transport: error mapping, headers sent, pool limits, session lifetime."""

from __future__ import annotations

import json
import time

import aiohttp
import httpx
import pytest

from tests.conftest import GatewayFactory
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream
from tidegate.config import parse_config
from tidegate.errors import UpstreamError, UpstreamProtocolError, UpstreamTimeoutError
from tidegate.sse import SSEDecoder
from tidegate.upstream import Upstream, map_aiohttp_error

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("exc", "mapped"),
    [
        (aiohttp.ServerTimeoutError("Timeout on reading data from socket"), UpstreamTimeoutError),
        (TimeoutError(), UpstreamTimeoutError),
        (aiohttp.ClientPayloadError("Response payload is not completed"), UpstreamProtocolError),
        (aiohttp.ServerDisconnectedError(), UpstreamProtocolError),
        (aiohttp.ClientOSError(104, "Connection reset by peer"), UpstreamProtocolError),
        (ConnectionResetError(), UpstreamProtocolError),
    ],
)
def test_error_mapping(exc: BaseException, mapped: type[UpstreamError]) -> None:
    error = map_aiohttp_error(exc, "u")
    assert type(error) is mapped
    assert "'u'" in error.message


def test_client_library_adds_no_headers(upstream: ScriptedUpstream, gateway: str) -> None:
    """No User-Agent or Content-Type of the HTTP client's own; the client's pass through."""
    upstream.reset(Script(json_body=chat_completion("x")))
    body = json.dumps({"model": "m", "messages": MESSAGES}).encode()
    with httpx.Client() as plain:
        del plain.headers["user-agent"]
        plain.post(gateway + "/v1/chat/completions", content=body)
    httpx.post(
        gateway + "/v1/chat/completions",
        content=body,
        headers={"user-agent": "mine/1.0", "content-type": "application/json"},
    )
    bare, own = (r["headers"] for r in upstream.requests)
    assert "user-agent" not in bare
    assert "content-type" not in bare
    assert bare["accept-encoding"] == "identity"
    assert own["user-agent"] == "mine/1.0"
    assert own["content-type"] == "application/json"
    assert "cookie" not in own


def test_upstream_at_max_connections_answers_429_at_once(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    """With max_connections requests in flight, one more gets 429 at once, never a pool wait."""
    upstream.reset(
        Script(events=chat_stream(["a", "b"]), hang_after=2, json_body=chat_completion("x"))
    )
    config = {
        "upstreams": [
            {
                "name": "u",
                "base_url": upstream_url,
                "max_connections": 1,
                "timeouts": {"connect_s": 5},
            }
        ]
    }
    with (
        make_gateway(config) as url,
        httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "m", "messages": MESSAGES, "stream": True},
        ) as held,
    ):
        pieces = held.iter_raw()  # kept open: leaving the loop would close the stream
        decoder = SSEDecoder()
        while not decoder.feed(next(pieces)):
            pass
        started = time.monotonic()
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
        waited = time.monotonic() - started
    assert r.status_code == 429
    assert r.headers["retry-after"] == "1"
    assert r.json()["error"]["code"] == "gateway_overloaded"
    assert r.json()["error"]["type"] == "rate_limit_error"
    assert waited < 4  # not the 5 s connect (pool acquire) timeout
    assert len(upstream.requests) == 1


@pytest.mark.anyio
async def test_session_is_created_on_first_use_and_closed() -> None:
    config = parse_config({"upstreams": [{"name": "u", "base_url": "http://127.0.0.1:9/v1"}]})
    upstream = Upstream(config.upstreams[0])
    await upstream.aclose()  # never used: nothing to close
    with pytest.raises(UpstreamError):  # nothing listens on port 9
        async with upstream.open("GET", "/models", headers={}):
            pass
    session = upstream._session
    assert session is not None
    assert not session.closed
    await upstream.aclose()
    assert session.closed
    assert upstream._session is None
