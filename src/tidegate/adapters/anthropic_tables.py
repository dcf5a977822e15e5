"""Anthropic Messages: the structural fields (deny by default).

Every string of a Messages request, stream event or ``message`` body that is
not listed here is guarded as text (see :mod:`tidegate.adapters.fields`).
Values and shapes follow the Messages API reference and streaming docs
(https://docs.anthropic.com/en/api/messages,
https://docs.anthropic.com/en/docs/build-with-claude/streaming).
"""

from __future__ import annotations

from types import MappingProxyType

from tidegate.adapters.fields import FieldTable

# HTTP status -> Anthropic error type (https://docs.anthropic.com/en/api/errors).
STATUS_ERROR_TYPES = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        500: "api_error",
        504: "timeout_error",
        529: "overloaded_error",
    }
)


EVENTS = (
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "ping",
    "error",
)
_STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)
_BLOCK_TYPES = (
    "text",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "server_tool_use",
    "mcp_tool_use",
    "mcp_tool_result",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "container_upload",
)
_CITATION_TYPES = (
    "char_location",
    "page_location",
    "content_block_location",
    "web_search_result_location",
    "search_result_location",
)
_CITATION_NUMBERS = (
    "document_index start_char_index end_char_index start_page_number end_page_number "
    "start_block_index end_block_index search_result_index"
)

ANTHROPIC_TABLE = FieldTable.of(
    enums={
        "type": (*EVENTS, "message"),
        "role": ("assistant",),
        "stop_reason": _STOP_REASONS,
        "content.*.type": _BLOCK_TYPES,
        "content.*.citations.*.type": _CITATION_TYPES,
        "message.type": ("message",),
        "message.role": ("assistant",),
        "message.stop_reason": _STOP_REASONS,
        "message.content.*.type": _BLOCK_TYPES,
        "content_block.type": _BLOCK_TYPES,
        "content_block.citations.*.type": _CITATION_TYPES,
        "delta.type": (
            "text_delta",
            "input_json_delta",
            "thinking_delta",
            "signature_delta",
            "citations_delta",
        ),
        "delta.stop_reason": _STOP_REASONS,
        "delta.citation.type": _CITATION_TYPES,
        "error.type": (*dict.fromkeys(STATUS_ERROR_TYPES.values()), "billing_error"),
        "usage.service_tier": ("standard", "priority", "batch"),
        "message.usage.service_tier": ("standard", "priority", "batch"),
    },
    atoms="""
        id model stop_sequence request_id
        content.*.id content.*.name content.*.signature content.*.data content.*.tool_use_id
        message.id message.model message.stop_sequence
        message.content.*.id message.content.*.name message.content.*.signature
        message.content.*.data
        content_block.id content_block.name content_block.signature content_block.data
        content_block.tool_use_id delta.signature delta.stop_sequence
    """,
    numbers=f"""
        index usage.** message.usage.** delta.usage.**
        {" ".join("delta.citation." + n for n in _CITATION_NUMBERS.split())}
        {" ".join("content.*.citations.*." + n for n in _CITATION_NUMBERS.split())}
    """,
    keys="""
        message content content_block delta text partial_json thinking signature citation
        citations cited_text document_title input usage error message type name
    """,
)
"""Structural fields of Messages stream events and of a ``message`` body."""

ANTHROPIC_REQUEST_TABLE = FieldTable.of(
    enums={
        "messages.*.role": ("user", "assistant"),
        "messages.*.content.*.type": (
            *_BLOCK_TYPES,
            "image",
            "document",
            "tool_result",
            "search_result",
        ),
        "messages.*.content.*.source.type": ("base64", "url", "text", "content", "file"),
        "messages.*.content.*.source.media_type": (
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ),
        "messages.*.content.*.cache_control.type": ("ephemeral",),
        "messages.*.content.*.content.*.type": ("text", "image", "search_result", "document"),
        "system.*.type": ("text",),
        "system.*.cache_control.type": ("ephemeral",),
        "tool_choice.type": ("auto", "any", "tool", "none"),
        "thinking.type": ("enabled", "disabled"),
    },
    atoms="""
        model tool_choice.name tools.*.name tools.*.type
        messages.*.content.*.id messages.*.content.*.tool_use_id messages.*.content.*.name
        messages.*.content.*.signature
    """,
    numbers="max_tokens temperature top_p top_k thinking.budget_tokens",
    keys="""
        messages role content type text source data media_type url system tools name
        description input_schema properties required items enum default tool_choice
        tool_use_id id input is_error cache_control thinking signature stop_sequences stream
        metadata user_id title context citations enabled budget_tokens
    """,
)
"""Structural fields of a Messages request (everything else is scanned)."""
