"""A scripted upstream: a real HTTP server whose answers the test dictates.

Each test sets ``upstream.script`` to a :class:`Script`, then sends requests
through the gateway. The upstream records what it received and whether its
client (the gateway) went away before the response ended (``disconnected``,
and ``disconnects`` counts them, while delayed or streaming).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.types import Message, Receive, Scope, Send


def chunk(
    text: str | None = None,
    *,
    index: int = 0,
    finish: str | None = None,
    role: str | None = None,
    tool_args: str | None = None,
    tool_index: int = 0,
) -> bytes:
    """One ``chat.completion.chunk`` SSE event."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if text is not None:
        delta["content"] = text
    if tool_args is not None:
        delta["tool_calls"] = [{"index": tool_index, "function": {"arguments": tool_args}}]
    obj = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "scripted",
        "choices": [{"index": index, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def chat_stream(pieces: list[str], *, done: bool = True) -> list[bytes]:
    """A whole streamed answer: role chunk, one chunk per piece, finish, [DONE]."""
    events = [chunk("", role="assistant")]
    events += [chunk(p) for p in pieces]
    events.append(chunk(finish="stop"))
    if done:
        events.append(b"data: [DONE]\n\n")
    return events


def chat_completion(text: str) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` body."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "scripted",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


@dataclass
class Script:
    """What the upstream answers.

    Attributes:
        status: HTTP status.
        events: Raw SSE byte pieces to send for a streaming request, one
            ASGI message each.
        json_body: Body for a non-streaming answer (or an error answer).
        raw_body: Raw body bytes (wins over json_body).
        content_type: Response content type for non-SSE answers.
        delay_s: Sleep before the answer starts (to provoke timeouts); a
            client that goes away meanwhile is noticed and counted.
        gate: Called before sending piece k (k >= 1); may block (in a
            worker thread) until the test allows the next piece.
        die_after: Abort the connection after this many pieces.
        hang_after: Stop sending (but keep the connection) after this many.
        models_body: Answer to ``GET /models`` (a default list when None).
        headers: Extra response headers of a non-SSE answer.
    """

    status: int = 200
    events: list[bytes] = field(default_factory=list)
    json_body: Any = None
    raw_body: bytes | None = None
    content_type: str = "application/json"
    delay_s: float = 0.0
    gate: Callable[[int], None] | None = None
    die_after: int | None = None
    hang_after: int | None = None
    models_body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class ScriptedUpstream:
    """The ASGI app of the scripted upstream."""

    def __init__(self) -> None:
        self.script = Script()
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self.disconnects = 0
        self.finished = threading.Event()

    def reset(self, script: Script) -> None:
        self.script = script
        self.requests.clear()
        self.disconnected.clear()
        self.disconnects = 0
        self.finished.clear()

    def _client_gone(self) -> None:
        self.disconnects += 1  # only ever changed on the server's event loop
        self.disconnected.set()

    async def _sleep_unless_gone(self, receive: Receive, seconds: float) -> bool:
        """Sleep ``seconds``; False (counted) if the client went away meanwhile."""
        with anyio.move_on_after(seconds):
            while (await receive())["type"] != "http.disconnect":
                pass
            self._client_gone()
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append(
            {
                "path": scope["path"],
                "raw_path": scope.get("raw_path"),
                "query_string": scope.get("query_string", b""),
                "method": scope["method"],
                "client": scope.get("client"),
                "headers": headers,
                "body": body,
                "received_at": time.monotonic(),
            }
        )
        script = self.script
        if scope["path"].endswith("/models"):
            models = script.models_body or {
                "object": "list",
                "data": [{"id": "scripted", "object": "model"}],
            }
            await _send_json(send, 200, models)
            return
        if script.delay_s and not await self._sleep_unless_gone(receive, script.delay_s):
            return
        wants_stream = body and json.loads(body).get("stream")
        if not wants_stream or script.status >= 400 or not script.events:
            if script.raw_body is not None:
                await _send_raw(
                    send, script.status, script.raw_body, script.content_type, script.headers
                )
            else:
                await _send_json(send, script.status, script.json_body, script.headers)
            return
        await send(
            {
                "type": "http.response.start",
                "status": script.status,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                msg: Message = await receive()
                if msg["type"] == "http.disconnect":
                    self._client_gone()
                    tg.cancel_scope.cancel()

            tg.start_soon(watch)
            for k, piece in enumerate(script.events):
                if script.die_after is not None and k >= script.die_after:
                    raise RuntimeError("scripted upstream dies mid-stream")
                if script.hang_after is not None and k >= script.hang_after:
                    await anyio.sleep(3600)
                if script.gate is not None and k > 0:
                    await anyio.to_thread.run_sync(script.gate, k, abandon_on_cancel=True)
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            self.finished.set()
            tg.cancel_scope.cancel()


async def _send_json(
    send: Send, status: int, obj: Any, headers: dict[str, str] | None = None
) -> None:
    await _send_raw(send, status, json.dumps(obj).encode(), "application/json", headers)


async def _send_raw(
    send: Send, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
