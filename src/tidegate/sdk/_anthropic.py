"""The ``anthropic`` SDK binding: Messages (and its token counting)."""

from __future__ import annotations

import anthropic

from tidegate.adapters.anthropic import AnthropicAdapter
from tidegate.sdk.clients import SDKBinding
from tidegate.sdk.decision import BlockedError


class AnthropicBlockedError(BlockedError, anthropic.AnthropicError):
    """A :class:`~tidegate.BlockedError` raised through the anthropic SDK.

    It is also an ``anthropic.AnthropicError``, which the SDK re-raises as
    is: a blocked request is never retried nor wrapped in
    ``APIConnectionError``.
    """


_MESSAGES = AnthropicAdapter()

BINDING = SDKBinding(
    name="anthropic",
    endpoints=(("/messages", _MESSAGES), ("/messages/count_tokens", _MESSAGES)),
    blocked_error=AnthropicBlockedError,
    sync_client=anthropic.Anthropic,
    async_client=anthropic.AsyncAnthropic,
)
