"""Evaluate tidegate's PII and secret detectors on third-party labelled data.

Run:  .venv/bin/python bench/eval_detectors.py [--baseline-src DIR] [--phone-regions US,GB]

* PII: Presidio-research ``synth_dataset_v2.json`` (held out) and
  ``generated_large.json`` (development split; detectors were tuned on it).
* Secrets: Nosey Parker rule files (only ``examples``/``negative_examples``
  are read; files a-m are the development split, n-z are held out) and
  CredSweeper's samples (held out).
* Benign text: findings per MB on AlpacaEval GPT-4o answers (held out,
  CC BY-NC, evaluation only) and self-instruct (development).

``--baseline-src DIR`` scores another checkout's ``src`` (for example the
commit before a change) in a subprocess and prints it as the "before"
column. The report is printed and written to ``bench/EVAL.md``. Presidio's own
figures come from ``bench/eval_presidio.py`` (run in a venv with Presidio).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

sys.path.insert(
    0, os.environ.get("TIDEGATE_EVAL_SRC") or str(Path(__file__).resolve().parents[1] / "src")
)
sys.path.insert(1, str(Path(__file__).resolve().parent))

import eval_lib as lib

from tidegate.detectors.pii import PII_DETECTORS, phone_detector
from tidegate.detectors.secrets import SECRET_DETECTORS

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


def metrics(phone_regions: Sequence[str] | None) -> dict[str, Any]:
    """Run every evaluation on the importable tidegate and return plain data.

    Args:
        phone_regions: Regions for the phone detector; None keeps its default.
    """
    pii = list(PII_DETECTORS)
    if phone_regions:
        pii = [phone_detector(phone_regions) if d.name == "phone" else d for d in pii]
    pres = lib.DATA / "presidio-research"

    def spans(path: Path) -> dict[str, list[int]]:
        return {
            e: [c.predicted, c.predicted_hit, c.gold, c.gold_hit]
            for e, c in lib.eval_presidio(path, pii).items()
        }

    rules = sorted((lib.DATA / "noseyparker" / "rules").glob("*.yml"))
    splits = {
        "held": [p for p in rules if p.name[0].lower() > "m"],
        "dev": [p for p in rules if p.name[0].lower() <= "m"],
    }
    secrets: dict[str, Any] = {}
    for label, files in splits.items():
        sc = lib.eval_noseyparker(files, SECRET_DETECTORS, NP_RULE_TO_DETECTORS)
        secrets[label] = {k: v for k, v in vars(sc).items()}
    everything = [*pii, *SECRET_DETECTORS]
    return {
        "pii_detectors": len(pii),
        "secret_detectors": len(SECRET_DETECTORS),
        "pii_held": spans(pres / "synth_dataset_v2.json"),
        "pii_dev": spans(pres / "generated_large.json"),
        "np": secrets,
        "credsweeper": lib.eval_credsweeper(SECRET_DETECTORS),
        "benign_held": lib.benign_findings(lib.benign_texts("held-out"), everything),
        "benign_dev": lib.benign_findings(lib.benign_texts("dev"), everything),
        "benign_arena": lib.benign_findings(lib.benign_texts("arena"), everything),
    }


def _counts(row: list[int]) -> lib.SpanCounts:
    return lib.SpanCounts(*row)


def _f(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f}% ({num}/{den})" if den else "n/a"


def _per_mb(benign: dict[str, Any], name: str | None = None) -> str:
    counts = benign["by_detector"]
    n = sum(counts.values()) if name is None else counts.get(name, 0)
    return f"{n / benign['bytes'] * 1e6:.1f} ({n})"


def render(after: dict[str, Any], before: dict[str, Any] | None, note: str) -> str:
    """Render the markdown report; ``before`` adds the baseline columns."""
    b = before or after
    lines = [
        "# Detector evaluation",
        "",
        "Generated by `bench/eval_detectors.py`; do not edit by hand.",
        note,
        "",
        f"Detectors: {after['pii_detectors']} PII, {after['secret_detectors']} secrets"
        + (
            f" (before: {b['pii_detectors']} PII, {b['secret_detectors']} secrets)."
            if before
            else "."
        ),
        "",
        "## Structured PII, held out (Presidio-research `synth_dataset_v2`)",
        "",
        "| entity | gold | before P | before R | before F1 | P | R | F1 | dev P | dev R |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in (*lib.PII_ENTITIES, "ALL"):
        h, o, d = (
            _counts(after["pii_held"][e]),
            _counts(b["pii_held"][e]),
            _counts(after["pii_dev"][e]),
        )
        label = "**all six (micro)**" if e == "ALL" else e
        lines.append(
            f"| {label} | {h.gold} | {_f(o.precision)} | {_f(o.recall)} | {_f(o.f1)} "
            f"| {_f(h.precision)} | {_f(h.recall)} | {_f(h.f1)} "
            f"| {_f(d.precision)} | {_f(d.recall)} |"
        )
    lines += [
        "",
        "Presidio 2.2.366 with spaCy `en_core_web_sm`, same data and matching, measured on this"
        " machine (`/work/shared/FIELD-NOTES.md`; re-run with `bench/eval_presidio.py`):"
        " P 0.928, R 0.790, F1 0.853 over the same six entities.",
        "",
        "## Secrets: Nosey Parker rule examples",
        "",
        "| split | version | counted rules | recall (counted) | negatives flagged (counted) "
        "| recall, all examples | any finding on all negatives |",
        "|---|---|---|---|---|---|---|",
    ]
    for split, label in (("held", "held out (n-z)"), ("dev", "dev (a-m)")):
        for version, m in (("before", b), ("after", after)) if before else (("after", after),):
            s = m["np"][split]
            lines.append(
                f"| {label} | {version} | {len(s['rules'])} | {_pct(s['pos_hit'], s['pos'])} "
                f"| {_pct(s['neg_hit'], s['neg'])} | {_pct(s['all_pos_hit'], s['all_pos'])} "
                f"| {_pct(s['all_neg_hit'], s['all_neg'])} |"
            )
    held = after["np"]["held"]
    if before:
        common = [r for r in b["np"]["held"]["per_rule"] if r in held["per_rule"]]

        def on(m: dict[str, Any], i: int, j: int) -> str:
            rows = [m["np"]["held"]["per_rule"][r] for r in common]
            return _pct(sum(x[i] for x in rows), sum(x[j] for x in rows))

        lines += [
            "",
            f"On the {len(common)} held-out rules counted by both versions: recall"
            f" {on(b, 0, 1)} before, {on(after, 0, 1)} after; negatives flagged"
            f" {on(b, 2, 3)} before, {on(after, 2, 3)} after.",
        ]
    lines += [
        "",
        "Held-out counted rules (hits/examples, flagged/negatives): "
        + ", ".join(f"{r} {v[0]}/{v[1]}, {v[2]}/{v[3]}" for r, v in held["per_rule"].items())
        + ".",
        "",
        "## Secrets: CredSweeper samples (held out)",
        "",
        "| version | expected findings found | negative files with any finding |",
        "|---|---|---|",
    ]
    for version, m in (("before", b), ("after", after)) if before else (("after", after),):
        c = m["credsweeper"]
        lines.append(
            f"| {version} | {_pct(c.get('found', 0), c.get('expected', 0))} "
            f"| {_pct(c.get('negative_files_flagged', 0), c.get('negative_files', 0))} |"
        )
    bh, bd, ba = after["benign_held"], after["benign_dev"], after["benign_arena"]
    names = sorted(
        set(bh["by_detector"])
        | set(bd["by_detector"])
        | set(ba["by_detector"])
        | set(b["benign_held"]["by_detector"])
        | set(b["benign_arena"]["by_detector"])
    )
    lines += [
        "",
        "## Findings on benign LLM text (per MB of UTF-8, count in parentheses)",
        "",
        f"Held out: AlpacaEval GPT-4o answers ({bh['bytes']:,} bytes) and Arena-Hard user"
        f" prompts ({ba['bytes']:,} bytes). Dev: self-instruct"
        f" instructions and instances ({bd['bytes']:,} bytes). A finding here is not"
        " necessarily wrong (sample addresses are PII-shaped), but every one would be redacted"
        " or block under the default policies.",
        "",
        "| detector | AlpacaEval before | AlpacaEval after | Arena-Hard before"
        " | Arena-Hard after | dev after |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {n or '**all**'} | {_per_mb(b['benign_held'], n)} | {_per_mb(bh, n)} "
        f"| {_per_mb(b['benign_arena'], n)} | {_per_mb(ba, n)} | {_per_mb(bd, n)} |"
        for n in [None, *names]
    ]
    lines += [
        "",
        "## Method",
        "",
        "* PII: every `pii` detector runs on each `full_text`. A finding is correct when it"
        " overlaps a gold span (end exclusive) of the same entity type; a gold span is found"
        " when a finding of its type overlaps it. The micro row sums the counts of the six"
        " entities. Findings on text the dataset did not label count against precision.",
        "* Nothing was fitted to held-out data: patterns, validators and defaults were tuned on"
        " `generated_large.json`, self-instruct, WildGuard, MITRE FRR, BIPIA-train and the a-m"
        " Nosey Parker files; held-out misses were not inspected.",
        "* Secrets: the rule-to-detector map was decided from rule names. An example is a hit"
        " when a mapped detector reports any span in it (examples are not span-labelled); a"
        " negative is flagged when a mapped detector reports anything. 'All examples' runs every"
        " secret detector on every rule's examples, including kinds no detector claims"
        " (public identifiers such as client ids and bucket names). Nosey Parker's negatives of"
        " one rule are often positives of another (a v1.10 Vault token is a negative of the"
        " pre-1.10 rule), so 'any finding on all negatives' overstates false positives. The"
        " counted sets differ between versions when a detector is new.",
        "* CredSweeper: `output.json` lists CredSweeper's own expected findings (not"
        " independent labels); many are generic `password`/`key` assignments in code formats.",
        "* Throughput of the detectors, alone and together, against `main`:"
        " [DETECTORS-COST.md](DETECTORS-COST.md).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: print the report and write ``bench/EVAL.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--phone-regions", default="", help="comma-separated, e.g. US,GB")
    parser.add_argument("--baseline-src", help="another checkout's src dir, scored as 'before'")
    parser.add_argument("--baseline-label", default="", help="e.g. the baseline commit")
    parser.add_argument("--json", action="store_true", help="print the raw metrics as JSON")
    parser.add_argument("--no-write", action="store_true", help="only print the report")
    args = parser.parse_args(argv)
    regions = [r.strip() for r in args.phone_regions.split(",") if r.strip()] or None
    after = metrics(regions)
    if args.json:
        print(json.dumps(after))
        return
    before = None
    if args.baseline_src:
        env = {**os.environ, "TIDEGATE_EVAL_SRC": str(Path(args.baseline_src).resolve())}
        extra = ["--phone-regions", args.phone_regions] if regions else []
        out = subprocess.run(
            [sys.executable, __file__, "--json", *extra],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        before = json.loads(out.stdout)
    note = f"Phone regions: {', '.join(regions) if regions else 'the default of each version'}." + (
        f" Before = {args.baseline_label or args.baseline_src}." if before else ""
    )
    text = render(after, before, note)
    print(text)
    if not args.no_write:
        (lib.REPO / "bench" / "EVAL.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
