"""Shared helpers of the PII detector modules: the group name and builders."""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector, Validator
from tidegate.detectors.bounds import pattern_bounds

GROUP = "pii"

# Separators written inside numbers that a reader (or a model) may not see or
# that look like a space: NBSP, figure space, thin and narrow spaces, zero-width
# space, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, and U+FFFD (what invalid
# UTF-8 from upstream decodes to). Used by detectors that tolerate evasions.
INVISIBLE_SEPARATORS = "\u00a0\u2007\u2009\u202f\u200b\u200c\u200d\u2060\ufeff\u00ad\ufffd"


def pii_detector(
    name: str,
    entity_type: str,
    pattern: str,
    validator: Validator | None,
    score: float,
    *,
    span_group: int | str = 0,
    anchor: str | None = None,
    anchor_reach: int = 0,
) -> PatternDetector:
    """Build a ``pii`` detector whose bounds are measured from its pattern.

    Args:
        name: Detector name.
        entity_type: Entity label of its findings.
        pattern: Bounded pattern source (``regex`` syntax shared with ``re``).
        validator: Checksum or parser hook, or None.
        score: Score of validated findings, in [0, 1].
        span_group: Group reported as the finding (0: the whole match).
        anchor: Optional prefilter pattern (see :class:`PatternDetector`).
        anchor_reach: Largest offset of the anchor from a match start, in chars.

    Returns:
        The detector, with ``max_match_chars`` and ``context_chars`` taken from
        :func:`~tidegate.detectors.bounds.pattern_bounds`.

    Raises:
        UnboundedPatternError: The pattern is unbounded or cannot be analysed.
    """
    bounds = pattern_bounds(pattern)
    return PatternDetector.compile(
        name, GROUP, entity_type, pattern, bounds.max_chars, bounds.context_chars,
        validator=validator, score=score, span_group=span_group,
        anchor=anchor, anchor_reach=anchor_reach,
    )  # fmt: skip


def keyword_context(key: str, gap: int = 24) -> str:
    """A bounded pattern prefix: a context keyword, then a short gap.

    For identifiers with no checksum (passport numbers) or whose shape is
    shared with ordinary numbers (routing numbers), the keyword is part of the
    match and the value is reported through a named group, so the detector
    stays bounded and streams like any other.

    Args:
        key: Pattern of the keyword, matched as a whole word. It should start
            with a literal (``(?i:nhs)``): the ``regex`` engine then finds
            candidates with a fast substring search, while an alternation of
            words at the start is tried at every position.
        gap: Most chars between the keyword and the value: anything but digits
            and line breaks (``" number: "``, ``" no. "``, ``" is "``).

    Returns:
        Pattern source text.
    """
    return rf"(?<![A-Za-z0-9]){key}(?![A-Za-z])[^0-9\n]{{0,{gap}}}"
