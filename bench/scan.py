"""Scan benchmark: what do the detectors and the stream guard cost per character?

Method
------
Everything runs in this one process, on one thread (one core).

* **Text** -- deterministic LLM-answer-like English prose (``--seed``): paragraphs,
  Markdown headings, bullet and numbered lists, inline code, and sentences made
  of common words (Zipf-weighted, not grammatical) with numbers of many shapes
  (counts, years, ISO dates, times, prices, percentages, version strings). About one sentence
  in 30 carries a PII-like value: an e-mail address, a phone number, a
  card-like number, an SSN-like number, an IPv4 address or an IBAN. The text is
  checked to contain no secret (no finding of any ``secrets`` detector): the
  default ``block-secrets`` policy would end the stream. It is ASCII, so one
  char is one byte; 1 KB = 1,000 chars and MB/s = 10^6 chars per second.
* **One-shot** -- ``scan_text(chunk, default_detectors())``.
* **Streaming** -- an ``IncrementalScanner`` over all default detectors, fed the
  chunk in ``--delta-chars`` (4) char deltas with ``scan()`` after every delta
  (what the ``continuous`` strategy does), then ``scan(final=True)``. The deltas
  are cut before the clock starts.
* **Cost per char** -- for each size (1 KB, 10 KB, 100 KB, 1 MB) the 1 MB text
  is cut into consecutive chunks of that size, and one timed run scans as many
  chunks as make up ``--oneshot-chars`` (1 MB) or ``--stream-chars`` (100 KB;
  at least one chunk): small sizes are repeated, and every size scans the same
  kind of text. One run is timed as a whole with ``time.perf_counter_ns`` and
  divided by the chars scanned; the table shows the median of ``--runs`` (5)
  one-shot and ``--stream-runs`` (3) streaming runs (runs outermost, so slow
  drift spreads over all sizes) and the spread between runs.
* **Per-delta guard overhead** -- ``GuardEngine(config).new_stream()`` and
  ``push("0:content", delta)`` for every 4-char delta of a ``--guard-chars``
  (100 KB) stream, each call timed on its own with ``perf_counter_ns``, after a
  short warm-up stream; ``--stream-runs`` streams, and each percentile is the
  median over the streams of that stream's percentile. Three configs: the
  default (redact PII, block secrets, ``continuous``); one ``observe`` policy
  over ``pii`` and ``secrets`` (nothing is held back, findings are only
  recorded); and ``policies: []`` (no detector: the floor, i.e. the cost of
  the call and the timer). Audit records are rendered as JSON logs at
  ``info`` level into ``/dev/null``.
* **Per detector** -- the same measurements with one detector at a time:
  one-shot over ``--detector-chars`` (200 KB), streaming over
  ``--detector-stream-chars`` (20 KB); medians of ``--runs``/``--stream-runs``.
* **Profile** -- when one-shot throughput misses the goal (``--profile auto``),
  ``cProfile`` of a one-shot and of a streaming scan; the functions with the
  most own time are listed.

Goals: one-shot scan >= 50 MB/s per core; per-delta guard overhead p99 <= 100 us
(default config); flat cost per char, i.e. for each mode the largest ns/char
over the four sizes is at most 1.5x the smallest. The numbers are printed as
measured, whatever they are.

Run: ``.venv/bin/python bench/scan.py [--runs N] [--stream-runs N] [--out FILE|-]``. The
section is printed and written to the ``## Scan benchmark`` section of
``--out`` (replaced on re-run, the rest of the file is kept).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime
import gc
import importlib.metadata
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidegate.config import TidegateConfig, parse_config
from tidegate.detectors.base import PatternDetector
from tidegate.detectors.registry import default_detectors
from tidegate.detectors.secrets import SECRET_DETECTORS
from tidegate.guard.engine import GuardEngine
from tidegate.guard.scanner import DetectorSet, IncrementalScanner, scan_text
from tidegate.logs import configure_logging

SECTION = "## Scan benchmark"
SIZES = (1_000, 10_000, 100_000, 1_000_000)
GOAL_MBPS = 50.0
GOAL_DELTA_P99_US = 100.0
FLAT_MAX_RATIO = 1.5
CHANNEL = "0:content"

# ----------------------------------------------------------------------------- text

_VOCAB = (
    "the of and to a in is that for it as with be on this are by or can you from "
    "an at which not if will your use have more data when each one their also but "
    "they has other all these how may should function model value first new time "
    "code example file system user request need step two make we its then set only "
    "into output input run any so like some using such there would default case "
    "because between different number server without than both over most while "
    "return string list error test process performance memory configuration "
    "however approach result important following support service application "
    "database query response network library version update change option method "
    "class object variable parameter instance security access token stream buffer "
    "latency throughput request client context feature pattern structure common "
    "simple specific typically usually often consider instead ensure provide allow "
    "handle create define check avoid include improve reduce increase document "
    "section table column index cache layer thread core limit budget policy rule"
)
_WORDS = tuple(_VOCAB.split())
_WEIGHTS = [1.0 / (rank + 1) ** 0.8 for rank in range(len(_WORDS))]
_FIRST = ("alice", "bob", "carol", "dmitri", "elena", "farid", "grace", "hiro", "ines")
_LAST = ("smith", "nguyen", "garcia", "muller", "okafor", "tanaka", "rossi", "kowalski")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.io")
_IBANS = ("GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "FR1420041010050500013M02606")
_CODE = ("max_tokens", "scan()", "len(text)", "--verbose", "config.yaml", "os.environ", "k=3")


def _number(rng: random.Random) -> str:
    kind = rng.randrange(10)
    if kind == 0:
        return f"{rng.randrange(1990, 2031)}"
    if kind == 1:
        return f"{rng.randrange(1, 100)}%"
    if kind == 2:
        return f"{rng.randrange(1, 10)}.{rng.randrange(100)}"
    if kind == 3:
        return f"${rng.randrange(1, 5000):,}.{rng.randrange(100):02d}"
    if kind == 4:
        return f"{rng.randrange(1000, 2_000_000):,}"
    if kind == 5:
        return f"{rng.randrange(2015, 2026)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == 6:
        return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
    if kind == 7:
        return f"v{rng.randrange(1, 5)}.{rng.randrange(20)}.{rng.randrange(10)}"
    return str(rng.randrange(1, 1000))


def _pii(rng: random.Random) -> str:
    kind = rng.randrange(7)
    if kind == 0:
        return f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}@{rng.choice(_DOMAINS)}"
    if kind == 1:
        return f"({rng.randrange(201, 990)}) 555-{rng.randrange(100, 200):04d}"
    if kind == 2:
        return f"+44 20 7946 {rng.randrange(10000):04d}"
    if kind == 3:
        return " ".join(f"{rng.randrange(10000):04d}" for _ in range(4))  # card-like
    if kind == 4:
        return f"{rng.randrange(100, 900)}-{rng.randrange(10, 99)}-{rng.randrange(1000, 9999)}"
    if kind == 5:
        return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    return rng.choice(_IBANS)


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, _WEIGHTS, k=rng.randrange(6, 25))
    out: list[str] = []
    for i, word in enumerate(words):
        roll = rng.random()
        if roll < 0.06:
            word = _number(rng)
        elif roll < 0.08:
            word = f"`{rng.choice(_CODE)}`"
        elif roll < 0.10:
            word = word.capitalize()
        if i and i < len(words) - 1 and rng.random() < 0.07:
            word += ","
        out.append(word)
    if rng.random() < 1 / 30:
        out.insert(rng.randrange(len(out) + 1), _pii(rng))
    if rng.random() < 0.05:
        k = rng.randrange(len(out) - 2)
        out[k] = "(" + out[k]
        out[k + 2] += ")"
    text = " ".join(out)
    return text[0].upper() + text[1:] + rng.choice(".......?!:")


def make_text(n_chars: int, seed: int) -> str:
    """Deterministic LLM-answer-like prose of at least ``n_chars`` chars, cut to size.

    Args:
        n_chars: Length of the result.
        seed: Seed of the generator.

    Returns:
        The text (ASCII).
    """
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < n_chars:
        roll = rng.random()
        if roll < 0.1:
            block = "### " + " ".join(rng.choices(_WORDS, _WEIGHTS, k=4)).capitalize() + "\n\n"
        elif roll < 0.3:
            bullet = rng.choice(("- ", "* ", "1. "))
            items = [bullet + _sentence(rng) for _ in range(rng.randrange(2, 6))]
            block = "\n".join(items) + "\n\n"
        else:
            block = " ".join(_sentence(rng) for _ in range(rng.randrange(2, 7))) + "\n\n"
        parts.append(block)
        size += len(block)
    return "".join(parts)[:n_chars]


# ------------------------------------------------------------------------ measuring


def deltas_of(text: str, size: int) -> list[str]:
    """``text`` cut into deltas of ``size`` chars (the last may be shorter)."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def run_oneshot(chunks: Sequence[str], detectors: Sequence[PatternDetector]) -> int:
    """One-shot scan of each chunk; returns the elapsed ns.

    The detectors are compiled for scanning once, outside the timing, as the
    guard engine does once per policy plan.
    """
    compiled = DetectorSet.build(detectors)
    t0 = time.perf_counter_ns()
    for chunk in chunks:
        scan_text(chunk, compiled)
    return time.perf_counter_ns() - t0


def run_stream(streams: Sequence[Sequence[str]], detectors: Sequence[PatternDetector]) -> int:
    """Streaming scan of each delta list (scan after every delta); returns ns."""
    compiled = DetectorSet.build(detectors)
    t0 = time.perf_counter_ns()
    for deltas in streams:
        scanner = IncrementalScanner(compiled)
        for delta in deltas:
            scanner.feed(delta)
            scanner.scan()
        scanner.scan(final=True)
    return time.perf_counter_ns() - t0


def stream_findings(deltas: Sequence[str], detectors: Sequence[PatternDetector]) -> list[Any]:
    """Findings of a streaming scan, sorted like :func:`scan_text` (sanity check)."""
    scanner = IncrementalScanner(detectors)
    found = []
    for delta in deltas:
        scanner.feed(delta)
        found += scanner.scan()
    found += scanner.scan(final=True)
    return sorted(found, key=lambda f: (f.start, f.end, f.detector))


@dataclass(frozen=True, slots=True)
class SizeResult:
    """Median cost per char of one chunk size, both modes."""

    size: int
    oneshot_ns: float
    stream_ns: float
    oneshot_chunks: int
    stream_chunks: int
    oneshot_spread: float  # slowest run / fastest run
    stream_spread: float


def _chunks(text: str, size: int, total: int) -> list[str]:
    count = max(1, total // size)
    return [text[i * size : (i + 1) * size] for i in range(count)]


def measure_sizes(
    text: str, detectors: Sequence[PatternDetector], args: argparse.Namespace
) -> list[SizeResult]:
    """Cost per char of both modes at every size, median of ``args.runs`` runs."""
    plans = []
    for size in SIZES:
        once = _chunks(text, size, args.oneshot_chars)
        streams = [deltas_of(c, args.delta_chars) for c in _chunks(text, size, args.stream_chars)]
        plans.append((size, once, streams))
    ns: dict[tuple[int, str], list[float]] = {}
    runs = max(args.runs, args.stream_runs)
    for run in range(runs):
        for size, once, streams in plans:
            _progress(f"run {run + 1}/{runs}: {size:,} chars")
            if run < args.runs:
                gc.collect()
                elapsed = run_oneshot(once, detectors)
                ns.setdefault((size, "once"), []).append(elapsed / (size * len(once)))
            if run < args.stream_runs:
                gc.collect()
                elapsed = run_stream(streams, detectors)
                ns.setdefault((size, "stream"), []).append(elapsed / (size * len(streams)))
    return [
        SizeResult(
            size,
            statistics.median(ns[size, "once"]),
            statistics.median(ns[size, "stream"]),
            len(once),
            len(streams),
            _flat_ratio(ns[size, "once"]),
            _flat_ratio(ns[size, "stream"]),
        )
        for size, once, streams in plans
    ]


@dataclass(frozen=True, slots=True)
class GuardResult:
    """Per-delta ``push`` latencies of one config, one list per stream (run)."""

    name: str
    runs_ns: list[list[int]]
    end_ns: list[int]

    def stat(self, fn: Callable[[list[int]], float]) -> float:
        """Median over the runs of ``fn`` of each run's latencies."""
        return statistics.median(fn(lat) for lat in self.runs_ns)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (``p`` in 0-100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[k])


def measure_guard(
    name: str, config: TidegateConfig, deltas: Sequence[str], runs: int
) -> GuardResult:
    """Time ``push`` of every delta of ``runs`` streams, after a warm-up stream."""
    engine = GuardEngine(config)
    warm = engine.new_stream()
    for delta in deltas[:2000]:
        warm.push(CHANNEL, delta)
    warm.end(CHANNEL)
    clock = time.perf_counter_ns
    runs_ns: list[list[int]] = []
    end_ns: list[int] = []
    for _ in range(runs):
        stream = engine.new_stream()
        latencies: list[int] = []
        gc.collect()
        for delta in deltas:
            t0 = clock()
            stream.push(CHANNEL, delta)
            latencies.append(clock() - t0)
        t0 = clock()
        stream.end(CHANNEL)
        end_ns.append(clock() - t0)
        runs_ns.append(latencies)
    return GuardResult(name, runs_ns, end_ns)


@dataclass(frozen=True, slots=True)
class DetectorResult:
    """Cost per char of one detector alone."""

    detector: PatternDetector
    oneshot_ns: float
    pattern_ns: float  # one-shot with the validator removed: the regex search alone
    stream_ns: float
    findings: int


def measure_detectors(text: str, args: argparse.Namespace) -> list[DetectorResult]:
    """Each default detector alone: one-shot and streaming ns/char (median of runs)."""
    once = text[: args.detector_chars]
    streams = [deltas_of(text[: args.detector_stream_chars], args.delta_chars)]
    results = []
    for detector in default_detectors():
        _progress(f"detector {detector.name}")
        dets = (detector,)
        bare = (dataclasses.replace(detector, validator=None),)
        o = [run_oneshot([once], dets) / len(once) for _ in range(args.runs)]
        b = [run_oneshot([once], bare) / len(once) for _ in range(args.runs)]
        n = args.detector_stream_chars
        s = [run_stream(streams, dets) / n for _ in range(args.stream_runs)]
        found = len(scan_text(once, dets))
        results.append(
            DetectorResult(
                detector,
                statistics.median(o),
                statistics.median(b),
                statistics.median(s),
                found,
            )
        )
    return results


def profile(fn: Callable[[], object], top: int) -> list[tuple[str, int, float, float]]:
    """``cProfile`` of ``fn``: (function, calls, own seconds, share of total) by own time."""
    prof = cProfile.Profile()
    prof.runcall(fn)
    stats = pstats.Stats(prof)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]]
    raw = stats.stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    rows = []
    for (file, line, func), (_cc, calls, tottime, _ct, _callers) in raw.items():
        where = f"{Path(file).name}:{line}" if file != "~" else "C"
        rows.append((f"{func} ({where})", calls, tottime, tottime / total))
    rows.sort(key=lambda r: -r[2])
    return rows[:top]


# ---------------------------------------------------------------------- reporting


def _progress(message: str) -> None:
    print(f"[scan bench] {message}", file=sys.stderr, flush=True)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_line() -> str:
    """One line describing the machine and the software stack."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{_cpu_model()}, {cores} cores ({usable} usable), Linux {platform.release()}; "
        f"Python {platform.python_version()}; regex {_version('regex')}, "
        f"phonenumbers {_version('phonenumbers')}, python-stdnum {_version('python-stdnum')}; "
        f"load average at start {load}; "
        f"{datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}"
    )


def _mbps(ns_per_char: float) -> float:
    return 1e3 / ns_per_char  # chars per ns * 1e9 / 1e6


def _size(n: int) -> str:
    return f"{n // 1_000_000} MB" if n >= 1_000_000 else f"{n // 1_000} KB"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _flat_ratio(values: Sequence[float]) -> float:
    return max(values) / min(values)


def render(
    machine: str,
    text_info: str,
    sizes: list[SizeResult],
    guards: list[GuardResult],
    detectors: list[DetectorResult],
    profiles: list[tuple[str, list[tuple[str, int, float, float]]]],
    args: argparse.Namespace,
) -> str:
    """The markdown section (heading included)."""
    d = args.delta_chars
    lines = [
        SECTION,
        "",
        "Generated by `.venv/bin/python bench/scan.py` (method in its docstring). "
        f"Single thread; medians of {args.runs} runs (one-shot) and {args.stream_runs} runs "
        "(streaming, guard); 1 KB = 1,000 chars, MB/s = 10^6 chars/s (the text is ASCII).",
        "",
        f"Machine: {machine}.",
        "",
        f"Text: {text_info}",
        "",
        "### Cost per char, all default detectors",
        "",
        f"Streaming = `IncrementalScanner`, {d}-char deltas, `scan()` after every delta, "
        "then `scan(final=True)`.",
        "",
        "Run spread = slowest run / fastest run (noise indicator).",
        "",
        "| text size | one-shot ns/char | one-shot MB/s | streaming ns/char | streaming MB/s "
        "| streaming / one-shot | run spread (one-shot, streaming) "
        "| chunks per run (one-shot, streaming) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in sizes:
        lines.append(
            f"| {_size(r.size)} | {r.oneshot_ns:,.1f} | {_mbps(r.oneshot_ns):.2f} "
            f"| {r.stream_ns:,.1f} | {_mbps(r.stream_ns):.3f} | {r.stream_ns / r.oneshot_ns:.1f}x "
            f"| {r.oneshot_spread:.2f}, {r.stream_spread:.2f} "
            f"| {r.oneshot_chunks:,}, {r.stream_chunks:,} |"
        )
    once_ratio = _flat_ratio([r.oneshot_ns for r in sizes])
    stream_ratio = _flat_ratio([r.stream_ns for r in sizes])
    noise = max(max(r.oneshot_spread, r.stream_spread) for r in sizes)
    lines += [
        f"| max / min over sizes | {once_ratio:.2f} | | {stream_ratio:.2f} | | | | |",
        "",
        f"Noise: the largest run spread is {noise:.2f}x"
        + (
            f", above the {FLAT_MAX_RATIO:g}x flatness tolerance: the machine was busy, and a "
            "max/min over sizes below the run spread does not tell a size effect from noise."
            if noise > FLAT_MAX_RATIO
            else "."
        ),
        "",
        f"### Per-delta guard overhead (`GuardedStream.push`, {d}-char deltas)",
        "",
        f"{args.stream_runs} streams of {args.guard_chars:,} chars "
        f"({len(guards[0].runs_ns[0]):,} deltas each) per config, each `push` timed alone; "
        "every statistic is the median over the streams of that stream's value.",
        "",
        "| config | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | mean µs | `end()` µs "
        "| sustained chars/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in guards:
        mean = g.stat(statistics.fmean)
        lines.append(
            f"| {g.name} | {g.stat(lambda x: percentile(x, 50)) / 1e3:.1f} "
            f"| {g.stat(lambda x: percentile(x, 90)) / 1e3:.1f} "
            f"| {g.stat(lambda x: percentile(x, 99)) / 1e3:.1f} "
            f"| {g.stat(lambda x: percentile(x, 99.9)) / 1e3:.1f} "
            f"| {g.stat(max) / 1e3:.1f} | {mean / 1e3:.1f} "
            f"| {statistics.median(g.end_ns) / 1e3:.1f} | {d / mean * 1e9:,.0f} |"
        )
    best = sizes[-1].oneshot_ns
    p99 = guards[0].stat(lambda x: percentile(x, 99)) / 1e3
    lines += [
        "",
        "### Goals",
        "",
        "| goal | measured | verdict |",
        "| --- | ---: | --- |",
        f"| one-shot scan >= {GOAL_MBPS:g} MB/s per core (1 MB text) | {_mbps(best):.2f} MB/s "
        f"| {_verdict(_mbps(best) >= GOAL_MBPS)} |",
        f"| per-delta p99 <= {GOAL_DELTA_P99_US:g} µs (default config, continuous) "
        f"| {p99:.1f} µs | {_verdict(p99 <= GOAL_DELTA_P99_US)} |",
        f"| flat cost per char, one-shot (max/min ns/char <= {FLAT_MAX_RATIO:g}) "
        f"| {once_ratio:.2f} | {_verdict(once_ratio <= FLAT_MAX_RATIO)} |",
        f"| flat cost per char, streaming (max/min ns/char <= {FLAT_MAX_RATIO:g}) "
        f"| {stream_ratio:.2f} | {_verdict(stream_ratio <= FLAT_MAX_RATIO)} |",
        "",
        "### Per detector (each alone), slowest first",
        "",
        f"One-shot over the first {args.detector_chars:,} chars, streaming over the first "
        f"{args.detector_stream_chars:,} chars ({d}-char deltas). Regex only = one-shot with "
        "the detector's validator removed (the search alone). Findings: in the one-shot text.",
        "",
        "| detector | group | one-shot ns/char | one-shot MB/s | regex only ns/char "
        "| share of one-shot sum | streaming ns/char | share of streaming sum | findings |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    once_sum = sum(r.oneshot_ns for r in detectors)
    bare_sum = sum(r.pattern_ns for r in detectors)
    stream_sum = sum(r.stream_ns for r in detectors)
    for dr in sorted(detectors, key=lambda x: -x.oneshot_ns):
        lines.append(
            f"| {dr.detector.name} | {dr.detector.group} | {dr.oneshot_ns:,.2f} "
            f"| {_mbps(dr.oneshot_ns):,.1f} | {dr.pattern_ns:,.2f} "
            f"| {dr.oneshot_ns / once_sum:.1%} "
            f"| {dr.stream_ns:,.1f} | {dr.stream_ns / stream_sum:.1%} | {dr.findings} |"
        )
    lines.append(
        f"| *sum of the above* | | {once_sum:,.2f} | {_mbps(once_sum):,.2f} | {bare_sum:,.2f} "
        f"| 100% | {stream_sum:,.1f} | 100% | |"
    )
    for title, rows in profiles:
        lines += [
            "",
            f"### Profile: {title}",
            "",
            "`cProfile`, functions by own time (C functions shown as `C`).",
            "",
            "| function | calls | own s | share |",
            "| --- | ---: | ---: | ---: |",
        ]
        lines += [f"| `{f}` | {c:,} | {t:.3f} | {s:.1%} |" for f, c, t, s in rows]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` in ``path``, replacing an earlier one of the same heading.

    The file is re-read right before writing and replaced atomically; other
    sections are kept as they are.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.rstrip() == SECTION), None)
    if start is None:
        head = text.rstrip("\n")
        new = (head + "\n\n" if head else "") + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith(("## ", "# "))),
            len(lines),
        )
        rest = "".join(lines[end:])
        new = "".join(lines[:start]) + section + ("\n" + rest if rest else "")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".scan-", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--runs", type=int, default=5, help="timed one-shot runs (median)")
    p.add_argument(
        "--stream-runs", type=int, default=3, help="timed streaming runs and guard streams"
    )
    p.add_argument("--seed", type=int, default=20240601, help="text generator seed")
    p.add_argument("--delta-chars", type=int, default=4, help="chars per streamed delta")
    p.add_argument("--oneshot-chars", type=int, default=1_000_000, help="chars per one-shot run")
    p.add_argument("--stream-chars", type=int, default=100_000, help="chars per streaming run")
    p.add_argument("--guard-chars", type=int, default=100_000, help="chars per guard stream")
    p.add_argument("--detector-chars", type=int, default=200_000, help="per-detector one-shot")
    p.add_argument(
        "--detector-stream-chars", type=int, default=20_000, help="per-detector streaming"
    )
    p.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="cProfile when one-shot throughput misses the goal (auto)",
    )
    p.add_argument(
        "--out",
        default=str(Path(__file__).resolve().parent / "README.md"),
        help="markdown file whose section is replaced ('-' to only print)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement, print the section and write it to ``--out``."""
    args = parse_args(argv)
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        configure_logging("info", devnull)
        return _main(args)


def _main(args: argparse.Namespace) -> int:
    machine = machine_line()
    detectors = default_detectors()
    total = max(SIZES[-1], args.guard_chars, args.detector_chars)
    text = make_text(total, args.seed)
    secrets = scan_text(text, SECRET_DETECTORS)
    if secrets:
        raise SystemExit(
            f"generated text has secret findings: {Counter(f.detector for f in secrets)}"
        )
    findings = Counter(f.detector for f in scan_text(text[: SIZES[-1]], detectors))
    sample = text[:10_000]
    if stream_findings(deltas_of(sample, args.delta_chars), detectors) != scan_text(
        sample, detectors
    ):
        raise SystemExit("streaming findings differ from one-shot findings on the sample")
    digits = sum(c.isdigit() for c in text[: SIZES[-1]]) / SIZES[-1]
    text_info = (
        f"seed {args.seed}; {len(text[: SIZES[-1]].split()):,} words per MB, {digits:.1%} digits; "
        f"findings per MB: {', '.join(f'{k} {v}' for k, v in sorted(findings.items()))}; "
        "no secret findings. Sample: "
        f"“{' '.join(text[2000:2300].split())}…”"
    )

    sizes = measure_sizes(text, detectors, args)

    guard_deltas = deltas_of(text[: args.guard_chars], args.delta_chars)
    observe = {"name": "observe-all", "detectors": ["pii", "secrets"], "action": "observe"}
    configs = [
        ("default (redact PII, block secrets)", parse_config({})),
        ("observe only (pii + secrets, no holdback)", parse_config({"policies": [observe]})),
        ("`policies: []` (no detector)", parse_config({"policies": []})),
    ]
    guards = []
    for name, config in configs:
        _progress(f"guard: {name}")
        guards.append(measure_guard(name, config, guard_deltas, args.stream_runs))

    per_detector = measure_detectors(text, args)

    profiles: list[tuple[str, list[tuple[str, int, float, float]]]] = []
    mbps = _mbps(sizes[-1].oneshot_ns)
    if args.profile == "always" or (args.profile == "auto" and mbps < GOAL_MBPS):
        _progress("profile")
        once_text = text[:100_000]
        stream_deltas = [deltas_of(text[:10_000], args.delta_chars)]
        profiles.append(("one-shot, 100 KB", profile(lambda: scan_text(once_text, detectors), 10)))
        profiles.append(
            (
                f"streaming, 10 KB in {args.delta_chars}-char deltas",
                profile(lambda: run_stream(stream_deltas, detectors), 10),
            )
        )

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    machine += f"; load average at end {load}"
    section = render(machine, text_info, sizes, guards, per_detector, profiles, args)
    print(section)
    if args.out != "-":
        write_section(Path(args.out), section)
        _progress(f"wrote {SECTION!r} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
