"""Server-sent events: an incremental decoder and an encoder.

The decoder follows the WHATWG HTML "event stream" interpretation rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
lines end in CRLF, LF or CR; ``data:`` lines accumulate joined by LF; lines
starting with ``:`` are comments; ``event:``, ``id:`` and ``retry:`` set the
event type, the last event ID and the reconnection time; a blank line
dispatches the event.

It is fed raw bytes as they arrive from the network, in pieces of any size.
Lines are split at the byte level (CR and LF never occur inside a UTF-8
sequence) and each complete line is decoded once, so a multi-byte character
or a CRLF split across pieces decodes exactly as if the bytes had arrived at
once. The pieces of an unfinished line are collected in a list and joined at
the line end: cost is linear in the bytes fed. A line, and an event, are
capped at ``max_event_bytes``; a bigger one is an upstream protocol error,
never unbounded memory.

Each dispatched event keeps the upstream's own bytes (``raw``) when they can
be relayed as they are: a block of only ``data:``, ``event:``, ``id:`` and
``retry:`` lines that decoded without loss. Comments, unknown fields and
invalid UTF-8 make ``raw`` ``None``; a relay then re-encodes the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tidegate.errors import UpstreamProtocolError

_BOM = b"\xef\xbb\xbf"
DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024


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
        raw: The block's exact upstream bytes, blank line included, when they
            are safe to relay unchanged (see the module docstring); else None.
        own_id: The ``id:`` field of this block itself, if it had one.
    """

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comments: tuple[str, ...] = ()
    raw: bytes | None = field(default=None, compare=False)
    own_id: str | None = field(default=None, compare=False)


def _decode(line: bytes) -> tuple[str, bool]:
    """Decode one line; the flag says whether it was valid UTF-8."""
    try:
        return line.decode("utf-8"), True
    except UnicodeDecodeError:
        return line.decode("utf-8", errors="replace"), False


class SSEDecoder:
    """Incremental SSE decoder: feed bytes, get dispatched events.

    Per WHATWG rules, a block that has no ``data:`` field is not dispatched as
    an event; its comments are reported separately through
    :meth:`take_comments`.

    Args:
        max_event_bytes: Longest line, and largest event (its bytes on the
            wire), in bytes.
    """

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._pieces: list[bytes] = []  # the unfinished line
        self._pieces_len = 0
        self._pending_cr = False
        self._head: bytes | None = b""  # first bytes, until the BOM check is done
        self._raw: list[bytes] = []  # the current block's bytes
        self._raw_len = 0
        self._clean = True
        self._data: list[str] = []
        self._event: str | None = None
        self._own_id: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None
        self._comments: list[str] = []
        self._orphan_comments: list[str] = []

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one piece of the byte stream.

        Args:
            chunk: Raw bytes, any length, split anywhere (even inside a UTF-8
                character or a CRLF pair).

        Returns:
            The events completed by this piece, in order (possibly empty).

        Raises:
            UpstreamProtocolError: A line or an event exceeds ``max_event_bytes``.
        """
        if self._head is not None:
            chunk = self._strip_bom(chunk)
        events: list[ServerSentEvent] = []
        n = len(chunk)
        start = 0
        if self._pending_cr and n:
            self._pending_cr = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across pieces
                self._add_raw(b"\n")
                start = 1
        find = chunk.find
        while start < n:
            lf = find(b"\n", start)
            cr = find(b"\r", start, lf if lf >= 0 else n)
            end = cr if cr >= 0 else lf
            if end < 0:
                self._pieces.append(chunk[start:])
                self._pieces_len += n - start
                if self._pieces_len > self._max:
                    raise UpstreamProtocolError(f"upstream sent an SSE line over {self._max} bytes")
                break
            if end == cr:
                if end + 1 < n:
                    nxt = end + 2 if chunk[end + 1] == 0x0A else end + 1
                else:
                    self._pending_cr = True
                    nxt = n
            else:
                nxt = end + 1
            if self._pieces:
                self._pieces.append(chunk[start:end])
                line = b"".join(self._pieces)
                self._pieces.clear()
                self._pieces_len = 0
                if len(line) > self._max:
                    raise UpstreamProtocolError(f"upstream sent an SSE line over {self._max} bytes")
            else:
                line = chunk[start:end]
            self._add_raw(line)
            self._add_raw(chunk[end:nxt])
            if line:
                self._process_line(line)
            elif self._data:
                events.append(self._dispatch())
            else:
                self._reset_block()
            start = nxt
        return events

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: dispatch a last unterminated event.

        WHATWG says an unterminated last event is discarded; upstream servers
        that forget the final blank line are common, so a last block that has
        ``data:`` is dispatched (without ``raw``: its bytes lack the blank line).

        Returns:
            Any final event.
        """
        events: list[ServerSentEvent] = []
        if self._head:
            head, self._head = self._head, None
            events.extend(self.feed(head))
        if self._pieces:
            line = b"".join(self._pieces)
            self._pieces.clear()
            self._pieces_len = 0
            self._process_line(line)
        if self._data:
            self._clean = False
            events.append(self._dispatch())
        return events

    def take_comments(self) -> list[str]:
        """Comments seen in blocks that carried no data (keep-alives)."""
        comments, self._orphan_comments = self._orphan_comments, []
        return comments

    def _strip_bom(self, chunk: bytes) -> bytes:
        assert self._head is not None
        head = self._head + chunk
        if len(head) < len(_BOM) and _BOM.startswith(head):
            self._head = head  # could still be a BOM: wait for more bytes
            return b""
        self._head = None
        return head[len(_BOM) :] if head.startswith(_BOM) else head

    def _add_raw(self, piece: bytes) -> None:
        if piece:
            self._raw.append(piece)
            self._raw_len += len(piece)
            if self._raw_len > self._max:
                raise UpstreamProtocolError(f"upstream sent an SSE event over {self._max} bytes")

    def _process_line(self, line: bytes) -> None:
        text, valid = _decode(line)
        if not valid:
            self._clean = False
        if text[0] == ":":
            self._clean = False
            self._comments.append(text[1:].removeprefix(" "))
            return
        name, sep, value = text.partition(":")
        if sep:
            value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
                self._own_id = value
        elif name == "retry" and value.isascii() and value.isdigit() and len(value) <= 10:
            self._retry = int(value)
        else:  # other field names are ignored, as the spec requires, but not relayed
            self._clean = False

    def _dispatch(self) -> ServerSentEvent:
        event = ServerSentEvent(
            data="\n".join(self._data),
            event=self._event,
            id=self._last_id,
            retry=self._retry,
            comments=tuple(self._comments),
            raw=b"".join(self._raw) if self._clean else None,
            own_id=self._own_id,
        )
        self._data = []
        self._comments = []
        self._reset_block()
        return event

    def _reset_block(self) -> None:
        self._orphan_comments.extend(self._comments)
        self._comments = []
        self._event = None
        self._own_id = None
        self._retry = None
        self._raw = []
        self._raw_len = 0
        self._clean = True


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
