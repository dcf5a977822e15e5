"""Builders shared by the secret detector modules: boundaries, validators, bounds."""

from __future__ import annotations

import math
from collections import Counter

import regex

from tidegate.detectors.base import PatternDetector, Validator
from tidegate.detectors.bounds import pattern_bounds

GROUP = "secrets"

B = r"(?<![A-Za-z0-9_\-])"
"""Token start: not inside a longer token."""
E = r"(?![A-Za-z0-9_\-])"
"""Token end: not followed by more token chars."""

_REPEAT = regex.compile(r"(.)\1{7}")
_MIN_DISTINCT = 6


def not_placeholder(text: str) -> bool:
    """Reject documentation placeholders written in a token's format.

    ``ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`` or ``xoxb-000000000-...`` in a
    README is not a credential. A generated token practically never repeats
    one char 8 times in a row (1 in 16^7 per position for hex), nor uses fewer
    than 6 distinct chars.

    Args:
        text: The matched token.

    Returns:
        False for a placeholder, True otherwise.
    """
    return len(set(text)) >= _MIN_DISTINCT and _REPEAT.search(text) is None


def shannon_entropy(text: str) -> float:
    """Shannon entropy of the char distribution of ``text``, in bits per char."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


_CODE_LIKE = regex.compile(
    r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|->|::)[A-Za-z_][A-Za-z0-9_]*)+(?:\(\)?)?"  # attr.access
    r"|[A-Za-z_][A-Za-z0-9_]*\(.*"  # call(...)
    r"|[a-z]+(?:_[a-z]+)*|[A-Z]+(?:_[A-Z0-9]+)*"  # snake_case or CONSTANT identifiers
    r"|[a-z]+(?:[A-Z][a-z0-9]*)+|(?:[A-Z][a-z0-9]+)+"  # camelCase, PascalCase, Words
    r"|-{1,2}[A-Za-z][A-Za-z0-9\-]*"  # command-line flags
)
_PLACEHOLDER_WORDS = regex.compile(
    r"(?i)your|example|placeholder|changeme|change_me|redacted|dummy|sample|secret_?here"
    r"|password|passwd|token|xxxx|\*\*\*|\.\.\.|<|>|\$\{|\{\{|%s|%\(|\benv\b|getenv|environ"
)


_PATH_OR_URL = regex.compile(r"[./~]{0,2}/|[A-Za-z][A-Za-z0-9+.\-]{1,20}://")


def is_high_entropy_value(text: str, min_entropy: float = 3.0) -> bool:
    """Decide whether an assigned value looks like a real credential.

    Used for ``password = ...`` / ``token: ...`` assignments, where the
    keyword says "secret" but the value is often a placeholder or code. The
    value must be at least 8 chars, have Shannon entropy of at least
    ``min_entropy`` bits per char (detect-secrets' high-entropy plugins use
    the same measure, with 3.0 for hex and 4.5 for base64 strings), mix at
    least two of lower case, upper case, digits and symbols, and be neither
    a placeholder (``your_password``, ``<token>``, ``${VAR}``, ``****``), an
    identifier, word or call (``settings.SECRET_KEY``, ``Following``,
    ``get_token()``), a command-line flag (``--verbose``), nor a path or URL.

    Args:
        text: The assigned value, without quotes.
        min_entropy: Threshold, in bits per char.

    Returns:
        True if the value should be treated as a secret.
    """
    if len(text) < 8 or _PLACEHOLDER_WORDS.search(text) or _CODE_LIKE.fullmatch(text):
        return False
    if _PATH_OR_URL.match(text):  # a path or a URL, not a credential
        return False
    classes = sum(
        (
            any(c.islower() for c in text),
            any(c.isupper() for c in text),
            any(c.isdigit() for c in text),
            any(not c.isalnum() for c in text),
        )
    )
    return classes >= 2 and shannon_entropy(text) >= min_entropy and not_placeholder(text)


def secret_detector(
    name: str,
    entity_type: str,
    pattern: str,
    *,
    validator: Validator | None = not_placeholder,
    score: float = 1.0,
    span_group: int | str = 0,
    anchor: str | None = None,
    anchor_reach: int = 0,
) -> PatternDetector:
    """Build a ``secrets`` detector whose bounds are measured from its pattern.

    Args:
        name: Detector name.
        entity_type: Entity label of its findings.
        pattern: Bounded pattern source (boundaries included).
        validator: Hook on the reported text; by default
            :func:`not_placeholder`.
        score: Score of validated findings.
        span_group: Group reported as the finding (0: the whole match).
        anchor: Optional prefilter pattern (see :class:`PatternDetector`).
        anchor_reach: Largest offset of the anchor from a match start.

    Returns:
        The detector, with ``max_match_chars``/``context_chars`` from
        :func:`~tidegate.detectors.bounds.pattern_bounds`.

    Raises:
        UnboundedPatternError: The pattern is unbounded.
    """
    bounds = pattern_bounds(pattern)
    return PatternDetector.compile(
        name, GROUP, entity_type, pattern, bounds.max_chars, bounds.context_chars,
        validator=validator, score=score, span_group=span_group,
        anchor=anchor, anchor_reach=anchor_reach,
    )  # fmt: skip


def token(
    name: str, entity_type: str, body: str, *, validator: Validator | None = not_placeholder
) -> PatternDetector:
    """A vendor token with a fixed prefix: ``body`` between token boundaries.

    Args:
        name: Detector name.
        entity_type: Entity label.
        body: The token's pattern, prefix included (``dop_v1_[a-f0-9]{64}``).
        validator: Hook on the token (default :func:`not_placeholder`).

    Returns:
        The detector; the whole token is reported.
    """
    return secret_detector(name, entity_type, B + body + E, validator=validator)


BOUNDARY = r"(?:(?<![A-Za-z0-9])|(?<=[a-z0-9])(?=[A-Z]))"
"""Start of a key name: after a non-alphanumeric char (``DB_PASSWORD``,
``"password"``) or at a camelCase hump (``dbPassword``)."""


def assignment(key: str, value: str, *, gap: int = 3, prose: bool = False) -> str:
    """Pattern of ``KEY = VALUE`` in config, code, env files and YAML.

    Accepts ``KEY=VALUE``, ``key: value``, ``"key": "value"``, ``key := value``,
    ``key => 'value'`` with up to ``gap`` spaces around the operator; the
    value is the named group ``value``.

    Args:
        key: Pattern of the key name. It should start with a literal
            (``(?i:secret)``): the ``regex`` engine then finds candidates with
            a fast substring search, while an alternation of words at the
            start is tried at every position (measured 50-100 ns per char).
        value: Pattern of the value.
        gap: Most spaces on each side of the operator.
        prose: Also accept ``is`` as the operator (``the password is 'x9!k'``).

    Returns:
        Pattern source text.
    """
    ops = r"|(?<=[ \t])is:?(?=[ \t])" if prose else ""
    return (
        rf"{key}(?![A-Za-z0-9])[\"']?"
        rf"[ \t]{{0,{gap}}}(?::=|=>|==?|:{ops})[ \t]{{0,{gap}}}[\"'`]?"
        rf"(?P<value>{value})"
    )
