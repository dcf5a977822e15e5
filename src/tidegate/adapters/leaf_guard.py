"""Writing guarded leaves back, and one-shot guarding of structural values.

The companions of :mod:`tidegate.adapters.fields`: :func:`set_leaf` writes a
released text into its container (a logprobs token rewrites its ``bytes``,
and a changed text empties the enclosing ``logprobs``); :class:`AtomCache`
guards structural strings one shot, once per value per response;
:func:`guard_input_body` guards a whole client request body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tidegate.adapters.fields import TOKEN_KEY, Container, FieldTable, FieldWalker


def set_leaf(container: Container, key: Any, value: str, owner: dict[str, Any] | None) -> None:
    """Write a released text back into its container.

    A logprobs ``token`` (key :data:`TOKEN_KEY`) also rewrites its ``bytes``.
    A changed text empties the logprobs of ``owner``, if any.

    Args:
        container: The object or array that holds the leaf.
        key: Its key or index, or the token marker.
        value: The released (possibly redacted) text.
        owner: The nearest enclosing object with a ``logprobs`` field.
    """
    if key is TOKEN_KEY:
        assert isinstance(container, dict)
        container["token"] = value
        container["bytes"] = list(value.encode())
    else:
        container[key] = value
    if owner is not None:
        empty_logprobs(owner)


def empty_logprobs(owner: dict[str, Any]) -> None:
    """Empty ``owner["logprobs"]``: lists become ``[]``, an object's lists too."""
    logprobs = owner.get("logprobs")
    if isinstance(logprobs, list):
        owner["logprobs"] = []
    elif isinstance(logprobs, dict):
        for key, value in logprobs.items():
            if isinstance(value, list):
                logprobs[key] = []


class AtomCache:
    """One-shot guarding of structural strings, cached per response.

    Args:
        guard_text: Guards one whole text: ``(text, channel) -> text``.
        is_clean: Optional cheap pre-check: a value it calls clean is sent
            unchanged without running ``guard_text``.
    """

    def __init__(
        self,
        guard_text: Callable[[str, str], str],
        is_clean: Callable[[str], bool] | None = None,
    ) -> None:
        self._guard_text = guard_text
        self._is_clean = is_clean
        self._cache: dict[str, str] = {}

    def __call__(self, value: str, path: str) -> str:
        """The guarded value (raises what ``guard_text`` raises)."""
        cached = self._cache.get(value)
        if cached is None:
            if self._is_clean is not None and self._is_clean(value):
                cached = value
            else:
                cached = self._guard_text(value, "=" + path)
            self._cache[value] = cached
        return cached


def guard_input_body(
    body: dict[str, Any], table: FieldTable, guard_text: Callable[[str, str], str]
) -> bool:
    """Guard every non-structural string of a client request body, in place.

    Each text leaf is guarded whole, on the channel of its dotted path
    (``"messages.3.content"``; ``?`` for a key the format does not know);
    atoms, unknown keys and unknown numbers too.

    Args:
        body: The parsed request body.
        table: The format's structural request fields.
        guard_text: The engine's input guard: ``(text, channel) -> text``.

    Returns:
        Whether anything was changed.

    Raises:
        BadRequestError: Too deeply nested, or a lone surrogate.
        PolicyViolation: An input block policy matched.
    """
    changed = False

    def sink(
        channel: str, text: str, container: Container, key: Any, owner: dict[str, Any] | None
    ) -> None:
        nonlocal changed
        guarded = guard_text(text, channel.removeprefix("~"))
        if guarded != text:
            set_leaf(container, key, guarded, None)
            changed = True

    walker = FieldWalker(table, AtomCache(guard_text), check_surrogates=True, concrete=True)
    walker.walk(body, sink)
    return changed or walker.mutated
