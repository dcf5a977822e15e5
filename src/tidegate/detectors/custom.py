"""Builders for config-defined detectors (group ``"custom"``).

A custom regex is accepted only if it is provably bounded: its longest match and
its look-around reach are computed from the pattern itself
(:func:`tidegate.detectors.bounds.pattern_bounds`), never trusted from config.
"""

from __future__ import annotations

from collections.abc import Sequence

import regex

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.bounds import UnboundedPatternError, pattern_bounds

__all__ = ["MAX_CUSTOM_MATCH_CHARS", "keyword_detector", "regex_detector"]

GROUP = "custom"

MAX_CUSTOM_MATCH_CHARS = 8192
"""Longest match a custom detector may declare, in chars. The stream guard holds
back up to this many chars while a candidate is open, so a larger bound would let
one config line stall every stream."""

_NAME = regex.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}")


def _entity_type(name: str, entity_type: str | None) -> str:
    if entity_type is not None:
        if not entity_type.strip():
            raise ValueError("entity_type must not be blank")
        return entity_type
    return regex.sub(r"[^A-Za-z0-9]", "_", name).upper()


def _check_name(name: str) -> None:
    if _NAME.fullmatch(name) is None:
        raise ValueError(
            f"invalid detector name {name!r}: use 1-64 letters, digits, '_', '.' or '-'"
        )


def regex_detector(
    name: str,
    pattern: str,
    *,
    entity_type: str | None = None,
    placeholder: str = "",
    ignore_case: bool = False,
) -> PatternDetector:
    """Build a detector from a bounded regular expression given in config.

    The whole match (group 0) is the reported span. ``max_match_chars`` and
    ``context_chars`` are computed from the pattern.

    Args:
        name: Detector name used in config, 1-64 chars of ``[A-Za-z0-9_.-]``.
        pattern: Pattern in the syntax shared by ``re`` and ``regex``, with only
            bounded repeats (``{m,n}``, ``?``); ``*``, ``+`` and ``{n,}`` are
            refused.
        entity_type: Entity label for findings; defaults to ``name`` upper-cased
            with non-alphanumerics replaced by ``_``.
        placeholder: Redaction text; defaults to ``[ENTITY_TYPE]``.
        ignore_case: Match case-insensitively.

    Returns:
        A detector in group ``"custom"``.

    Raises:
        ValueError: The name is invalid; the pattern does not compile; it is
            unbounded or uses syntax the bounds checker cannot analyse; it can
            match the empty string; or its longest match exceeds
            :data:`MAX_CUSTOM_MATCH_CHARS` chars.
    """
    _check_name(name)
    flags = regex.IGNORECASE if ignore_case else 0
    try:
        compiled = regex.compile(pattern, flags)
    except regex.error as exc:
        raise ValueError(f"detector {name!r}: invalid pattern: {exc}") from exc
    try:
        bounds = pattern_bounds(pattern, flags)
    except UnboundedPatternError as exc:
        raise ValueError(f"detector {name!r}: {exc}") from exc
    if bounds.min_chars == 0:
        raise ValueError(f"detector {name!r}: pattern can match the empty string")
    if bounds.max_chars > MAX_CUSTOM_MATCH_CHARS:
        raise ValueError(
            f"detector {name!r}: pattern can match {bounds.max_chars} chars, "
            f"more than the limit of {MAX_CUSTOM_MATCH_CHARS}"
        )
    return PatternDetector(
        name=name,
        group=GROUP,
        entity_type=_entity_type(name, entity_type),
        pattern=compiled,
        max_match_chars=bounds.max_chars,
        context_chars=bounds.context_chars,
        placeholder=placeholder,
    )


def keyword_detector(
    name: str,
    keywords: Sequence[str],
    *,
    case_sensitive: bool = False,
    whole_word: bool = True,
    entity_type: str | None = None,
    placeholder: str = "",
) -> PatternDetector:
    """Build a detector for a fixed list of words or phrases (a deny list).

    Keywords are matched literally (regex metacharacters are escaped), longest
    first, so ``"Project Blue"`` wins over ``"Project"`` at the same position.
    Whole-word matching uses look-arounds (no word char before or after)
    instead of ``\\b``, so keywords that start or end with punctuation, such as
    ``"C++"``, work too.

    Args:
        name: Detector name used in config, 1-64 chars of ``[A-Za-z0-9_.-]``.
        keywords: The words or phrases; duplicates are ignored.
        case_sensitive: Match case exactly (default: ignore case).
        whole_word: Only match keywords not embedded in a longer word.
        entity_type: Entity label; defaults to ``name`` upper-cased.
        placeholder: Redaction text; defaults to ``[ENTITY_TYPE]``.

    Returns:
        A detector in group ``"custom"``; ``max_match_chars`` is the longest
        keyword's length, ``context_chars`` is 1 with ``whole_word`` else 0.

    Raises:
        ValueError: ``keywords`` is empty or a bare string, a keyword is empty,
            a keyword is longer than :data:`MAX_CUSTOM_MATCH_CHARS`, or the
            name is invalid.
    """
    if isinstance(keywords, str):
        raise ValueError(f"detector {name!r}: keywords must be a list of strings, not a string")
    unique = sorted(set(keywords), key=lambda k: (-len(k), k))
    if not unique or any(not k for k in unique):
        raise ValueError(
            f"detector {name!r}: keywords must be a non-empty list of non-empty strings"
        )
    alternation = "|".join(regex.escape(k) for k in unique)
    pattern = rf"(?<!\w)(?:{alternation})(?!\w)" if whole_word else f"(?:{alternation})"
    return regex_detector(
        name,
        pattern,
        entity_type=entity_type,
        placeholder=placeholder,
        ignore_case=not case_sensitive,
    )
