"""The gateway's open event streams, so that a shutdown can end them cleanly.

On SIGTERM the server stops accepting connections and lets open streams run
on for ``shutdown.drain_s`` (see :mod:`tidegate.server`). The streams still
open then are told to :meth:`~Terminable.terminate`: each ends with its wire
format's termination event (``gateway_shutting_down``), then ``[DONE]`` where
the format has one, instead of being cut off mid-event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from tidegate.errors import ShuttingDownError, TidegateError


class Terminable(Protocol):
    """A stream that can be ended early with an error event."""

    def terminate(self, exc: TidegateError) -> None:
        """Stop relaying and end the stream with ``exc`` (must not block)."""
        ...


class Drain:
    """Tracks one gateway's open streams; ends them when the drain time is up.

    Attributes:
        terminated: Streams ended by :meth:`terminate_all` (or opened after it).
    """

    def __init__(self) -> None:
        self._streams: set[Terminable] = set()
        self._expired: ShuttingDownError | None = None
        self.terminated = 0

    @property
    def active(self) -> int:
        """Streams open now."""
        return len(self._streams)

    @contextmanager
    def track(self, stream: Terminable) -> Iterator[None]:
        """Count ``stream`` as open for the ``with`` block.

        A stream that opens after :meth:`terminate_all` is terminated at once.
        """
        self._streams.add(stream)
        try:
            if self._expired is not None:
                self.terminated += 1
                stream.terminate(self._expired)
            yield
        finally:
            self._streams.discard(stream)

    def terminate_all(self) -> int:
        """Tell every open stream, and any opened later, to end.

        Returns:
            How many streams were open.
        """
        self._expired = ShuttingDownError("the gateway is shutting down; retry the request")
        streams = list(self._streams)
        for stream in streams:
            stream.terminate(self._expired)
        self.terminated += len(streams)
        return len(streams)
