"""The guard hook: the seam between wire-format adapters and the stream guard.

Adapters know JSON and SSE; guards know only text. An adapter decodes each
upstream event into text deltas, one per *channel*, and asks the guard what
to release to the client. A channel is one independent text stream of a
response: the content of choice 0, the arguments of tool call 1 of choice 2,
and so on, named by a string such as ``"0:content"`` or ``"2:tool:1"``.

A guard may hold text back (to redact a value that is still arriving), give
it back later from :meth:`StreamGuard.push` or :meth:`StreamGuard.end`, and
stop the stream by raising :class:`~tidegate.errors.PolicyViolation`.
"""

from __future__ import annotations

from typing import Protocol


class StreamGuard(Protocol):
    """Per-response guard state. One instance serves exactly one response."""

    def push(self, channel: str, text: str) -> str:
        """Offer a text delta and get back the text that may be released now.

        Args:
            channel: Channel name, e.g. ``"0:content"``.
            text: The new delta text (may be empty).

        Returns:
            Text to send to the client now, in order, for this channel. It may
            be shorter than ``text`` (held back), longer (earlier held text
            released) or redacted.

        Raises:
            PolicyViolation: A block policy matched; the stream must end.
        """
        ...

    def end(self, channel: str) -> str:
        """The channel is complete: evaluate and release everything held.

        Raises:
            PolicyViolation: A block policy matched.
        """
        ...

    def holding(self) -> bool:
        """Whether any channel currently holds text back."""
        ...


class PassThroughGuard:
    """A guard that releases every delta at once, unchanged."""

    def push(self, channel: str, text: str) -> str:
        """Release ``text`` unchanged."""
        return text

    def end(self, channel: str) -> str:
        """Nothing is ever held, so nothing is left to release."""
        return ""

    def holding(self) -> bool:
        """Never holds text."""
        return False


class GuardFactory(Protocol):
    """Builds one :class:`StreamGuard` per response."""

    def new_stream(self) -> StreamGuard:
        """Create the guard state for one response."""
        ...


class PassThroughFactory:
    """Factory of :class:`PassThroughGuard`."""

    def new_stream(self) -> StreamGuard:
        """Return a new pass-through guard."""
        return PassThroughGuard()
