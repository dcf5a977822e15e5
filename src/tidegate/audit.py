"""The audit log: one record per finding, never the detected value.

Each record has the finding's detector, entity type, span offsets and score,
the policy and action taken, and a unique ``event_id`` that also appears in
the error the client receives when a policy blocks. The detected text itself
is never stored or logged.

Guards record into an :class:`AuditSink`. The gateway hands each guard a
per-request sink (:class:`tidegate.ops.observe.RequestObservation`) that adds
the request's ID, route, upstream and model before passing the event on to
the shared :class:`AuditLog`, which keeps recent events in memory, logs them,
and feeds its sinks (the persistent store's queue, the findings counter).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from tidegate.logs import get_logger


def new_event_id() -> str:
    """A unique guard event ID (``evt_`` + 24 hex chars)."""
    return "evt_" + uuid.uuid4().hex[:24]


@dataclass(frozen=True, slots=True)
class GuardEvent:
    """One finding and what was done about it.

    Attributes:
        event_id: Unique ID, shared with the client-facing error on block.
        direction: ``"input"`` or ``"output"``.
        policy: Policy name (``"<fail-closed>"`` style names for failures).
        action: ``"observe"``, ``"redact"``, ``"block"``, or ``"block_recorded"``
            (a block under ``early_termination: false``).
        detector: Detector name.
        entity_type: Entity label.
        start: Span start, in chars of the scanned text (per channel).
        end: Span end (exclusive).
        score: Detector score in [0, 1].
        channel: Output channel (``"0:content"``) or input text index.
        threat_type: For classifier findings (``threats``, ``onnx``), the
            entity type (``"PROMPT_INJECTION"``…); their span is the judged
            window. Empty for pattern detectors.
        request_id: The gateway request it belongs to (``""`` outside one).
        route: Endpoint route template (``/v1/chat/completions``), or ``""``.
        upstream: Upstream name, or ``""``.
        model: The request's ``model`` field, or ``""``.
        timestamp: When it was recorded, Unix seconds (UTC); 0 until
            :meth:`AuditLog.record` stamps it.
    """

    event_id: str
    direction: str
    policy: str
    action: str
    detector: str
    entity_type: str
    start: int
    end: int
    score: float
    channel: str = ""
    threat_type: str = ""
    request_id: str = ""
    route: str = ""
    upstream: str = ""
    model: str = ""
    timestamp: float = 0.0


class AuditSink(Protocol):
    """Where a guard records its events."""

    def record(self, event: GuardEvent) -> None:
        """Record one event (must not block, must not raise)."""
        ...


EventSink = Callable[[GuardEvent], None]
"""A consumer of every recorded event (store queue, metrics); must not block."""


class EventCollector:
    """Collects the events of one scan or one exchange, and forwards each to a log.

    Per-call state: one instance serves one :meth:`tidegate.Guard.scan` or
    one guarded SDK request, so the events are that call's and no other's.

    Args:
        parent: The log every event is also recorded to.
    """

    def __init__(self, parent: AuditSink) -> None:
        self._parent = parent
        self.events: list[GuardEvent] = []

    def record(self, event: GuardEvent) -> None:
        """Keep ``event`` and record it to the parent log."""
        self.events.append(event)
        self._parent.record(event)

    def block(self) -> GuardEvent | None:
        """The first event whose action is ``block``, if any."""
        return next((e for e in self.events if e.action == "block"), None)


class AuditLog:
    """Keeps recent guard events in memory and optionally appends them to a file.

    Args:
        max_events: How many recent events to keep in memory.
        path: Optional JSON-lines file to append every event to.
    """

    def __init__(self, max_events: int = 10_000, path: str | Path | None = None) -> None:
        self._events: deque[GuardEvent] = deque(maxlen=max_events)
        self._path = Path(path) if path else None
        self._lock = threading.Lock()
        self._log = get_logger("audit")
        self._sinks: list[EventSink] = []

    def add_sink(self, sink: EventSink) -> None:
        """Also pass every future event to ``sink`` (called on the recording thread)."""
        self._sinks.append(sink)

    def record(self, event: GuardEvent) -> None:
        """Store one event, log it (without any detected value) and feed the sinks.

        An event without a timestamp is stamped with the current time.
        """
        if not event.timestamp:
            event = replace(event, timestamp=time.time())
        with self._lock:
            self._events.append(event)
            if self._path is not None:
                with self._path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(event)) + "\n")
        self._log.info("finding", **asdict(event))
        for sink in self._sinks:
            sink(event)

    def events(self) -> list[GuardEvent]:
        """A snapshot of the recent events, oldest first."""
        with self._lock:
            return list(self._events)
