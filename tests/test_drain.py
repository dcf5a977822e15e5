"""Ending open streams at shutdown: the Drain and the relay's termination.

The end-to-end SIGTERM run (a real ``tidegate serve`` process, OpenAI format)
is in ``test_hostile_load.py``; here the real relay and the real Anthropic
translator are driven through ASGI, to check the termination event of a
format with open content blocks, and what a late stream gets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from starlette.types import Message

from tests.support.recorded import anthropic_client, anthropic_stream
from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.config import parse_config
from tidegate.drain import Drain
from tidegate.errors import ShuttingDownError, TidegateError
from tidegate.guard.engine import GuardEngine
from tidegate.logs import get_logger
from tidegate.relay import SSERelayResponse


class Recorder:
    def __init__(self) -> None:
        self.ended_with: list[TidegateError] = []

    def terminate(self, exc: TidegateError) -> None:
        self.ended_with.append(exc)


def test_drain_counts_and_terminates_open_streams_and_late_ones() -> None:
    drain = Drain()
    early, late = Recorder(), Recorder()
    with drain.track(early):
        assert drain.active == 1
        assert drain.terminate_all() == 1
        with drain.track(late):  # opened after the drain time was up: ended at once
            pass
    assert drain.active == 0
    assert drain.terminated == 2
    assert [type(e) for e in early.ended_with + late.ended_with] == [ShuttingDownError] * 2
    assert early.ended_with[0].code == "gateway_shutting_down"


@pytest.mark.anyio
async def test_terminated_anthropic_stream_closes_its_block_then_sends_error() -> None:
    events = anthropic_stream(["Hello", " there", ", friend"])
    held_after = 5  # message_start, block start, ping, two deltas; then the upstream stalls

    async def chunks() -> AsyncIterator[bytes]:
        for event in events[:held_after]:
            yield event
        await anyio.sleep_forever()

    async def never_disconnects() -> Message:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    sent: list[bytes] = []

    async def send(message: Message) -> None:
        sent.append(message.get("body", b""))

    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    drain = Drain()
    engine = GuardEngine(parse_config({"policies": []}))
    relay = SSERelayResponse(
        chunks=chunks(),
        translator=AnthropicAdapter().new_stream(engine.new_stream()),
        close=close,
        keepalive_s=60,
        logger=get_logger("relay"),
        drain=drain,
    )
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(relay, {"type": "http"}, never_disconnects, send)
            while b"".join(sent) != b"".join(events[:held_after]):
                await anyio.sleep(0.01)
            assert drain.active == 1
            drain.terminate_all()
    body = b"".join(sent)
    assert closed == [True]
    assert drain.active == 0
    assert body.startswith(b"".join(events[:held_after]))
    tail = body.removeprefix(b"".join(events[:held_after]))
    block_stop = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}'
    assert tail.startswith(block_stop)  # the open block is closed, then the error
    # The anthropic SDK reads the whole stream and raises the termination error.
    stream = anthropic_client(body).messages.create(
        model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(Exception) as info:  # the SDK's own APIStatusError
        for _ in stream:
            pass
    assert "gateway_shutting_down" in str(info.value.body)  # type: ignore[attr-defined]
