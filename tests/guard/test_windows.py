"""Classifier windows in the stream guard: split-invariance, holdback, stream-first exposure.

A deterministic fake classifier (it flags a window that contains "bad") stands
in for the model, so these tests check the guard's arithmetic, not the model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tidegate.audit import AuditLog
from tidegate.config import StreamingConfig
from tidegate.detectors.classifier import ClassifierDetector
from tidegate.errors import PolicyViolation
from tidegate.guard.policy import Policy, build_plan
from tidegate.guard.stream import GuardedStream
from tidegate.guard.windows import ChannelWindows, Window, windows

WINDOW, OVERLAP = 40, 10
STREAMING = StreamingConfig(window_chars=WINDOW, window_overlap_chars=OVERLAP)
WORDS = ["ok", "fine", "bad", "text", "and", "so.", "well!", "why?", "\n", "über", "数据。"]


class FakeClassifier:
    """Flags a window that contains "bad"; records the threads it ran on."""

    name = "fake"
    labels = ("SAFE", "BAD")

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.threads: set[int] = set()

    def score(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        self.calls.append(list(texts))
        self.threads.add(threading.get_ident())
        # "bad" anywhere, or "meh" three times (only a whole text holds that many)
        return [(0.1, 0.9) if "bad" in t or t.count("meh") >= 3 else (0.9, 0.1) for t in texts]

    def warm(self) -> None:
        pass

    def default_threshold(self, label: str) -> float:
        return 0.5


def make_guard(
    action: str = "observe",
    *,
    stream_first: bool = False,
    offload: Callable[[Callable[[], Any]], Any] | None = None,
) -> tuple[GuardedStream, AuditLog, FakeClassifier]:
    model = FakeClassifier()
    detector = ClassifierDetector("bad_words", "custom", "BAD", model, ("BAD",), 0.5)
    policy = Policy("p", (detector,), "output", action, "", stream_first)
    audit = AuditLog()
    guard = GuardedStream(build_plan([policy], "output"), STREAMING, audit, offload=offload)
    return guard, audit, model


def reference(text: str) -> tuple[int, int] | None:
    """One-shot: the span of the first window of the whole text that the fake flags."""
    for w in windows(text, WINDOW, OVERLAP):
        body = text if w.whole else text[w.start : w.end]
        if "bad" in body:
            return (0, len(text)) if w.whole else (w.start, w.end)
    return None


def split(text: str, cuts: list[int]) -> list[str]:
    pieces, last = [], 0
    for cut in sorted(cuts):
        pieces.append(text[last:cut])
        last = cut
    return [*pieces, text[last:]]


texts = st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join)


@given(text=texts, cuts=st.lists(st.integers(0, 400), max_size=25))
def test_streamed_windows_equal_one_shot_windows(text: str, cuts: list[int]) -> None:
    state = ChannelWindows(WINDOW, OVERLAP)
    got: list[Window] = []
    for piece in split(text, [c for c in cuts if c <= len(text)]):
        got += state.feed(piece)
    got += state.finish()
    assert got == windows(text, WINDOW, OVERLAP)
    # windows tile the text: each new part starts where the last one ended
    parts = [w for w in got if not w.whole]
    assert [w.new_from for w in parts[1:]] == [w.end for w in parts[:-1]]
    assert not parts or (parts[0].new_from == 0 and parts[-1].end == len(text))
    assert all(w.end - w.new_from <= WINDOW and w.new_from - w.start <= OVERLAP for w in parts)


@given(text=texts, cuts=st.lists(st.integers(0, 400), max_size=25))
def test_streamed_verdict_equals_one_shot_verdict(text: str, cuts: list[int]) -> None:
    guard, audit, _ = make_guard()
    released = []
    for piece in split(text, [c for c in cuts if c <= len(text)]):
        released += guard.push("0:content", piece)
    released += guard.end("0:content")
    assert "".join(released) == text  # observe: nothing held, nothing changed
    events = audit.events()
    expected = reference(text)
    assert [(e.start, e.end) for e in events] == ([expected] if expected else [])
    assert all(e.threat_type == "BAD" and e.action == "observe" for e in events)


@given(text=texts, cuts=st.lists(st.integers(0, 400), max_size=25))
def test_deferred_verdict_equals_one_shot_verdict(text: str, cuts: list[int]) -> None:
    """The same with scoring in worker threads between reads, as the relay runs it."""
    import anyio
    import anyio.to_thread

    async def offload(fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    async def run() -> tuple[str, AuditLog]:
        guard, audit, _ = make_guard(offload=offload)

        async def reads() -> Any:
            for piece in split(text, [c for c in cuts if c <= len(text)]):
                yield piece

        released: list[str] = []
        async for piece in guard.paced(reads()):
            released += guard.push("0:content", piece)
        released += guard.end("0:content")
        await guard.settle()
        return "".join(released), audit

    released, audit = anyio.run(run)
    assert released == text
    expected = reference(text)
    assert [(e.start, e.end) for e in audit.events()] == ([expected] if expected else [])


@given(
    words=st.lists(st.sampled_from([w for w in WORDS if w != "bad"]), max_size=30),
    at=st.integers(0, 30),
    cuts=st.lists(st.integers(0, 300), max_size=20),
)
def test_hold_never_releases_a_flagged_window(words: list[str], at: int, cuts: list[int]) -> None:
    words.insert(min(at, len(words)), "bad")
    text = " ".join(words)
    guard, _, _ = make_guard("block")
    released = ""
    with pytest.raises(PolicyViolation) as info:
        for piece in split(text, [c for c in cuts if c <= len(text)]):
            released += "".join(guard.push("0:content", piece))
        released += "".join(guard.end("0:content"))
    span = reference(text)
    assert (
        span is not None and len(released) <= span[0] + OVERLAP
    )  # nothing of the flagged window's new text
    assert "bad" not in released
    assert info.value.threat_type == "BAD" and info.value.score == 0.9


@given(
    words=st.lists(st.sampled_from([w for w in WORDS if w != "bad"]), max_size=60),
    at=st.integers(0, 60),
    size=st.integers(1, 25),
)
def test_stream_first_exposure_is_bounded_by_the_window(
    words: list[str], at: int, size: int
) -> None:
    """Deferred mode without any settle: only the exposure rule judges windows inline."""
    words.insert(min(at, len(words)), "bad")
    text = " ".join(words)

    async def never(fn: Callable[[], Any]) -> Any:  # pragma: no cover - not awaited here
        raise AssertionError

    guard, _, _ = make_guard("block", stream_first=True, offload=never)
    judge = guard._judge
    assert judge is not None
    judge.deferred = True
    released = 0
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    with pytest.raises(PolicyViolation):
        for piece in pieces:
            released += len("".join(guard.push("0:content", piece)))
            # released at once, and never more than a window (plus the last delta) unjudged
            assert released - judge.judged_to("0:content") <= WINDOW + size
        guard.end("0:content")
    span = reference(text)
    assert span is not None
    assert released <= span[1] + WINDOW + size  # exposure past the flagged window is bounded


@pytest.mark.anyio
async def test_paced_scores_windows_in_worker_threads_and_releases_on_next_push() -> None:
    import anyio.to_thread

    async def offload(fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    guard, audit, model = make_guard("block", offload=offload)
    deltas = ["fine text. ", "more ok ", "then. ", "bad ", "words here."]

    async def chunks() -> Any:
        for d in deltas:
            yield d

    released: list[str] = []
    with pytest.raises(PolicyViolation) as info:
        async for chunk in guard.paced(chunks()):
            released += guard.push("0:content", chunk)
        released += guard.end("0:content")
    assert model.threads and threading.get_ident() not in model.threads  # never on the loop
    # Deltas go out whole, once their last char is judged: "then. " ends with a
    # space that belongs to the next window, the flagged one, so it stays held.
    assert "".join(released) == "fine text. more ok "
    assert info.value.threat_type == "BAD"
    assert [e.action for e in audit.events()] == ["block"]


@pytest.mark.anyio
async def test_paced_scores_the_end_ahead_so_end_needs_no_inline_scoring() -> None:
    import anyio.to_thread

    async def offload(fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    guard, _, model = make_guard("block", offload=offload)

    async def chunks() -> Any:
        for d in ["one. ", "two. ", "three"]:
            yield d

    released: list[str] = []
    async for chunk in guard.paced(chunks()):
        released += guard.push("0:content", chunk)
    calls = len(model.calls)
    released += guard.end("0:content")
    assert "".join(released) == "one. two. three"
    assert len(model.calls) == calls  # the rest and the whole text were scored ahead
    assert threading.get_ident() not in model.threads


SPREAD = [
    "One meh here.",
    " Nothing to see in this sentence at all.",
    " Another meh there.",
    " Filler text that is long enough to push windows.",
    " A third meh.",
]


def test_whole_text_is_judged_at_the_end() -> None:
    guard, audit, _ = make_guard("block")
    for piece in SPREAD:
        guard.push("0:content", piece)
    with pytest.raises(PolicyViolation):
        guard.end("0:content")
    (event,) = audit.events()
    assert (event.start, event.end) == (0, len("".join(SPREAD)))  # the whole text


@pytest.mark.anyio
async def test_deferred_whole_text_verdict_comes_from_the_next_settle() -> None:
    import anyio.to_thread

    async def offload(fn: Callable[[], Any]) -> Any:
        return await anyio.to_thread.run_sync(fn)

    guard, _, model = make_guard("block", offload=offload)
    judge = guard._judge
    assert judge is not None
    judge.deferred = True
    released: list[str] = []
    for piece in SPREAD:
        released += guard.push("0:content", piece)
        await guard.settle()
    released += guard.end("0:content")  # no raise: the whole text is not judged inline
    assert "".join(released) == "".join(SPREAD)
    assert judge.due()
    with pytest.raises(PolicyViolation):
        await guard.settle()  # the late verdict, scored in a worker thread
    assert threading.get_ident() not in model.threads
