"""OpenAI Responses: the event types and the structural fields (deny by default).

Every string of a Responses request, stream event or ``response`` body that
is not listed here is guarded as text (see :mod:`tidegate.adapters.fields`).
Event types and shapes follow the Responses streaming reference
(https://platform.openai.com/docs/api-reference/responses-streaming).
"""

from __future__ import annotations

from types import MappingProxyType

from tidegate.adapters.fields import FieldTable

# Delta event -> (channel kind, index field or None).
DELTAS = MappingProxyType(
    {
        "response.output_text.delta": ("text", "content_index"),
        "response.refusal.delta": ("refusal", "content_index"),
        "response.function_call_arguments.delta": ("args", None),
        "response.custom_tool_call_input.delta": ("input", None),
        "response.reasoning_text.delta": ("reasoning", "content_index"),
        "response.reasoning_summary_text.delta": ("summary", "summary_index"),
        "response.mcp_call_arguments.delta": ("mcp_args", None),
        "response.code_interpreter_call_code.delta": ("code", None),
    }
)
# Done event -> (channel kind, index field or None, whole-text field).
DONES = MappingProxyType(
    {
        "response.output_text.done": ("text", "content_index", "text"),
        "response.refusal.done": ("refusal", "content_index", "refusal"),
        "response.function_call_arguments.done": ("args", None, "arguments"),
        "response.custom_tool_call_input.done": ("input", None, "input"),
        "response.reasoning_text.done": ("reasoning", "content_index", "text"),
        "response.reasoning_summary_text.done": ("summary", "summary_index", "text"),
        "response.mcp_call_arguments.done": ("mcp_args", None, "arguments"),
        "response.code_interpreter_call_code.done": ("code", None, "code"),
    }
)
# Content part type -> (channel kind, text field).
PARTS = MappingProxyType(
    {
        "output_text": ("text", "text"),
        "refusal": ("refusal", "refusal"),
        "reasoning_text": ("reasoning", "text"),
        "summary_text": ("summary", "text"),
    }
)
TERMINAL = frozenset({"response.completed", "response.failed", "response.incomplete"})
EVENTS = frozenset(
    {
        *DELTAS,
        *DONES,
        *TERMINAL,
        "response.created",
        "response.queued",
        "response.in_progress",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.annotation.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_part.done",
        *(
            f"response.{call}.{state}"
            for call in ("file_search_call", "web_search_call", "code_interpreter_call")
            for state in ("in_progress", "searching", "interpreting", "completed")
        ),
        *(
            f"response.{call}.{state}"
            for call in ("mcp_call", "mcp_list_tools")
            for state in ("in_progress", "completed", "failed")
        ),
        *(
            f"response.image_generation_call.{state}"
            for state in ("in_progress", "generating", "partial_image", "completed")
        ),
        "error",
    }
)
_STATUSES = ("completed", "failed", "in_progress", "cancelled", "queued", "incomplete", "searching")
_ITEM_TYPES = (
    "message",
    "function_call",
    "reasoning",
    "file_search_call",
    "web_search_call",
    "computer_call",
    "custom_tool_call",
    "mcp_call",
    "mcp_list_tools",
    "image_generation_call",
    "code_interpreter_call",
)
_PART_TYPES = ("output_text", "refusal", "reasoning_text", "summary_text")


def _response_paths(*roots: str) -> dict[str, tuple[str, ...]]:
    """The enum fields of a ``response`` object and its items, under each root."""
    enums: dict[str, tuple[str, ...]] = {}
    for root in roots:
        for out in (f"{root}output.*.", "item." if root == "" else None):
            if out is None:
                continue
            enums[f"{out}type"] = _ITEM_TYPES
            enums[f"{out}status"] = _STATUSES
            enums[f"{out}role"] = ("assistant",)
            enums[f"{out}content.*.type"] = _PART_TYPES
            enums[f"{out}summary.*.type"] = ("summary_text",)
        enums[f"{root}status"] = _STATUSES
        enums[f"{root}object"] = ("response",)
        enums[f"{root}incomplete_details.reason"] = ("max_output_tokens", "content_filter")
        enums[f"{root}text.format.type"] = ("text", "json_schema", "json_object")
        enums[f"{root}tool_choice"] = ("auto", "none", "required")
        enums[f"{root}truncation"] = ("auto", "disabled")
        enums[f"{root}service_tier"] = ("auto", "default", "flex", "scale", "priority")
        enums[f"{root}reasoning.effort"] = ("minimal", "low", "medium", "high")
        enums[f"{root}reasoning.summary"] = ("auto", "concise", "detailed")
    return enums


_ID_ATOMS = "id model previous_response_id"
_ITEM_ATOMS = "id call_id name encrypted_content"
RESPONSES_TABLE = FieldTable.of(
    enums={"type": tuple(EVENTS), "part.type": _PART_TYPES, **_response_paths("", "response.")},
    atoms=" ".join(
        [
            "item_id",
            *(f"{root}{a}" for root in ("", "response.") for a in _ID_ATOMS.split()),
            *(
                f"{out}{a}"
                for out in ("item.", "output.*.", "response.output.*.")
                for a in _ITEM_ATOMS.split()
            ),
        ]
    ),
    numbers="""
        sequence_number output_index content_index summary_index annotation_index
        created_at completed_at temperature top_p max_output_tokens usage.**
        response.created_at response.completed_at response.temperature response.top_p
        response.max_output_tokens response.usage.** logprobs.*.logprob
        logprobs.*.top_logprobs.*.logprob part.logprobs.*.logprob
    """,
    keys="""
        response output item part content summary delta text refusal arguments input
        logprobs token bytes top_logprobs annotations usage error instructions tools code
        message param
    """,
)
"""Structural fields of Responses stream events and of a ``response`` body."""

RESPONSES_REQUEST_TABLE = FieldTable.of(
    enums={
        "input.*.role": ("user", "assistant", "system", "developer"),
        "input.*.type": (*_ITEM_TYPES, "function_call_output", "custom_tool_call_output"),
        "input.*.content.*.type": (
            "input_text",
            "input_image",
            "input_file",
            "input_audio",
            *_PART_TYPES,
        ),
        "input.*.status": _STATUSES,
        "tools.*.type": ("function", "custom", "web_search", "file_search", "mcp"),
        "tool_choice": ("auto", "none", "required"),
        "text.format.type": ("text", "json_schema", "json_object"),
        "reasoning.effort": ("minimal", "low", "medium", "high"),
        "truncation": ("auto", "disabled"),
        "service_tier": ("auto", "default", "flex", "scale", "priority"),
    },
    atoms="model previous_response_id input.*.id input.*.call_id input.*.name tools.*.name",
    numbers="temperature top_p max_output_tokens top_logprobs",
    keys="""
        input instructions role content type text image_url file_data file_id filename
        arguments output name tools description parameters strict properties required items
        enum default stream store metadata user tool_choice reasoning summary annotations
    """,
)
"""Structural fields of a Responses request (everything else is scanned)."""
