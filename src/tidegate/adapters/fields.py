"""Deny by default: every string that crosses tidegate is guarded or structural.

An adapter knows the text fields of its wire format by name (a chat delta's
``content``, an Anthropic ``text_delta``) and guards them with their own
channels. Everything else in a JSON body or event, at any depth, goes through
:class:`FieldWalker`, which consults the format's :class:`FieldTable`:

* a string at an ``enums`` path whose value is one of the listed values is
  structural and left alone (``finish_reason: "stop"``); any other value there
  is guarded as text;
* a string at an ``atoms`` path (ids, model names, tool names) is structural:
  it is not part of a text stream, so it is checked on its own, in one shot,
  once per distinct value (the result is cached for the response);
* a number at a ``numbers`` path (indexes, timestamps, token counts,
  logprobs) is structural; any other number is checked as an atom, by its
  decimal text, and replaced by the placeholder text if redacted;
* an object key that is not one of the format's known keys is checked as an
  atom too, and renamed if redacted;
* every other string is *text*: it is guarded on a channel named after its
  path (list positions collapse to ``*``, unknown keys to ``?``), so the same
  unknown field in consecutive events forms one text stream and a value split
  across events is caught exactly like a split ``content``.

A logprobs entry (``{"token": ..., "bytes": [...]}``) is guarded through its
token; its ``bytes`` follow the released token. When a text leaf changes, the
nearest enclosing object that carries ``logprobs`` has them emptied: their
tokens spell the original text.

Paths are tuples of keys, ``"*"`` for a list position; a trailing ``"**"`` in
``numbers`` matches any suffix (``("usage", "**")``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tidegate.errors import BadRequestError

Path = tuple[str, ...]
Container = dict[str, Any] | list[Any]
TextSink = Callable[[str, str, Container, Any, "dict[str, Any] | None"], None]
"""Receives one text leaf: ``(channel, text, container, key, logprobs_owner)``."""
AtomGuard = Callable[[str, Path], str]
"""Guards one structural string in one shot: ``(value, path) -> value to send``."""

MAX_DEPTH = 128
_SURROGATE = re.compile("[\ud800-\udfff]")


def _path(spec: str) -> Path:
    return tuple(spec.split("."))


@dataclass(frozen=True, slots=True)
class FieldTable:
    """The structural fields of one wire format.

    Attributes:
        enums: Path -> allowed values of a structural string.
        atoms: Paths of structural strings checked one shot (ids, names).
        numbers: Paths of structural numbers (``"**"`` suffix: any below).
        known_keys: Object keys that are never checked as atoms: every key
            named in the table, plus the format's known text and container keys.
    """

    enums: Mapping[Path, frozenset[str]]
    atoms: frozenset[Path]
    numbers: frozenset[Path]
    known_keys: frozenset[str]
    _number_prefixes: frozenset[Path] = field(default=frozenset())

    @classmethod
    def of(
        cls,
        *,
        enums: Mapping[str, Iterable[str]] = {},
        atoms: str = "",
        numbers: str = "",
        keys: str = "",
    ) -> FieldTable:
        """Build a table from dotted paths.

        Args:
            enums: ``{"choices.*.finish_reason": ["stop", ...]}``.
            atoms: Whitespace-separated dotted paths of atoms.
            numbers: Whitespace-separated dotted paths of structural numbers.
            keys: Whitespace-separated extra known keys (text and container keys).
        """
        enum_map = {_path(k): frozenset(v) for k, v in enums.items()}
        atom_set = frozenset(_path(p) for p in atoms.split())
        number_set = frozenset(_path(p) for p in numbers.split())
        known = set(keys.split())
        for path in (*enum_map, *atom_set, *number_set):
            known.update(part for part in path if part not in ("*", "**"))
        return cls(
            enum_map,
            atom_set,
            number_set,
            frozenset(known),
            frozenset(p[:-1] for p in number_set if p and p[-1] == "**"),
        )

    def is_number(self, path: Path) -> bool:
        """Whether a number at ``path`` is structural."""
        if path in self.numbers:
            return True
        return any(path[: len(p)] == p for p in self._number_prefixes)


class FieldWalker:
    """Walks a JSON value and guards every leaf the table does not call structural.

    Args:
        table: The format's structural fields.
        sink: Receives each text leaf (see :data:`TextSink`).
        atom: Guards a structural string in one shot.
        check_surrogates: Refuse lone UTF-16 surrogates (client bodies).
        concrete: Name channels with list positions (``messages.3.content``)
            instead of ``*``: for one-shot texts, where each leaf stands alone.
    """

    def __init__(
        self,
        table: FieldTable,
        sink: TextSink,
        atom: AtomGuard,
        *,
        check_surrogates: bool = False,
        concrete: bool = False,
    ) -> None:
        self.table = table
        self._concrete = concrete
        self._sink = sink
        self._atom = atom
        self._surrogates = check_surrogates
        self.mutated = False  # an atom, number or key was changed in place

    def walk(
        self,
        value: Any,
        *,
        path: Path = (),
        prefix: str = "",
        claimed: frozenset[tuple[int, Any]] | set[tuple[int, Any]] = frozenset(),
        skip: Iterable[str] = (),
    ) -> None:
        """Guard every non-structural leaf of ``value`` (an object or array).

        Args:
            value: The decoded JSON object or array; changed in place.
            path: The path of ``value`` in its document.
            prefix: Channel prefix (``"0:"`` for choice 0).
            claimed: ``(id(container), key)`` pairs the adapter already guards.
            skip: Top-level keys of ``value`` not to walk (handled elsewhere).

        Raises:
            BadRequestError: Nesting deeper than :data:`MAX_DEPTH`, or a lone
                surrogate in a client body.
            PolicyViolation: A block policy matched.
        """
        self._claimed = claimed
        if isinstance(value, dict):
            self._dict(value, path, path, prefix, None, frozenset(skip), len(path))
        elif isinstance(value, list):
            self._list(value, path, path, prefix, None, len(path))

    def _value(
        self,
        value: Any,
        path: Path,
        where: Path,
        prefix: str,
        container: Container,
        key: Any,
        owner: dict[str, Any] | None,
        depth: int,
    ) -> None:
        if isinstance(value, str):
            self._string(value, path, where, prefix, container, key, owner)
        elif isinstance(value, dict):
            self._dict(value, path, where, prefix, owner, frozenset(), depth + 1)
        elif isinstance(value, list):
            self._list(value, path, where, prefix, owner, depth + 1)
        elif (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and not self.table.is_number(path)
        ):
            text = str(value)
            guarded = self._atom(text, where)
            if guarded != text:
                container[key] = guarded
                self.mutated = True

    def _list(
        self,
        items: list[Any],
        path: Path,
        where: Path,
        prefix: str,
        owner: dict[str, Any] | None,
        depth: int,
    ) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError(f"JSON nested deeper than {MAX_DEPTH} levels")
        item_path = (*path, "*")
        for i, item in enumerate(items):
            item_where = (*where, str(i)) if self._concrete else item_path
            self._value(item, item_path, item_where, prefix, items, i, owner, depth)

    def _dict(
        self,
        obj: dict[str, Any],
        path: Path,
        where: Path,
        prefix: str,
        owner: dict[str, Any] | None,
        skip: frozenset[str],
        depth: int,
    ) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError(f"JSON nested deeper than {MAX_DEPTH} levels")
        if "logprobs" in obj:
            owner = obj
        token = obj.get("token")
        logprob_entry = isinstance(token, str) and isinstance(obj.get("bytes"), list)
        renames: dict[str, str] = {}
        known = self.table.known_keys
        claimed = self._claimed
        for key, value in obj.items():
            if key in skip or (claimed and (id(obj), key) in claimed):
                continue
            name = key if key in known else "?"
            if name == "?":
                if self._surrogates:
                    self._check_surrogates(key)
                new_key = self._atom(key, (*where, "?"))
                if new_key != key:
                    renames[key] = new_key
            child = (*path, name)
            child_where = (*where, name) if self._concrete else child
            if logprob_entry and key == "bytes":
                continue  # follows the token (see set_leaf)
            if logprob_entry and key == "token" and token:
                self._sink(_channel(prefix, child_where), token, obj, _TOKEN, owner)
                continue
            self._value(value, child, child_where, prefix, obj, key, owner, depth)
        if renames:
            items = [(renames.get(k, k), v) for k, v in obj.items()]
            obj.clear()
            obj.update(items)
            self.mutated = True

    def _string(
        self,
        value: str,
        path: Path,
        where: Path,
        prefix: str,
        container: Container,
        key: Any,
        owner: dict[str, Any] | None,
    ) -> None:
        if self._surrogates:
            self._check_surrogates(value)
        table = self.table
        allowed = table.enums.get(path)
        if allowed is not None and value in allowed:
            return
        if path in table.atoms:
            guarded = self._atom(value, where)
            if guarded != value:
                container[key] = guarded
                self.mutated = True
            return
        if value:
            self._sink(_channel(prefix, where), value, container, key, owner)

    @staticmethod
    def _check_surrogates(text: str) -> None:
        if not text.isascii() and _SURROGATE.search(text):
            raise BadRequestError("JSON string contains a lone UTF-16 surrogate")


_TOKEN = object()
"""Key marker: the ``token`` of a logprobs entry (its ``bytes`` follow it)."""


def _channel(prefix: str, path: Path) -> str:
    return prefix + "~" + ".".join(path)


def set_leaf(container: Container, key: Any, value: str, owner: dict[str, Any] | None) -> None:
    """Write a released text back into its container.

    A logprobs ``token`` (key :data:`_TOKEN`) also rewrites its ``bytes``.
    A changed text empties the logprobs of ``owner``, if any.

    Args:
        container: The object or array that holds the leaf.
        key: Its key or index, or the token marker.
        value: The released (possibly redacted) text.
        owner: The nearest enclosing object with a ``logprobs`` field.
    """
    if key is _TOKEN:
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
    """

    def __init__(self, guard_text: Callable[[str, str], str]) -> None:
        self._guard_text = guard_text
        self._cache: dict[str, str] = {}

    def __call__(self, value: str, path: Path) -> str:
        """The guarded value (raises what ``guard_text`` raises)."""
        cached = self._cache.get(value)
        if cached is None:
            cached = self._guard_text(value, "=" + ".".join(path))
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

    walker = FieldWalker(table, sink, AtomCache(guard_text), check_surrogates=True, concrete=True)
    walker.walk(body)
    return changed or walker.mutated
