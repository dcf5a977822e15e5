"""The relay: real openai SDK → real gateway → real scripted upstream, all on loopback."""

from __future__ import annotations

import json
import threading
import time

import httpx
import openai
import pytest

from tests.conftest import GatewayFactory
from tests.support.servers import free_port
from tests.support.upstream import (
    Script,
    ScriptedUpstream,
    chat_completion,
    chat_stream,
    chunk,
    wait_until,
)
from tidegate.sse import SSEDecoder

MESSAGES = [{"role": "user", "content": "hi"}]
PIECES = ["Hel", "lo", ", wor", "ld", " — café ☕", "!"]


def client(url: str, **kwargs: object) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_stream_passthrough_is_byte_for_byte(upstream: ScriptedUpstream, gateway: str) -> None:
    events = chat_stream(PIECES)
    upstream.reset(Script(events=events))
    with httpx.stream(
        "POST",
        gateway + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/event-stream"
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["x-accel-buffering"] == "no"
        body = b"".join(r.iter_raw())
    assert body == b"".join(events)


def test_openai_sdk_streams_every_delta(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=chat_stream(PIECES)))
    stream = client(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    deltas = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert deltas == PIECES


@pytest.mark.anyio
async def test_async_openai_sdk_streams(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=chat_stream(PIECES)))
    aclient = openai.AsyncOpenAI(base_url=gateway + "/v1", api_key="sk", max_retries=0)
    stream = await aclient.chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    deltas = [c.choices[0].delta.content async for c in stream if c.choices[0].delta.content]
    assert deltas == PIECES
    await aclient.close()


def test_non_streaming_is_byte_for_byte(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("plain answer")))
    r = httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert r.status_code == 200
    assert r.content == json.dumps(chat_completion("plain answer")).encode()
    result = client(gateway).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert result.choices[0].message.content == "plain answer"


def test_events_are_relayed_one_at_a_time(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    """Event k+1 is only sent once the client has seen event k: no buffering anywhere.

    With no redact or block policy the guard holds nothing back, so this is
    the pipe itself.
    """
    events = chat_stream(PIECES)
    seen = [threading.Event() for _ in events]

    def gate(k: int) -> None:
        assert seen[k - 1].wait(timeout=10), f"client never saw event {k - 1}"

    upstream.reset(Script(events=events, gate=gate))
    decoder = SSEDecoder()
    count = 0
    with (
        make_gateway({"policies": []}) as gateway,
        httpx.stream(
            "POST",
            gateway + "/v1/chat/completions",
            json={"model": "m", "messages": MESSAGES, "stream": True},
        ) as r,
    ):
        for piece in r.iter_raw():
            for _ in decoder.feed(piece):
                seen[count].set()
                count += 1
    assert count == len(events)


def test_multi_choice_and_tool_call_deltas_pass(upstream: ScriptedUpstream, gateway: str) -> None:
    events = [
        chunk("a", index=0),
        chunk("b", index=1),
        chunk(tool_args='{"x":', index=0),
        chunk(tool_args="1}", index=0),
        chunk(finish="stop", index=0),
        chunk(finish="stop", index=1),
        b"data: [DONE]\n\n",
    ]
    upstream.reset(Script(events=events))
    with httpx.stream(
        "POST",
        gateway + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
    ) as r:
        assert b"".join(r.iter_raw()) == b"".join(events)


@pytest.mark.parametrize("stream", [True, False])
def test_upstream_4xx_is_relayed(upstream: ScriptedUpstream, gateway: str, stream: bool) -> None:
    body = {"error": {"message": "bad model", "type": "invalid_request_error", "code": "model"}}
    upstream.reset(Script(status=404, json_body=body))
    with pytest.raises(openai.NotFoundError) as info:
        client(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=stream)  # type: ignore[call-overload]
    assert info.value.status_code == 404
    assert info.value.body == body["error"]
    assert len(upstream.requests) == 1


def test_upstream_5xx_with_text_body_is_wrapped(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(status=503, raw_body=b"overloaded", content_type="text/plain"))
    r = httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert r.status_code == 503
    error = r.json()["error"]
    assert set(error) >= {"message", "type", "code"}
    assert "overloaded" in error["message"]
    assert len(upstream.requests) == 1  # never retried


def test_unreachable_upstream_is_502(make_gateway: GatewayFactory) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with make_gateway({"upstreams": [{"name": "dead", "base_url": dead}]}) as url:
        for stream in (True, False):
            r = httpx.post(
                url + "/v1/chat/completions",
                json={"model": "m", "messages": MESSAGES, "stream": stream},
            )
            assert r.status_code == 502
            assert r.json()["error"]["code"] == "upstream_unreachable"
        assert httpx.get(url + "/readyz").status_code == 503
        assert httpx.get(url + "/healthz").status_code == 200


def test_upstream_timeout_is_504(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    upstream.reset(Script(delay_s=2.0, json_body=chat_completion("late")))
    config = {
        "upstreams": [
            {"name": "slow", "base_url": upstream_url, "timeouts": {"connect_s": 1, "read_s": 0.3}}
        ]
    }
    with make_gateway(config) as url:
        r = httpx.post(url + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "upstream_timeout"


def test_malformed_json_is_400(gateway: str, upstream: ScriptedUpstream) -> None:
    for body in (b"{not json", b"[1, 2]", b'{"model": "m"}'):
        r = httpx.post(
            gateway + "/v1/chat/completions",
            content=body,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400
        assert r.json()["error"]["type"] == "invalid_request_error"
    assert upstream.requests == []


def test_body_over_limit_is_413(make_gateway: GatewayFactory, upstream: ScriptedUpstream) -> None:
    with make_gateway({"limits": {"max_body_bytes": 1000}}) as url:
        big = {"model": "m", "messages": [{"role": "user", "content": "x" * 2000}]}
        r = httpx.post(url + "/v1/chat/completions", json=big)
        assert r.status_code == 413
        assert r.json()["error"]["code"] == "request_too_large"

        def chunks():  # no content-length: the limit is enforced while reading
            yield b'{"model": "m", "messages": [{"role": "user", "content": "'
            for _ in range(50):
                yield b"x" * 100
            yield b'"}]}'

        r = httpx.post(url + "/v1/chat/completions", content=chunks())
        assert r.status_code == 413
    assert upstream.requests == []


def test_upstream_dying_mid_stream_gives_error_event(
    upstream: ScriptedUpstream, gateway: str
) -> None:
    upstream.reset(Script(events=chat_stream(PIECES), die_after=3))
    stream = client(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    got = []
    with pytest.raises(openai.APIError) as info:
        for c in stream:
            got.append(c.choices[0].delta.content)
    # "Hel" and "lo" were held (any word may begin an e-mail address); the
    # upstream died before they were settled, so they are never released.
    assert got == [""]
    assert info.value.code == "upstream_protocol_error"
    with httpx.stream(
        "POST",
        gateway + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
    ) as r:
        body = b"".join(r.iter_raw())
    assert body.endswith(b"data: [DONE]\n\n")


def test_stream_ending_without_done_is_an_error(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=chat_stream(PIECES, done=False)))
    stream = client(gateway).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    with pytest.raises(openai.APIError, match="ended early"):
        list(stream)


def test_upstream_stalling_mid_stream_times_out(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory, upstream_url: str
) -> None:
    upstream.reset(Script(events=chat_stream(PIECES), hang_after=2))
    config = {"upstreams": [{"name": "u", "base_url": upstream_url, "timeouts": {"read_s": 0.5}}]}
    with make_gateway(config) as url:
        stream = client(url).chat.completions.create(model="m", messages=MESSAGES, stream=True)  # type: ignore[arg-type]
        with pytest.raises(openai.APIError) as info:
            list(stream)
    assert info.value.code == "upstream_timeout"


def test_client_disconnect_cancels_upstream(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(events=chat_stream(PIECES), hang_after=2))
    with httpx.stream(
        "POST",
        gateway + "/v1/chat/completions",
        json={"model": "m", "messages": MESSAGES, "stream": True},
    ) as r:
        decoder = SSEDecoder()
        for piece in r.iter_raw():
            if decoder.feed(piece):
                break
    # The upstream is idle (hanging), so only the gateway closing the
    # upstream connection can make it notice.
    assert wait_until(upstream.disconnected.is_set, timeout=5)
    assert not upstream.finished.is_set()


def test_connections_are_pooled(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("x")))
    for _ in range(3):
        httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    clients = {tuple(r["client"]) for r in upstream.requests}
    assert len(upstream.requests) == 3
    assert len(clients) == 1


def test_auth_header_passes_through(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("x")))
    client(gateway).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert upstream.requests[0]["headers"]["authorization"] == "Bearer sk-test"


def test_configured_key_replaces_client_auth(
    upstream: ScriptedUpstream,
    make_gateway: GatewayFactory,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIDEGATE_TEST_KEY", "sk-upstream")
    upstream.reset(Script(json_body=chat_completion("x")))
    config = {
        "upstreams": [{"name": "u", "base_url": upstream_url, "api_key_env": "TIDEGATE_TEST_KEY"}]
    }
    with make_gateway(config) as url:
        client(url).chat.completions.create(model="m", messages=MESSAGES)  # type: ignore[arg-type]
    assert upstream.requests[0]["headers"]["authorization"] == "Bearer sk-upstream"


def test_models_health_ready_and_404(upstream: ScriptedUpstream, gateway: str) -> None:
    assert [m.id for m in client(gateway).models.list()] == ["scripted"]
    assert httpx.get(gateway + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(gateway + "/readyz")
    assert ready.status_code == 200
    missing = httpx.get(gateway + "/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_keepalive_comment_when_idle(
    upstream: ScriptedUpstream, make_gateway: GatewayFactory
) -> None:
    events = chat_stream(["a", "b"])

    def gate(k: int) -> None:
        if k == 2:
            time.sleep(0.5)

    upstream.reset(Script(events=events, gate=gate))
    with (
        make_gateway(keepalive_s=0.1) as url,
        httpx.stream(
            "POST",
            url + "/v1/chat/completions",
            json={"model": "m", "messages": MESSAGES, "stream": True},
        ) as r,
    ):
        body = b"".join(r.iter_raw())
    assert b": keep-alive\n\n" in body
    assert body.replace(b": keep-alive\n\n", b"") == b"".join(events)


def test_a_bug_becomes_a_500_in_the_wire_format(
    upstream: ScriptedUpstream, upstream_url: str
) -> None:
    from tests.support.servers import serve_in_thread
    from tidegate.app import create_app
    from tidegate.config import parse_config

    class Broken:
        name = "openai"

        def parse_request(self, raw: bytes) -> None:
            raise RuntimeError("bug")

    app = create_app(
        parse_config(
            {"upstreams": [{"name": "u", "base_url": upstream_url}], "audit": {"store": "none"}}
        )
    )
    app.state.gateway.adapters["openai"] = Broken()  # type: ignore[attr-defined]
    app.state.gateway.adapters["openai"].error_body = (  # type: ignore[attr-defined]
        lambda exc: {"error": {"message": exc.message, "type": exc.error_type, "code": exc.code}}
    )
    with serve_in_thread(app) as url:
        r = httpx.post(url + "/v1/chat/completions", json={"messages": []})
        assert r.status_code == 500
        assert r.json()["error"]["code"] == "internal_error"
        assert httpx.get(url + "/healthz").status_code == 200  # still serving
    assert upstream.requests == []
