"""Holding upstream events until the guard releases their text.

Every wire format works the same way: an upstream event carries zero or more
text deltas (one per channel). The event is queued; each delta is pushed to
the guard; the guard hands deltas back, per channel, in order, when they are
safe. An event leaves the queue once all its deltas are back and every event
before it has left, so the client sees the upstream's events in their order.
An event whose texts came back unchanged is sent as the upstream's own bytes;
otherwise the adapter re-renders it with the released texts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from tidegate.errors import TidegateError, UpstreamProtocolError
from tidegate.guard.hook import StreamGuard


class _Slot:
    __slots__ = ("apply", "original", "output")

    def __init__(self, original: str, apply: Callable[[str], None]) -> None:
        self.original = original
        self.apply = apply
        self.output: str | None = None


class PendingEvent:
    """One upstream event waiting for its deltas.

    Args:
        original: The bytes to send if no text changed.
        render: Re-renders the event after the slots' ``apply`` callbacks
            wrote the released texts into it.
    """

    __slots__ = ("_original", "_render", "slots")

    def __init__(self, original: bytes, render: Callable[[], bytes] | None = None) -> None:
        self._original = original
        self._render = render
        self.slots: list[_Slot] = []

    def ready(self) -> bool:
        """Whether every delta of this event has been released."""
        return all(slot.output is not None for slot in self.slots)

    def to_bytes(self) -> bytes:
        """The bytes to send: the original, or a re-rendering with the released texts."""
        changed = False
        for slot in self.slots:
            if slot.output != slot.original:
                assert slot.output is not None
                slot.apply(slot.output)
                changed = True
        if changed and self._render is not None:
            return self._render()
        return self._original


class ReleaseQueue:
    """Per-response queue of upstream events, in upstream order.

    Args:
        guard: The response's stream guard.
    """

    def __init__(self, guard: StreamGuard) -> None:
        self._guard = guard
        self._events: deque[PendingEvent] = deque()
        self._waiting: dict[str, deque[_Slot]] = {}

    def add(self, original: bytes, render: Callable[[], bytes] | None = None) -> PendingEvent:
        """Queue an upstream event; attach its deltas with :meth:`text`."""
        event = PendingEvent(original, render)
        self._events.append(event)
        return event

    def text(
        self, event: PendingEvent, channel: str, text: str, apply: Callable[[str], None]
    ) -> None:
        """Push one delta of ``event`` through the guard.

        Args:
            event: The queued event that carries the delta.
            channel: Guard channel name.
            text: The delta text.
            apply: Writes the released text back into the event's data.

        Raises:
            PolicyViolation: The guard blocked.
        """
        slot = _Slot(text, apply)
        event.slots.append(slot)
        self._waiting.setdefault(channel, deque()).append(slot)
        self._fill(channel, self._guard.push(channel, text))

    def end(self, channel: str) -> None:
        """The channel is complete: release its held deltas.

        Raises:
            PolicyViolation: The guard blocked.
        """
        if channel in self._waiting:
            self._fill(channel, self._guard.end(channel))
            del self._waiting[channel]

    def end_all(self) -> None:
        """Every channel is complete (end of stream)."""
        for channel in list(self._waiting):
            self.end(channel)

    def channels(self) -> list[str]:
        """Channels that have had deltas and are not ended."""
        return list(self._waiting)

    def drain(self) -> list[bytes]:
        """Pop every event at the head of the queue that is ready."""
        out = []
        while self._events and self._events[0].ready():
            out.append(self._events.popleft().to_bytes())
        return out

    def _fill(self, channel: str, released: list[str]) -> None:
        waiting = self._waiting[channel]
        for text in released:
            waiting.popleft().output = text


class QueuedTranslator:
    """What every wire-format translator shares.

    A release queue; ``_complete``, set once the upstream stream reached an
    end its format defines (a terminator, or the upstream's own in-stream
    error); and ``_terminated``, set once tidegate ended the stream itself.
    Subclasses implement ``on_event`` and ``error_events``.

    Args:
        guard: The response's stream guard.
    """

    def __init__(self, guard: StreamGuard) -> None:
        self._queue = ReleaseQueue(guard)
        self._complete = False
        self._terminated = False

    def _drain(self) -> list[bytes]:
        return self._queue.drain()

    def flush(self) -> list[bytes]:
        """Release every held event after a final evaluation.

        Raises:
            PolicyViolation: The guard blocked the held output.
        """
        if self._terminated:
            return []
        self._queue.end_all()
        return self._drain()

    def on_end(self) -> list[bytes]:
        """Flush; a stream that ended before its format's end also gets an error event.

        Raises:
            PolicyViolation: The guard blocked the remaining output.
        """
        flushed = self.flush()
        if self._complete or self._terminated:
            return flushed
        return [*flushed, *self.error_events(UpstreamProtocolError("upstream stream ended early"))]

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """The format's in-stream error event(s) for ``exc``."""
        raise NotImplementedError
