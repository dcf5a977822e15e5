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

__all__ = ["PatternBounds", "UnboundedPatternError", "pattern_bounds"]

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
