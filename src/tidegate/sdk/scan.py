"""Scanning a prompt, a message list or an answer in one shot: :func:`scan_value`.

A message list is guarded with the same wire-format adapter, and so the same
field tables, as a request body at the gateway: ``{"messages": [...]}`` goes
through :meth:`~tidegate.adapters.base.WireAdapter.map_input_texts`, which
guards every string that is not structural (deny by default). Input texts go
through the engine's input guard, output texts through a fresh output guard
each, ended at once: the same policies, strategies and placeholders as the
gateway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.adapters.base import WireAdapter
from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.audit import EventCollector
from tidegate.errors import PolicyViolation
from tidegate.guard.engine import GuardEngine
from tidegate.guard.hook import guard_whole
from tidegate.sdk.decision import Decision

Direction = Literal["input", "output"]
Style = Literal["auto", "openai", "anthropic"]
Messages = str | Sequence[Mapping[str, Any]]
"""A text, or an OpenAI- or Anthropic-style list of message objects."""

# Content block types that only Anthropic Messages uses (OpenAI says
# "image_url", "input_audio", "file"; both say "text").
_ANTHROPIC_BLOCKS = frozenset(
    {
        "image",
        "document",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "search_result",
        "container_upload",
    }
)


def message_style(messages: Sequence[Mapping[str, Any]]) -> Literal["openai", "anthropic"]:
    """Tell an Anthropic-style message list from an OpenAI-style one.

    A list is Anthropic-style when a message's ``content`` holds a block
    type only Anthropic uses (``image``, ``tool_use``, ``tool_result``…);
    otherwise it is read as OpenAI-style. For plain text messages both read
    the same. A wrong guess never scans less: each format scans every string
    its table does not list as structural.
    """
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            for block in content:
                if isinstance(block, Mapping) and block.get("type") in _ANTHROPIC_BLOCKS:
                    return "anthropic"
    return "openai"


def _adapter(style: Style, messages: Sequence[Mapping[str, Any]]) -> WireAdapter:
    chosen = message_style(messages) if style == "auto" else style
    return AnthropicAdapter() if chosen == "anthropic" else OpenAIChatAdapter()


def scan_value(
    engine: GuardEngine, value: Messages, direction: Direction, style: Style = "auto"
) -> Decision[Any]:
    """Guard a text or a message list once; report what was found and done.

    Args:
        engine: The guard engine (policies, mode, audit log).
        value: A string, or a list of message mappings (JSON values only).
        direction: ``"input"`` (prompt policies) or ``"output"`` (answer policies).
        style: ``"openai"``, ``"anthropic"``, or ``"auto"`` (see :func:`message_style`).

    Returns:
        The decision; its ``redacted_messages`` is a new value (a string, or
        a list of dicts), the input is never changed.

    Raises:
        ValueError: ``direction`` or ``style`` is unknown.
        TypeError: A message is not a mapping, or holds a non-JSON value.
        BadRequestError: A text holds a lone surrogate, or nesting is too deep.
    """
    if direction not in ("input", "output"):
        raise ValueError(f"direction must be 'input' or 'output', not {direction!r}")
    if style not in ("auto", "openai", "anthropic"):
        raise ValueError(f"style must be 'auto', 'openai' or 'anthropic', not {style!r}")
    events = EventCollector(engine.audit)

    def guard_text(text: str, channel: str) -> str:
        if direction == "input":
            return engine.guard_input_text(text, channel=channel, audit=events)
        return guard_whole(engine.new_stream(audit=events), channel, text)

    result: Any
    try:
        if isinstance(value, str):
            result = guard_text(value, "text")
            changed = result != value
        else:
            messages = _json_messages(value)
            body = {"messages": messages}
            changed = _adapter(style, messages).map_input_texts(body, guard_text)
            result = body["messages"]
    except PolicyViolation:
        result, changed = None, False
    return Decision.of(
        events.events,
        direction=direction,
        mode=engine.config.mode,
        redacted_messages=result,
        redacted=changed,
    )


def _json_messages(value: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A deep copy of the messages as plain JSON data (what an SDK would send).

    Raises:
        TypeError: Not a sequence of mappings, or a non-JSON value inside.
    """
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Sequence):
        raise TypeError("messages must be a string or a list of message mappings")
    for i, message in enumerate(value):
        if not isinstance(message, Mapping):
            raise TypeError(f"messages[{i}] is a {type(message).__name__}, not a mapping")
    copied: list[dict[str, Any]] = json.loads(json.dumps([dict(m) for m in value]))
    return copied
