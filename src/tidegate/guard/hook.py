"""The guard hook: the seam between wire-format adapters and the stream guard.

Adapters know JSON and SSE; guards know only text. An adapter decodes each
upstream event into text deltas, one per *channel*, and asks the guard what
to release to the client. A channel is one independent text stream of a
response: the content of choice 0, the arguments of tool call 1 of choice 2,
and so on, named by a string such as ``"0:content"`` or ``"2:tool:1"``.

A guard releases whole deltas: every delta pushed on a channel comes back
exactly once, in order, possibly redacted, possibly later (held back until no
redaction can still cover it), from :meth:`StreamGuard.push` or
:meth:`StreamGuard.end`. Keeping delta boundaries lets adapters re-emit the
upstream's own events: unchanged bytes when nothing was found, and the same
number of deltas either way. A guard stops the stream by raising
:class:`~tidegate.errors.PolicyViolation`.
"""

from __future__ import annotations

from typing import Protocol


class StreamGuard(Protocol):
    """Per-response guard state. One instance serves exactly one response."""

    def push(self, channel: str, text: str) -> list[str]:
        """Offer a text delta; get back the deltas of this channel released now.

        Args:
            channel: Channel name, e.g. ``"0:content"``.
            text: The new delta text (may be empty).

        Returns:
            The released deltas of this channel, oldest first: each is the
            (possibly redacted) text of one earlier-or-current pushed delta.
            Empty while the guard holds them back.

        Raises:
            PolicyViolation: A block policy matched; the stream must end.
        """
        ...

    def end(self, channel: str) -> list[str]:
        """The channel is complete: evaluate and release every held delta.

        Raises:
            PolicyViolation: A block policy matched.
        """
        ...

    def holding(self) -> bool:
        """Whether any channel currently holds text back."""
        ...

    def active(self) -> bool:
        """Whether the guard has any detector at all (``False``: a pure relay)."""
        ...

    def is_clean(self, text: str) -> bool:
        """Whether no pattern detector reports anything in ``text`` (a cheap one-shot pre-check)."""
        ...


def guard_whole(guard: StreamGuard, channel: str, text: str) -> str:
    """Guard a complete text (a prompt, a non-streamed response field) as one delta.

    Raises:
        PolicyViolation: The guard blocked.
    """
    return "".join([*guard.push(channel, text), *guard.end(channel)])


class PassThroughGuard:
    """A guard that releases every delta at once, unchanged."""

    def push(self, channel: str, text: str) -> list[str]:
        """Release the delta at once, unchanged."""
        return [text]

    def end(self, channel: str) -> list[str]:
        """Nothing is ever held, so nothing is left to release."""
        return []

    def holding(self) -> bool:
        """Never holds text."""
        return False

    def active(self) -> bool:
        """Inspects nothing."""
        return False

    def is_clean(self, text: str) -> bool:
        """Everything is clean to a guard that inspects nothing."""
        return True
