"""Incremental scanning: findings over a stream of deltas, in linear time.

The scanner is fed text piece by piece and evaluated now and then. It never
re-reads the stream from its start: each detector keeps a search position,
and only the text from there on (plus a few chars of look-behind context) is
kept and searched again.

Why the streamed findings equal a one-shot scan of the whole text:

* Every pattern is bounded: an attempt to match at position ``s`` only reads
  ``[s - context_chars, s + max_match_chars + context_chars)``. A complete
  match at ``s`` whose window lies inside the text seen so far is therefore
  *final*: no later text can change it.
* The search uses ``regex``'s partial matching: an attempt that runs into the
  end of the text so far is reported as a partial match at its start. So
  when the leftmost candidate is at ``s``, every position before ``s`` is
  proven not to start a match, whatever text comes next.
* A complete match is also final earlier, as soon as no matching path from
  its start reaches the end of the text so far (see :func:`_decided`).
* After a final match the search resumes at its end, exactly as a one-shot
  left-to-right scan does (:meth:`PatternDetector.find_all`).

The same two facts give the release rule of the zero-leak guarantee: text
before :attr:`IncrementalScanner.settled` can never be covered by a finding
that is not already known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import regex

from tidegate.detectors.base import Finding, PatternDetector
from tidegate.detectors.bounds import first_chars

_BASE_FLAGS = regex.compile("").flags  # VERSION0 | UNICODE: what plain patterns carry


@dataclass(frozen=True, slots=True)
class DetectorSet:
    """Detectors compiled for scanning, built once and shared by many scanners.

    ``regex`` prefers a complete match anywhere to an earlier partial one, so
    each pattern also gets a *partial-only* twin, ``(?:P)(?!)``, which can
    never complete: its partial search reports the leftmost position whose
    attempt runs into the end of the text. It is consulted only when a
    complete match is found close to the end.

    (An alternation of all patterns as a shared prefilter was measured and
    dropped: on prose with digits it made streaming about 25% slower.)

    Each detector also gets the set of chars its matches can start with
    (:func:`~tidegate.detectors.bounds.first_chars`): a detector whose set
    shares no char with the new text of a delta cannot start a match in it,
    and is skipped without a regex call.

    Attributes:
        detectors: The detectors, in reporting order.
        partial_only: Per detector, its partial-only twin (None if the
            pattern cannot be wrapped; the scanner then waits for the bound).
        starts: Per detector, the chars a match can start with (None: any).
    """

    detectors: tuple[PatternDetector, ...]
    partial_only: tuple[regex.Pattern[str] | None, ...]
    starts: tuple[frozenset[str] | None, ...]

    @classmethod
    def build(cls, detectors: Sequence[PatternDetector]) -> DetectorSet:
        """Compile the partial-only twins and first-char sets for ``detectors``."""
        detectors = tuple(detectors)
        twins = tuple(_partial_only(d.pattern.pattern, d.pattern.flags) for d in detectors)
        starts = tuple(
            first_chars(d.pattern.pattern, re.IGNORECASE if d.pattern.flags & regex.I else 0)
            for d in detectors
        )
        return cls(detectors, twins, starts)


def _partial_only(pattern: str, flags: int) -> regex.Pattern[str] | None:
    try:
        return regex.compile(f"(?:{pattern})(?!)", flags & ~_BASE_FLAGS)
    except regex.error:
        return None


@dataclass(slots=True)
class _Cursor:
    """Per-detector search state, in absolute chars of the stream."""

    pos: int = 0  # next position to search from
    settled: int = 0  # no unknown match of this detector starts before this


class IncrementalScanner:
    """Scans one text stream (one channel) with a fixed set of detectors.

    Args:
        detectors: The detectors to run; each must be bounded (see
            :class:`~tidegate.detectors.base.PatternDetector`).

    Attributes:
        scanned_to: Absolute offset (chars) up to which text has been evaluated.
    """

    def __init__(self, detectors: Sequence[PatternDetector] | DetectorSet) -> None:
        self._set = (
            detectors if isinstance(detectors, DetectorSet) else DetectorSet.build(detectors)
        )
        self._detectors = self._set.detectors
        self._cursors = [_Cursor() for _ in self._detectors]
        self._context = max((d.context_chars for d in self._detectors), default=0)
        self._trim_at = 4096  # chars
        self._scans = 0
        self._text = ""  # the stream from absolute offset self._base on
        self._base = 0
        self._pending: list[str] = []  # fed but not yet joined into _text
        self._pending_chars = 0
        self.scanned_to = 0

    @property
    def end(self) -> int:
        """Absolute length of the stream fed so far, in chars."""
        return self._base + len(self._text) + self._pending_chars

    @property
    def buffered_chars(self) -> int:
        """Chars currently kept for re-scanning (bounded by the detectors' reach)."""
        return len(self._text) + self._pending_chars

    def feed(self, text: str) -> None:
        """Append a delta. Nothing is scanned until :meth:`scan`."""
        self._pending.append(text)
        self._pending_chars += len(text)

    def settled(self, indices: Sequence[int] | None = None) -> int:
        """Offset before which no unknown finding can start.

        Args:
            indices: Restrict to the detectors at these positions of the
                detector set (default: all).

        Returns:
            Absolute offset in chars, at most :attr:`scanned_to`.
        """
        cursors = self._cursors
        if indices is None:
            return min([c.settled for c in cursors], default=self.scanned_to)
        return min([cursors[i].settled for i in indices], default=self.scanned_to)

    def scan(self, *, final: bool = False) -> list[Finding]:
        """Evaluate the text fed so far.

        Args:
            final: The stream is complete; every candidate is decided.

        Returns:
            Findings that became final in this evaluation, in detector order
            and, per detector, in order of position. Absolute offsets.

        Raises:
            DetectorError: A detector's validator failed.
        """
        if self._pending:
            self._text += "".join(self._pending)
            self._pending.clear()
            self._pending_chars = 0
        end = self.end
        base = self._base
        text = self._text
        found: list[Finding] = []
        previous = self.scanned_to
        new_chars: frozenset[str] | None = None
        for detector, twin, first, cursor in zip(
            self._detectors, self._set.partial_only, self._set.starts, self._cursors, strict=True
        ):
            if cursor.pos >= end and not final:
                cursor.pos = cursor.settled = end  # no new text for it
                continue
            if first is not None and cursor.pos >= previous:
                # Everything before ``previous`` is decided for this detector;
                # a match could only start on a char of the new text.
                if new_chars is None:
                    new_chars = frozenset(text[previous - base :])
                if first.isdisjoint(new_chars):
                    cursor.pos = cursor.settled = end
                    continue
            if not final and detector.anchor is None:
                # Fast path for the common outcomes: nothing, or a candidate
                # that is still growing. A complete match takes the full path.
                match = detector.pattern.search(text, cursor.pos - base, partial=True)
                if match is None:
                    cursor.pos = cursor.settled = end
                    continue
                if match.partial:
                    cursor.pos = cursor.settled = match.start() + base
                    continue
            cursor.pos, cursor.settled = _scan_one(
                detector, twin, text, base, cursor.pos, final, found
            )
        self.scanned_to = end
        self._trim()
        return found

    def _trim(self) -> None:
        # Amortized: look at every cursor only every 16th evaluation (or on a
        # big buffer), not on each delta; the buffer stays a short tail.
        self._scans += 1
        if self._scans % 16 and len(self._text) < self._trim_at:
            return
        keep_from = min([c.pos for c in self._cursors], default=self.end) - self._context
        cut = keep_from - self._base
        if cut > 0:
            self._text = self._text[cut:]
            self._base += cut


def _scan_one(
    detector: PatternDetector,
    twin: regex.Pattern[str] | None,
    text: str,
    base: int,
    pos: int,
    final: bool,
    found: list[Finding],
) -> tuple[int, int]:
    """Advance one detector over ``text`` from absolute ``pos``.

    ``twin`` is the detector's partial-only pattern (see :class:`DetectorSet`).

    Appends the findings that became final to ``found``.

    Returns:
        The new search position and settled offset, both absolute.
    """
    end = base + len(text)
    if pos >= end and not final:
        return end, end  # nothing new to search: a match could only start at the end
    reach = detector.max_match_chars + detector.context_chars
    anchor = detector.anchor
    while pos <= end:
        lo, endpos, anchor_at = pos, end, end
        if anchor is not None:
            # Only positions within anchor_reach before an anchor can start a match.
            hit = anchor.search(text, pos - base, partial=not final)
            if hit is None and final:
                return end, end
            if hit is not None:
                anchor_at = hit.start() + base
            lo = max(pos, anchor_at - detector.anchor_reach)
            # Attempts starting at or before the anchor read nothing past this.
            endpos = min(end, anchor_at + reach)
        match = detector.pattern.search(text, lo - base, endpos - base, partial=not final)
        if match is None or match.start() + base > anchor_at:
            if anchor is None or anchor_at >= end:
                return end, end
            pos = anchor_at + 1  # no match uses this anchor occurrence
            continue
        start = match.start() + base
        if not final and (match.partial or start + reach > end):
            # A complete match this close to the end may hide an earlier
            # partial one (regex prefers complete matches), and may still grow.
            if match.partial:
                return start, start  # undecided: wait for more text
            if twin is None:
                return lo, lo
            hidden = twin.search(text, lo - base, endpos - base, partial=True)
            if hidden is not None and hidden.start() + base < start:
                return hidden.start() + base, hidden.start() + base
            if not _decided(detector, match):
                return start, start
        finding = detector.finding_for(match, base)
        if finding is not None:
            found.append(finding)
        pos = match.end() + base if match.end() > match.start() else start + 1
    return pos, end


def _decided(detector: PatternDetector, match: regex.Match[str]) -> bool:
    """Whether a complete match can no longer change, before its bound is reached.

    The attempt at ``match.start()`` chose the highest-priority path that
    succeeds. More text can change that only through a path that reads up to
    the end of the text so far. ``fullmatch(..., partial=True)`` from the
    same start finds exactly such a path if one exists; when there is none,
    and the match's own look-ahead context lies inside the text, the result is
    final. This lets a complete value be redacted (and the text after it be
    released) without waiting ``max_match_chars`` more chars.
    """
    text = match.string
    if match.end() + detector.context_chars > len(text):
        return False
    return detector.pattern.fullmatch(text, match.start(), partial=True) is None


def scan_text(text: str, detectors: Sequence[PatternDetector] | DetectorSet) -> list[Finding]:
    """One-shot scan of a whole text, sorted by position.

    Args:
        text: The whole text.
        detectors: Detectors to run.

    Returns:
        Findings sorted by (start, end, detector).
    """
    scanner = IncrementalScanner(detectors)
    scanner.feed(text)
    return sorted(scanner.scan(final=True), key=lambda f: (f.start, f.end, f.detector))
