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
from typing import Any

from tidegate.adapters.base import dumps
from tidegate.adapters.fields import Container, FieldTable, FieldWalker, TextSink
from tidegate.adapters.leaf_guard import AtomCache, set_leaf
from tidegate.errors import BadRequestError, PolicyViolation, TidegateError, UpstreamProtocolError
from tidegate.guard.hook import StreamGuard, guard_whole
from tidegate.sse import ServerSentEvent, encode_event


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

    Attributes:
        slots: The event's deltas, in the order they were pushed.
        claimed: ``(id(container), key)`` of the text leaves the adapter
            guards itself, so that the field walker skips them.
        dirty: Something other than a delta (an atom, a key) was changed in
            place: the event must be re-rendered.
    """

    __slots__ = ("_original", "_render", "claimed", "dirty", "slots")

    def __init__(self, original: bytes, render: Callable[[], bytes] | None = None) -> None:
        self._original = original
        self._render = render
        self.slots: list[_Slot] = []
        self.claimed: set[tuple[int, Any]] = set()
        self.dirty = False

    def ready(self) -> bool:
        """Whether every delta of this event has been released."""
        return all(slot.output is not None for slot in self.slots)

    def apply(self) -> bool:
        """Write every changed released text back; return whether anything changed."""
        changed = self.dirty
        for slot in self.slots:
            if slot.output != slot.original:
                assert slot.output is not None
                slot.apply(slot.output)
                changed = True
        return changed

    def to_bytes(self) -> bytes:
        """The bytes to send: the original, or a re-rendering with the released texts.

        Raises:
            TidegateError: A text changed but the event has no renderer. The
                original bytes are never sent in its place (fail closed).
        """
        if not self.apply():
            return self._original
        if self._render is None:
            raise TidegateError("a guarded event changed but cannot be re-rendered")
        return self._render()


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
        self,
        event: PendingEvent,
        channel: str,
        text: str,
        apply: Callable[[str], None],
        claim: tuple[Container, Any] | None = None,
    ) -> None:
        """Push one delta of ``event`` through the guard.

        Args:
            event: The queued event that carries the delta.
            channel: Guard channel name.
            text: The delta text.
            apply: Writes the released text back into the event's data.
            claim: ``(container, key)`` of the leaf, so the field walker skips it.

        Raises:
            PolicyViolation: The guard blocked.
        """
        if claim is not None:
            event.claimed.add((id(claim[0]), claim[1]))
        slot = _Slot(text, apply)
        event.slots.append(slot)
        self._waiting.setdefault(channel, deque()).append(slot)
        self._fill(channel, self._guard.push(channel, text))

    def sink(self, event: PendingEvent) -> TextSink:
        """A field-walker sink that pushes each text leaf as a delta of ``event``."""

        def push(
            channel: str, text: str, container: Container, key: Any, owner: dict[str, Any] | None
        ) -> None:
            self.text(event, channel, text, lambda value: set_leaf(container, key, value, owner))

        return push

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
    Subclasses set ``table`` and ``event_names`` and implement ``on_event``
    and ``error_events``.

    Args:
        guard: The response's stream guard.
    """

    table: FieldTable = FieldTable.of()
    """The format's structural fields (see :mod:`tidegate.adapters.fields`)."""
    event_names: frozenset[str | None] = frozenset({None})
    """The SSE ``event:`` names the format uses; any other is a protocol error."""

    def __init__(self, guard: StreamGuard) -> None:
        self._queue = ReleaseQueue(guard)
        self._complete = False
        self._terminated = False
        self._active = guard.active()
        self._atoms = AtomCache(
            lambda text, channel: guard_whole(guard, channel, text), guard.is_clean
        )
        self._walker = FieldWalker(self.table, self._atoms)

    def _drain(self) -> list[bytes]:
        return self._queue.drain()

    def _check_name(self, event: ServerSentEvent) -> None:
        """Refuse an ``event:`` name outside the format's set.

        Raises:
            UpstreamProtocolError: Unknown name (it would reach the client unguarded).
        """
        if event.event not in self.event_names:
            raise UpstreamProtocolError("upstream sent an SSE event name its format does not use")

    def _sse_fields(self, event: ServerSentEvent) -> tuple[str | None, bool]:
        """The event's own ``id`` as it may be relayed, and whether it was changed."""
        if event.own_id is None or not self._active or not event.own_id:
            return event.own_id, False
        guarded = self._atoms(event.own_id, "<sse-id>")
        return guarded, guarded != event.own_id

    def _pending(self, event: ServerSentEvent, obj: Any) -> PendingEvent:
        """Queue ``event``; its render re-encodes ``obj`` with the event's SSE fields.

        The original bytes are the upstream's own (``event.raw``) when the
        decoder kept them and the ``id:`` needed no change.
        """
        own_id, id_changed = self._sse_fields(event)

        def render() -> bytes:
            return encode_event(dumps(obj), event=event.event, id=own_id, retry=event.retry)

        if event.raw is not None and not id_changed:
            original = event.raw
        else:
            original = encode_event(event.data, event=event.event, id=own_id, retry=event.retry)
        return self._queue.add(original, render)

    def _walk(
        self,
        pending: PendingEvent,
        value: Any,
        *,
        path: str = "",
        prefix: str = "",
        skip: tuple[str, ...] = (),
    ) -> None:
        """Guard every leaf of ``value`` the adapter did not claim (deny by default).

        Args:
            pending: The queued event that holds ``value``.
            value: The event's data, or a part of it.
            path: The table position of ``value`` (``"choices.*"``); the root by default.
            prefix: Channel prefix (``"0:"``).
            skip: Top-level keys not to walk.

        Raises:
            PolicyViolation: The guard blocked.
            UpstreamProtocolError: The value is nested too deep to guard.
        """
        if not self._active:
            return
        walker = self._walker
        walker.mutated = False
        node = walker.node(path) if path else None
        try:
            walker.walk(
                value,
                self._queue.sink(pending),
                node=node,
                prefix=prefix,
                claimed=pending.claimed,
                skip=skip,
            )
        except BadRequestError as exc:
            raise UpstreamProtocolError(
                f"upstream sent an unguardable event: {exc.message}"
            ) from exc
        if walker.mutated:
            pending.dirty = True

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
        """The upstream closed: flush if the stream was complete, else end it with an error.

        A stream that ended before its format's end (the upstream died or
        reset) never releases its held text: it was held because it may be
        part of a value whose rest never came.

        Raises:
            PolicyViolation: The guard blocked the remaining output.
        """
        if self._terminated:
            return []
        if self._complete:
            return self.flush()
        return self.abort(UpstreamProtocolError("upstream stream ended early"))

    def abort(self, exc: TidegateError) -> list[bytes]:
        """End a stream that failed: the held text is evaluated, never released.

        The final evaluation still records findings (a secret in the held
        tail is audited, and a block reports ``output_blocked``), but the
        held events are dropped: their text was held because it may be the
        start of a value whose end never came.

        Args:
            exc: Why the stream failed (an upstream error).

        Returns:
            The format's error event(s): the block, if the held text had
            one, else ``exc``.
        """
        if self._terminated:
            return []
        try:
            self._queue.end_all()
        except PolicyViolation as violation:
            return self.error_events(violation)
        return self.error_events(exc)

    def error_events(self, exc: TidegateError) -> list[bytes]:
        """The format's in-stream error event(s) for ``exc``."""
        raise NotImplementedError


def guard_body(body: dict[str, Any], table: FieldTable, guard: StreamGuard) -> bool:
    """Guard a complete JSON body (a non-streamed response, an error body) in place.

    Every non-structural leaf is a delta on the channel of its path, so the
    same field in a list of items (logprobs tokens, content parts) is one
    text; every channel is then ended and the released texts written back.

    Args:
        body: The decoded JSON object.
        table: The format's structural fields.
        guard: A fresh stream guard for this body.

    Returns:
        Whether anything changed.

    Raises:
        PolicyViolation: The guard blocked.
        UpstreamProtocolError: The body is nested too deep to guard.
    """
    if not guard.active():
        return False
    queue = ReleaseQueue(guard)
    pending = queue.add(b"")
    atoms = AtomCache(lambda text, path: guard_whole(guard, path, text), guard.is_clean)
    walker = FieldWalker(table, atoms)
    try:
        walker.walk(body, queue.sink(pending))
    except BadRequestError as exc:
        raise UpstreamProtocolError(f"upstream sent an unguardable body: {exc.message}") from None
    queue.end_all()
    return pending.apply() or walker.mutated
