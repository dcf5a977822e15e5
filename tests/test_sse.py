"""The SSE decoder: WHATWG rules, and any split of the byte stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidegate.errors import UpstreamProtocolError
from tidegate.sse import ServerSentEvent, SSEDecoder, encode_comment, encode_event


def decode_all(pieces: list[bytes]) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    events.extend(decoder.flush())
    return events


# Streams recorded from real servers (llama.cpp, OpenAI, Anthropic shapes).
RECORDED = [
    (
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"delta":{"content":"Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x9a\x80 jane@example.com"},'
        b'"finish_reason":null}]}\n\n'
        b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,'
        b'"delta":{},"finish_reason":"stop"}]}\n\n'
        b"data: [DONE]\n\n"
    ),
    (
        b"event: message_start\r\n"
        b'data: {"type":"message_start","message":{"id":"msg_1","role":"assistant"}}\r\n\r\n'
        b": ping comment\r\n\r\n"
        b"event: content_block_delta\r\n"
        b'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta",'
        b'"text":"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e SSN 123-45-6789"}}\r\n\r\n'
        b"event: message_stop\r\n"
        b'data: {"type":"message_stop"}\r\n\r\n'
    ),
    b"id: 7\rretry: 1500\revent: x\rdata: line one\rdata: line two\r\r: bare\r\rdata: z\r\r",
]


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data: hello\n\n", [ServerSentEvent("hello")]),
        (b"data:hello\n\n", [ServerSentEvent("hello")]),
        (b"data:  two spaces\n\n", [ServerSentEvent(" two spaces")]),
        (b"data: a\ndata: b\n\n", [ServerSentEvent("a\nb")]),
        (b"data: a\r\ndata: b\r\n\r\n", [ServerSentEvent("a\nb")]),
        (b"data: a\rdata: b\r\r", [ServerSentEvent("a\nb")]),
        (b"event: ping\ndata: {}\n\n", [ServerSentEvent("{}", event="ping")]),
        (
            b"id: 42\ndata: x\n\ndata: y\n\n",
            [ServerSentEvent("x", id="42"), ServerSentEvent("y", id="42")],
        ),
        (b"retry: 3000\ndata: x\n\n", [ServerSentEvent("x", retry=3000)]),
        (b"retry: soon\ndata: x\n\n", [ServerSentEvent("x")]),
        (b": comment\ndata: x\n\n", [ServerSentEvent("x", comments=("comment",))]),
        (b"event: only\n\n", []),  # no data: nothing is dispatched
        (b"data\n\n", [ServerSentEvent("")]),  # field with no colon
        (b"unknown: field\ndata: x\n\n", [ServerSentEvent("x")]),
        (b"data: unterminated", [ServerSentEvent("unterminated")]),
        (b"\xef\xbb\xbfdata: bom\n\n", [ServerSentEvent("bom")]),
    ],
)
def test_whatwg_rules(stream: bytes, expected: list[ServerSentEvent]) -> None:
    # Leading UTF-8 BOM: the WHATWG decoder strips one; we do too.
    assert decode_all([stream]) == expected


def test_orphan_comments_are_reported_for_keepalive() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b": keep-alive\n\n") == []
    assert decoder.take_comments() == ["keep-alive"]
    assert decoder.take_comments() == []


def test_invalid_utf8_is_replaced_not_fatal() -> None:
    assert decode_all([b"data: \xff\xfe ok\n\n"]) == [ServerSentEvent("\ufffd\ufffd ok")]


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=40)))
    pieces, last = [], 0
    for cut in cuts:
        pieces.append(data[last:cut])
        last = cut
    pieces.append(data[last:])
    return pieces


@pytest.mark.parametrize("stream", RECORDED)
@given(data=st.data())
def test_any_split_decodes_the_same(stream: bytes, data: st.DataObject) -> None:
    expected = decode_all([stream])
    assert expected  # the recorded streams are not empty
    assert decode_all(data.draw(splits(stream))) == expected


def test_every_single_cut_including_inside_utf8_and_crlf() -> None:
    for stream in RECORDED:
        expected = decode_all([stream])
        for cut in range(len(stream) + 1):
            assert decode_all([stream[:cut], stream[cut:]]) == expected, cut
        assert decode_all([bytes([b]) for b in stream]) == expected


@given(
    data=st.text(st.characters(blacklist_categories=["Cs"]), max_size=50),
    event=st.none() | st.from_regex(r"[a-z_.]{1,12}", fullmatch=True),
)
def test_encode_decode_roundtrip(data: str, event: str | None) -> None:
    data = data.replace("\r", "")
    assert decode_all([encode_event(data, event=event)]) == [ServerSentEvent(data, event=event)]


def test_encode_comment() -> None:
    assert encode_comment("keep-alive") == b": keep-alive\n\n"


# --- raw bytes, caps ---------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        b'data:{"a":1}\n\n',
        b"id: 7\nretry: 100\nevent: x\ndata:  spaced\n\n",
        b"data: a\r\ndata: b\r\n\r\n",
        b"data: caf\xc3\xa9\r\r",
    ],
)
def test_clean_blocks_keep_their_exact_bytes(block: bytes) -> None:
    for cut in range(len(block) + 1):
        decoder = SSEDecoder()
        (event,) = decoder.feed(block[:cut]) + decoder.feed(block[cut:]) + decoder.flush()
        assert event.raw == block or (
            event.raw is not None and event.raw == block[: len(event.raw)]
        )
    (event,) = decode_all([block])
    assert event.raw == block


@pytest.mark.parametrize(
    "block",
    [
        b": secret comment\ndata: x\n\n",
        b"unknown: AKIAZ3XQ7RTB2MNPLK4D\ndata: x\n\n",
        b"data: \xff\n\n",
        b"data: unterminated",
    ],
)
def test_blocks_with_anything_else_have_no_raw_bytes(block: bytes) -> None:
    (event,) = decode_all([block])
    assert event.raw is None


def test_own_id_is_the_block_s_and_id_persists() -> None:
    first, second = decode_all([b"id: 1\ndata: a\n\ndata: b\n\n"])
    assert (first.own_id, first.id) == ("1", "1")
    assert (second.own_id, second.id) == (None, "1")


def test_a_line_over_the_cap_is_a_protocol_error_without_buffering_it() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    decoder.feed(b"data: " + b"x" * 900)
    with pytest.raises(UpstreamProtocolError):
        decoder.feed(b"x" * 200)


def test_an_event_over_the_cap_is_a_protocol_error() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    with pytest.raises(UpstreamProtocolError):
        for _ in range(20):
            decoder.feed(b"data: " + b"y" * 90 + b"\n")


def test_a_200_mb_line_is_refused_at_the_cap_in_linear_time() -> None:
    """16 MiB cap: the decoder never holds more than the cap, and stops there."""
    decoder = SSEDecoder()
    piece = b"z" * (64 * 1024)
    fed = 0
    with pytest.raises(UpstreamProtocolError):
        while fed < 200 * 1024 * 1024:
            decoder.feed(piece)
            fed += len(piece)
    assert fed <= 16 * 1024 * 1024 + len(piece)
