"""Windows of text for classifier detectors, the same whether streamed or not.

A classifier judges a *window*: the text from one cut to the next, plus up to
``overlap`` chars of earlier text in front of it. Cuts depend only on the text,
never on how it was split into deltas:

* after every sentence end (``.``, ``!``, ``?``, a newline, or a CJK full
  stop), and
* after ``window_chars`` chars without one.

A cut at ``p`` needs only ``text[:p]``, so the cuts of a prefix are a prefix of
the cuts of the whole text: a stream's windows equal the one-shot windows of
the same text (:func:`windows`), which the tests check with random splits. At
the end, the rest after the last cut is a final window, and the whole text is
judged once more as a unit (when it is longer than one window).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = re.compile("[.!?\n\u3002\uff01\uff1f]")
"""A char that ends a sentence (ASCII and CJK full stops, newline)."""


@dataclass(frozen=True, slots=True)
class Window:
    """One window to judge.

    Attributes:
        start: Absolute offset of its first char (overlap included).
        new_from: Absolute offset of its first char not in an earlier window.
        end: Absolute offset one past its last char.
        whole: True for the end-of-text judgement of the whole text.
    """

    start: int
    new_from: int
    end: int
    whole: bool = False


def next_cut(text: str, pos: int, window_chars: int, searched: int = 0) -> int | None:
    """The first cut after ``pos`` within ``text``, or None if there is none yet.

    Args:
        text: The text so far.
        pos: The previous cut.
        window_chars: Longest window without a sentence end, in chars.
        searched: Offset up to which ``text`` is known to hold no sentence
            end after ``pos`` (an optimisation for streams).
    """
    limit = min(len(text), pos + window_chars)
    found = SENTENCE_END.search(text, max(pos, searched), limit)
    if found is not None:
        return found.end()
    return pos + window_chars if len(text) >= pos + window_chars else None


def windows(text: str, window_chars: int, overlap: int) -> list[Window]:
    """Every window of a complete text, in order (the one-shot reference).

    Args:
        text: The whole text.
        window_chars: See :func:`next_cut`.
        overlap: Chars of earlier text repeated in front of each window.

    Returns:
        The cut windows, the final rest (if any), and the whole-text window
        (``start`` 0, ``end`` the length) when there was more than one.
    """
    state = ChannelWindows(window_chars, overlap)
    return [*state.feed(text), *state.finish()]


class ChannelWindows:
    """Cuts one channel's stream into windows as text arrives.

    Keeps the whole text: the end-of-text judgement needs it.

    Args:
        window_chars: Longest window without a sentence end, in chars.
        overlap: Chars of earlier text repeated in front of each window.
    """

    __slots__ = ("_count", "_cut", "_overlap", "_searched", "_text", "_window")

    def __init__(self, window_chars: int, overlap: int) -> None:
        self._window = window_chars
        self._overlap = overlap
        self._text = ""
        self._cut = 0
        self._count = 0
        self._searched = 0

    @property
    def cut(self) -> int:
        """Absolute offset of the last cut: text before it is in a window."""
        return self._cut

    @property
    def end(self) -> int:
        """Absolute offset one past the last char fed."""
        return len(self._text)

    def feed(self, text: str) -> list[Window]:
        """Add text; return the windows that became complete."""
        self._text += text
        out = []
        while (cut := next_cut(self._text, self._cut, self._window, self._searched)) is not None:
            out.append(self._window_to(cut))
        self._searched = len(self._text)
        return out

    def _window_to(self, cut: int) -> Window:
        window = Window(max(0, self._cut - self._overlap), self._cut, cut)
        self._cut = cut
        self._count += 1
        return window

    def ending(self) -> list[Window]:
        """The windows :meth:`finish` would return now, without finishing."""
        end = len(self._text)
        out = []
        if end > self._cut:
            out.append(Window(max(0, self._cut - self._overlap), self._cut, end))
        if self._count + len(out) > 1:
            out.append(Window(0, end, end, whole=True))
        return out

    def finish(self) -> list[Window]:
        """The stream ended: the final rest, then the whole text if it spans several windows."""
        out = self.ending()
        self._cut = len(self._text)
        self._count += 1 if out and not out[0].whole else 0
        return out

    def text(self, window: Window) -> str:
        """The text of a window returned by :meth:`feed` or :meth:`finish`."""
        return self._text[window.start : window.end] if not window.whole else self._text
