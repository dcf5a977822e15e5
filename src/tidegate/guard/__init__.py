"""Stream guard: protocol-agnostic scanning of text deltas."""

from tidegate.guard.hook import PassThroughGuard, StreamGuard, guard_whole

__all__ = ["PassThroughGuard", "StreamGuard", "guard_whole"]
