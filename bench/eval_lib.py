"""Scoring helpers of ``bench/eval_detectors.py``: datasets, matching rules, counts.

Only APIs that every tidegate version since the first detectors has
(``PII_DETECTORS``, ``SECRET_DETECTORS``, ``PatternDetector.find_all``) are
used, so the same code scores an older checkout for the "before" column.
Data is read from ``../shared/eval-data`` (see ``SOURCES.md`` there for
licences and splits); nothing is copied into the repository.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "eval-data"
PII_ENTITIES = ("CREDIT_CARD", "PHONE_NUMBER", "EMAIL_ADDRESS", "IBAN_CODE", "US_SSN", "IP_ADDRESS")


# Nosey Parker rule id -> the detectors that claim its kind, decided from the
# rule *names* only (never from held-out examples or patterns).
NP_RULE_TO_DETECTORS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        # development split (a-m)
        "np.adafruit.1": ("adafruit_io_key",),
        "np.age.2": ("age_secret_key",),
        "np.anthropic.1": ("anthropic_api_key",),
        "np.artifactory.1": ("jfrog_token",),
        "np.atlassian.1": ("atlassian_api_token",),
        "np.aws.1": ("aws_access_key",),
        "np.aws.2": ("aws_secret_key", "aws_secret_key_pair"),
        "np.aws.4": ("aws_session_token",),
        "np.aws.5": ("amazon_mws_token",),
        "np.azure.1": ("azure_storage_key",),
        "np.azure.4": ("azure_devops_pat",),
        "np.bitbucket.1": ("bitbucket_app_password",),
        "np.cratesio.1": ("cratesio_api_key",),
        "np.databricks.1": ("databricks_token",),
        "np.dtrack.1": ("dependency_track_key",),
        "np.digitalocean.1": ("digitalocean_token",),
        "np.digitalocean.2": ("digitalocean_token",),
        "np.digitalocean.3": ("digitalocean_token",),
        "np.dockerhub.1": ("dockerhub_token",),
        **{f"np.doppler.{i}": ("doppler_token",) for i in range(1, 7)},
        "np.dropbox.1": ("dropbox_token",),
        "np.dynatrace.1": ("dynatrace_token",),
        "np.facebook.1": ("facebook_app_secret",),
        "np.facebook.2": ("facebook_access_token",),
        "np.figma.1": ("figma_token",),
        "np.firecrawl.1": ("firecrawl_api_key",),
        **{f"np.generic.{i}": ("secret_assignment",) for i in (1, 15, 16)},  # Generic Secret
        "np.generic.2": ("api_key_assignment",),  # Generic API Key
        # Generic Password, Generic Username and Password
        **{f"np.generic.{i}": ("password_assignment",) for i in (3, 4, 5, 6, 11, 12, 13, 14)},
        "np.generic.9": ("dotnet_config_secret",),
        "np.generic.10": ("connection_string_keyvalue",),
        "np.github.1": ("github_token",),
        "np.github.2": ("github_token",),
        "np.github.3": ("github_token",),
        "np.github.4": ("github_token",),
        "np.github.7": ("github_token",),
        "np.gitlab.1": ("gitlab_token",),
        "np.gitlab.2": ("gitlab_token",),
        "np.gitlab.3": ("gitlab_token",),
        "np.google.2": ("google_oauth_client_secret",),
        "np.google.3": ("google_oauth_client_secret",),
        "np.google.4": ("google_oauth_access_token",),
        "np.google.5": ("google_api_key",),
        "np.grafana.1": ("grafana_token",),
        "np.grafana.2": ("grafana_token",),
        "np.grafana.3": ("grafana_token",),
        "np.groq.1": ("groq_api_key",),
        **{f"np.pwhash.{i}": ("password_hash",) for i in range(1, 6)},
        "np.krb5.asrep.23.1": ("password_hash",),
        "np.hashicorp.1": ("vault_legacy_token",),
        "np.hashicorp.2": ("vault_legacy_token",),
        "np.hashicorp.3": ("vault_legacy_token",),
        "np.hashicorp.4": ("vault_token",),
        "np.hashicorp.5": ("vault_token",),
        "np.hashicorp.6": ("vault_token",),
        "np.hashicorp.7": ("vault_unseal_key",),
        "np.heroku.1": ("heroku_api_key",),
        "np.http.1": ("http_basic_auth",),
        "np.http.2": ("http_bearer_token",),
        "np.huggingface.1": ("huggingface_token",),
        "np.jina.1": ("jina_api_key",),
        "np.jwt.1": ("jwt",),
        "np.kubernetes.1": ("kubernetes_bootstrap_token",),
        "np.kubernetes.2": ("kubernetes_bootstrap_token",),
        "np.mailchimp.1": ("mailchimp_api_key",),
        "np.mailgun.1": ("mailgun_api_key",),
        "np.mapbox.2": ("mapbox_secret_token",),
        "np.mapbox.3": ("mapbox_secret_token",),
        "np.msteams.1": ("msteams_webhook",),
        "np.mongodb.1": ("connection_string_password",),
        # held out (n-z)
        "np.netrc.1": ("netrc_password",),
        "np.newrelic.1": ("newrelic_key",),  # License Key
        "np.newrelic.2": ("newrelic_key",),  # License Key
        "np.newrelic.5": ("newrelic_key",),  # Insights Insert Key
        "np.newrelic.6": ("newrelic_key",),  # Insights Query Key
        "np.newrelic.7": ("newrelic_key",),  # REST API Key
        "np.newrelic.8": ("newrelic_key",),  # Pixie API Key
        "np.newrelic.9": ("newrelic_key",),  # Pixie Deploy Key
        "np.npm.1": ("npm_token",),
        "np.nuget.1": ("nuget_api_key",),
        "np.odbc.1": ("connection_string_keyvalue",),
        "np.openai.1": ("openai_api_key",),
        "np.pem.1": ("private_key",),
        "np.postgres.1": ("connection_string_password",),
        "np.postman.1": ("postman_api_key",),
        "np.pypi.1": ("pypi_token",),
        "np.rubygems.1": ("rubygems_api_key",),
        "np.salesforce.1": ("salesforce_token",),
        "np.segment.1": ("segment_token",),
        "np.sendgrid.1": ("sendgrid_api_key",),
        "np.shopify.2": ("shopify_token",),  # App Secret (shpss_)
        "np.shopify.3": ("shopify_token",),
        "np.shopify.4": ("shopify_token",),
        "np.shopify.5": ("shopify_token",),
        # Slack: the old single detector, or the one for the rule's token type
        "np.slack.2": ("slack_bot_token", "slack_token"),  # Bot Token
        "np.slack.4": ("slack_user_token", "slack_token"),  # User Token
        "np.slack.5": ("slack_app_token", "slack_token"),  # App Token
        "np.slack.6": ("slack_bot_token", "slack_token"),  # Legacy Bot Token
        "np.slack.3": ("slack_webhook",),
        "np.sonarqube.1": ("sonarqube_token",),
        "np.sourcegraph.1": ("sourcegraph_token",),
        "np.square.1": ("square_token",),
        "np.square.2": ("square_token",),
        "np.stripe.1": ("stripe_key",),
        "np.stripe.2": ("stripe_key",),
        "np.tavily.1": ("tavily_api_key",),
        "np.telegram.1": ("telegram_bot_token",),
        "np.twilio.1": ("twilio_api_key",),
    }
)


class FindingLike(Protocol):
    """What the scorers read from a finding."""

    @property
    def entity_type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class DetectorLike(Protocol):
    """What the scorers call on a detector."""

    @property
    def name(self) -> str: ...
    def find_all(self, text: str) -> Iterable[FindingLike]: ...


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

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (nan when either is)."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else float("nan")

    def add(self, other: SpanCounts) -> None:
        """Add another type's counts (micro-averaging)."""
        self.predicted += other.predicted
        self.predicted_hit += other.predicted_hit
        self.gold += other.gold
        self.gold_hit += other.gold_hit


def eval_presidio(path: Path, detectors: Sequence[DetectorLike]) -> dict[str, SpanCounts]:
    """Score detectors on one Presidio-research JSON file.

    A finding counts as correct if it overlaps a gold span of the same entity
    type; a gold span counts as found if some finding of its type overlaps it
    (the matching Presidio-research's evaluator calls token overlap, at the
    character level).

    Args:
        path: JSON list of ``{"full_text", "spans": [{"entity_type",
            "start_position", "end_position"}]}`` (end exclusive).
        detectors: Detectors to run on each ``full_text``.

    Returns:
        Counts per entity type of :data:`PII_ENTITIES`, plus ``"ALL"`` (micro).
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
            c.gold_hit += any(
                f.entity_type == entity and f.start < end and start < f.end for f in found
            )
        for f in found:
            c = counts[f.entity_type]
            c.predicted += 1
            c.predicted_hit += any(
                e == f.entity_type and f.start < t and s < f.end for e, s, t in gold
            )
    total = SpanCounts()
    for c in counts.values():
        total.add(c)
    counts["ALL"] = total
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
    per_rule: dict[str, list[int]] = field(default_factory=dict)


def _fires(detectors: Iterable[DetectorLike], text: str) -> bool:
    return any(next(iter(d.find_all(text)), None) is not None for d in detectors)


def eval_noseyparker(
    files: Sequence[Path],
    detectors: Sequence[DetectorLike],
    rule_map: Mapping[str, tuple[str, ...]],
) -> SecretCounts:
    """Score secret detectors on the examples of Nosey Parker rules.

    A rule is *counted* when ``rule_map`` maps it to detectors that exist in
    ``detectors``. For a counted rule, an example is a hit when one of its
    detectors reports anything in it, and a negative example is flagged when
    one of them reports anything in it. The ``all_*`` counts cover every rule
    and every detector. Only ``id``, ``examples`` and ``negative_examples`` are
    read, never a rule's ``pattern``.

    Args:
        files: Nosey Parker rule YAML files.
        detectors: The secret detectors.
        rule_map: Rule id -> names of the detectors that claim its kind.

    Returns:
        The counts for these files.
    """
    import yaml  # only here: eval_presidio.py runs in a venv without it

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
            mine = [by_name[n] for n in rule_map.get(rule["id"], ()) if n in by_name]
            if not mine:
                continue
            out.rules.append(rule["id"])
            hits = sum(_fires(mine, x) for x in examples)
            flagged = sum(_fires(mine, x) for x in negatives)
            out.pos += len(examples)
            out.pos_hit += hits
            out.neg += len(negatives)
            out.neg_hit += flagged
            out.per_rule[rule["id"]] = [hits, len(examples), flagged, len(negatives)]
    return out


def eval_credsweeper(detectors: Sequence[DetectorLike]) -> dict[str, int]:
    """Score secret detectors on CredSweeper's sample files (held out).

    ``output.json`` lists CredSweeper's expected findings (file, line, value
    span in the line). An expected finding is found when some detector reports
    a span overlapping its value. Sample files with no expected finding are
    the negatives: a file is flagged when any detector reports anything in it.
    Expected findings in files that were not copied (code formats, binaries)
    are skipped.

    Args:
        detectors: The secret detectors.

    Returns:
        ``expected``, ``found``, ``negative_files``, ``negative_files_flagged``.
    """
    root = DATA / "CredSweeper"
    expected: dict[str, list[tuple[int, int, int]]] = {}
    for item in json.loads((root / "output.json").read_text(encoding="utf-8")):
        for line in item["line_data_list"]:
            name = Path(line["path"]).name
            if (root / "samples" / name).is_file() and line["value_start"] >= 0:
                expected.setdefault(name, []).append(
                    (line["line_num"], line["value_start"], line["value_end"])
                )
    out = Counter[str]()
    for path in sorted((root / "samples").iterdir()):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [f for d in detectors for f in d.find_all(text)]
        if path.name not in expected:
            out["negative_files"] += 1
            out["negative_files_flagged"] += bool(found)
            continue
        starts = [0]
        for line in text.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        for line_num, vs, ve in expected[path.name]:
            if line_num - 1 >= len(starts):
                continue
            base = starts[line_num - 1]
            out["expected"] += 1
            out["found"] += any(f.start < base + ve and base + vs < f.end for f in found)
    return dict(out)


def benign_texts(split: str) -> list[str]:
    """Unlabelled benign text for a findings-per-MB check.

    Args:
        split: ``"dev"`` (self-instruct instructions with their input and output
            instances), ``"held-out"`` (AlpacaEval GPT-4o answers; CC BY-NC,
            used for evaluation only) or ``"arena"`` (Arena-Hard user prompts,
            held out).

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
    if split == "arena":
        path = DATA / "arena-hard-auto" / "question.jsonl"
        lines = path.read_text(encoding="utf-8").splitlines()
        return [str(json.loads(line)["prompt"]) for line in lines]
    rows = json.loads((DATA / "alpaca_eval" / "model_outputs.json").read_text(encoding="utf-8"))
    return [row["output"] for row in rows]


def benign_findings(texts: Sequence[str], detectors: Sequence[DetectorLike]) -> dict[str, Any]:
    """Findings per detector on unlabelled benign texts, and their size.

    Returns:
        ``{"chars": int, "bytes": int (UTF-8), "by_detector": {name: count}}``.
    """
    counts = Counter(d.name for t in texts for d in detectors for _ in d.find_all(t))
    return {
        "chars": sum(map(len, texts)),
        "bytes": sum(len(t.encode("utf-8")) for t in texts),
        "by_detector": dict(counts),
    }
