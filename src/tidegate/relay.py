"""The streaming relay: upstream SSE bytes → guard → client, with no buffering.

:class:`SSERelayResponse` is a pure ASGI response (Starlette's advice for
streaming: no ``BaseHTTPMiddleware``). It runs two tasks:

* the pump reads upstream bytes as they arrive, decodes SSE events, passes
  each through the wire-format translator (and so through the guard) and
  sends the result in one ASGI message per upstream read;
* the watcher waits for ``http.disconnect`` and, when the client goes away,
  cancels the pump at once; the upstream response is then closed, which
  drops the upstream connection and so cancels the upstream request.

A keep-alive comment is sent whenever nothing was sent for ``keepalive_s``
seconds (for instance while the guard holds text back), so that proxies with
idle timeouts do not cut the stream. The upstream's own SSE comments are
dropped: they are text that no guard reads.

When the upstream fails mid-stream (it dies, stalls past ``read_s``, resets,
or breaks its protocol), the text the guard holds is never released: the
client gets the format's error event instead.

A client socket that breaks while we write (ASGI servers of spec 2.4 raise
``OSError`` from ``send``) is a client disconnect like ``http.disconnect``,
not a stream failure: the tasks run in a collapsing task group, so that the
``OSError`` is not hidden in an ``ExceptionGroup``. At shutdown the gateway's
:class:`~tidegate.drain.Drain` may :meth:`~SSERelayResponse.terminate` the
relay: the pump stops between two sends and the stream ends with the format's
termination event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import nullcontext

import anyio
import anyio.abc
import anyio.lowlevel
import structlog
from starlette.types import Message, Receive, Scope, Send

from tidegate.adapters.base import StreamTranslator
from tidegate.drain import Drain
from tidegate.errors import PolicyViolation, TidegateError, UpstreamError
from tidegate.sse import DEFAULT_MAX_EVENT_BYTES, SSEDecoder, encode_comment
from tidegate.tasks import collapsing_task_group

SSE_HEADERS = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


class SSERelayResponse:
    """ASGI response that relays one upstream event stream.

    Args:
        chunks: Upstream body bytes, as they arrive.
        translator: The wire-format translator (wraps the guard).
        close: Coroutine that closes the upstream response; always awaited
            exactly once, shielded from cancellation.
        keepalive_s: Idle time, in seconds, before a keep-alive comment.
        logger: Structured logger bound to the request.
        max_event_bytes: Longest SSE line or event accepted from upstream, in bytes.
        drain: The gateway's open streams; this one is counted there while
            it runs, so that a shutdown can terminate it.
    """

    def __init__(
        self,
        *,
        chunks: AsyncIterator[bytes],
        translator: StreamTranslator,
        close: Callable[[], Awaitable[None]],
        keepalive_s: float,
        logger: structlog.typing.FilteringBoundLogger,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        drain: Drain | None = None,
    ) -> None:
        self._chunks = chunks
        self._max_event_bytes = max_event_bytes
        self._translator = translator
        self._close = close
        self._keepalive_s = keepalive_s
        self._log = logger
        # Uncontended (the pump's normal case), fast_acquire takes the lock
        # without yielding to the event loop: no extra loop pass per send.
        self._send_lock = anyio.Lock(fast_acquire=True)
        self._last_send = time.monotonic()
        self.client_disconnected = False
        self._drain = drain
        self._tasks: anyio.abc.TaskGroup | None = None
        self._pump_scope = anyio.CancelScope()
        self._terminated_by: TidegateError | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the relay (ASGI entry point)."""
        try:
            await send({"type": "http.response.start", "status": 200, "headers": list(SSE_HEADERS)})
            async with collapsing_task_group() as tg:
                self._tasks = tg
                send = self._client_send(send, tg.cancel_scope)
                tg.start_soon(self._watch_disconnect, receive, tg.cancel_scope)
                tg.start_soon(self._keepalive, send)
                with self._drain.track(self) if self._drain else nullcontext(), self._pump_scope:
                    await self._pump(send)
                if self._pump_scope.cancelled_caught and self._terminated_by is not None:
                    self._log.info("stream_terminated", error=self._terminated_by.code)
                    events = self._translator.error_events(self._terminated_by)
                    await self._send_body(send, b"".join(events))
                tg.cancel_scope.cancel()
            self._tasks = None  # nothing left to terminate
            if not self.client_disconnected:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client socket broke while we were writing
            self.client_disconnected = True
        finally:
            with anyio.CancelScope(shield=True):
                await self._close()
            if self.client_disconnected:
                self._log.info("client_disconnected", upstream_cancelled=True)

    def terminate(self, exc: TidegateError) -> None:
        """End the stream early with ``exc``'s termination event.

        Returns at once: the pump is stopped by a task that first takes the
        send lock, so that it stops between two sends, never in one; the
        relay then sends ``error_events(exc)`` and closes the stream.

        Args:
            exc: The error to end with (a shutdown's ``gateway_shutting_down``).
        """
        if self._tasks is None or self._terminated_by is not None:
            return
        self._terminated_by = exc
        self._tasks.start_soon(self._stop_pump)

    async def _stop_pump(self) -> None:
        async with self._send_lock:
            self._pump_scope.cancel()

    def _client_send(self, send: Send, tasks: anyio.CancelScope) -> Send:
        """``send`` that turns a broken client socket into a disconnect.

        On ``OSError`` every task is cancelled, so that the error never
        reaches the pump's error handling (it is not a stream failure).
        """

        async def client_send(message: Message) -> None:
            try:
                await send(message)
            except OSError:
                self.client_disconnected = True
                tasks.cancel()
                await anyio.lowlevel.checkpoint()  # delivers the cancellation
                raise

        return client_send

    async def _send_body(self, send: Send, body: bytes) -> None:
        async with self._send_lock:
            await send({"type": "http.response.body", "body": body, "more_body": True})
            self._last_send = time.monotonic()

    async def _watch_disconnect(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.client_disconnected = True
                scope.cancel()
                return

    async def _keepalive(self, send: Send) -> None:
        while True:
            idle = time.monotonic() - self._last_send
            if idle >= self._keepalive_s:
                await self._send_body(send, encode_comment("keep-alive"))
                continue
            await anyio.sleep(self._keepalive_s - idle)

    async def _pump(self, send: Send) -> None:
        pump = StreamPump(self._translator, self._log, self._max_event_bytes)
        try:
            async for chunk in self._chunks:
                out = pump.feed(chunk)
                if out:
                    await self._send_body(send, b"".join(out))
                if pump.done:
                    return
            out = pump.end()
        except Exception as exc:  # an upstream failure, or a late guard verdict
            out = pump.fail(exc)
        if out:
            await self._send_body(send, b"".join(out))


class StreamPump:
    """Decodes and translates one upstream stream; turns every failure into events.

    The relay feeds it upstream bytes as they arrive; tests drive it the
    same way. It never raises: a guard block, an upstream failure or a bug
    becomes the format's error event, after which :attr:`done` is set and
    further input is ignored.

    Args:
        translator: The wire-format translator (wraps the guard).
        logger: Structured logger bound to the request.
        max_event_bytes: Longest SSE line or event accepted from upstream, in bytes.
    """

    def __init__(
        self,
        translator: StreamTranslator,
        logger: structlog.typing.FilteringBoundLogger,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self._translator = translator
        self._log = logger
        self._decoder = SSEDecoder(max_event_bytes)
        self.done = False

    def feed(self, chunk: bytes) -> list[bytes]:
        """The client bytes for one piece of upstream bytes."""
        if self.done:
            return []
        out: list[bytes] = []
        try:
            for event in self._decoder.feed(chunk):
                out.extend(self._translator.on_event(event))
        except Exception as exc:
            out.extend(self.fail(exc))
        return out

    def end(self) -> list[bytes]:
        """The upstream closed the stream: the last events, or the error."""
        if self.done:
            return []
        out: list[bytes] = []
        try:
            for event in self._decoder.flush():
                out.extend(self._translator.on_event(event))
            out.extend(self._translator.on_end())
        except Exception as exc:
            out.extend(self.fail(exc))
        self.done = True
        return out

    def fail(self, exc: BaseException) -> list[bytes]:
        """End the stream because of ``exc``; return the error event(s).

        Held text is dropped, never flushed, on an upstream failure: it was
        held because it may be the start of a value whose end never came.
        """
        if self.done:
            return []
        self.done = True
        translator = self._translator
        if isinstance(exc, PolicyViolation):
            self._log.info("output_blocked", policy=exc.policy, event_id=exc.event_id)
            return translator.error_events(exc)
        if isinstance(exc, UpstreamError):
            self._log.warning("upstream_failed_mid_stream", error=exc.code)
            try:
                return translator.abort(exc)
            except Exception:
                self._log.exception("stream_failed")
                return translator.error_events(exc)
        if isinstance(exc, TidegateError):
            self._log.error("stream_failed", error=exc.code)
            return translator.error_events(exc)
        self._log.error("stream_failed", exc_info=exc)
        return translator.error_events(TidegateError("internal gateway error"))
