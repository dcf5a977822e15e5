"""The stream guard: per-response state that decides what text to release.

Each channel (one choice's content, one tool call's arguments, …) has its
own :class:`~tidegate.guard.scanner.IncrementalScanner` and its own *held*
text: the tail that has not been released yet. The rule is the zero-leak
guarantee: a char is released only when no detector under a redact or block
policy can still report a span that covers it. The scanner's ``settled``
offset is exactly that bound, so the holdback is a tail that starts at the
earliest undecided candidate — at most one detector's ``max_match_chars`` +
``context_chars`` — and text that cannot begin a match goes out at once.

With no redact or block policy for the direction (only ``observe``), nothing
is held: every delta is released unchanged, and findings are only recorded.

When evaluations happen is the *strategy* (:class:`EvaluationSchedule`).
Text that has not been evaluated is never released under an enforcing
policy: a sparser strategy means longer holdback, never exposure.

Classifier detectors (``threats``, ``onnx``) go through their own path,
:class:`~tidegate.guard.classify.ClassifierJudge`, which judges windows; under
a holding policy the release bound is also the end of the last judged window.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from tidegate.audit import AuditSink, GuardEvent, new_event_id
from tidegate.config import StreamingConfig, TerminationConfig
from tidegate.detectors.base import DetectorError, Finding
from tidegate.errors import PolicyViolation
from tidegate.guard.classify import ClassifierJudge
from tidegate.guard.policy import Plan, Redaction, merge_redactions, redact_segment
from tidegate.guard.scanner import IncrementalScanner, scan_text
from tidegate.logs import get_logger

_SENTENCE_END = frozenset(".!?\n\u3002\uff01\uff1f")  # ASCII and CJK full stops

Clock = Callable[[], float]
T = TypeVar("T")
Offload = Callable[[Callable[[], Any]], Awaitable[Any]]
"""Runs a blocking call in a worker thread and awaits its result."""

MAX_TIMED_DELTAS = 4096
"""Deltas per guard whose ``push`` time is kept one by one (``GuardStats.delta_seconds``)."""


@dataclass(slots=True)
class EvaluationSchedule:
    """Decides, per channel, when the strategy calls for an evaluation.

    Attributes:
        config: The streaming configuration.
        clock: Monotonic clock in seconds (injectable for tests).
    """

    config: StreamingConfig
    clock: Clock = time.monotonic
    unevaluated_chars: int = 0
    deltas: int = 0
    last_eval: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.last_eval = self.clock()

    def note(self, text: str) -> bool:
        """Record a new delta; return whether to evaluate now."""
        self.unevaluated_chars += len(text)
        self.deltas += 1
        cfg = self.config
        if self.unevaluated_chars >= cfg.max_buffer_chars:
            return True
        strategy = cfg.strategy
        if strategy == "continuous":
            return True
        if strategy == "end_only":
            return False
        overdue = (self.clock() - self.last_eval) * 1000 >= cfg.max_eval_interval_ms
        if strategy == "sentence_boundary":
            return overdue or any(c in _SENTENCE_END for c in text)
        return (  # periodic
            overdue
            or self.unevaluated_chars >= cfg.eval_interval_chars
            or self.deltas >= cfg.eval_interval_tokens
        )

    def evaluated(self) -> None:
        """Reset the counters after an evaluation."""
        self.unevaluated_chars = 0
        self.deltas = 0
        self.last_eval = self.clock()


@dataclass(slots=True)
class GuardStats:
    """What one guard did so far: read by the gateway for metrics and audit.

    Attributes:
        evaluations: Evaluations (detector runs over new text).
        deltas_in: Deltas pushed.
        chars_in: Chars of the pushed deltas.
        deltas_out: Deltas released.
        chars_out: Chars of the released deltas (after redaction).
        held_chars: Chars pushed but not released yet.
        peak_held_chars: The most ``held_chars`` ever was after a push.
        seconds: Time spent in ``push`` and ``end`` (synchronous CPU work).
        delta_seconds: Time of each ``push``, in order; the first
            :data:`MAX_TIMED_DELTAS` only (memory stays bounded on long streams).
    """

    evaluations: int = 0
    deltas_in: int = 0
    chars_in: int = 0
    deltas_out: int = 0
    chars_out: int = 0
    held_chars: int = 0
    peak_held_chars: int = 0
    seconds: float = 0.0
    delta_seconds: list[float] = field(default_factory=list)


class _Channel:
    __slots__ = ("deltas", "held", "held_from", "name", "pending", "scanner", "schedule")

    def __init__(self, name: str, scanner: IncrementalScanner, schedule: EvaluationSchedule):
        self.name = name
        self.scanner = scanner
        self.schedule = schedule
        self.held = ""  # text not yet released, from absolute offset held_from
        self.held_from = 0
        self.deltas: deque[int] = deque()  # end offsets of the held deltas, oldest first
        self.pending: list[Redaction] = []  # known redactions not yet fully released


class GuardedStream:
    """The :class:`~tidegate.guard.hook.StreamGuard` for one response.

    Args:
        plan: The direction's plan (detectors, policies, enforcing set).
        streaming: Strategy settings.
        audit: Where findings are recorded.
        fail_open: On a detector failure, release the text (and log) instead
            of blocking.
        early_termination: Whether output block policies end the stream.
        clock: Monotonic clock in seconds.
        termination: The error a block raises (default: tidegate's own).
        offload: Runs classifier scoring off the event loop, for
            :meth:`paced` (the engine's worker threads).

    Attributes:
        stats: Counts and timings (deltas, chars, holdback, evaluations).
    """

    def __init__(
        self,
        plan: Plan,
        streaming: StreamingConfig,
        audit: AuditSink,
        *,
        fail_open: bool = False,
        early_termination: bool = True,
        clock: Clock = time.monotonic,
        termination: TerminationConfig | None = None,
        offload: Offload | None = None,
    ) -> None:
        self._termination = termination
        self._plan = plan
        self._streaming = streaming
        self._audit = audit
        self._fail_open = fail_open
        self._early_termination = early_termination
        self._clock = clock
        self._channels: dict[str, _Channel] = {}
        self._enforcing = bool(plan.enforcing)
        self.stats = GuardStats()
        self._enforcing_idx = tuple(
            i for i, d in enumerate(plan.detectors) if any(d is e for e in plan.enforcing)
        )
        self._offload = offload
        self._judge = (
            ClassifierJudge(
                plan,
                streaming,
                audit,
                fail_open=fail_open,
                early_termination=early_termination,
                termination=termination,
            )
            if plan.classifiers
            else None
        )
        self._holds = self._enforcing or (self._judge is not None and self._judge.holds)

    def _channel(self, name: str) -> _Channel:
        channel = self._channels.get(name)
        if channel is None:
            channel = _Channel(
                name,
                IncrementalScanner(self._plan.detector_set),
                EvaluationSchedule(self._streaming, self._clock),
            )
            self._channels[name] = channel
        return channel

    def push(self, channel: str, text: str) -> list[str]:
        """Offer a delta; return the deltas released now (see ``StreamGuard``).

        Raises:
            PolicyViolation: A block policy matched, or a detector failed
                (fail closed).
        """
        stats = self.stats
        stats.deltas_in += 1
        stats.chars_in += len(text)
        t0 = time.perf_counter()
        try:
            released = self._push(channel, text)
        finally:
            spent = time.perf_counter() - t0
            stats.seconds += spent
            if len(stats.delta_seconds) < MAX_TIMED_DELTAS:
                stats.delta_seconds.append(spent)
        stats.deltas_out += len(released)
        stats.chars_out += sum(map(len, released))
        if stats.held_chars > stats.peak_held_chars:
            stats.peak_held_chars = stats.held_chars
        return released

    def _push(self, channel: str, text: str) -> list[str]:
        judge = self._judge
        if not self._plan.detectors and judge is None:
            return [text]
        ch = self._channel(channel)
        if self._plan.detectors:
            ch.scanner.feed(text)
            if ch.schedule.note(text):
                self._evaluate(ch, final=False)
        if judge is not None:
            judge.feed(channel, text)
        if not self._holds:
            ch.held_from += len(text)
            return [text]
        ch.held += text
        self.stats.held_chars += len(text)
        ch.deltas.append(ch.held_from + len(ch.held))
        return self._release(ch, final=False)

    def end(self, channel: str) -> list[str]:
        """Final evaluation of a channel; release every delta still held.

        Raises:
            PolicyViolation: A block policy matched.
        """
        ch = self._channels.pop(channel, None)
        if ch is None:
            return []
        stats = self.stats
        t0 = time.perf_counter()
        try:
            if self._plan.detectors:
                self._evaluate(ch, final=True)
            if self._judge is not None:
                self._judge.finish(channel)
            released = self._release(ch, final=True)
        finally:
            stats.seconds += time.perf_counter() - t0
        stats.deltas_out += len(released)
        stats.chars_out += sum(map(len, released))
        return released

    def active(self) -> bool:
        """Whether any detector (pattern or classifier) runs on this direction."""
        return bool(self._plan.detectors or self._plan.classifiers)

    def is_clean(self, text: str) -> bool:
        """Whether no detector reports anything in ``text``, as one whole text.

        A cheap pre-check for short structural values (ids, names): nothing
        is recorded, nothing is released. A failing detector counts as not
        clean, so the caller falls back to the full guard (which fails closed).
        Only pattern detectors are consulted: classifiers judge text, and a
        structural value (an id, a name, a header) is not text they could
        judge in any meaningful way (under 8 letters they score nothing).
        """
        if not self._plan.detectors:
            return True
        try:
            return not scan_text(text, self._plan.detector_set)
        except DetectorError:
            return False

    def holding(self) -> bool:
        """Whether any channel holds text back."""
        return any(ch.held for ch in self._channels.values())

    async def paced(self, chunks: AsyncIterator[T]) -> AsyncIterator[T]:
        """Relay ``chunks``, judging due classifier windows off the event loop between them.

        The relay processes each chunk (pushing its deltas) before it asks for
        the next; in between, the windows those deltas completed are scored in
        a worker thread (:meth:`settle`). Held text they clear is released with
        the next chunk's deltas, or by ``end``. When the upstream is done, the
        windows that ending each open channel will need are scored ahead, so
        ``end`` finds them ready.

        Args:
            chunks: The upstream body chunks.

        Yields:
            The same chunks.

        Raises:
            PolicyViolation: A block policy flagged a window (the relay turns
                it into the format's error event).
        """
        if self._judge is None or self._offload is None:
            async for chunk in chunks:
                yield chunk
            return
        self._judge.deferred = True
        async for chunk in chunks:
            yield chunk
            await self.settle()
        await self.settle(final=True)

    async def settle(self, *, final: bool = False) -> None:
        """Score the due classifier windows in a worker thread and apply the verdicts.

        Args:
            final: Also score the windows that ending each open channel needs.

        Raises:
            PolicyViolation: A block policy flagged a window, or the classifier
                failed (fail closed).
        """
        judge = self._judge
        if judge is None or self._offload is None or not (final or judge.due()):
            return
        try:
            scored = await self._offload(partial(judge.score_due, final=final))
        except Exception as exc:  # a broken model fails closed, as inline
            judge.failed("", exc)
            return
        judge.apply(scored)

    def _evaluate(self, ch: _Channel, *, final: bool) -> None:
        self.stats.evaluations += 1
        try:
            found = ch.scanner.scan(final=final)
        except DetectorError as exc:
            self._detector_failed(ch, exc)
            found = []
        ch.schedule.evaluated()
        for finding in found:
            self._decide(ch, finding)

    def _detector_failed(self, ch: _Channel, exc: DetectorError) -> None:
        log = get_logger("guard")
        policies = self._plan.policies.get(exc.detector, ())
        policy = policies[0].name if policies else "<unknown>"
        log.error(
            "detector_failed", detector=exc.detector, policy=policy, fail_open=self._fail_open
        )
        if self._fail_open:
            return
        event_id = new_event_id()
        self._audit.record(
            GuardEvent(
                event_id,
                self._plan.direction,
                policy,
                "block",
                exc.detector,
                "DETECTOR_FAILURE",
                0,
                0,
                1.0,
                ch.name,
            )
        )
        raise PolicyViolation(policy, event_id, self._plan.direction, self._termination)

    def _decide(self, ch: _Channel, finding: Finding) -> None:
        policy = self._plan.top_policy(finding.detector)
        action = policy.action
        if action == "block" and not self._early_termination:
            action = "block_recorded"
        event_id = new_event_id()
        self._audit.record(
            GuardEvent(
                event_id,
                self._plan.direction,
                policy.name,
                action,
                finding.detector,
                finding.entity_type,
                finding.start,
                finding.end,
                finding.score,
                ch.name,
            )
        )
        if action == "block":
            raise PolicyViolation(policy.name, event_id, self._plan.direction, self._termination)
        if action == "redact" or (action == "block_recorded" and self._has_redact(finding)):
            ch.pending.append(
                Redaction(finding.start, finding.end, self._plan.placeholder(finding))
            )

    def _has_redact(self, finding: Finding) -> bool:
        return any(p.action == "redact" for p in self._plan.policies[finding.detector])

    def _release(self, ch: _Channel, *, final: bool) -> list[str]:
        end = ch.held_from + len(ch.held)
        safe = end
        if not final:
            if self._enforcing:
                safe = min(safe, ch.scanner.settled(self._enforcing_idx))
            if self._judge is not None and self._judge.holds:
                safe = min(safe, self._judge.judged_to(ch.name))
        if not ch.deltas or ch.deltas[0] > safe:
            return []
        spans = merge_redactions(ch.pending)
        released: list[str] = []
        start = ch.held_from
        while ch.deltas and ch.deltas[0] <= safe:
            stop = ch.deltas.popleft()
            released.append(redact_segment(ch.held, ch.held_from, start, stop, spans))
            start = stop
        ch.held = ch.held[start - ch.held_from :]
        self.stats.held_chars -= start - ch.held_from
        ch.held_from = start
        ch.pending = [span for span in spans if span.end > start]
        return released
