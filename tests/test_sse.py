"""The SSE decoder: WHATWG rules, and any split of the byte stream."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
