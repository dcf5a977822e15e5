"""OpenAI legacy text completions (``POST /v1/completions``).

Like Chat Completions, but the text of choice ``i`` is ``choices[i].text``
(one guard channel per choice, ``"0:text"``), the chunks' ``object`` is
``text_completion`` and the prompt is ``prompt`` (a string, a list of
strings, or token ids). A streamed answer is ``data: {text_completion}``
events ended by ``data: [DONE]``; a block ends it as a chat stream ends
(a ``content_filter`` chunk per open choice, the error event, ``[DONE]``).
Every other string is guarded by the field walker unless
:data:`COMPLETIONS_TABLE` lists it as structural.
"""

from __future__ import annotations

from typing import Any

from tidegate.adapters.base import InputGuard, ParsedRequest, parse_json_object
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.leaf_guard import guard_input_body, set_leaf
from tidegate.adapters.openai_chat import OpenAIChatTranslator, openai_error_body
from tidegate.adapters.release import PendingEvent, guard_body
from tidegate.errors import BadRequestError, TidegateError
from tidegate.guard.hook import StreamGuard

COMPLETIONS_TABLE = FieldTable.of(
    enums={
        "object": ("text_completion",),
        "choices.*.finish_reason": ("stop", "length", "content_filter"),
    },
    atoms="id model system_fingerprint",
    numbers="""
        created choices.*.index usage.**
        choices.*.logprobs.token_logprobs.* choices.*.logprobs.text_offset.*
        choices.*.logprobs.top_logprobs.*.?
    """,
    keys="choices text logprobs tokens token_logprobs top_logprobs text_offset usage error",
)
"""Structural fields of a ``text_completion`` body or chunk."""

COMPLETIONS_REQUEST_TABLE = FieldTable.of(
    atoms="model",
    numbers="""
        max_tokens temperature top_p n logprobs presence_penalty frequency_penalty
        best_of seed logit_bias.? prompt.* prompt.*.*
    """,
    keys="prompt suffix stream stream_options include_usage echo stop user logit_bias",
)
"""Structural fields of a completions request (``prompt`` and ``suffix`` are text)."""


class CompletionsTranslator(OpenAIChatTranslator):
    """Rewrites one text-completion event stream through a guard."""

    table = COMPLETIONS_TABLE
    chunk_object = "text_completion"

    def _filtered_choice(self, index: int) -> dict[str, Any]:
        return {"text": "", "index": index, "logprobs": None, "finish_reason": "content_filter"}

    def _guard_choice(self, pending: PendingEvent, choice: dict[str, Any]) -> None:
        queue = self._queue
        index = choice.get("index", 0)
        if not isinstance(index, int) or isinstance(index, bool):
            index = 0
        prefix = f"{index}:"
        text = choice.get("text")
        if isinstance(text, str):

            def apply(value: str) -> None:
                set_leaf(choice, "text", value, choice if "logprobs" in choice else None)

            queue.text(pending, f"{prefix}text", text, apply, (choice, "text"))
        self._walk(pending, choice, path="choices.*", prefix=prefix)
        if choice.get("finish_reason") is not None:
            for channel in queue.channels():
                if channel.startswith(prefix):
                    queue.end(channel)


class CompletionsAdapter:
    """The OpenAI legacy text-completions wire format."""

    name = "completions"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/completions`` body.

        Raises:
            BadRequestError: Not a JSON object, or ``prompt`` is missing or
                neither a string nor a list.
        """
        body = parse_json_object(raw)
        if not isinstance(body.get("prompt"), (str, list)):
            raise BadRequestError("'prompt' must be a string or a list")
        return ParsedRequest.of(body)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard ``prompt``, ``suffix`` and every other non-structural string.

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, COMPLETIONS_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> CompletionsTranslator:
        """A translator for one streamed response."""
        return CompletionsTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard a ``text_completion`` body in place; return whether it changed.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, COMPLETIONS_TABLE, guard)
