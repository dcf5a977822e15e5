"""Server-sent events: an incremental decoder and an encoder.

The decoder follows the WHATWG HTML "event stream" interpretation rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in CRLF, LF or CR; ``data:`` lines accumulate joined by LF; lines
starting with ``:`` are comments; ``event:``, ``id:`` and ``retry:`` set the
event type, the last event ID and the reconnection time; a blank line
dispatches the event.

It is fed raw bytes as they arrive from the network, in pieces of any size.
A multi-byte UTF-8 character split across pieces, or a CRLF split between its
CR and LF, decodes exactly as if the bytes had arrived at once.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched SSE event.

    Attributes:
        data: The event data: the ``data:`` lines joined by ``"\\n"``.
        event: The event type (``event:`` field); ``None`` means the default
            ``"message"`` type.
        id: The last event ID seen on the stream, if any.
        retry: Reconnection time in ms from a ``retry:`` field, if any.
        comments: Comment lines (without the leading colon) that preceded this
            event in the same block.
    """

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()


class SSEDecoder:
    """Incremental SSE decoder: feed bytes, get dispatched events.

    Per WHATWG rules, a block that has no ``data:`` field is not dispatched as
    an event; its comments are reported separately through
    :meth:`take_comments` so that a relay can forward keep-alive comments.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        self._line = ""
        self._pending_cr = False
        self._data: list[str] = []
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None
        self._comments: list[str] = []
        self._orphan_comments: list[str] = []
        self._has_fields = False

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one piece of the byte stream.

        Args:
            chunk: Raw bytes, any length, split anywhere (even inside a UTF-8
                character or a CRLF pair).

        Returns:
            The events completed by this piece, in order (possibly empty).
        """
        return self._feed_text(self._utf8.decode(chunk))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: decode trailing bytes and dispatch a last event.

        WHATWG says an unterminated last event is discarded; upstream servers
        that forget the final blank line are common, so a last block that has
        ``data:`` is dispatched.

        Returns:
            Any final event.
        """
        events = self._feed_text(self._utf8.decode(b"", final=True))
        if self._line:
            self._process_line(self._line)
            self._line = ""
        if self._data:
            events.append(self._dispatch())
        return events

    def take_comments(self) -> list[str]:
        """Comments seen in blocks that carried no data (keep-alives)."""
        comments, self._orphan_comments = self._orphan_comments, []
        return comments

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        events: list[ServerSentEvent] = []
        if not text:
            return events
        if self._pending_cr:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
        start = 0
        n = len(text)
        while start < n:
            # find the next line terminator (CR or LF)
            lf = text.find("\n", start)
            cr = text.find("\r", start, lf if lf >= 0 else n)
            end = cr if cr >= 0 else lf
            if end < 0:
                self._line += text[start:]
                break
            line = self._line + text[start:end]
            self._line = ""
            if end == cr:
                if end + 1 < n:
                    start = end + 2 if text[end + 1] == "\n" else end + 1
                else:
                    self._pending_cr = True
                    start = n
            else:
                start = end + 1
            if line:
                self._process_line(line)
            elif self._data:
                events.append(self._dispatch())
            else:
                self._reset_block()
        return events

    def _process_line(self, line: str) -> None:
        if line[0] == ":":
            self._comments.append(line[1:].removeprefix(" "))
            return
        name, sep, value = line.partition(":")
        if sep:
            value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # other field names are ignored, as the spec requires

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event,
            id=self._last_id,
            retry=self._retry,
            comments=tuple(self._comments),
        )
        self._data = []
        self._event = None
        self._retry = None
        self._comments = []
        return event

    def _reset_block(self) -> None:
        self._orphan_comments.extend(self._comments)
        self._comments = []
        self._event = None
        self._retry = None


def encode_event(
    data: str, *, event: str | None = None, id: str | None = None, retry: int | None = None
) -> bytes:
    """Encode one SSE event.

    Args:
        data: Event data; embedded newlines become several ``data:`` lines.
        event: Optional event type.
        id: Optional event ID.
        retry: Optional reconnection time in ms.

    Returns:
        UTF-8 bytes ending with the blank line that dispatches the event.
    """
    parts: list[str] = []
    if event is not None:
        parts.append(f"event: {event}\n")
    if id is not None:
        parts.append(f"id: {id}\n")
    if retry is not None:
        parts.append(f"retry: {retry}\n")
    for line in data.split("\n"):
        parts.append(f"data: {line}\n")
    parts.append("\n")
    return "".join(parts).encode()


def encode_comment(text: str = "") -> bytes:
    """Encode an SSE comment line, used as a keep-alive.

    Args:
        text: Comment text, without newlines.

    Returns:
        UTF-8 bytes such as ``b": keep-alive\\n\\n"``.
    """
    return f": {text}\n\n".encode()
