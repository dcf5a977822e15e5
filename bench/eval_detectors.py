"""Evaluate tidegate's PII and secret detectors on third-party labelled data.

Run from anywhere:  .venv/bin/python bench/eval_detectors.py [--phone-regions US,GB]

Data (never copied into the repo) is read from ``../shared/eval-data`` relative
to the repository root; see ``SOURCES.md`` there for licences and splits:

* PII: Presidio-research ``generated_large.json`` (development split; detectors
  may be tuned on it) and ``synth_dataset_v2.json`` (held out).
* Secrets: Nosey Parker rule files. Only each rule's ``examples`` and
  ``negative_examples`` are read, never its ``pattern``. Rule files whose name
  starts with a-m are the development split, n-z are held out.

The markdown report is printed and written to ``bench/EVAL.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "eval-data"
try:
    import tidegate.detectors  # noqa: F401
except ModuleNotFoundError:  # not installed in the venv: use the source tree
    sys.path.insert(0, str(REPO / "src"))

from tidegate.detectors import Finding, PatternDetector  # noqa: E402
from tidegate.detectors.pii import PII_DETECTORS, phone_detector  # noqa: E402
from tidegate.detectors.secrets import SECRET_DETECTORS  # noqa: E402

PII_ENTITIES = ("CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE", "US_SSN", "IP_ADDRESS")

# Nosey Parker rule id -> our detector, decided from the rule *names* only (a rule
# counts when its secret kind is one a detector claims to find).
NP_RULE_TO_DETECTOR: MappingProxyType[str, str] = MappingProxyType(
    {
        "np.aws.1": "aws_access_key",  # AWS API Key
        "np.github.1": "github_token",  # GitHub Personal Access Token
        "np.github.2": "github_token",  # GitHub OAuth Access Token
        "np.github.3": "github_token",  # GitHub App Token
        "np.github.4": "github_token",  # GitHub Refresh Token
        "np.github.7": "github_token",  # GitHub Personal Access Token (fine-grained)
        "np.gitlab.1": "gitlab_token",  # GitLab Runner Registration Token
        "np.gitlab.2": "gitlab_token",  # GitLab Personal Access Token
        "np.gitlab.3": "gitlab_token",  # GitLab Pipeline Trigger Token
        "np.slack.2": "slack_token",  # Slack Bot Token
        "np.slack.4": "slack_token",  # Slack User Token
        "np.slack.5": "slack_token",  # Slack App Token
        "np.slack.6": "slack_token",  # Slack Legacy Bot Token
        "np.slack.3": "slack_webhook",  # Slack Webhook
        "np.stripe.1": "stripe_key",  # Stripe API Key
        "np.stripe.2": "stripe_key",  # Stripe API Test Key
        "np.openai.1": "openai_api_key",  # OpenAI API Key
        "np.anthropic.1": "anthropic_api_key",  # Anthropic API Key
        "np.google.5": "google_api_key",  # Google API Key
        "np.huggingface.1": "huggingface_token",  # HuggingFace User Access Token
        "np.npm.1": "npm_token",  # NPM Access Token (fine-grained)
        "np.pypi.1": "pypi_token",  # PyPI Upload Token
        "np.sendgrid.1": "sendgrid_api_key",  # SendGrid API Key
        "np.mailchimp.1": "mailchimp_api_key",  # MailChimp API Key
        "np.jwt.1": "jwt",  # JSON Web Token (base64url-encoded)
        "np.pem.1": "private_key",  # PEM-Encoded Private Key
        "np.postgres.1": "connection_string_password",  # Credentials in PostgreSQL URI
        "np.mongodb.1": "connection_string_password",  # Credentials in MongoDB URI
    }
)


@dataclass
class SpanCounts:
    """Counts for one entity type: predictions and gold spans."""

    predicted: int = 0
    predicted_hit: int = 0
    gold: int = 0
    gold_hit: int = 0

    @property
    def precision(self) -> float:
        """Share of predictions overlapping a gold span of the same type."""
        return self.predicted_hit / self.predicted if self.predicted else float("nan")

    @property
    def recall(self) -> float:
        """Share of gold spans overlapped by a prediction of the same type."""
        return self.gold_hit / self.gold if self.gold else float("nan")


def _overlaps(f: Finding, start: int, end: int) -> bool:
    return f.start < end and start < f.end


def eval_presidio(path: Path, detectors: Sequence[PatternDetector]) -> dict[str, SpanCounts]:
    """Score detectors on one Presidio-research JSON file.

    A finding counts as correct if it overlaps a gold span of the same entity
    type; a gold span counts as found if some finding of its type overlaps it.

    Args:
        path: JSON list of ``{"full_text", "spans": [{"entity_type",
            "start_position", "end_position"}]}`` (end exclusive).
        detectors: Detectors to run on each ``full_text``.

    Returns:
        Counts per entity type in :data:`PII_ENTITIES`.
    """
    counts = {e: SpanCounts() for e in PII_ENTITIES}
    for record in json.loads(path.read_text(encoding="utf-8")):
        text = record["full_text"]
        gold = [
            (s["entity_type"], s["start_position"], s["end_position"])
            for s in record["spans"]
            if s["entity_type"] in counts
        ]
        found = [f for d in detectors for f in d.find_all(text) if f.entity_type in counts]
        for entity, start, end in gold:
            c = counts[entity]
            c.gold += 1
            c.gold_hit += any(f.entity_type == entity and _overlaps(f, start, end) for f in found)
        for f in found:
            c = counts[f.entity_type]
            c.predicted += 1
            c.predicted_hit += any(e == f.entity_type and _overlaps(f, s, t) for e, s, t in gold)
    return counts


@dataclass
class SecretCounts:
    """Example-level counts for one Nosey Parker split."""

    rules: list[str] = field(default_factory=list)
    pos: int = 0
    pos_hit: int = 0
    neg: int = 0
    neg_hit: int = 0
    all_pos: int = 0
    all_pos_hit: int = 0
    all_neg: int = 0
    all_neg_hit: int = 0
    per_detector: Counter[str] = field(default_factory=Counter)
    per_detector_hit: Counter[str] = field(default_factory=Counter)
    per_detector_neg: Counter[str] = field(default_factory=Counter)
    per_detector_neg_hit: Counter[str] = field(default_factory=Counter)


def _fires(detectors: Iterable[PatternDetector], text: str) -> bool:
    return any(next(d.find_all(text), None) is not None for d in detectors)


def eval_noseyparker(files: Sequence[Path], detectors: Sequence[PatternDetector]) -> SecretCounts:
    """Score secret detectors on the examples of Nosey Parker rules.

    For a rule in :data:`NP_RULE_TO_DETECTOR`, an example is a hit when the
    mapped detector reports anything in it, and a negative example is a false
    positive when the mapped detector reports anything in it. The ``all_*``
    counts cover every rule in the files and any of ``detectors``.

    Args:
        files: Nosey Parker rule YAML files (only ``id``, ``examples`` and
            ``negative_examples`` are read).
        detectors: The secret detectors.

    Returns:
        The counts for these files.
    """
    by_name = {d.name: d for d in detectors}
    out = SecretCounts()
    for path in files:
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            examples = rule.get("examples") or []
            negatives = rule.get("negative_examples") or []
            out.all_pos += len(examples)
            out.all_pos_hit += sum(_fires(detectors, x) for x in examples)
            out.all_neg += len(negatives)
            out.all_neg_hit += sum(_fires(detectors, x) for x in negatives)
            name = NP_RULE_TO_DETECTOR.get(rule["id"])
            if name is None:
                continue
            out.rules.append(rule["id"])
            hits = sum(_fires([by_name[name]], x) for x in examples)
            out.pos += len(examples)
            out.pos_hit += hits
            out.per_detector[name] += len(examples)
            out.per_detector_hit[name] += hits
            flagged = sum(_fires([by_name[name]], x) for x in negatives)
            out.neg += len(negatives)
            out.neg_hit += flagged
            out.per_detector_neg[name] += len(negatives)
            out.per_detector_neg_hit[name] += flagged
    return out


def benign_texts(split: str) -> list[str]:
    """Unlabelled benign text for a findings-per-text check.

    Args:
        split: ``"dev"`` (self-instruct instructions with their input and output
            instances) or ``"held-out"`` (AlpacaEval GPT-4o answers; CC BY-NC,
            used for evaluation only).

    Returns:
        The texts.
    """
    if split == "dev":
        path = DATA / "self-instruct" / "user_oriented_instructions.jsonl"
        texts = []
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts.append(row["instruction"])
            texts += [f"{i['input']}\n{i['output']}" for i in row["instances"]]
        return texts
    rows = json.loads((DATA / "alpaca_eval" / "model_outputs.json").read_text(encoding="utf-8"))
    return [row["output"] for row in rows]


def benign_findings(texts: Sequence[str], detectors: Sequence[PatternDetector]) -> Counter[str]:
    """Count findings per detector on unlabelled benign texts."""
    return Counter(d.name for t in texts for d in detectors for _ in d.find_all(t))


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}% ({num}/{den})" if den else "n/a"


def _f(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def report(phone_regions: Sequence[str]) -> str:
    """Run every evaluation and render the markdown report.

    Args:
        phone_regions: Default regions for the phone detector.

    Returns:
        The report, in markdown.
    """
    pii = [phone_detector(phone_regions) if d.name == "phone" else d for d in PII_DETECTORS]
    pres = DATA / "presidio-research"
    held = eval_presidio(pres / "synth_dataset_v2.json", pii)
    dev = eval_presidio(pres / "generated_large.json", pii)
    lines = [
        "# Detector evaluation",
        "",
        "Generated by `bench/eval_detectors.py`; do not edit by hand.",
        f"Phone regions: {', '.join(phone_regions)}.",
        "",
        "## Structured PII (Presidio-research)",
        "",
        "| entity | held-out P | held-out R | held-out gold | dev P | dev R | dev gold |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in PII_ENTITIES:
        h, d = held[e], dev[e]
        lines.append(
            f"| {e} | {_f(h.precision)} | {_f(h.recall)} | {h.gold} "
            f"| {_f(d.precision)} | {_f(d.recall)} | {d.gold} |"
        )
    rules = sorted((DATA / "noseyparker" / "rules").glob("*.yml"))
    np_dev = eval_noseyparker([p for p in rules if p.name[0].lower() <= "m"], SECRET_DETECTORS)
    np_held = eval_noseyparker([p for p in rules if p.name[0].lower() > "m"], SECRET_DETECTORS)
    lines += [
        "",
        "## Secrets (Nosey Parker rule examples)",
        "",
        "| split | counted rules | recall (counted) | FP rate on negatives (counted) "
        "| recall, all examples | any finding on all negatives |",
        "|---|---|---|---|---|---|",
    ]
    for label, sc in (("held-out (n-z)", np_held), ("dev (a-m)", np_dev)):
        lines.append(
            f"| {label} | {len(sc.rules)} | {_pct(sc.pos_hit, sc.pos)} "
            f"| {_pct(sc.neg_hit, sc.neg)} "
            f"| {_pct(sc.all_pos_hit, sc.all_pos)} | {_pct(sc.all_neg_hit, sc.all_neg)} |"
        )
    lines += [
        "",
        "| detector | held-out recall | held-out negatives flagged | dev recall "
        "| dev negatives flagged |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(set(np_held.per_detector) | set(np_dev.per_detector)):
        lines.append(
            f"| {name} | {_pct(np_held.per_detector_hit[name], np_held.per_detector[name])} "
            f"| {_pct(np_held.per_detector_neg_hit[name], np_held.per_detector_neg[name])} "
            f"| {_pct(np_dev.per_detector_hit[name], np_dev.per_detector[name])} "
            f"| {_pct(np_dev.per_detector_neg_hit[name], np_dev.per_detector_neg[name])} |"
        )
    everything = [*pii, *SECRET_DETECTORS]
    dev_texts, held_texts = benign_texts("dev"), benign_texts("held-out")
    dev_b, held_b = benign_findings(dev_texts, everything), benign_findings(held_texts, everything)
    lines += [
        "",
        "## Findings on unlabelled benign text",
        "",
        f"Dev: self-instruct instructions and instances ({len(dev_texts)} texts,"
        f" {sum(map(len, dev_texts))} chars). Held-out: AlpacaEval GPT-4o answers"
        f" ({len(held_texts)} texts, {sum(map(len, held_texts))} chars). A finding here is"
        " not necessarily wrong (sample addresses are PII-shaped), but every one would be"
        " redacted.",
        "",
        "| detector | dev findings | held-out findings |",
        "|---|---|---|",
    ]
    for name in sorted(set(dev_b) | set(held_b)) or ["(none)"]:
        lines.append(f"| {name} | {dev_b[name]} | {held_b[name]} |")
    lines += [
        "",
        f"Counted held-out rules: {', '.join(np_held.rules)}.",
        f"Counted dev rules: {', '.join(np_dev.rules)}.",
        "",
        "## Method",
        "",
        "* PII: every detector of the `pii` group runs on each `full_text`. A finding is"
        " correct when it overlaps a gold span (end exclusive) of the same entity type;"
        " a gold span is found when a finding of its type overlaps it. Precision ="
        " correct findings / findings; recall = found gold spans / gold spans. Findings"
        " on text the dataset did not label (or labelled with another type) count"
        " against precision.",
        "* `synth_dataset_v2.json` is held out: no pattern, validator or default was"
        " fitted to it. `generated_large.json` is the development set the detectors"
        " were tuned on, so its numbers are optimistic.",
        "* Phone numbers are validated with libphonenumber for the regions above; the"
        " datasets hold many non-US national numbers (Faker locales), which a US-only"
        " default does not accept. More regions raise recall and add false positives on"
        " digit groups in prose (`--phone-regions`).",
        "* Secrets: only each rule's `examples`/`negative_examples` were read, never"
        " its `pattern`. Rule files a-m are the development split, n-z are held out."
        " The rule-to-detector map was decided from rule names. An example is a hit when"
        " the mapped detector reports any span in it (examples are not span-labelled);"
        " a negative example is a false positive when the mapped detector reports"
        " anything. The 'all examples' columns run every secret detector on every rule's"
        " examples, including kinds no detector claims (generic passwords, hashes, other"
        " vendors), so low recall there is expected.",
        "* Held-out misses and flagged negatives were deliberately not inspected, so"
        " that they cannot leak into the detectors. One unverified reading of the"
        " `slack_token` negatives: it is a single detector for every Slack token type,"
        " while Nosey Parker has one rule per type. The one flagged dev negative is a"
        " MongoDB URI to a socket path whose password is still reported.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: print the report and write ``bench/EVAL.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--phone-regions", default="US", help="comma-separated, e.g. US,GB")
    parser.add_argument("--no-write", action="store_true", help="only print the report")
    args = parser.parse_args(argv)
    text = report([r.strip() for r in args.phone_regions.split(",") if r.strip()])
    print(text)
    if not args.no_write:
        (REPO / "bench" / "EVAL.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
