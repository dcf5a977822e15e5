"""Cloud providers: AWS, Azure, Google Cloud, DigitalOcean, Alibaba, Tencent, others."""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import (
    BOUNDARY,
    E,
    assignment,
    is_high_entropy_value,
    secret_detector,
    token,
)

__all__ = ["CLOUD_DETECTORS"]

_AWS_SECRET = r"[A-Za-z0-9/+]{40}"
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _aws_secret(text: str) -> bool:
    """An AWS secret access key is 40 random base64 chars (entropy >= 3.5 bits/char)."""
    return is_high_entropy_value(text, 3.5)


CLOUD_DETECTORS: tuple[PatternDetector, ...] = (
    # AWS secret access key in an assignment (credentials file, env, code):
    # aws_secret_access_key = wJalr...; 40 base64 chars (AWS IAM docs).
    secret_detector(
        "aws_secret_key",
        "AWS_SECRET_KEY",
        assignment(
            # secret_access_key, SecretAccessKey, or aws_secret / aws_secret_key
            rf"(?:{BOUNDARY}|(?<=(?i:aws_))|(?<=(?i:aws)))(?i:secret)"
            r"(?:[_\-]?(?i:access)[_\-]?(?i:key)|(?:(?<=(?i:aws_secret))|(?<=(?i:awssecret)))"
            r"(?:[_\-]?(?i:key))?)",
            _AWS_SECRET,
        )
        + r"(?![A-Za-z0-9/+])",
        validator=_aws_secret,
        span_group="value",
    ),
    # AWS secret access key right after its access key id (CSV exports,
    # "AKIA..., wJalr...", one per line).
    secret_detector(
        "aws_secret_key_pair",
        "AWS_SECRET_KEY",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}[\"']?[ \t]{0,4}[,;:|=\t\n][ \t\"']{0,4}"
        r"(?:[A-Za-z_ ]{0,30}[:=][ \t\"']{0,4})?"
        rf"(?P<value>{_AWS_SECRET})(?![A-Za-z0-9/+])",
        validator=_aws_secret,
        span_group="value",
    ),
    # AWS session token in an assignment (FwoGZXIvYXdzE... / IQoJb3JpZ2luX2Vj...).
    secret_detector(
        "aws_session_token",
        "AWS_SESSION_TOKEN",
        assignment(
            r"(?i:token)(?:(?<=(?i:session_token))|(?<=(?i:sessiontoken))"
            r"|(?<=(?i:security_token))|(?<=(?i:securitytoken)))",
            r"(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{100,1200}",
        )
        + r"(?![A-Za-z0-9/+=])",
        validator=None,
        span_group="value",
    ),
    # Amazon MWS auth token.
    token("amazon_mws_token", "AMAZON_MWS_TOKEN", rf"amzn\.mws\.{_UUID}"),
    # Azure storage account key inside a connection string (AccountKey=...==).
    secret_detector(
        "azure_storage_key",
        "AZURE_STORAGE_KEY",
        r"(?i:key=)(?:(?<=(?i:accountkey=))|(?<=(?i:sharedaccesskey=)))"
        r"(?P<value>[A-Za-z0-9+/]{43,86}={0,2})(?![A-Za-z0-9+/=])",
        span_group="value",
    ),
    # Azure SAS token signature (sig=...), in a URL with a service version.
    secret_detector(
        "azure_sas_signature",
        "AZURE_SAS_TOKEN",
        r"[?&]sv=[0-9]{4}-[0-9]{2}-[0-9]{2}&[A-Za-z0-9=&%:._\-]{0,300}?"
        r"sig=(?P<value>[A-Za-z0-9%+/]{40,90}(?:%3D|=){0,2})(?![A-Za-z0-9%+/=])",
        span_group="value",
    ),
    # Azure AD (Entra ID) client secrets: 3 chars, a digit, "Q~", 31-34 chars.
    secret_detector(
        "azure_ad_client_secret",
        "AZURE_CLIENT_SECRET",
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])",
    ),
    # Google OAuth client secret (GOCSPX- prefix since 2021).
    token("google_oauth_client_secret", "GOOGLE_CLIENT_SECRET", r"GOCSPX-[A-Za-z0-9_\-]{28}"),
    # Google OAuth access token (ya29.).
    token("google_oauth_access_token", "GOOGLE_OAUTH_TOKEN", r"ya29\.[0-9A-Za-z_\-]{20,1000}"),
    # Google OAuth refresh token (1//0...).
    secret_detector(
        "google_oauth_refresh_token",
        "GOOGLE_OAUTH_TOKEN",
        r"(?<![A-Za-z0-9/])1//0[0-9A-Za-z_\-]{40,200}" + E,
    ),
    # Firebase Cloud Messaging legacy server key.
    token(
        "firebase_fcm_server_key",
        "FIREBASE_FCM_KEY",
        r"AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{134}",
    ),
    # DigitalOcean personal, OAuth and refresh tokens (dop_v1_, doo_v1_, dor_v1_).
    token("digitalocean_token", "DIGITALOCEAN_TOKEN", r"do[opr]_v1_[a-f0-9]{64}"),
    # Heroku API key: a UUID after a heroku key name, or the HRKU- format.
    secret_detector(
        "heroku_api_key",
        "HEROKU_API_KEY",
        assignment(rf"{BOUNDARY}(?i:heroku)_?(?:(?i:api)_?)?(?:(?i:key)|(?i:token))", _UUID)
        + r"(?![A-Za-z0-9\-])",
        span_group="value",
    ),
    # Alibaba Cloud AccessKey ID (LTAI...).
    token("alibaba_access_key", "ALIBABA_ACCESS_KEY", r"LTAI[A-Za-z0-9]{12,20}"),
    # Tencent Cloud SecretId (AKID + 32).
    token("tencent_secret_id", "TENCENT_SECRET_ID", r"AKID[A-Za-z0-9]{32}"),
    # Yandex Cloud API key (AQVN) and static access key (YC).
    token("yandex_api_key", "YANDEX_API_KEY", r"AQVN[A-Za-z0-9_\-]{35,38}"),
    # Scaleway access key (SCW + 17).
    token("scaleway_access_key", "SCALEWAY_ACCESS_KEY", r"SCW[A-Z0-9]{17}"),
    # Cloudflare Origin CA key.
    token("cloudflare_origin_ca_key", "CLOUDFLARE_KEY", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    # IBM / OpenShift OAuth access tokens (sha256~...).
    token("openshift_token", "OPENSHIFT_TOKEN", r"sha256~[A-Za-z0-9_\-]{43}"),
    # Fly.io tokens (fo1_).
    token("flyio_token", "FLYIO_TOKEN", r"fo1_[A-Za-z0-9_\-]{43}"),
    # Databricks personal access token (dapi + 32 hex).
    token("databricks_token", "DATABRICKS_TOKEN", r"dapi[a-f0-9]{32}(?:-[0-9])?"),
    # Supabase personal access token (sbp_ + 40 hex).
    token("supabase_token", "SUPABASE_TOKEN", r"sbp_[a-f0-9]{40}"),
    # PlanetScale service tokens, passwords and OAuth tokens.
    token(
        "planetscale_token", "PLANETSCALE_TOKEN", r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_\-.]{32,64}"
    ),
)
"""Cloud provider detectors, in reporting order."""
