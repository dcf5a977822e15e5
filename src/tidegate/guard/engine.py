"""The guard engine: policies, plans and guards, built once per gateway.

The engine is protocol-agnostic. Adapters hand it input texts one by one
(:meth:`GuardEngine.guard_input_text`) and ask it for one output guard per
response (:meth:`GuardEngine.new_stream`). The same engine serves the HTTP
gateway and in-process use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from tidegate.audit import AuditLog, AuditSink
from tidegate.config import TidegateConfig
from tidegate.detectors.base import DetectorError, Finding
from tidegate.guard.hook import guard_whole
from tidegate.guard.policy import Plan, build_plan, build_policies
from tidegate.guard.scanner import scan_text
from tidegate.guard.stream import Clock, GuardedStream
from tidegate.guard.windows import windows
from tidegate.threats.cache import ModelCache, shared_models

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ScanResult:
    """A finding with the policy and action that apply to it.

    Attributes:
        finding: The finding (offsets in chars of the scanned text).
        policy: Name of the most severe policy covering its detector.
        action: That policy's action.
        threat_type: The entity type, for classifier detectors (whose span
            is the judged window); None for pattern detectors.
    """

    finding: Finding
    policy: str
    action: str
    threat_type: str | None = None


class GuardEngine:
    """Builds guards from a configuration.

    Args:
        config: The validated configuration.
        audit: Where findings are recorded (a new in-memory log by default).
        clock: Monotonic clock in seconds, for the periodic strategies.
        models: Where the built-in threat model is loaded from (default: the
            process-wide cache, so the model is loaded once per process).

    Raises:
        ConfigError: A policy or custom detector is invalid.
        OSError: A policy uses the ``threats`` group and the shipped model
            file is missing.
    """

    def __init__(
        self,
        config: TidegateConfig,
        *,
        audit: AuditLog | None = None,
        clock: Clock = time.monotonic,
        models: ModelCache | None = None,
    ) -> None:
        self.config = config
        self.audit = audit or AuditLog()
        self._clock = clock
        self.policies = build_policies(config, models or shared_models())
        self.input_plan = build_plan(self.policies, "input")
        self.output_plan = build_plan(
            self.policies, "output", block_enforces=config.streaming.early_termination
        )
        # Classifier scoring runs in at most ``threats.workers`` threads at once.
        self.limiter = anyio.CapacityLimiter(config.threats.workers)
        for plan in (self.input_plan, self.output_plan):
            for detector in plan.classifiers:
                detector.classifier.warm()

    async def offload(self, fn: Callable[[], T]) -> T:
        """Run a blocking call in one of the engine's worker threads and await it."""
        return await anyio.to_thread.run_sync(fn, limiter=self.limiter)

    async def call(self, direction: str, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn(*args)``: in a worker thread when ``direction`` has classifiers.

        The gateway guards whole input texts and non-streamed bodies this way,
        so that classifier scoring never runs on the event loop; without
        classifiers the call stays inline (the pattern scanner is fast).
        """
        if self.plan(direction).classifiers:
            return await self.offload(partial(fn, *args))
        return fn(*args)

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
            offload=self.offload,
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

        Every input text is scored by the input classifiers, whatever its
        role (system, user, tool result, retrieved document): ``channel``
        tells where an indirect injection was found.

        Raises:
            PolicyViolation: A block policy matched (or a detector failed and
                guardrails fail closed).
        """
        plan = self.input_plan
        if not plan.detectors and not plan.classifiers:
            return text
        if not plan.classifiers:
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

        Pattern findings come first, by position; then classifier findings,
        one per detector at most: the first window (or the whole text) whose
        score reaches the detector's threshold, as the guard would decide.

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
        if not plan.classifiers:
            return results
        streaming = self.config.streaming
        cut = windows(text, streaming.window_chars, streaming.window_overlap_chars)
        texts = [text[w.start : w.end] if not w.whole else text for w in cut]
        models = {d.classifier.name: d.classifier for d in plan.classifiers}
        scores = {name: model.score(texts) for name, model in models.items()}
        for detector in plan.classifiers:
            column = scores[detector.classifier.name]
            flagged = (detector.judge(column[i], w.start, w.end) for i, w in enumerate(cut))
            first = next((hit for hit in flagged if hit is not None), None)
            if first is not None:
                policy = plan.top_policy(detector.name)
                results.append(ScanResult(first, policy.name, policy.action, first.entity_type))
        return results
