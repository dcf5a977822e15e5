"""Request-header limits that uvicorn lacks: a size cap and a deadline.

uvicorn 0.54 bounds the header block only with h11
(``h11_max_incomplete_event_size``), not with httptools, its default parser;
and it has no timeout at all while a request's headers arrive:
``timeout_keep_alive`` runs only between requests and is reset by every byte,
so a client trickling one header byte at a time (slowloris) holds its
connection and memory forever. (Checked in uvicorn's ``httptools_impl.py``
and ``h11_impl.py``.) An ASGI middleware cannot help, as the app is called
only once the headers are complete.

:func:`limited_http_protocol` returns an asyncio protocol that wraps uvicorn's
own HTTP protocol (httptools, or h11 without it) and, while it waits for a
request's headers:

* answers ``431 Request Header Fields Too Large`` and closes the connection
  once more than ``limits.max_header_bytes`` arrived without completing them;
* answers ``408 Request Timeout`` and closes the connection when they are
  not complete ``limits.header_timeout_s`` after the connection was made, or
  after the first byte of a later request on a kept-alive connection.

No endpoint is known at that point, so both answers are plain text, as
uvicorn's own ``400 Invalid HTTP request``. Once the headers are complete,
the request body is the app's business (``limits.body_idle_timeout_s``, in
:func:`tidegate.bodies.read_body`).
"""

from __future__ import annotations

import asyncio
import http
from typing import Any, ClassVar, cast

from uvicorn.config import Config
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.server import ServerState

from tidegate.config import LimitsConfig
from tidegate.logs import get_logger


class HeaderLimitedProtocol(asyncio.Protocol):
    """uvicorn's HTTP protocol with a header size cap and a header deadline.

    uvicorn builds one per connection with the arguments of its own protocols.

    Attributes:
        max_header_bytes: Most bytes of an incomplete header block.
        header_timeout_s: Longest time to complete a header block, in seconds.
    """

    max_header_bytes: ClassVar[int] = 16 * 1024
    header_timeout_s: ClassVar[float] = 10.0

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._inner = AutoHTTPProtocol(  # type: ignore[call-arg]
            config=config, server_state=server_state, app_state=app_state, _loop=_loop
        )
        self._loop = _loop or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self._header_bytes = 0
        self._deadline: asyncio.TimerHandle | None = None

    def _cycle(self) -> Any:
        """The inner protocol's current request-response cycle (None before any)."""
        return getattr(self._inner, "cycle", None)

    def _awaiting_headers(self) -> bool:
        cycle = self._cycle()
        return cycle is None or bool(cycle.response_complete)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Arm the header deadline for the first request."""
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._inner.connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        """Count header bytes; disarm the deadline once the headers are complete."""
        awaiting = self._awaiting_headers()
        if awaiting:
            if self._deadline is None:
                self._arm()
            self._header_bytes += len(data)
        before = self._cycle()
        self._inner.data_received(data)
        if self._cycle() is not before:  # a request's headers are complete
            self._disarm()
            self._header_bytes = 0
        elif awaiting and self._header_bytes > self.max_header_bytes:
            too_large = http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
            self._refuse(too_large, "request_header_too_large")

    def connection_lost(self, exc: Exception | None) -> None:
        """Forward; drop the deadline."""
        self._disarm()
        self._inner.connection_lost(exc)

    def eof_received(self) -> bool | None:
        """Forward."""
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        """Forward (flow control of the response)."""
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        """Forward (flow control of the response)."""
        self._inner.resume_writing()

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self._loop.call_later(self.header_timeout_s, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self._awaiting_headers():
            self._refuse(http.HTTPStatus.REQUEST_TIMEOUT, "request_header_timeout")

    def _refuse(self, status: http.HTTPStatus, event: str) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        get_logger("http").info(event, status=int(status), header_bytes=self._header_bytes)
        body = status.phrase.encode()
        transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status.value, body, len(body), body)
        )
        transport.close()


def limited_http_protocol(limits: LimitsConfig) -> type[HeaderLimitedProtocol]:
    """The protocol class to give uvicorn (``http=``) for these limits.

    Args:
        limits: ``max_header_bytes`` and ``header_timeout_s`` are used.
    """

    class Limited(HeaderLimitedProtocol):
        max_header_bytes = limits.max_header_bytes
        header_timeout_s = limits.header_timeout_s

    return Limited
