"""Tidegate in your own process: :class:`Guard`, :func:`instrument` and the decision types.

Nothing here imports the ``openai`` or ``anthropic`` SDK until a client of
theirs is wrapped or instrumented.
"""

from tidegate.sdk.decision import BlockedError, Decision, Finding
from tidegate.sdk.guard import Guard
from tidegate.sdk.instrument import instrument, uninstrument

__all__ = ["BlockedError", "Decision", "Finding", "Guard", "instrument", "uninstrument"]
