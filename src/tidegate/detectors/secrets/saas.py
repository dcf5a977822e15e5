"""Payment providers and SaaS APIs (commerce, productivity, data, maps)."""

from __future__ import annotations

from tidegate.detectors.base import PatternDetector
from tidegate.detectors.secrets._build import token

__all__ = ["SAAS_DETECTORS"]

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

SAAS_DETECTORS: tuple[PatternDetector, ...] = (
    # Stripe webhook signing secrets (whsec_).
    token("stripe_webhook_secret", "STRIPE_KEY", r"whsec_[A-Za-z0-9+/]{32,64}"),
    # Square access tokens (EAAA..., sq0atp-) and OAuth secrets (sq0csp-).
    token(
        "square_token",
        "SQUARE_TOKEN",
        r"(?:EAAA[A-Za-z0-9_\-]{60}|sq0atp-[0-9A-Za-z_\-]{22}|sq0csp-[0-9A-Za-z_\-]{43})",
    ),
    # PayPal Braintree access tokens.
    token(
        "braintree_access_token",
        "BRAINTREE_TOKEN",
        r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}",
    ),
    # Plaid access tokens.
    token(
        "plaid_access_token", "PLAID_TOKEN", rf"access-(?:sandbox|development|production)-{_UUID}"
    ),
    # Flutterwave secret keys.
    token("flutterwave_secret_key", "FLUTTERWAVE_KEY", r"FLWSECK(?:_TEST)?-[a-h0-9]{32}-X"),
    # Shopify access tokens and shared secrets (shpat_, shpca_, shppa_, shpss_).
    token("shopify_token", "SHOPIFY_TOKEN", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    # EasyPost API keys (EZAK live, EZTK test).
    token("easypost_api_key", "EASYPOST_API_KEY", r"EZ[AT]K[A-Za-z0-9]{54}"),
    # Duffel API tokens.
    token("duffel_token", "DUFFEL_TOKEN", r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}"),
    # Shippo API tokens.
    token("shippo_token", "SHIPPO_TOKEN", r"shippo_(?:live|test)_[a-f0-9]{40}"),
    # Lob API keys.
    token("lob_api_key", "LOB_API_KEY", r"(?:live|test)_[a-f0-9]{35}"),
    # Salesforce access tokens (org id 00D..., "!", session).
    token("salesforce_token", "SALESFORCE_TOKEN", r"00[A-Za-z0-9]{13}![A-Za-z0-9_.]{96}"),
    # HubSpot private app tokens.
    token("hubspot_token", "HUBSPOT_TOKEN", rf"pat-(?:na|eu)[0-9]-{_UUID}"),
    # Notion integration tokens (ntn_ and legacy secret_).
    token(
        "notion_token", "NOTION_TOKEN", r"(?:ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})"
    ),
    # Airtable personal access tokens.
    token("airtable_token", "AIRTABLE_TOKEN", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
    # Contentful personal access tokens.
    token("contentful_token", "CONTENTFUL_TOKEN", r"CFPAT-[A-Za-z0-9_\-]{43}"),
    # Typeform personal tokens.
    token("typeform_token", "TYPEFORM_TOKEN", r"tfp_[A-Za-z0-9_\-.=]{59}"),
    # ClickUp personal API tokens.
    token("clickup_token", "CLICKUP_TOKEN", r"pk_[0-9]{6,10}_[A-Z0-9]{32}"),
    # Dropbox short-lived access tokens (sl. / sl.u.).
    token("dropbox_token", "DROPBOX_TOKEN", r"sl\.(?:u\.)?[A-Za-z0-9_\-]{130,1200}"),
    # Mapbox secret tokens (sk.eyJ...); public pk. tokens are not secrets.
    token(
        "mapbox_secret_token",
        "MAPBOX_TOKEN",
        r"[st]k\.eyJ[A-Za-z0-9_\-]{20,400}\.[A-Za-z0-9_\-]{20,40}",
    ),
    # Segment public API tokens.
    token("segment_token", "SEGMENT_TOKEN", r"sgp_[A-Za-z0-9]{64}"),
    # LaunchDarkly API, SDK and mobile keys.
    token("launchdarkly_key", "LAUNCHDARKLY_KEY", rf"(?:api|sdk|mob)-{_UUID}"),
    # Riot Games API keys.
    token("riot_api_key", "RIOT_API_KEY", rf"RGAPI-{_UUID}"),
    # Adafruit IO keys.
    token("adafruit_io_key", "ADAFRUIT_KEY", r"aio_[A-Za-z0-9]{28}"),
)
"""SaaS and payment detectors, in reporting order."""
