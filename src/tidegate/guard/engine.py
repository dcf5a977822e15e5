"""The guard engine: policies, plans and guards, built once per gateway.

The engine is protocol-agnostic. Adapters hand it input texts one by one
(:meth:`GuardEngine.guard_input_text`) and ask it for one output guard per
response (:meth:`GuardEngine.new_stream`). The same engine serves the HTTP
gateway and in-process use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tidegate.audit import AuditLog, AuditSink
from tidegate.config import TidegateConfig
from tidegate.detectors.base import DetectorError, Finding
from tidegate.guard.hook import guard_whole
from tidegate.guard.policy import Plan, build_plan, build_policies
from tidegate.guard.scanner import scan_text
from tidegate.guard.stream import Clock, GuardedStream


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A finding with the policy and action that apply to it.

    Attributes:
        finding: The finding (offsets in chars of the scanned text).
        policy: Name of the most severe policy covering its detector.
        action: That policy's action.
    """

    finding: Finding
    policy: str
    action: str


class GuardEngine:
    """Builds guards from a configuration.

    Args:
        config: The validated configuration.
        audit: Where findings are recorded (a new in-memory log by default).
        clock: Monotonic clock in seconds, for the periodic strategies.

    Raises:
        ConfigError: A policy or custom detector is invalid.
    """

    def __init__(
        self,
        config: TidegateConfig,
        *,
        audit: AuditLog | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.config = config
        self.audit = audit or AuditLog()
        self._clock = clock
        self.policies = build_policies(config)
        self.input_plan = build_plan(self.policies, "input")
        self.output_plan = build_plan(
            self.policies, "output", block_enforces=config.streaming.early_termination
        )

    def plan(self, direction: str) -> Plan:
        """The plan for ``"input"`` or ``"output"``."""
        return self.input_plan if direction == "input" else self.output_plan

    def new_stream(self, audit: AuditSink | None = None) -> GuardedStream:
        """An output guard for one response.

        Args:
            audit: Where its findings go (default: the engine's audit log);
                the gateway passes a per-request sink that adds the request ID.
        """
        return GuardedStream(
            self.output_plan,
            self.config.streaming,
            audit if audit is not None else self.audit,
            fail_open=self.config.fail_open,
            early_termination=self.config.streaming.early_termination,
            clock=self._clock,
            termination=self.config.termination,
        )

    def guard_input_text(
        self, text: str, *, channel: str = "input", audit: AuditSink | None = None
    ) -> str:
        """Guard one input text in one shot.

        Args:
            text: A prompt text (a message's content, a system prompt…).
            channel: Label for the audit record (e.g. ``"messages.2"``).
            audit: Where findings go (default: the engine's audit log).

        Returns:
            The text, redacted where a redact policy matched.

        Raises:
            PolicyViolation: A block policy matched (or a detector failed and
                guardrails fail closed).
        """
        plan = self.input_plan
        if not plan.detectors:
            return text
        try:
            if not scan_text(text, plan.detector_set):
                return text  # nothing to redact or record: skip the guard's bookkeeping
        except DetectorError:
            pass  # the guard below runs the detectors again and fails closed
        guard = GuardedStream(
            self.input_plan,
            self.config.streaming.model_copy(update={"strategy": "end_only"}),
            audit if audit is not None else self.audit,
            fail_open=self.config.fail_open,
            clock=self._clock,
            termination=self.config.termination,
        )
        return guard_whole(guard, channel, text)

    def scan(self, text: str, direction: str) -> list[ScanResult]:
        """Report findings in ``text`` without changing it (for ``tidegate scan``).

        Args:
            text: The whole text.
            direction: ``"input"`` or ``"output"``.

        Raises:
            DetectorError: A detector failed.
        """
        plan = self.plan(direction)
        results = []
        for finding in scan_text(text, plan.detector_set):
            policy = plan.top_policy(finding.detector)
            results.append(ScanResult(finding, policy.name, policy.action))
        return results
