"""Static bounds of a regular expression: how long a match can be, how far it looks.

The stream guard can only hold back a finite amount of text, so every detector
pattern must be *bounded*. These helpers measure a pattern with the standard
library's own regular-expression parser (``re._parser``, the parser behind
``re.compile``), which is exact for the syntax shared by ``re`` and the
third-party ``regex`` module that the detectors are compiled with. Patterns that
use ``regex``-only syntax (``\\p{L}``, fuzzy matching, variable-width features the
standard parser rejects) cannot be measured and are refused.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PatternBounds", "UnboundedPatternError", "first_chars", "pattern_bounds"]

# The parser behind re.compile (Python >= 3.11 names; untyped in typeshed).
sre_p: Any = importlib.import_module("re._parser")
sre_c: Any = importlib.import_module("re._constants")

_UNBOUNDED = int(sre_c.MAXREPEAT)
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)


class UnboundedPatternError(ValueError):
    """A pattern cannot be proved bounded (or cannot be parsed at all)."""


@dataclass(frozen=True, slots=True)
class PatternBounds:
    """Static bounds of one pattern.

    Attributes:
        min_chars: Shortest possible match of group 0, in chars.
        max_chars: Longest possible match of group 0, in chars.
        context_chars: Upper bound on how many chars outside a match the
            pattern inspects: the widest look-behind or look-ahead (nested
            assertions add up), and 1 for an anchor or word boundary
            (``\\b``, ``\\B``, ``^``, ``$``), which looks at one neighbour.
    """

    min_chars: int
    max_chars: int
    context_chars: int


def _assertion_reach(items: Any) -> int:
    """Widest reach of the assertions inside one parsed (sub)pattern, in chars.

    Args:
        items: A ``re._parser.SubPattern`` or a list of its ``(op, arg)`` nodes.

    Returns:
        The largest number of chars any assertion or anchor in ``items`` can
        inspect beyond the point where it is evaluated.
    """
    reach = 0
    for op, av in items:
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            _direction, sub = av
            reach = max(reach, sub.getwidth()[1] + _assertion_reach(sub))
        elif op is sre_c.AT:
            reach = max(reach, 1)
        elif op is sre_c.SUBPATTERN:
            reach = max(reach, _assertion_reach(av[3]))
        elif op in _REPEATS:
            reach = max(reach, _assertion_reach(av[2]))
        elif op is sre_c.BRANCH:
            for alternative in av[1]:
                reach = max(reach, _assertion_reach(alternative))
        elif op is sre_c.GROUPREF_EXISTS:
            _group, yes, no = av
            reach = max(reach, _assertion_reach(yes))
            if no is not None:
                reach = max(reach, _assertion_reach(no))
        elif op is sre_c.ATOMIC_GROUP:
            reach = max(reach, _assertion_reach(av))
    return reach


def pattern_bounds(pattern: str, flags: int = 0) -> PatternBounds:
    """Measure the longest match and the look-around reach of a pattern.

    Uses ``re._parser.parse(pattern).getwidth()`` for the match width, and a
    walk of the same parse tree for assertions and anchors.

    Args:
        pattern: Pattern source text (``re``/``regex`` common syntax).
        flags: ``re`` flags the pattern will be compiled with (only
            ``re.IGNORECASE``, ``re.MULTILINE``, ``re.DOTALL`` and
            ``re.VERBOSE`` influence parsing).

    Returns:
        The pattern's bounds, in chars.

    Raises:
        UnboundedPatternError: The standard parser cannot parse the pattern,
            or a match can be arbitrarily long (``*``, ``+``, ``{n,}``).
    """
    try:
        parsed = sre_p.parse(pattern, flags & (re.I | re.M | re.S | re.X))
    except re.error as exc:
        raise UnboundedPatternError(f"cannot analyse pattern: {exc}") from exc
    lo, hi = parsed.getwidth()
    if hi >= _UNBOUNDED:
        raise UnboundedPatternError(
            "pattern is unbounded: replace '*', '+' and '{n,}' with '{m,n}' repeats"
        )
    return PatternBounds(
        min_chars=int(lo), max_chars=int(hi), context_chars=_assertion_reach(parsed)
    )


_ZERO_WIDTH = (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT)
_MAX_CLASS = 512  # a wider first-char class is not worth a set


def first_chars(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """The characters a non-empty match of ``pattern`` can start with.

    Walks the ``re._parser`` parse tree: zero-width assertions are skipped
    (a superset is still correct), optional items add their successors.
    With ``re.IGNORECASE`` both cases are included.

    Args:
        pattern: Pattern source text.
        flags: ``re`` flags it is compiled with.

    Returns:
        A set of chars, or None when it cannot be determined cheaply (a class
        such as ``\\w`` or a negated set, or one wider than 512 chars); the
        scanner then does not use it.
    """
    try:
        parsed = sre_p.parse(pattern, flags & (re.I | re.M | re.S | re.X))
    except re.error:
        return None
    chars, nullable = _first_of_seq(list(parsed))
    if chars is None or nullable:
        return None
    if (flags | parsed.state.flags) & re.I:  # passed, or a global (?i)
        chars = chars | {c.swapcase() for c in chars} | {c.upper() for c in chars}
    return frozenset(chars)


def _first_of_seq(items: list[Any]) -> tuple[set[str] | None, bool]:
    """First chars of a sequence, and whether it can match the empty string."""
    out: set[str] = set()
    for op, av in items:
        if op in _ZERO_WIDTH:
            continue
        chars, nullable = _first_of_item(op, av)
        if chars is None:
            return None, False
        out |= chars
        if len(out) > _MAX_CLASS:
            return None, False
        if not nullable:
            return out, False
    return out, True


def _first_of_item(op: Any, av: Any) -> tuple[set[str] | None, bool]:
    if op is sre_c.LITERAL:
        return {chr(av)}, False
    if op is sre_c.IN:
        return _class_chars(av), False
    if op is sre_c.SUBPATTERN:
        chars, nullable = _first_of_seq(list(av[-1]))
        if chars is not None and av[1] & re.I:  # scoped (?i:...)
            chars = chars | {c.swapcase() for c in chars} | {c.upper() for c in chars}
        return chars, nullable
    if op is sre_c.BRANCH:
        out: set[str] = set()
        nullable = False
        for branch in av[1]:
            chars, empty = _first_of_seq(list(branch))
            if chars is None:
                return None, False
            out |= chars
            nullable |= empty
        return out, nullable
    if op in _REPEATS:
        lo, _, item = av
        chars, empty = _first_of_seq(list(item))
        return chars, empty or lo == 0
    return None, False  # ANY, NOT_LITERAL, GROUPREF, CATEGORY outside a class…


def _class_chars(items: list[Any]) -> set[str] | None:
    out: set[str] = set()
    for op, av in items:
        if op is sre_c.LITERAL:
            out.add(chr(av))
        elif op is sre_c.RANGE:
            lo, hi = av
            if hi - lo > _MAX_CLASS:
                return None
            out.update(chr(c) for c in range(lo, hi + 1))
        else:  # NEGATE, CATEGORY (\d, \w, \s): not a small closed set
            return None
        if len(out) > _MAX_CLASS:
            return None
    return out
