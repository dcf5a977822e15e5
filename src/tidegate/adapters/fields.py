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

A table is written as dotted paths (``"*"`` for a list position; a trailing
``.**`` in ``numbers`` covers every number below) and compiled into a tree of
:class:`Node`, so the walk follows the tree instead of hashing paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tidegate.errors import BadRequestError

Container = dict[str, Any] | list[Any]
TextSink = Callable[[str, str, Container, Any, "dict[str, Any] | None"], None]
"""Receives one text leaf: ``(channel, text, container, key, logprobs_owner)``."""
AtomGuard = Callable[[str, str], str]
"""Guards one structural string in one shot: ``(value, dotted path) -> value to send``."""

MAX_DEPTH = 128
_SURROGATE = re.compile("[\ud800-\udfff]")


class Node:
    """One position in a format's field tree, with what is structural there.

    Attributes:
        dotted: The position's path, dotted (``"choices.*.delta.role"``): the
            channel name of a text leaf here.
        enum: Allowed values of a structural string here, or None.
        atom: A string here is a structural atom.
        number: A number here is structural.
        numbers_below: Every number at or below here is structural.
        children: Known keys below this position.
        item: The position of this list's items, if known.
    """

    __slots__ = ("atom", "children", "dotted", "enum", "item", "number", "numbers_below")

    def __init__(self, dotted: str, *, numbers_below: bool = False) -> None:
        self.dotted = dotted
        self.enum: frozenset[str] | None = None
        self.atom = False
        self.number = numbers_below
        self.numbers_below = numbers_below
        self.children: dict[str, Node] = {}
        self.item: Node | None = None

    def child(self, name: str) -> Node:
        """The node of key ``name`` (``"*"``: a list item); a fresh one if unknown.

        Unknown positions are not added to the tree: its size stays that of
        the table, whatever a peer sends.
        """
        known = self.item if name == "*" else self.children.get(name)
        if known is not None:
            return known
        dotted = f"{self.dotted}.{name}" if self.dotted else name
        return Node(dotted, numbers_below=self.numbers_below)


@dataclass(frozen=True, slots=True)
class FieldTable:
    """The structural fields of one wire format, compiled into a tree of :class:`Node`.

    Attributes:
        root: The tree's root (the JSON document).
        known_keys: Object keys that are never checked as atoms: every key
            named in the table, plus the format's known text and container keys.
    """

    root: Node
    known_keys: frozenset[str]

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
            numbers: Whitespace-separated dotted paths of structural numbers
                (a trailing ``.**``: every number below).
            keys: Whitespace-separated extra known keys (text and container keys).
        """
        root = Node("")
        known = set(keys.split())

        def node_at(path: str) -> Node:
            node = root
            for name in path.split("."):
                if name != "*":
                    known.add(name)
                nxt = node.item if name == "*" else node.children.get(name)
                if nxt is None:
                    nxt = node.child(name)
                    if name == "*":
                        node.item = nxt
                    else:
                        node.children[name] = nxt
                node = nxt
            return node

        for path, values in enums.items():
            node_at(path).enum = frozenset(values)
        for path in atoms.split():
            node_at(path).atom = True
        for path in numbers.split():
            if path.endswith(".**"):
                _mark_numbers_below(node_at(path.removesuffix(".**")))
            else:
                node_at(path).number = True
        return cls(root, frozenset(known))

    def enums(self) -> dict[str, frozenset[str]]:
        """Every enum field, by dotted path (to build one table from another)."""
        found: dict[str, frozenset[str]] = {}
        stack = [self.root]
        while stack:
            node = stack.pop()
            if node.enum is not None:
                found[node.dotted] = node.enum
            stack.extend(node.children.values())
            if node.item is not None:
                stack.append(node.item)
        return found


def _mark_numbers_below(node: Node) -> None:
    node.number = node.numbers_below = True
    for child in node.children.values():
        _mark_numbers_below(child)
    if node.item is not None:
        _mark_numbers_below(node.item)


class FieldWalker:
    """Walks a JSON value and guards every leaf the table does not call structural.

    One walker serves one response (or one request body); it holds no
    per-event state besides the :attr:`mutated` flag.

    Args:
        table: The format's structural fields.
        atom: Guards a structural string in one shot.
        check_surrogates: Refuse lone UTF-16 surrogates (client bodies).
        concrete: Name channels with list positions (``messages.3.content``)
            instead of ``*``: for one-shot texts, where each leaf stands alone.
    """

    def __init__(
        self,
        table: FieldTable,
        atom: AtomGuard,
        *,
        check_surrogates: bool = False,
        concrete: bool = False,
    ) -> None:
        self.table = table
        self._atom = atom
        self._surrogates = check_surrogates
        self._concrete = concrete
        self._known = table.known_keys
        self.mutated = False  # an atom, number or key was changed in place
        self._sink: TextSink = _no_sink
        self._claimed: frozenset[tuple[int, Any]] | set[tuple[int, Any]] = frozenset()
        self._prefix = ""

    def walk(
        self,
        value: Any,
        sink: TextSink,
        *,
        node: Node | None = None,
        prefix: str = "",
        claimed: frozenset[tuple[int, Any]] | set[tuple[int, Any]] = frozenset(),
        skip: Iterable[str] = (),
    ) -> None:
        """Guard every non-structural leaf of ``value`` (an object or array).

        Args:
            value: The decoded JSON object or array; changed in place.
            sink: Receives each text leaf.
            node: The position of ``value`` in the table (default: the root).
            prefix: Channel prefix (``"0:"`` for choice 0).
            claimed: ``(id(container), key)`` pairs the adapter already guards.
            skip: Top-level keys of ``value`` not to walk (handled elsewhere).

        Raises:
            BadRequestError: Nesting deeper than :data:`MAX_DEPTH`, or a lone
                surrogate in a client body.
            PolicyViolation: A block policy matched.
        """
        self._sink, self._claimed, self._prefix = sink, claimed, prefix
        node = node or self.table.root
        if isinstance(value, dict):
            self._dict(value, node, node.dotted, None, frozenset(skip), 0)
        elif isinstance(value, list):
            self._list(value, node, node.dotted, None, 0)

    def node(self, path: str) -> Node:
        """The table's node at a dotted path (``"choices.*"``)."""
        node = self.table.root
        for name in path.split("."):
            node = node.child(name)
        return node

    def _value(
        self,
        value: Any,
        node: Node,
        where: str,
        container: Container,
        key: Any,
        owner: dict[str, Any] | None,
        depth: int,
    ) -> None:
        kind = type(value)
        if kind is str:
            self._string(value, node, where, container, key, owner)
        elif kind is dict:
            self._dict(value, node, where, owner, frozenset(), depth + 1)
        elif kind is list:
            self._list(value, node, where, owner, depth + 1)
        elif (kind is int or kind is float) and not node.number:
            text = str(value)
            guarded = self._atom(text, where)
            if guarded != text:
                container[key] = guarded
                self.mutated = True
        elif kind not in _SCALARS:  # a subclass from a custom JSON decoder: be strict
            raise BadRequestError(f"unexpected JSON value of type {kind.__name__}")

    def _list(
        self,
        items: list[Any],
        node: Node,
        where: str,
        owner: dict[str, Any] | None,
        depth: int,
    ) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError(f"JSON nested deeper than {MAX_DEPTH} levels")
        item = node.child("*")
        concrete = self._concrete
        for i, value in enumerate(items):
            item_where = f"{where}.{i}" if concrete else item.dotted
            self._value(value, item, item_where, items, i, owner, depth)

    def _dict(
        self,
        obj: dict[str, Any],
        node: Node,
        where: str,
        owner: dict[str, Any] | None,
        skip: frozenset[str],
        depth: int,
    ) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError(f"JSON nested deeper than {MAX_DEPTH} levels")
        if "logprobs" in obj:
            owner = obj
        token = obj.get("token")
        logprob_entry = type(token) is str and type(obj.get("bytes")) is list
        renames: dict[str, str] = {}
        claimed = self._claimed
        oid = id(obj) if claimed else 0
        concrete = self._concrete
        children = node.children
        for key, value in obj.items():
            if (skip and key in skip) or (claimed and (oid, key) in claimed):
                continue
            child = children.get(key)
            if child is None:
                if key in self._known:
                    child = node.child(key)
                else:
                    if self._surrogates:
                        self._check_surrogates(key)
                    unknown_where = f"{where}.?" if where else "?"
                    new_key = self._atom(key, unknown_where)
                    if new_key != key:
                        renames[key] = new_key
                    child = node.child("?")
            if concrete:
                name = child.dotted.rpartition(".")[2]
                child_where = f"{where}.{name}" if where else name
            else:
                child_where = child.dotted
            if logprob_entry and key == "bytes":
                continue  # follows the token (see set_leaf)
            if logprob_entry and key == "token":
                if token:
                    self._sink(self._prefix + "~" + child_where, token, obj, TOKEN_KEY, owner)
                continue
            # fast paths for the common structural leaves, without a call
            kind = type(value)
            if kind is str:
                if (child.enum is not None and value in child.enum) or not (
                    value or self._surrogates
                ):
                    continue
            elif value is None or kind is bool or ((kind is int or kind is float) and child.number):
                continue
            self._value(value, child, child_where, obj, key, owner, depth)
        if renames:
            items = [(renames.get(k, k), v) for k, v in obj.items()]
            obj.clear()
            obj.update(items)
            self.mutated = True

    def _string(
        self,
        value: str,
        node: Node,
        where: str,
        container: Container,
        key: Any,
        owner: dict[str, Any] | None,
    ) -> None:
        if self._surrogates:
            self._check_surrogates(value)
        enum = node.enum
        if enum is not None and value in enum:
            return
        if node.atom:
            guarded = self._atom(value, where)
            if guarded != value:
                container[key] = guarded
                self.mutated = True
            return
        if value:
            self._sink(self._prefix + "~" + where, value, container, key, owner)

    @staticmethod
    def _check_surrogates(text: str) -> None:
        if not text.isascii() and _SURROGATE.search(text):
            raise BadRequestError("JSON string contains a lone UTF-16 surrogate")


_SCALARS = (bool, type(None), int, float)


def _no_sink(
    channel: str, text: str, container: Container, key: Any, owner: dict[str, Any] | None
) -> None:
    raise AssertionError("FieldWalker.walk sets the sink")


TOKEN_KEY = object()
"""Key marker: the ``token`` of a logprobs entry (its ``bytes`` follow it)."""
