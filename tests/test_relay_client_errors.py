"""A broken client socket is a client disconnect, never a stream failure.

ASGI servers of spec 2.4 raise ``OSError`` from ``send`` once the client is
gone (uvicorn 0.54 returns silently instead, so a real server cannot provoke
it here): these tests drive the real relay, translator and guard through an
ASGI ``send`` that raises as such a server does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from starlette.types import Message
from structlog.testing import capture_logs

from tests.support.upstream import chat_stream
from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.config import parse_config
from tidegate.guard.engine import GuardEngine
from tidegate.logs import get_logger
from tidegate.relay import SSERelayResponse
from tidegate.tasks import collapsing_task_group

EVENTS = chat_stream(["Hel", "lo", " there", "!"])


def relay(chunks: AsyncIterator[bytes], closed: list[bool], keepalive_s: float) -> SSERelayResponse:
    engine = GuardEngine(parse_config({"policies": []}))

    async def close() -> None:
        closed.append(True)

    return SSERelayResponse(
        chunks=chunks,
        translator=OpenAIChatAdapter().new_stream(engine.new_stream()),
        close=close,
        keepalive_s=keepalive_s,
        logger=get_logger("relay"),
    )


async def never_disconnects() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


def breaking_send(after_bodies: int, sent: list[Message]) -> object:
    """An ASGI send whose socket breaks after ``after_bodies`` body messages."""

    async def send(message: Message) -> None:
        bodies = sum(m["type"] == "http.response.body" for m in sent)
        if message["type"] == "http.response.body" and bodies >= after_bodies:
            raise ConnectionResetError(104, "Connection reset by peer")
        sent.append(message)

    return send


@pytest.mark.anyio
async def test_socket_breaking_under_a_keepalive_is_a_disconnect() -> None:
    """The keep-alive task's send fails inside the task group (an ExceptionGroup, uncollapsed)."""

    async def one_event_then_silence() -> AsyncIterator[bytes]:
        yield EVENTS[0]
        await anyio.sleep_forever()

    closed: list[bool] = []
    sent: list[Message] = []
    response = relay(one_event_then_silence(), closed, keepalive_s=0.05)
    with capture_logs() as logs, anyio.fail_after(5):
        await response({"type": "http"}, never_disconnects, breaking_send(1, sent))  # type: ignore[arg-type]
    assert response.client_disconnected
    assert closed == [True]  # the upstream response is closed: its request is cancelled
    assert [m.get("body") for m in sent[1:]] == [EVENTS[0]]
    events = [entry["event"] for entry in logs]
    assert "client_disconnected" in events
    assert "stream_failed" not in events


@pytest.mark.anyio
async def test_socket_breaking_under_the_pump_is_a_disconnect_not_a_failure() -> None:
    """The pump's own send fails mid-stream: recorded as a disconnect, no error event tried."""

    async def steady() -> AsyncIterator[bytes]:
        for event in EVENTS:
            yield event
            await anyio.sleep(0.01)

    closed: list[bool] = []
    sent: list[Message] = []
    response = relay(steady(), closed, keepalive_s=60)
    with capture_logs() as logs, anyio.fail_after(5):
        await response({"type": "http"}, never_disconnects, breaking_send(2, sent))  # type: ignore[arg-type]
    assert response.client_disconnected
    assert closed == [True]
    assert [m.get("body") for m in sent[1:]] == EVENTS[:2]
    events = [entry["event"] for entry in logs]
    assert "client_disconnected" in events
    assert "stream_failed" not in events


@pytest.mark.anyio
async def test_collapsing_task_group_raises_a_lone_error_as_itself() -> None:
    """``except OSError`` around the relay's task group works only if a lone error is unwrapped."""

    async def breaks() -> None:
        raise ConnectionResetError(104, "Connection reset by peer")

    with pytest.raises(ConnectionResetError):
        async with collapsing_task_group() as tg:
            tg.start_soon(breaks)
            await anyio.sleep_forever()

    async def fails(exc: Exception) -> None:
        raise exc

    with pytest.raises(ExceptionGroup) as info:  # several errors stay a group
        async with collapsing_task_group() as tg:
            tg.start_soon(fails, OSError("a"))
            tg.start_soon(fails, ValueError("b"))
            await anyio.sleep_forever()
    assert {type(e) for e in info.value.exceptions} == {OSError, ValueError}
