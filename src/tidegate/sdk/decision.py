"""What a scan decided: :class:`Finding`, :class:`Decision` and :class:`BlockedError`.

A decision is built from the guard events (:class:`~tidegate.audit.GuardEvent`)
that one call recorded: the same records the gateway writes to its audit log,
so a finding never carries the detected value, only where it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tidegate.audit import GuardEvent
from tidegate.errors import TidegateError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected span and what was done about it (never the value itself).

    Attributes:
        detector: Detector name (``"email"``, ``"aws_access_key"``).
        entity_type: Entity label (``"EMAIL_ADDRESS"``); also what
            :attr:`Decision.threat_types` lists.
        start: Span start, in chars of the text it was found in.
        end: Span end (exclusive), in chars.
        score: Detector confidence in [0, 1].
        channel: Which text: a dotted path of the request or message list
            (``"messages.0.content"``), an output channel (``"0:content"``),
            or ``"text"`` for a scanned string.
        policy: The most severe policy covering the detector.
        action: What that policy did: ``"observe"``, ``"redact"``, ``"block"``,
            or ``"block_recorded"`` (a block under ``early_termination: false``).
        direction: ``"input"`` or ``"output"``.
        event_id: The audit event's ID (``evt_…``), also in the audit log.
    """

    detector: str
    entity_type: str
    start: int
    end: int
    score: float
    channel: str
    policy: str
    action: str
    direction: str
    event_id: str

    @classmethod
    def of(cls, event: GuardEvent) -> Finding:
        """The finding an audit event records."""
        return cls(
            detector=event.detector,
            entity_type=event.entity_type,
            start=event.start,
            end=event.end,
            score=event.score,
            channel=event.channel,
            policy=event.policy,
            action=event.action,
            direction=event.direction,
            event_id=event.event_id,
        )


@dataclass(frozen=True, slots=True)
class Decision(Generic[T]):
    """The outcome of one scan, or of one guarded SDK call.

    Attributes:
        blocked: A ``block`` policy matched: nothing may be sent or shown.
        redacted: Some text was changed (always ``False`` when blocked).
        redacted_messages: The scanned value in the same shape as given (a
            string, or a list of message dicts), with placeholders where
            text was redacted; ``None`` when blocked, so that a blocked
            value cannot be sent by mistake.
        findings: Every finding recorded, in order; a blocked scan stops at
            the block, so later findings are not listed.
        threat_types: The findings' entity types, each once, in order
            (``("AWS_ACCESS_KEY",)``).
        direction: ``"input"`` or ``"output"`` (the direction of the block
            for an SDK call).
        mode: ``"enforce"`` or ``"monitor"`` (in ``monitor`` nothing is ever
            blocked or redacted; the findings say what matched).
        policy: The deciding policy: the one that blocked, else the first
            that redacted, else the first that observed; ``None`` without
            findings.
        event_id: The audit event ID of that decision (``evt_…``), or ``None``.
    """

    blocked: bool
    redacted: bool
    redacted_messages: T | None
    findings: tuple[Finding, ...]
    threat_types: tuple[str, ...]
    direction: str
    mode: str
    policy: str | None
    event_id: str | None

    @classmethod
    def of(
        cls,
        events: Sequence[GuardEvent],
        *,
        direction: str,
        mode: str,
        redacted_messages: T | None,
        redacted: bool,
    ) -> Decision[T]:
        """Build a decision from the events one call recorded.

        Args:
            events: The call's guard events, in order.
            direction: The scanned direction (overridden by a block's own).
            mode: The configuration's ``mode``.
            redacted_messages: The guarded value, or ``None`` if blocked.
            redacted: Whether any text was changed.
        """
        findings = tuple(Finding.of(e) for e in events)
        block = next((f for f in findings if f.action == "block"), None)
        deciding = block or next(
            (f for f in findings if f.action == "redact"), findings[0] if findings else None
        )
        return cls(
            blocked=block is not None,
            redacted=redacted and block is None,
            redacted_messages=None if block is not None else redacted_messages,
            findings=findings,
            threat_types=tuple(dict.fromkeys(f.entity_type for f in findings)),
            direction=block.direction if block is not None else direction,
            mode=mode,
            policy=deciding.policy if deciding else None,
            event_id=deciding.event_id if deciding else None,
        )

    @property
    def threat_type(self) -> str | None:
        """The deciding finding's entity type (what ``policy`` and ``event_id`` refer to).

        ``None`` without findings. For code written against guards that
        report one ``threat_type`` per decision; :attr:`threat_types` has all.
        """
        for finding in self.findings:
            if finding.event_id == self.event_id:
                return finding.entity_type
        return None

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON-ready data (lists for tuples)."""
        return {
            "blocked": self.blocked,
            "redacted": self.redacted,
            "redacted_messages": self.redacted_messages,
            "findings": [
                {name: getattr(f, name) for name in Finding.__slots__} for f in self.findings
            ],
            "threat_types": list(self.threat_types),
            "threat_type": self.threat_type,
            "direction": self.direction,
            "mode": self.mode,
            "policy": self.policy,
            "event_id": self.event_id,
        }


class BlockedError(TidegateError):
    """A guarded call was blocked by a policy.

    Raised by a wrapped or instrumented SDK client: before the request is
    sent when its input is blocked, or at the point of termination when its
    output is (a stream raises it from the iteration, after the text that
    was released before the block). A wrapped ``openai`` client raises a
    subclass that is also an ``openai.OpenAIError``, and an ``anthropic``
    one a subclass that is also an ``anthropic.AnthropicError``, so the
    SDK passes it through without retrying it.

    Attributes:
        decision: The decision; ``decision.findings`` lists the call's findings.
        policy: Name of the blocking policy.
        event_id: The block's audit event ID.
        direction: ``"input"`` or ``"output"``.
    """

    status = 400
    error_type = "content_policy_violation"

    def __init__(self, decision: Decision[Any]) -> None:
        super().__init__(
            f"{decision.direction} blocked by tidegate policy {decision.policy!r} "
            f"(event_id {decision.event_id})"
        )
        self.decision = decision
        self.policy = decision.policy
        self.event_id = decision.event_id
        self.direction = decision.direction
        self.code = f"{decision.direction}_blocked"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by decision (the SDK error bases pickle by message)."""
        return (type(self), (self.decision,))
