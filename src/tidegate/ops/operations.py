"""The gateway's operations object: metrics, audit store and request logs.

:class:`Operations` is built by ``create_app`` and hangs off the gateway
(``gateway.ops``). It owns the Prometheus registry
(:class:`~tidegate.ops.metrics.GatewayMetrics`), the audit writer thread,
and the two per-request log lines: the access log line (every request) and
``request_completed`` (every proxied completion request, with the request
record's fields). All of that happens in :meth:`Operations.finish`, once
per request, after its last byte was sent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, MutableMapping
from typing import Any

import anyio

from tidegate.audit import AuditLog, GuardEvent
from tidegate.config import TidegateConfig
from tidegate.errors import AuditUnavailableError
from tidegate.guard.engine import GuardEngine
from tidegate.guard.stream import GuardStats
from tidegate.logs import get_logger
from tidegate.ops.metrics import GatewayMetrics
from tidegate.ops.observe import RequestObservation
from tidegate.store.database import Database, open_database
from tidegate.store.records import (
    MAX_MODEL_CHARS,
    REQUEST_COLUMNS,
    Outcome,
    RequestRecord,
    iso_utc,
)
from tidegate.store.writer import AuditWriter

# Status recorded when the client left before any response was started
# (nginx's "client closed request").
CLIENT_CLOSED_STATUS = 499
# Longest request path written to the access log, in chars.
_MAX_LOGGED_PATH = 200


class Operations:
    """Metrics, audit store and request logs of one gateway.

    Args:
        config: The gateway configuration (``metrics``, ``audit`` sections).
        audit: The gateway's audit log; the store and the findings counter
            are added as its sinks.
        environ: Environment (``PROMETHEUS_MULTIPROC_DIR``, ``audit.url_env``);
            default ``os.environ``.

    Raises:
        ConfigError: ``audit.url_env`` is unset, or ``PROMETHEUS_MULTIPROC_DIR``
            is unusable.
    """

    def __init__(
        self,
        config: TidegateConfig,
        audit: AuditLog,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.audit = audit
        self.metrics: GatewayMetrics | None = None
        if config.metrics.enabled:
            self.metrics = GatewayMetrics(env.get("PROMETHEUS_MULTIPROC_DIR") or None)
            audit.add_sink(self._count_finding)
        self.database: Database | None = open_database(config.audit)
        self.writer: AuditWriter | None = None
        if self.database is not None:
            self.writer = AuditWriter(
                self.database,
                queue_size=config.audit.queue_size,
                batch_size=config.audit.batch_size,
                on_failure=config.audit.on_failure,
                retention_days=config.audit.retention_days,
                on_dropped=self._count_dropped,
            )
            audit.add_sink(self.writer.put_event)
        self._block = config.audit.on_failure == "block"
        self._policy_names: dict[int, tuple[str, ...]] = {}
        self._log = get_logger("requests")
        self._access = get_logger("access")

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the audit writer and bind the request loggers (at app startup).

        The loggers are bound to the logging configuration of that moment
        (a lazy structlog logger rebinds on every call: 3.5 µs, even when
        the level filters the line out); configure logging before serving.
        """
        self._log = get_logger("requests").bind()
        self._access = get_logger("access").bind()
        if self.writer is not None:
            self.writer.start()

    async def aclose(self) -> None:
        """Write what is queued and stop the writer (at app shutdown)."""
        if self.writer is not None:
            await anyio.to_thread.run_sync(self.writer.close)
        if self.metrics is not None:
            self.metrics.close()

    # ------------------------------------------------------------------ per request

    def observe(self, scope: MutableMapping[str, Any]) -> RequestObservation:
        """A new observation for the request of ``scope``."""
        return RequestObservation(self, scope)

    def check_audit_available(self) -> None:
        """Fail closed when the store is down and ``on_failure`` is ``block``.

        Raises:
            AuditUnavailableError: The store is failing (or its queue is full).
        """
        if self._block and self.writer is not None and not self.writer.available:
            raise AuditUnavailableError(
                "the audit store is unavailable and audit.on_failure is 'block'"
            )

    def output_policy_names(self, engine: GuardEngine) -> tuple[str, ...]:
        """Names of the output policies of ``engine`` (cached per engine)."""
        names = self._policy_names.get(id(engine))
        if names is None:
            plan = engine.output_plan.policies
            names = tuple(sorted({p.name for policies in plan.values() for p in policies}))
            self._policy_names[id(engine)] = names
        return names

    def stream_started(self, obs: RequestObservation) -> None:
        """A stream's response started: count it as active."""
        if self.metrics is not None and obs.route is not None:
            self.metrics.streams_active.labels(obs.route, obs.format).inc()
            obs.stream_counted = True

    def finish(self, obs: RequestObservation) -> None:
        """The request is over: metrics, access log, request record and its log line."""
        now = time.perf_counter()
        duration_s = now - obs.started
        status = obs.status or (CLIENT_CLOSED_STATUS if obs.disconnected else 500)
        self._access.info(
            "access",
            request_id=obs.request_id,
            method=obs.method,
            path=obs.path[:_MAX_LOGGED_PATH],
            status=status,
            duration_ms=round(duration_s * 1000, 3),
            bytes_out=obs.bytes_out,
            client=obs.client,
            key_name=obs.key_name,
        )
        if obs.route is None:
            return
        totals = obs.guard_totals()
        record = self._record(obs, totals, status, duration_s)
        if self.metrics is not None:
            self._count(obs, record, totals, duration_s)
        if self.writer is not None:
            self.writer.put_request(record)
        self._log.info(
            "request_completed", **{name: getattr(record, name) for name in REQUEST_COLUMNS}
        )

    def _record(
        self, obs: RequestObservation, totals: GuardStats, status: int, duration_s: float
    ) -> RequestRecord:
        outcome: Outcome | None = obs.outcome
        if outcome is None:
            if obs.disconnected:
                outcome = "client_disconnected"
                if obs.streaming:
                    obs.termination = "client_disconnected"
            else:
                outcome = "error" if status >= 500 else "completed"
        ttft_ms = None
        if obs.streaming and obs.first_client is not None:
            ttft_ms = round((obs.first_client - obs.started) * 1000, 3)
        return RequestRecord(
            request_id=obs.request_id,
            ts=iso_utc(obs.started_unix),
            route=obs.route or "",
            format=obs.format,
            upstream=obs.upstream,
            model=obs.model[:MAX_MODEL_CHARS] if obs.model else obs.model,
            key_name=obs.key_name,
            status=status,
            outcome=outcome,
            policy=obs.policy if outcome == "terminated" else None,
            error=obs.error,
            duration_ms=round(duration_s * 1000, 3),
            ttft_ms=ttft_ms,
            deltas_in=totals.deltas_in,
            deltas_out=totals.deltas_out,
            chars_in=totals.chars_in,
            chars_out=totals.chars_out,
            findings=obs.findings,
        )

    def _count(
        self, obs: RequestObservation, record: RequestRecord, totals: GuardStats, duration_s: float
    ) -> None:
        m = self.metrics
        assert m is not None
        route = record.route
        m.requests.labels(route, obs.format, str(record.status)).inc()
        if obs.upstream is not None:
            m.guard_per_request.observe(totals.seconds)
        per_delta = m.guard_per_delta
        for spent in totals.delta_seconds:
            per_delta.observe(spent)
        for guard in obs.guards:
            m.holdback.observe(guard.stats.peak_held_chars)
        if totals.evaluations:
            for policy in obs.policy_names:
                m.evaluations.labels(policy, obs.strategy).inc(totals.evaluations)
        if obs.upstream_error is not None:
            m.upstream_errors.labels(obs.upstream or "none", obs.upstream_error).inc()
        if not obs.streaming:
            return
        if obs.stream_counted:
            m.streams_active.labels(route, obs.format).dec()
        m.duration.observe(duration_s)
        m.tokens.observe(totals.deltas_in)
        if obs.first_upstream is not None:
            m.ttft_upstream.observe(obs.first_upstream - obs.started)
        if obs.first_client is not None:
            m.ttft_client.observe(obs.first_client - obs.started)
        m.bytes_upstream.inc(obs.bytes_in)
        m.bytes_client.inc(obs.bytes_out)
        if obs.termination is not None:
            blocked = obs.termination == "output_blocked" and obs.policy is not None
            m.terminations.labels(obs.policy if blocked else "none", obs.termination).inc()
        if obs.stream_error is not None:
            m.stream_errors.labels(obs.stream_error).inc()

    # ------------------------------------------------------------------ sinks

    def _count_finding(self, event: GuardEvent) -> None:
        assert self.metrics is not None
        self.metrics.findings.labels(
            event.detector, event.entity_type, event.action, event.direction
        ).inc()

    def _count_dropped(self, count: int) -> None:
        if self.metrics is not None:
            self.metrics.audit_dropped.inc(count)
