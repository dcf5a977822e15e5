"""OpenAI embeddings (``POST /v1/embeddings``) and moderations (``POST /v1/moderations``).

Embeddings: the ``input`` (a string, a list of strings, or token ids) is
scanned and redacted or blocked before it goes upstream, like any prompt:
PII sent to an embedding API is stored in someone's vector index. The answer
is vectors; it is guarded like any body (deny by default), which finds
nothing in numbers.

Moderations are relayed as they are, both ways: the point of the endpoint is
to look at the text, and its answer carries categories and scores only.
"""

from __future__ import annotations

from typing import Any

from tidegate.adapters.base import InputGuard, ParsedRequest, parse_json_object
from tidegate.adapters.fields import FieldTable
from tidegate.adapters.leaf_guard import guard_input_body
from tidegate.adapters.openai_chat import OpenAIChatTranslator, openai_error_body
from tidegate.adapters.release import guard_body
from tidegate.errors import BadRequestError, TidegateError
from tidegate.guard.hook import PassThroughGuard, StreamGuard

EMBEDDINGS_TABLE = FieldTable.of(
    enums={"object": ("list",), "data.*.object": ("embedding",)},
    atoms="model",
    numbers="data.*.index data.*.embedding.* usage.**",
    keys="data embedding usage error",
)
"""Structural fields of an embeddings answer (a base64 ``embedding`` is scanned as text)."""

EMBEDDINGS_REQUEST_TABLE = FieldTable.of(
    enums={"encoding_format": ("float", "base64")},
    atoms="model",
    numbers="dimensions input.* input.*.*",
    keys="input user",
)
"""Structural fields of an embeddings request (``input`` strings and ``user`` are text)."""


class EmbeddingsAdapter:
    """The OpenAI embeddings wire format."""

    name = "embeddings"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/embeddings`` body.

        Raises:
            BadRequestError: Not a JSON object, or ``input`` is missing or
                neither a string nor a list.
        """
        body = parse_json_object(raw)
        if not isinstance(body.get("input"), (str, list)):
            raise BadRequestError("'input' must be a string or a list")
        return ParsedRequest.of(body)

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Guard every ``input`` string (and any other non-structural string).

        Channels are ``input`` or ``input.3``.

        Returns:
            Whether anything changed.

        Raises:
            PolicyViolation: The guard blocked an input text.
            BadRequestError: Too deeply nested, or a lone surrogate.
        """
        return guard_input_body(body, EMBEDDINGS_REQUEST_TABLE, guard)

    def new_stream(self, guard: StreamGuard) -> OpenAIChatTranslator:
        """Embeddings never stream; an SSE answer is guarded as a chat stream."""
        return OpenAIChatTranslator(guard)

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Guard an embeddings answer in place; return whether it changed.

        Raises:
            PolicyViolation: The guard blocked the output.
        """
        return guard_body(body, EMBEDDINGS_TABLE, guard)


class ModerationsAdapter:
    """The OpenAI moderations endpoint: relayed as is."""

    name = "moderations"

    def parse_request(self, raw: bytes) -> ParsedRequest:
        """Parse a ``/v1/moderations`` body.

        Raises:
            BadRequestError: Not a JSON object (or a duplicate key).
        """
        return ParsedRequest.of(parse_json_object(raw))

    def error_body(self, exc: TidegateError) -> dict[str, Any]:
        """OpenAI-shaped error JSON."""
        return openai_error_body(exc)

    def map_input_texts(self, body: dict[str, Any], guard: InputGuard) -> bool:
        """Nothing is scanned: the text is what the endpoint exists to judge."""
        return False

    def new_stream(self, guard: StreamGuard) -> OpenAIChatTranslator:
        """Moderations never stream; an SSE answer is relayed unchanged."""
        return OpenAIChatTranslator(PassThroughGuard())

    def guard_response(self, body: dict[str, Any], guard: StreamGuard) -> bool:
        """Relayed as is: categories and scores."""
        return False
