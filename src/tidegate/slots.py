"""A count of requests in flight against a limit, taken without waiting.

Used for ``limits.max_concurrent_streams`` (the whole gateway, see
:mod:`tidegate.admission`) and for each upstream's ``max_connections``.
A request that finds no free slot is refused at once with
:class:`~tidegate.errors.OverloadedError` (HTTP 429, ``Retry-After``); it never
waits in a queue, where it would tie up its client only to time out later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tidegate.errors import OverloadedError

RETRY_AFTER_S = 1
"""``Retry-After`` of a 429, in seconds: streams are short-lived, so soon."""


class Slots:
    """A count of requests in flight against a limit, taken without waiting.

    Args:
        limit: Most slots in use at once (>= 1).
        name: What is limited, for error messages (``"the gateway"``).
    """

    def __init__(self, limit: int, name: str) -> None:
        self.limit = limit
        self.name = name
        self.in_use = 0
        self.refused = 0

    def try_acquire(self) -> bool:
        """Take a slot if one is free; count a refusal otherwise."""
        if self.in_use >= self.limit:
            self.refused += 1
            return False
        self.in_use += 1
        return True

    def release(self) -> None:
        """Give back a slot taken with :meth:`try_acquire`."""
        self.in_use -= 1

    def overloaded(self) -> OverloadedError:
        """The error for a refused request."""
        return OverloadedError(
            f"{self.name} has {self.limit} requests in flight; retry later",
            retry_after_s=RETRY_AFTER_S,
        )

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold a slot for the ``with`` block.

        Raises:
            OverloadedError: No slot is free.
        """
        if not self.try_acquire():
            raise self.overloaded()
        try:
            yield
        finally:
            self.release()
