"""``POST /v1/guard/scan``: the in-process scan, over HTTP, for other languages.

Request: ``{"messages": [...], "direction": "input"}`` or ``{"text": "...",
"direction": "output"}``, optionally ``"style": "openai" | "anthropic"``.
Answer: HTTP 200 with the decision as JSON, in the shape of
:class:`tidegate.Decision` (:meth:`~tidegate.sdk.decision.Decision.to_dict`),
also when it blocks: the caller decides what to do. Malformed input is a 400
in the OpenAI error shape. The gateway's global policies and ``mode`` apply;
the route needs a client key when ``auth`` is configured, like every route.
"""

from __future__ import annotations

from typing import Any, cast

import anyio
from starlette.responses import JSONResponse, Response

from tidegate.adapters.base import parse_json_object
from tidegate.adapters.openai_chat import openai_error_body
from tidegate.errors import BadRequestError, TidegateError
from tidegate.guard.engine import GuardEngine
from tidegate.sdk.scan import Direction, Style, scan_value

_KEYS = frozenset({"messages", "text", "direction", "style"})


def _scan_arguments(body: dict[str, Any]) -> tuple[Any, Direction, Style]:
    """``(value, direction, style)`` of a scan request.

    Raises:
        BadRequestError: Unknown keys; not exactly one of ``messages`` and
            ``text``; a bad ``direction`` or ``style``.
    """
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise BadRequestError(f"unknown keys: {', '.join(unknown)}")
    if ("messages" in body) == ("text" in body):
        raise BadRequestError("give exactly one of 'messages' (a list) and 'text' (a string)")
    value = body.get("messages", body.get("text"))
    if "text" in body and not isinstance(value, str):
        raise BadRequestError("'text' must be a string")
    if "messages" in body and not (
        isinstance(value, list) and all(isinstance(m, dict) for m in value)
    ):
        raise BadRequestError("'messages' must be a list of message objects")
    direction = body.get("direction", "input")
    if direction not in ("input", "output"):
        raise BadRequestError("'direction' must be 'input' or 'output'")
    style = body.get("style", "auto")
    if style not in ("auto", "openai", "anthropic"):
        raise BadRequestError("'style' must be 'auto', 'openai' or 'anthropic'")
    return value, cast(Direction, direction), cast(Style, style)


async def scan_response(engine: GuardEngine, raw: bytes) -> Response:
    """Answer one scan request whose body has been read.

    The scan runs in a worker thread: it is CPU work, and the event loop
    keeps relaying streams meanwhile.

    Args:
        engine: The gateway's engine (global policies and ``mode``).
        raw: The request body, within the gateway's size limit.
    """
    try:
        value, direction, style = _scan_arguments(parse_json_object(raw))
        decision = await anyio.to_thread.run_sync(
            lambda: scan_value(engine, value, direction, style)
        )
    except TidegateError as exc:
        return JSONResponse(openai_error_body(exc), status_code=exc.status)
    return JSONResponse(decision.to_dict())
