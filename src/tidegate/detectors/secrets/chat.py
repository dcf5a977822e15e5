"""Chat, messaging and e-mail delivery credentials.

Slack has one detector per token type, each in its documented layout
(api.slack.com "Token types"): a single loose pattern for every ``xox?-``
string flagged look-alikes of one type that are invalid for it.
"""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import E, secret_detector, token

__all__ = ["CHAT_DETECTORS"]

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

CHAT_DETECTORS: tuple[PatternDetector, ...] = (
    # Slack bot token: xoxb-{workspace id}-{bot user id}-{24 alnum}; legacy bot
    # tokens have one numeric part.
    token("slack_bot_token", "SLACK_TOKEN", r"xoxb-[0-9]{8,14}-(?:[0-9]{8,14}-)?[A-Za-z0-9]{24}"),
    # Slack user token: xoxp-{workspace}-{user}-{team}-{32 hex}.
    token(
        "slack_user_token", "SLACK_TOKEN", r"xoxp-[0-9]{8,14}-[0-9]{8,14}-[0-9]{8,14}-[a-f0-9]{32}"
    ),
    # Slack app-level token: xapp-{version}-{app id}-{number}-{64 hex}.
    token("slack_app_token", "SLACK_TOKEN", r"xapp-[0-9]-[A-Z0-9]{9,12}-[0-9]{10,14}-[a-f0-9]{64}"),
    # Slack configuration and refresh tokens (xoxe.xoxp-1-..., xoxe-1-...).
    token("slack_config_token", "SLACK_TOKEN", r"xoxe(?:\.xox[bp])?-1-[A-Za-z0-9]{140,170}"),
    # Slack legacy workspace, OAuth and classic tokens (xoxa-2-, xoxo-, xoxs-, xoxr-).
    token(
        "slack_legacy_token",
        "SLACK_TOKEN",
        r"xox[aors]-[0-9]{1,14}(?:-[0-9]{8,14}){1,3}-[A-Za-z0-9]{16,64}",
    ),
    # Slack incoming webhooks and workflow triggers.
    secret_detector(
        "slack_webhook",
        "SLACK_WEBHOOK",
        r"https://hooks\.slack\.com/(?:services/T[A-Za-z0-9_]{8,12}/B[A-Za-z0-9_]{8,12}/[A-Za-z0-9_]{20,32}"
        r"|(?:workflows|triggers)/T[A-Z0-9]{8,12}/A[A-Z0-9]{8,12}/[0-9]{15,20}/[A-Za-z0-9]{23,32})"
        + E,
    ),
    # Discord bot token: base64 user id, timestamp, HMAC (discord.dev docs).
    token(
        "discord_bot_token",
        "DISCORD_TOKEN",
        r"[MNO][A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40}",
    ),
    # Discord webhook URL: /api/webhooks/{id}/{68-char token}.
    secret_detector(
        "discord_webhook",
        "DISCORD_WEBHOOK",
        r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,72}"
        + E,
    ),
    # Telegram bot token: {bot id}:{35 chars starting AA} (core.telegram.org/bots/api).
    secret_detector(
        "telegram_bot_token",
        "TELEGRAM_BOT_TOKEN",
        r"(?<![0-9A-Za-z])[0-9]{8,10}:AA[0-9A-Za-z_\-]{33}" + E,
    ),
    # Microsoft Teams incoming webhook (Office 365 connector URL).
    secret_detector(
        "msteams_webhook",
        "MSTEAMS_WEBHOOK",
        rf"https://(?:[a-z0-9\-]{{1,60}}\.webhook\.office\.com/webhookb2|outlook\.office(?:365)?\.com/webhook)"
        rf"/{_UUID}@{_UUID}"
        rf"/IncomingWebhook/[a-f0-9]{{32}}/{_UUID}(?:/[A-Za-z0-9_\-]{{40,80}})?",
    ),
    # Twilio API key SID (SK + 32 hex), twilio.com/docs/iam/api-keys.
    secret_detector(
        "twilio_api_key", "TWILIO_API_KEY", r"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])"
    ),
    # Mailgun private API keys (key- + 32 hex).
    token("mailgun_api_key", "MAILGUN_API_KEY", r"key-[0-9a-f]{32}"),
    # Brevo (Sendinblue) API v3 keys.
    token("brevo_api_key", "BREVO_API_KEY", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    # MailerSend API tokens.
    token("mailersend_api_key", "MAILERSEND_API_KEY", r"mlsn\.[a-f0-9]{64}"),
    # Resend API keys (re_ + 8 + _ + 24).
    token("resend_api_key", "RESEND_API_KEY", r"re_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}"),
    # Twitter/X app-only bearer tokens (start with 21+ "A").
    secret_detector(
        "twitter_bearer_token",
        "TWITTER_TOKEN",
        r"(?<![A-Za-z0-9%])AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,120}(?![A-Za-z0-9%])",
        validator=None,
    ),
    # Facebook / Meta Graph API access tokens (EAA + app-specific letter).
    token("facebook_access_token", "FACEBOOK_TOKEN", r"EAA[A-Z][A-Za-z0-9]{40,400}"),
)
"""Chat and messaging detectors, in reporting order."""
