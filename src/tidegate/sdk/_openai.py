"""The ``openai`` SDK binding: Chat Completions, Responses, completions, embeddings."""

from __future__ import annotations

import openai

from tidegate.adapters.openai_chat import OpenAIChatAdapter
from tidegate.adapters.openai_completions import CompletionsAdapter
from tidegate.adapters.openai_embeddings import EmbeddingsAdapter
from tidegate.adapters.openai_responses import ResponsesAdapter
from tidegate.sdk.clients import SDKBinding
from tidegate.sdk.decision import BlockedError


class OpenAIBlockedError(BlockedError, openai.OpenAIError):
    """A :class:`~tidegate.BlockedError` raised through the openai SDK.

    It is also an ``openai.OpenAIError``, which the SDK re-raises as is:
    a blocked request is never retried nor wrapped in ``APIConnectionError``.
    """


BINDING = SDKBinding(
    name="openai",
    endpoints=(  # in order: "/chat/completions" also ends with "/completions"
        ("/chat/completions", OpenAIChatAdapter()),
        ("/responses", ResponsesAdapter()),
        ("/completions", CompletionsAdapter()),
        ("/embeddings", EmbeddingsAdapter()),
    ),
    blocked_error=OpenAIBlockedError,
    sync_client=openai.OpenAI,
    async_client=openai.AsyncOpenAI,
)
