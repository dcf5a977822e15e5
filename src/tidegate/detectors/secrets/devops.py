"""Code hosting, CI/CD, package registries, infrastructure and observability tools."""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import not_placeholder, secret_detector, token

__all__ = ["DEVOPS_DETECTORS"]


def _mixed_random(text: str) -> bool:
    """A random base62 token: upper case, lower case and digits all present."""
    body = text[2:]
    return (
        not_placeholder(text)
        and any(c.isdigit() for c in body)
        and any(c.islower() for c in body)
        and any(c.isupper() for c in body)
    )


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

DEVOPS_DETECTORS: tuple[PatternDetector, ...] = (
    # Bitbucket app passwords (ATBB + 32).
    token("bitbucket_app_password", "BITBUCKET_TOKEN", r"ATBB[A-Za-z0-9_=.\-]{32}"),
    # Atlassian Cloud API tokens (ATATT3 + 186).
    token("atlassian_api_token", "ATLASSIAN_TOKEN", r"ATATT3[A-Za-z0-9_\-=]{186}"),
    # RubyGems API keys.
    token("rubygems_api_key", "RUBYGEMS_API_KEY", r"rubygems_[a-f0-9]{48}"),
    # NuGet API keys (oy2 + 43).
    token("nuget_api_key", "NUGET_API_KEY", r"oy2[a-z0-9]{43}"),
    # crates.io API tokens (cio + 32).
    token("cratesio_api_key", "CRATESIO_API_KEY", r"cio[A-Za-z0-9]{32}"),
    # Clojars deploy tokens.
    token("clojars_token", "CLOJARS_TOKEN", r"CLOJARS_[a-z0-9]{60}"),
    # Docker Hub personal and organisation access tokens.
    token("dockerhub_token", "DOCKERHUB_TOKEN", r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,36}"),
    # JFrog Artifactory API keys (AKCp) and identity/reference tokens (cmVmdGtu = "reftkn").
    token(
        "jfrog_token", "JFROG_TOKEN", r"(?:AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50,60})"
    ),
    # CircleCI personal API tokens.
    token("circleci_token", "CIRCLECI_TOKEN", r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}"),
    # Buildkite user access tokens.
    token("buildkite_token", "BUILDKITE_TOKEN", r"bkua_[a-f0-9]{40}"),
    # Terraform Cloud / HCP Terraform API tokens.
    token(
        "terraform_cloud_token",
        "TERRAFORM_TOKEN",
        r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}",
    ),
    # HashiCorp Vault service, batch and recovery tokens (>= 1.10: hvs., hvb., hvr.).
    token("vault_token", "VAULT_TOKEN", r"hv[sbr]\.[A-Za-z0-9_\-]{24,250}"),
    # Vault tokens before 1.10 (s., b., r. + 24-26 base62): random, so they mix
    # cases and digits, unlike a method call such as b.removeTransientObservers().
    token(
        "vault_legacy_token", "VAULT_TOKEN", r"[sbr]\.[A-Za-z0-9]{24,26}", validator=_mixed_random
    ),
    # Vault unseal keys, as printed by "vault operator init" or passed to
    # "vault operator unseal".
    secret_detector(
        "vault_unseal_key",
        "VAULT_UNSEAL_KEY",
        r"(?:Unseal Key [0-9]{1,2}:|operator unseal)[ \t]{1,3}"
        r"(?P<value>[A-Za-z0-9+/]{44}(?:[A-Za-z0-9+/]{44})?={0,2})(?![A-Za-z0-9+/=])",
        span_group="value",
    ),
    # Pulumi access tokens.
    token("pulumi_token", "PULUMI_TOKEN", r"pul-[a-f0-9]{40}"),
    # Doppler tokens (personal, service, service account, CLI, SCIM, audit).
    token(
        "doppler_token",
        "DOPPLER_TOKEN",
        r"dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44}",
    ),
    # Dependency-Track API keys (odt_).
    token("dependency_track_key", "DEPENDENCY_TRACK_KEY", r"odt_[A-Za-z0-9]{32,40}"),
    # Azure DevOps personal access tokens (84 chars, AZDO signature at 76).
    token(
        "azure_devops_pat",
        "AZURE_DEVOPS_PAT",
        r"[A-Za-z0-9]{52}JQQJ9[A-Za-z0-9]{19}AZDO[A-Za-z0-9]{4}",
    ),
    # Sentry user auth tokens and organisation tokens.
    token(
        "sentry_token",
        "SENTRY_TOKEN",
        r"(?:sntryu_[a-f0-9]{64}|sntrys_eyJ[A-Za-z0-9+/=_\-]{60,300})",
    ),
    # New Relic user keys (NRAK), insert/query keys (NRII/NRIQ), REST keys (NRRA),
    # browser keys (NRJS), Pixie keys.
    token(
        "newrelic_key",
        "NEWRELIC_KEY",
        r"(?:NR(?:AK-[A-Z0-9]{27}|I[IQ]-[A-Za-z0-9_\-]{32}|RA-[a-f0-9]{42}|JS-[a-f0-9]{19})"
        rf"|px-(?:api|dep)-{_UUID})",
    ),
    # New Relic license keys: 36 hex and the NRAL suffix (no prefix to search for;
    # the engine finds the required NRAL literal).
    token("newrelic_license_key", "NEWRELIC_KEY", r"[a-f0-9]{36}NRAL"),
    # Grafana Cloud API tokens (glc_) and service account tokens (glsa_).
    # Legacy Grafana API keys are base64 of {"k":"...","n":"...","id":N}.
    token(
        "grafana_token",
        "GRAFANA_TOKEN",
        r"(?:glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}"
        r"|eyJrIjoi[A-Za-z0-9+/]{50,120}={0,2})",
    ),
    # Dynatrace API tokens.
    token("dynatrace_token", "DYNATRACE_TOKEN", r"dt0[a-z][0-9]{2}\.[A-Z0-9]{24}\.[A-Z0-9]{64}"),
    # Postman API keys.
    token("postman_api_key", "POSTMAN_API_KEY", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
    # SonarQube / SonarCloud tokens (squ_, sqp_, sqa_).
    token("sonarqube_token", "SONARQUBE_TOKEN", r"sq[upa]_[a-f0-9]{40}"),
    # Sourcegraph access tokens.
    token("sourcegraph_token", "SOURCEGRAPH_TOKEN", r"sgp_(?:[a-f0-9]{16}|local)_[a-f0-9]{40}"),
    # Octopus Deploy API keys.
    token("octopus_api_key", "OCTOPUS_API_KEY", r"API-[A-Z0-9]{26}"),
    # Harness personal access tokens.
    token(
        "harness_token", "HARNESS_TOKEN", r"pat\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20}"
    ),
    # Prefect Cloud API keys.
    token("prefect_api_key", "PREFECT_API_KEY", r"pnu_[A-Za-z0-9]{36}"),
    # Infracost API keys.
    token("infracost_api_key", "INFRACOST_API_KEY", r"ico-[A-Za-z0-9]{32}"),
    # Linear API keys.
    token("linear_api_key", "LINEAR_API_KEY", r"lin_api_[A-Za-z0-9]{40}"),
    # Figma personal access tokens.
    token("figma_token", "FIGMA_TOKEN", r"figd_[A-Za-z0-9_\-]{40}"),
    # Age encryption secret keys (bech32, upper case).
    token(
        "age_secret_key",
        "AGE_SECRET_KEY",
        r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
    ),
    # 1Password service account tokens.
    token("onepassword_token", "ONEPASSWORD_TOKEN", r"ops_eyJ[A-Za-z0-9+/_\-]{100,1200}={0,2}"),
    # Kubernetes bootstrap tokens ([a-z0-9]{6}.[a-z0-9]{16}), in kubeadm join lines.
    secret_detector(
        "kubernetes_bootstrap_token",
        "KUBERNETES_TOKEN",
        r"(?:--(?:tls-bootstrap-|discovery-)?token[ =]|(?i:bootstrap_?token)[\"']?[ \t]{0,3}[:=]"
        r"[ \t]{0,3}[\"']?)(?P<value>[a-z0-9]{6}\.[a-z0-9]{16})(?![A-Za-z0-9])",
        span_group="value",
    ),
    # Defined Networking (Nebula) API keys.
    token("defined_networking_key", "DEFINED_API_KEY", r"dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52}"),
    # Frame.io developer tokens.
    token("frameio_token", "FRAMEIO_TOKEN", r"fio-u-[A-Za-z0-9_=\-]{64}"),
    # ReadMe API keys.
    token("readme_api_key", "README_API_KEY", r"rdme_[a-z0-9]{70}"),
    # Scalingo API tokens.
    token("scalingo_token", "SCALINGO_TOKEN", r"tk-us-[A-Za-z0-9_\-]{48}"),
)
"""Developer-tool detectors, in reporting order."""
