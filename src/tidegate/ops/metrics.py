"""Prometheus series of one gateway, in a registry the gateway owns.

Every series lives in :attr:`GatewayMetrics.registry`, created per gateway
(no global registry), so tests can run several gateways in one process.

**Multiprocess mode.** When ``PROMETHEUS_MULTIPROC_DIR`` is set before the
process starts (as prometheus-client requires: it picks its value store at
import), every worker writes its values to files in that directory, and
``/metrics`` answers with :class:`prometheus_client.multiprocess.MultiProcessCollector`,
which sums them over all workers (``tidegate_streams_active`` sums over live
workers only). The directory must be empty when the gateway starts.

Labels only ever carry bounded, configured values: route templates, wire
formats, policy, detector and upstream names, entity types, actions, error
codes and HTTP statuses. Never a detected value, a prompt, a model name sent
by a client, or a key.
"""

from __future__ import annotations

import os
import platform

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from tidegate import __version__
from tidegate.errors import ConfigError

# Seconds. From 0.5 ms (a local upstream) to 60 s (a slow model's first token).
TTFT_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
)
# Seconds of guard CPU: a delta costs tens of µs (bench/README.md), a request ms.
GUARD_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1, 1)
# Seconds a stream lasts.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
# Deltas per stream.
TOKEN_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)
# Chars held back at the peak of a stream; the longest detector span is ~6000.
HOLDBACK_BUCKETS = (0, 8, 32, 64, 128, 256, 512, 1024, 4096, 16384)


class GatewayMetrics:
    """The gateway's Prometheus series.

    Args:
        multiprocess_dir: ``PROMETHEUS_MULTIPROC_DIR``, or None for a
            single process.

    Raises:
        ConfigError: ``multiprocess_dir`` is set but is not a directory, or
            was set after prometheus-client was imported.
    """

    def __init__(self, multiprocess_dir: str | None = None) -> None:
        if multiprocess_dir is not None:
            if not os.path.isdir(multiprocess_dir):
                raise ConfigError(
                    [f"PROMETHEUS_MULTIPROC_DIR: {multiprocess_dir} is not a directory"]
                )
            if not getattr(values.ValueClass, "_multiprocess", False):
                raise ConfigError(
                    ["PROMETHEUS_MULTIPROC_DIR: must be set before tidegate starts, not later"]
                )
        self.multiprocess_dir = multiprocess_dir
        self.registry = CollectorRegistry()
        reg = self.registry
        self.streams_active = Gauge(
            "tidegate_streams_active",
            "Streams being relayed now.",
            ["route", "format"],
            registry=reg,
            multiprocess_mode="livesum",
        )
        self.evaluations = Counter(
            "tidegate_stream_evaluations",
            "Output guard evaluations (detector runs over new text), per policy they serve.",
            ["policy", "strategy"],
            registry=reg,
        )
        self.terminations = Counter(
            "tidegate_stream_terminations",
            "Streams ended early: output_blocked, upstream_failed, client_disconnected.",
            ["policy", "reason"],
            registry=reg,
        )
        self.bytes = Counter(
            "tidegate_stream_bytes_processed",
            "Stream bytes: direction=upstream read from the upstream, client sent to the client.",
            ["direction"],
            registry=reg,
        )
        self.duration = Histogram(
            "tidegate_stream_duration_seconds",
            "Stream duration, request arrival to last byte.",
            registry=reg,
            buckets=DURATION_BUCKETS,
        )
        self.tokens = Histogram(
            "tidegate_stream_tokens",
            "Text deltas received from the upstream per stream.",
            registry=reg,
            buckets=TOKEN_BUCKETS,
        )
        self.stream_errors = Counter(
            "tidegate_stream_errors",
            "Streams that failed, by error code.",
            ["error_type"],
            registry=reg,
        )
        self.requests = Counter(
            "tidegate_requests",
            "Completion requests, by route, wire format and HTTP status sent.",
            ["route", "format", "status"],
            registry=reg,
        )
        self.findings = Counter(
            "tidegate_findings",
            "Guard findings.",
            ["detector", "entity_type", "action", "direction"],
            registry=reg,
        )
        self.guard_added = Histogram(
            "tidegate_guard_added_seconds",
            "Time spent in the guard (synchronous CPU work): per request and per output delta.",
            ["unit"],
            registry=reg,
            buckets=GUARD_BUCKETS,
        )
        self.holdback = Histogram(
            "tidegate_holdback_chars",
            "Chars the output guard held back at the peak of each response.",
            registry=reg,
            buckets=HOLDBACK_BUCKETS,
        )
        self.ttft = Histogram(
            "tidegate_ttft_seconds",
            "Streams: request arrival to first body bytes, stage=upstream (from the upstream) "
            "or client (to the client).",
            ["stage"],
            registry=reg,
            buckets=TTFT_BUCKETS,
        )
        self.upstream_errors = Counter(
            "tidegate_upstream_errors",
            "Upstream failures: error code, or http_<status> for an HTTP error answer.",
            ["upstream", "kind"],
            registry=reg,
        )
        self.audit_dropped = Counter(
            "tidegate_audit_dropped",
            "Audit records not persisted (queue full or store failing).",
            registry=reg,
        )
        self.build_info = Gauge(
            "tidegate_build_info",
            "Always 1; the labels say which tidegate runs.",
            ["version", "python"],
            registry=reg,
            multiprocess_mode="max",
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)
        # Children used on every request, resolved once.
        self.guard_per_delta = self.guard_added.labels("delta")
        self.guard_per_request = self.guard_added.labels("request")
        self.ttft_upstream = self.ttft.labels("upstream")
        self.ttft_client = self.ttft.labels("client")
        self.bytes_upstream = self.bytes.labels("upstream")
        self.bytes_client = self.bytes.labels("client")

    def render(self) -> tuple[bytes, str]:
        """The text exposition of every series, and its content type.

        In multiprocess mode the values of every worker, summed.
        """
        if self.multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST

    def close(self) -> None:
        """Multiprocess mode: drop this worker's live gauges (it is exiting)."""
        if self.multiprocess_dir is not None:
            mark_process_dead(os.getpid(), self.multiprocess_dir)  # type: ignore[no-untyped-call]
