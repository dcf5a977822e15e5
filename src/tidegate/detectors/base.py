"""Detector types: what a detector is, and what it reports.

A detector is data plus an optional checksum hook, in the style of Presidio's
recognizers: a *bounded* regular expression finds candidates, and a validator
(Luhn, mod-97, …) decides. Boundedness is what makes streaming possible: every
detector declares ``max_match_chars``, the longest span it can ever report, and
``context_chars``, how far its pattern looks around a match (look-behind and
look-ahead). The stream guard uses these two numbers to bound its holdback and
to resume scanning without ever re-reading the stream from the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import regex

Validator = Callable[[str], bool]
"""Checksum hook: takes the matched text, returns True to keep the candidate."""


class DetectorError(Exception):
    """A detector failed while scanning. The policy engine fails closed on it.

    Attributes:
        detector: Name of the detector that failed.
    """

    def __init__(self, message: str, detector: str = "") -> None:
        super().__init__(message)
        self.detector = detector


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected span.

    Attributes:
        detector: Name of the detector that reported it (``"email"``).
        entity_type: Entity label (``"EMAIL_ADDRESS"``, ``"AWS_ACCESS_KEY"``).
        start: Offset of the first character, in characters of the scanned text.
        end: Offset one past the last character (end exclusive).
        score: Confidence in [0, 1].
    """

    detector: str
    entity_type: str
    start: int
    end: int
    score: float

    @property
    def length(self) -> int:
        """Span length in characters."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class PatternDetector:
    """A detector made of one bounded pattern and an optional validator.

    Attributes:
        name: Unique detector name, used in config (``detectors: [email]``).
        group: Detector group (``"pii"``, ``"secrets"`` or ``"custom"``).
        entity_type: Entity label reported in findings.
        pattern: Compiled ``regex`` pattern (the ``regex`` module, not ``re``:
            the stream guard needs its ``partial=True`` matching). It must not
            contain unbounded quantifiers (``*``, ``+``, ``{n,}``); the span
            reported is the whole match (group 0) unless ``span_group`` is set.
        max_match_chars: Upper bound on the length of group 0, in chars.
        context_chars: Upper bound on how many chars before or after a match
            the pattern inspects (look-behind/look-ahead, ``\\b``).
        validator: Optional checksum hook applied to the reported span text.
        score: Score reported for validated findings.
        span_group: Name or number of the group that is the reported span
            (for example the password inside a connection string); 0 means
            the whole match.
        placeholder: Text that replaces the span under a ``redact`` action;
            defaults to ``[ENTITY_TYPE]``.
        anchor: Optional prefilter: a pattern that every match contains,
            starting at most ``anchor_reach`` chars after the match start
            (``@`` for e-mail addresses). The scanner only runs ``pattern``
            near anchor occurrences, which skips most prose. A wrong anchor
            loses findings, so each is checked against the plain search in
            the tests.
        anchor_reach: Largest offset, in chars, from a match's start to the
            start of the anchor occurrence it contains.
    """

    name: str
    group: str
    entity_type: str
    pattern: regex.Pattern[str]
    max_match_chars: int
    context_chars: int = 1
    validator: Validator | None = None
    score: float = 1.0
    span_group: int | str = 0
    placeholder: str = field(default="")
    anchor: regex.Pattern[str] | None = None
    anchor_reach: int = 0

    @classmethod
    def compile(
        cls,
        name: str,
        group: str,
        entity_type: str,
        pattern: str,
        max_match_chars: int,
        context_chars: int = 1,
        *,
        validator: Validator | None = None,
        score: float = 1.0,
        span_group: int | str = 0,
        anchor: str | None = None,
        anchor_reach: int = 0,
    ) -> PatternDetector:
        """Build a detector from pattern source text (see the attributes).

        Raises:
            regex.error: ``pattern`` or ``anchor`` does not compile.
        """
        return cls(
            name=name,
            group=group,
            entity_type=entity_type,
            pattern=regex.compile(pattern),
            max_match_chars=max_match_chars,
            context_chars=context_chars,
            validator=validator,
            score=score,
            span_group=span_group,
            anchor=regex.compile(anchor) if anchor else None,
            anchor_reach=anchor_reach,
        )

    def redaction(self) -> str:
        """Placeholder text for this detector's findings."""
        return self.placeholder or f"[{self.entity_type}]"

    def finding_for(self, match: regex.Match[str], offset: int = 0) -> Finding | None:
        """Turn a complete match into a finding, or None if it fails validation.

        Args:
            match: A complete (non-partial) match of ``self.pattern``.
            offset: Added to the match positions, in chars (the position of the
                scanned buffer within the whole stream).

        Raises:
            DetectorError: The validator raised.
        """
        start, end = match.span(self.span_group)
        if start < 0 or start == end:
            return None
        if self.validator is not None:
            try:
                ok = self.validator(match.string[start:end])
            except Exception as exc:  # a broken validator must not pass silently
                raise DetectorError(f"detector {self.name!r} validator failed", self.name) from exc
            if not ok:
                return None
        return Finding(self.name, self.entity_type, start + offset, end + offset, self.score)

    def find_all(self, text: str) -> Iterator[Finding]:
        """One-shot scan of a whole text (non-streaming reference semantics).

        Matches are searched left to right; after each complete match the
        search resumes at its end, whether or not it validated, exactly as the
        incremental scanner does.

        Args:
            text: The whole text.

        Yields:
            Findings in order of position.
        """
        pos = 0
        while pos <= len(text):
            m = self.pattern.search(text, pos)
            if m is None:
                return
            finding = self.finding_for(m)
            if finding is not None:
                yield finding
            pos = m.end() if m.end() > m.start() else m.start() + 1
