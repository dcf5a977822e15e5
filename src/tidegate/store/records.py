"""The two audit records, their columns, and time formats.

Timestamps are stored as ISO 8601 UTC text of fixed width
(``2026-11-22T00:01:02.123456Z``), so that text order is time order in both
SQLite and PostgreSQL and one SQL text serves both.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from tidegate.audit import GuardEvent

EVENT_COLUMNS = (
    "event_id",
    "request_id",
    "ts",
    "direction",
    "route",
    "upstream",
    "model",
    "policy",
    "action",
    "detector",
    "entity_type",
    "channel",
    "span_start",
    "span_end",
    "score",
)
"""Columns of ``tidegate_audit_events``, in row order."""

REQUEST_COLUMNS = (
    "request_id",
    "ts",
    "route",
    "format",
    "upstream",
    "model",
    "key_name",
    "status",
    "outcome",
    "policy",
    "error",
    "duration_ms",
    "ttft_ms",
    "deltas_in",
    "deltas_out",
    "chars_in",
    "chars_out",
    "findings",
)
"""Columns of ``tidegate_audit_requests``, in row order."""

Outcome = Literal[
    "completed", "terminated", "client_disconnected", "upstream_failed", "rejected", "error"
]
"""What became of a request (see :attr:`RequestRecord.outcome`)."""

Termination = Literal["output_blocked", "upstream_failed", "client_disconnected", "shutdown"]
"""Why a stream ended early (``tidegate_stream_terminations_total{reason}``)."""

# Longest model name stored; a client may send anything in ``model``.
MAX_MODEL_CHARS = 200


def iso_utc(unix_s: float) -> str:
    """Unix seconds as fixed-width ISO 8601 UTC text, microsecond precision."""
    return datetime.fromtimestamp(unix_s, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str, now: datetime | None = None) -> str:
    """Parse a ``--since``/``since=`` value into an ISO 8601 UTC lower bound.

    Args:
        value: A duration back from now (``90s``, ``30m``, ``1h``, ``7d``,
            ``2w``) or an ISO 8601 date or time (``2026-11-22``,
            ``2026-11-22T10:00:00Z``; no zone means UTC).
        now: The current time (default: now, UTC).

    Returns:
        The bound, in the stored timestamp format.

    Raises:
        ValueError: Neither a duration nor an ISO 8601 time.
    """
    now = now or datetime.now(UTC)
    match = _DURATION.match(value.strip())
    if match:
        seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
        return iso_utc((now - timedelta(seconds=seconds)).timestamp())
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"since: expected a duration such as 30m, 1h or 7d, or an ISO 8601 time, not {value!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return iso_utc(when.timestamp())


def event_row(event: GuardEvent) -> tuple[Any, ...]:
    """The ``tidegate_audit_events`` row of a guard event (never any detected value)."""
    return (
        event.event_id,
        event.request_id or None,
        iso_utc(event.timestamp),
        event.direction,
        event.route or None,
        event.upstream or None,
        event.model[:MAX_MODEL_CHARS] or None,
        event.policy,
        event.action,
        event.detector,
        event.entity_type,
        event.channel,
        event.start,
        event.end,
        float(event.score),
    )


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What happened to one proxied completion request.

    Attributes:
        request_id: The gateway's request ID (also the
            ``x-tidegate-request-id`` response header).
        ts: When the request arrived, ISO 8601 UTC.
        route: Endpoint route template (``/v1/chat/completions``).
        format: Wire format (``openai``, ``responses``, ``anthropic``, ``generic``).
        upstream: Upstream name (None when the request never got routed).
        model: The request's ``model`` field, cut to 200 chars.
        key_name: The client key's configured name (None without ``auth``).
        status: HTTP status sent to the client (200 for a stream, even one
            that ended with an in-stream error event).
        outcome: ``completed``; ``terminated`` (a block policy refused the
            input or ended the output, or the shutdown drain ran out);
            ``client_disconnected``; ``upstream_failed`` (unreachable, timed
            out, broke its protocol, or answered an HTTP error); ``rejected``
            (refused before going upstream: malformed, too large, no route,
            overloaded, audit store down under ``on_failure: block``);
            ``error`` (a gateway bug, HTTP 500).
        policy: The blocking policy when a policy ``terminated`` it.
        error: The error code, when there was one (``upstream_timeout``…).
        duration_ms: Arrival to last byte sent, in ms.
        ttft_ms: Streams only: arrival to first body bytes sent, in ms.
        deltas_in: Text deltas received from the upstream (guarded).
        deltas_out: Text deltas released to the client.
        chars_in: Chars of those received deltas.
        chars_out: Chars of those released deltas (after redaction).
        findings: Guard events recorded for this request.
    """

    request_id: str
    ts: str
    route: str
    format: str
    upstream: str | None
    model: str | None
    key_name: str | None
    status: int
    outcome: Outcome
    policy: str | None
    error: str | None
    duration_ms: float
    ttft_ms: float | None
    deltas_in: int
    deltas_out: int
    chars_in: int
    chars_out: int
    findings: int

    def row(self) -> tuple[Any, ...]:
        """The ``tidegate_audit_requests`` row, in :data:`REQUEST_COLUMNS` order."""
        return tuple(getattr(self, name) for name in REQUEST_COLUMNS)

    def as_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready mapping."""
        return asdict(self)
