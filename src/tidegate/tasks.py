"""A task group whose lone error comes out as itself, not wrapped in a group.

An anyio task group raises a :class:`BaseExceptionGroup` for any error in it,
even a single one, so ``except OSError`` around it silently never matches.
:func:`collapsing_task_group` unwraps a group of exactly one exception, as
Starlette's own ``create_collapsing_task_group`` does for its streaming
responses; a group of several still comes out as a group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc


@asynccontextmanager
async def collapsing_task_group() -> AsyncIterator[anyio.abc.TaskGroup]:
    """An anyio task group that re-raises a lone error unwrapped.

    Yields:
        The task group.

    Raises:
        BaseException: The one exception raised in the group, with its
            original cause and context.
        BaseExceptionGroup: Several exceptions were raised.
    """
    try:
        async with anyio.create_task_group() as tg:
            yield tg
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        exc = group.exceptions[0]
        context = None if exc.__suppress_context__ else exc.__context__
        raise exc from exc.__cause__ or context
