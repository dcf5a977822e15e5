"""Secret detectors (group ``"secrets"``): one bounded pattern per credential kind.

Formats follow the vendors' published token formats (prefixes, lengths,
alphabets). Vendor tokens are rejected when they are documentation
placeholders (:func:`~._build.not_placeholder`); keyword-based kinds
(``password = ...``, ``Authorization: Bearer ...``, connection strings)
also need a high-entropy value. Where Yelp's ``detect-secrets`` ships a
plugin for the same kind, it is named in :data:`DETECT_SECRETS_PLUGINS`, and
the test suite checks that the plugin also flags the positive examples.

Modules: :mod:`.core` (code hosts, registries, the big LLM vendors, private
keys, JWTs, credentials in URLs), :mod:`.cloud`, :mod:`.devops`,
:mod:`.chat`, :mod:`.saas` (payments and SaaS), :mod:`.ai`, :mod:`.generic`.
Secret values are never logged by this package.
"""

from __future__ import annotations

from types import MappingProxyType

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets.ai import AI_DETECTORS
from tidegate.detectors.secrets.chat import CHAT_DETECTORS
from tidegate.detectors.secrets.cloud import CLOUD_DETECTORS
from tidegate.detectors.secrets.core import CORE_DETECTORS, is_plausible_password, is_valid_jwt
from tidegate.detectors.secrets.devops import DEVOPS_DETECTORS
from tidegate.detectors.secrets.generic import GENERIC_DETECTORS, is_basic_auth_credential
from tidegate.detectors.secrets.saas import SAAS_DETECTORS

__all__ = [
    "DETECT_SECRETS_PLUGINS",
    "SECRET_DETECTORS",
    "is_basic_auth_credential",
    "is_plausible_password",
    "is_valid_jwt",
]

SECRET_DETECTORS: tuple[PatternDetector, ...] = (
    CORE_DETECTORS
    + CLOUD_DETECTORS
    + DEVOPS_DETECTORS
    + CHAT_DETECTORS
    + SAAS_DETECTORS
    + AI_DETECTORS
    + GENERIC_DETECTORS
)
"""All default secret detectors, in reporting order."""

DETECT_SECRETS_PLUGINS: MappingProxyType[str, str] = MappingProxyType(
    {
        "aws_access_key": "AWSKeyDetector",
        "github_token": "GitHubTokenDetector",
        "gitlab_token": "GitLabTokenDetector",
        "slack_bot_token": "SlackDetector",
        "slack_user_token": "SlackDetector",
        "slack_webhook": "SlackDetector",
        "stripe_key": "StripeDetector",
        "openai_api_key": "OpenAIDetector",
        "npm_token": "NpmDetector",
        "pypi_token": "PypiTokenDetector",
        "sendgrid_api_key": "SendGridDetector",
        "mailchimp_api_key": "MailchimpDetector",
        "jwt": "JwtTokenDetector",
        "private_key": "PrivateKeyDetector",
        "connection_string_password": "BasicAuthDetector",
        "jfrog_token": "ArtifactoryDetector",
        "azure_storage_key": "AzureStorageKeyDetector",
        "discord_bot_token": "DiscordBotTokenDetector",
        "telegram_bot_token": "TelegramBotTokenDetector",
        "twilio_api_key": "TwilioKeyDetector",
        "square_token": "SquareOAuthDetector",
        "password_assignment": "KeywordDetector",
    }
)
"""Detector name -> the ``detect_secrets.plugins`` class that covers the same
kind (a superset or subset of formats; see each detector's comment)."""
