"""Stream guard: protocol-agnostic scanning of text deltas."""

from tidegate.guard.hook import (
    GuardFactory,
    PassThroughFactory,
    PassThroughGuard,
    StreamGuard,
    guard_whole,
)

__all__ = ["GuardFactory", "PassThroughFactory", "PassThroughGuard", "StreamGuard", "guard_whole"]
