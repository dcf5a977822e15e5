"""Run CPU-heavy guard work off the event loop when its input is large.

A one-shot scan costs about 0.3 µs per char (bench/README.md, "Scan
benchmark"), so a 4 MB prompt holds the CPU for over a second. On the event
loop that would freeze every other stream for as long; in a worker thread the
loop keeps running (CPython hands the GIL over every 5 ms,
``sys.getswitchinterval()``). Inputs up to 64 KiB (at most about 20 ms of
scanning) stay on the loop, where the typical few-KB prompt costs a
millisecond or so, less than a round trip through a worker thread under load.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, TypeVarTuple

import anyio.to_thread

OFFLOAD_BYTES = 64 * 1024
"""Inputs larger than this many bytes are guarded in a worker thread."""

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


async def run_sized(size: int, fn: Callable[[*Ts], T], *args: *Ts) -> T:
    """Call ``fn(*args)``; in a worker thread when ``size`` > :data:`OFFLOAD_BYTES`.

    The worker threads are anyio's default pool (40 at most); a cancelled
    caller waits for its call to finish, so a thread never outlives its
    request.

    Args:
        size: Size of the input ``fn`` works on, in bytes.
        fn: A synchronous function; must be safe to run in another thread
            (it may only touch per-request state and thread-safe shared state).
        *args: Its arguments.

    Returns:
        What ``fn`` returns; what it raises propagates.
    """
    if size <= OFFLOAD_BYTES:
        return fn(*args)
    return await anyio.to_thread.run_sync(fn, *args)
