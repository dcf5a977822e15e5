"""The classifier path of the stream guard: windows, verdicts, holdback and exposure.

Pattern detectors find spans and are handled by the incremental scanner;
classifier detectors (the ``threats`` group, ``onnx`` detectors) judge whole
windows (:mod:`tidegate.guard.windows`). This module keeps, per channel, the
windows cut so far and the offset up to which text has been judged, and turns
scores into findings, audit events and blocks.

Two ways to run, chosen by the caller:

* **inline** (the default): windows are scored as soon as they are cut,
  inside ``push``/``end``. Used for input texts and non-streamed bodies, which
  the gateway already runs in a worker thread, and in-process.
* **deferred**: for streamed responses. ``push`` only cuts windows; the relay
  awaits :meth:`ClassifierJudge.settle` between upstream reads (see
  :meth:`~tidegate.guard.stream.GuardedStream.paced`), which scores the due
  windows in the engine's worker threads. A channel's end must release every
  held delta, so its last window (at most ``window_chars`` plus the overlap)
  is judged inline unless it was scored ahead (the relay does so for every
  open channel when the upstream ends); its whole-text judgement, whose cost
  grows with the response, is then a late verdict of the next settle.

Holdback: under a ``block`` policy with ``stream_first: false``, text is
released only up to the end of the last judged window (:meth:`judged_to`).
With ``stream_first: true`` it is released at once; a flagged window then ends
the stream, and the text released but not yet judged is kept under
``window_chars`` plus one delta: when more is pending, the due windows are
judged inline before more text goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tidegate.audit import AuditSink, GuardEvent, new_event_id
from tidegate.config import StreamingConfig, TerminationConfig
from tidegate.detectors.base import Finding
from tidegate.detectors.classifier import ClassifierDetector, TextClassifier
from tidegate.errors import PolicyViolation
from tidegate.guard.policy import Plan
from tidegate.guard.windows import ChannelWindows, Window
from tidegate.logs import get_logger

Scores = tuple[float, ...]
Scored = dict[Window, dict[str, Scores]]


@dataclass(slots=True)
class _Channel:
    windows: ChannelWindows
    pending: list[Window] = field(default_factory=list)  # cut, not yet judged
    judged_to: int = 0  # text before this is judged (clean, or recorded)
    fired: set[str] = field(default_factory=set)  # detectors already reported
    cache: dict[Window, dict[str, Scores]] = field(default_factory=dict)


class ClassifierJudge:
    """Per-response state of the classifier detectors of one plan.

    Args:
        plan: The direction's plan; only ``plan.classifiers`` are used.
        streaming: Window sizes (``window_chars``, ``window_overlap_chars``).
        audit: Where findings are recorded.
        fail_open: On a classifier failure, release the text (and log).
        early_termination: Whether output ``block`` ends the stream.
    """

    def __init__(
        self,
        plan: Plan,
        streaming: StreamingConfig,
        audit: AuditSink,
        *,
        fail_open: bool = False,
        early_termination: bool = True,
        termination: TerminationConfig | None = None,
    ) -> None:
        self._plan = plan
        self._termination = termination
        self._window = streaming.window_chars
        self._overlap = streaming.window_overlap_chars
        self._audit = audit
        self._fail_open = fail_open
        self._early_termination = early_termination
        self._channels: dict[str, _Channel] = {}
        self._late: list[tuple[str, _Channel, list[Window]]] = []  # ended, whole text unjudged
        self.deferred = False
        self.holds = plan.classifier_hold
        self._models = _by_model(plan.classifiers)

    def _channel(self, name: str) -> _Channel:
        ch = self._channels.get(name)
        if ch is None:
            ch = self._channels[name] = _Channel(ChannelWindows(self._window, self._overlap))
        return ch

    def feed(self, channel: str, text: str) -> None:
        """Add a delta; judge the windows it completes (inline, or when due).

        Raises:
            PolicyViolation: A block policy flagged a window.
        """
        ch = self._channel(channel)
        ch.pending.extend(ch.windows.feed(text))
        if not ch.pending:
            return
        unjudged = ch.windows.end - ch.judged_to
        if not self.deferred or (not self.holds and unjudged > self._window):
            self._judge(channel, ch, ch.pending)

    def judged_to(self, channel: str) -> int:
        """Absolute offset up to which the channel's text has been judged."""
        ch = self._channels.get(channel)
        return ch.judged_to if ch is not None else 0

    def finish(self, channel: str) -> None:
        """The channel ended: judge its last window and its whole text.

        Inline, except in deferred mode for a whole text not scored ahead: that
        judgement (the one whose cost grows with the response) is left to the
        next :meth:`apply`, off the event loop, as a late verdict.

        Raises:
            PolicyViolation: A block policy flagged a window.
        """
        ch = self._channels.pop(channel, None)
        if ch is None:
            return
        ending = [*ch.pending, *ch.windows.finish()]
        if self.deferred:
            late = [w for w in ending if w.whole and w not in ch.cache]
            if late:
                self._late.append((channel, ch, late))
                ending = [w for w in ending if not w.whole or w in ch.cache]
        self._judge(channel, ch, ending)

    def due(self) -> bool:
        """Whether any window waits for :meth:`score_due`."""
        return bool(self._late) or any(ch.pending for ch in self._channels.values())

    def score_due(self, *, final: bool) -> list[tuple[str, Scored]]:
        """Score every waiting window, plus, with ``final``, each open channel's end windows.

        Pure: reads the channels but changes nothing, so it may run in a worker
        thread while the event loop waits. Apply the result with :meth:`apply`.

        Returns:
            Per channel (by name, open or ended), the scores of its windows.
        """
        out = []
        for name, ch, windows in self._late:
            out.append((name, self._score(ch.windows, windows)))
        for name, ch in self._channels.items():
            todo = list(ch.pending)
            if final:
                todo += ch.windows.ending()
            todo = [w for w in todo if w not in ch.cache]
            if todo:
                out.append((name, self._score(ch.windows, todo)))
        return out

    def apply(self, scored: list[tuple[str, Scored]]) -> None:
        """Store scores from :meth:`score_due`; judge the waiting windows they cover.

        Raises:
            PolicyViolation: A block policy flagged a window (a late whole-text
                verdict included).
        """
        late, self._late = self._late, []
        for name, ch, windows in late:
            for _, results in scored:
                ch.cache.update({w: r for w, r in results.items() if w in windows})
            waiting = [w for w in windows if w not in ch.cache]
            if waiting:  # not scored in this round: keep it for the next
                self._late.append((name, ch, waiting))
            self._judge(name, ch, [w for w in windows if w in ch.cache])
        for name, results in scored:
            open_ch = self._channels.get(name)
            if open_ch is None:
                continue
            open_ch.cache.update(results)
            ready = [w for w in open_ch.pending if w in open_ch.cache]
            if ready:
                self._judge(name, open_ch, ready)

    def _score(
        self, windows: ChannelWindows, todo: Sequence[Window]
    ) -> dict[Window, dict[str, Scores]]:
        texts = [windows.text(w) for w in todo]
        per_window: dict[Window, dict[str, Scores]] = {w: {} for w in todo}
        for model in self._models:
            for window, scores in zip(todo, model.score(texts), strict=True):
                per_window[window][model.name] = scores
        return per_window

    def _judge(self, channel: str, ch: _Channel, windows: Sequence[Window]) -> None:
        windows = list(windows)  # may be ch.pending itself, which shrinks below
        todo = [w for w in windows if w not in ch.cache]
        if todo:
            try:
                ch.cache.update(self._score(ch.windows, todo))
            except Exception as exc:  # a broken model must not pass text silently
                self.failed(channel, exc)
                ch.cache.update({w: {} for w in todo})
        for window in windows:
            scores = ch.cache.pop(window)
            if window in ch.pending:
                ch.pending.remove(window)
            for detector in self._plan.classifiers:
                model_scores = scores.get(detector.classifier.name)
                if model_scores is None or detector.name in ch.fired:
                    continue
                finding = detector.judge(model_scores, window.start, window.end)
                if finding is not None:
                    ch.fired.add(detector.name)
                    self._decide(channel, finding)
            ch.judged_to = max(ch.judged_to, window.end)

    def failed(self, channel: str, exc: Exception) -> None:
        """A classifier raised: log, then block (fail closed) unless ``fail_open``.

        Raises:
            PolicyViolation: Always, unless ``fail_open``.
        """
        names = [d.name for d in self._plan.classifiers]
        policies = [p for n in names for p in self._plan.policies.get(n, ())]
        policy = policies[0].name if policies else "<unknown>"
        get_logger("guard").error(
            "classifier_failed",
            detectors=names,
            error=type(exc).__name__,
            fail_open=self._fail_open,
        )
        if self._fail_open:
            return
        event_id = new_event_id()
        direction = self._plan.direction
        self._audit.record(
            GuardEvent(
                event_id,
                direction,
                policy,
                "block",
                names[0],
                "DETECTOR_FAILURE",
                0,
                0,
                1.0,
                channel,
            )
        )
        raise PolicyViolation(policy, event_id, direction, self._termination) from exc

    def _decide(self, channel: str, finding: Finding) -> None:
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
                channel,
                threat_type=finding.entity_type,
            )
        )
        if action == "block":
            raise PolicyViolation(
                policy.name,
                event_id,
                self._plan.direction,
                self._termination,
                threat_type=finding.entity_type,
                score=finding.score,
            )


def _by_model(detectors: Sequence[ClassifierDetector]) -> list[TextClassifier]:
    models: dict[str, TextClassifier] = {}
    for detector in detectors:
        models.setdefault(detector.classifier.name, detector.classifier)
    return list(models.values())
