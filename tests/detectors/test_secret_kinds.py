"""Every secret kind beyond the first ones: a Presidio-style table each.

Each row is (text, the value that must be reported, or None for a negative).
Tokens are generated from a seeded RNG in each vendor's documented layout
(prefix, length, alphabet), and their prefixes are split so that this file
holds no literal token. Negatives: documentation placeholders in the same
layout, wrong prefixes or lengths, and keyword-free look-alikes.
"""

from __future__ import annotations

import base64
import random
import string

import pytest

from tidegate.detectors.secrets import SECRET_DETECTORS
from tidegate.detectors.secrets.core import CORE_DETECTORS

_RNG = random.Random(20241122)
AN = string.ascii_letters + string.digits
UP = string.ascii_uppercase + string.digits
LO = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = AN + "+/"
B64URL = AN + "-_"
BY_NAME = {d.name: d for d in SECRET_DETECTORS}


def r(n: int, alphabet: str = AN) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def uuid() -> str:
    return f"{r(8, HEX)}-{r(4, HEX)}-{r(4, HEX)}-{r(4, HEX)}-{r(12, HEX)}"


def j(*parts: str) -> str:
    """Join parts: keeps prefixes split in the source."""
    return "".join(parts)


AWS_SECRET = r(40, B64)
KEY_ID = j("AK", "IA", r(16, UP))
BASIC = base64.b64encode(b"deploy:" + r(16).encode()).decode()
Row = tuple[str, str | None]

TABLE: dict[str, list[Row]] = {}


def kind(name: str, value: str, *negatives: str, template: str = "key = {v}\n") -> None:
    """One positive (``value`` inside ``template``) and the given negatives."""
    TABLE[name] = [(template.format(v=value), value), *((n, None) for n in negatives)]


def more(name: str, text: str, value: str | None) -> None:
    TABLE[name].append((text, value))


# --- cloud
kind(
    "aws_secret_key",
    AWS_SECRET,
    "aws_secret_access_key = " + "A" * 40,
    "aws_secret_access_key = ${AWS_SECRET}",
    template="aws_secret_access_key = {v}\n",
)
more("aws_secret_key", f'"SecretAccessKey": "{AWS_SECRET}"', AWS_SECRET)
more("aws_secret_key", f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}x", None)  # 41 chars
kind("aws_secret_key_pair", AWS_SECRET, f"{KEY_ID},{'wJalr' * 8}", template=f"{KEY_ID},{{v}}\n")
more("aws_secret_key_pair", f"{KEY_ID}\n{AWS_SECRET}\n", AWS_SECRET)
more("aws_secret_key_pair", f"AKIA{r(16, UP)} is documented in the guide", None)
SESSION = j("IQoJb3Jp", "Z2lu", r(300, B64))
kind(
    "aws_session_token",
    SESSION,
    "aws_session_token = " + r(300, B64),
    template="aws_session_token = {v}\n",
)
kind("amazon_mws_token", j("amzn.", "mws.", uuid()), "amzn.mws.not-a-uuid")
AZ_KEY = r(86, B64) + "=="
kind(
    "azure_storage_key",
    AZ_KEY,
    "AccountKey=short==",
    template="DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={v};EndpointSuffix=core.windows.net",
)
SAS = r(43, AN) + "%3D"
kind(
    "azure_sas_signature",
    SAS,
    "https://x.blob.core.windows.net/c?sig=" + r(43),
    template="https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&srt=o&sp=r&se=2025-01-01&sig={v}",
)
kind("azure_ad_client_secret", j(r(3), "8Q~", r(34, AN + "_~.-")), "abc8Q~short")
kind("google_oauth_client_secret", j("GOC", "SPX-", r(28, B64URL)), "GOCSPX-" + "x" * 28)
kind("google_oauth_access_token", j("ya", "29.", r(150, B64URL)), "ya29.short")
kind("google_oauth_refresh_token", j("1/", "/0", r(90, B64URL)), "1//0abc")
kind(
    "firebase_fcm_server_key",
    j("AAAA", r(7, B64URL), ":APA", "91b", r(134, B64URL)),
    "AAAAxx:APA91b",
)
kind(
    "digitalocean_token", j("do", "p_v1_", r(64, HEX)), "dop_v1_" + "0" * 64, "dop_v2_" + r(64, HEX)
)
more("digitalocean_token", "refresh: " + j("do", "r_v1_") + r(64, HEX) + " ok", None)
TABLE["digitalocean_token"][-1] = (
    TABLE["digitalocean_token"][-1][0],
    TABLE["digitalocean_token"][-1][0][9:80],
)
HEROKU = uuid()
kind("heroku_api_key", HEROKU, f"id = {uuid()}", template="HEROKU_API_KEY={v}\n")
kind("alibaba_access_key", j("LT", "AI", r(20)), "LTAI" + "X" * 20)
kind("tencent_secret_id", j("AK", "ID", r(32)), "AKID" + r(31) + "-")
kind("yandex_api_key", j("AQ", "VN", r(36, B64URL)), "AQVN" + r(10))
kind("scaleway_access_key", j("SC", "W", r(17, UP)), "SCW" + r(16, UP))
kind("cloudflare_origin_ca_key", j("v1.", "0-", r(24, HEX), "-", r(146, HEX)), "v1.0-" + r(24, HEX))
kind("openshift_token", j("sha", "256~", r(43, B64URL)), "sha256:" + r(64, HEX))
kind("flyio_token", j("fo", "1_", r(43, B64URL)), "fo1_short")
kind("databricks_token", j("da", "pi", r(32, HEX)), "dapi" + r(31, HEX))
kind("supabase_token", j("sb", "p_", r(40, HEX)), "sbp_" + r(39, HEX))
kind("planetscale_token", j("pscale", "_tkn_", r(43, B64URL)), "pscale_tkn_short")
# --- devops
kind("bitbucket_app_password", j("AT", "BB", r(32)), "ATBB" + r(10))
kind("atlassian_api_token", j("ATA", "TT3", r(186, B64URL)), "ATATT3" + r(100))
kind("rubygems_api_key", j("ruby", "gems_", r(48, HEX)), "rubygems_" + r(47, HEX))
kind("nuget_api_key", j("oy", "2", r(43, LO)), "oy2" + r(42, LO))
kind("cratesio_api_key", j("ci", "o", r(32)), "cio" + r(31))
kind("clojars_token", j("CLO", "JARS_", r(60, LO)), "CLOJARS_" + r(59, LO))
kind("dockerhub_token", j("dckr", "_pat_", r(27, B64URL)), "dckr_pat_short")
kind("jfrog_token", j("AK", "Cp", r(69)), "AKCp" + r(68))
more("jfrog_token", "token: " + j("cmVmdGtu", "OjAxOj") + r(55) + "\n", None)
TABLE["jfrog_token"][-1] = (TABLE["jfrog_token"][-1][0], TABLE["jfrog_token"][-1][0][7:-1])
kind("circleci_token", j("CCI", "PAT_", r(22), "_", r(40, HEX)), "CCIPAT_" + r(22))
kind("buildkite_token", j("bk", "ua_", r(40, HEX)), "bkua_" + r(39, HEX))
kind("terraform_cloud_token", j(r(14), ".atlas", "v1.", r(67, B64URL)), "abc.atlasv1.def")
kind("vault_token", j("hv", "s.", r(90, B64URL)), "hvs.short")
kind(
    "vault_legacy_token",
    j("s", ".", "Z4b", r(22)),
    "b.removeTransientObservers()",
    "s.getElementsByClassNameX()",
    template='VAULT_TOKEN="{v}"',
)
UNSEAL = r(44, B64)
kind("vault_unseal_key", UNSEAL, "Unseal Key 1: short", template="Unseal Key 1: {v}\n")
kind("pulumi_token", j("pu", "l-", r(40, HEX)), "pul-" + r(39, HEX))
kind("doppler_token", j("dp", ".st.", "dev.", r(43)), "dp.st." + r(10))
kind("dependency_track_key", j("od", "t_", r(32)), "odt_" + r(10))
kind("azure_devops_pat", j(r(52), "JQQJ9", r(19), "AZDO", r(4)), r(84))
kind("sentry_token", j("sntr", "yu_", r(64, HEX)), "sntryu_" + r(63, HEX))
kind("newrelic_key", j("NR", "AK-", r(27, UP)), "NRAK-" + r(26, UP))
kind("newrelic_license_key", r(36, HEX) + "NRAL", r(35, HEX) + "NRAL", template="license {v}\n")
kind("grafana_token", j("gl", "sa_", r(32), "_", r(8, HEX)), "glsa_" + r(32))
kind("dynatrace_token", j("dt0", "c01.", r(24, UP), ".", r(64, UP)), "dt0c01." + r(24, UP))
kind("postman_api_key", j("PM", "AK-", r(24, HEX), "-", r(34, HEX)), "PMAK-" + r(24, HEX))
kind("sonarqube_token", j("sq", "u_", r(40, HEX)), "squ_" + r(39, HEX))
kind("sourcegraph_token", j("sg", "p_", r(16, HEX), "_", r(40, HEX)), "sgp_" + r(16, HEX))
kind("octopus_api_key", j("AP", "I-", r(26, UP)), "API-" + r(25, UP), "API-KEY")
kind("harness_token", j("pa", "t.", r(22, B64URL), ".", r(24, HEX), ".", r(20)), "pat.abc.def")
kind("prefect_api_key", j("pn", "u_", r(36)), "pnu_" + r(35))
kind("infracost_api_key", j("ic", "o-", r(32)), "ico-" + r(31))
kind("linear_api_key", j("lin", "_api_", r(40)), "lin_api_" + r(39))
kind("figma_token", j("fi", "gd_", r(40, B64URL)), "figd_" + r(20))
kind(
    "age_secret_key",
    j("AGE-SECRET", "-KEY-1", r(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")),
    "AGE-SECRET-KEY-1",
)
kind("onepassword_token", j("op", "s_eyJ", r(300, B64)), "ops_eyJ" + r(20))
kind(
    "kubernetes_bootstrap_token",
    j(r(6, LO), ".", r(16, LO)),
    "--token abc.def",
    template="kubeadm join 10.0.0.1:6443 --token {v} --discovery-token-ca-cert-hash sha256:x",
)
kind("defined_networking_key", j("dn", "key-", r(26, LO), "-", r(52, LO)), "dnkey-" + r(26, LO))
kind("frameio_token", j("fio", "-u-", r(64, B64URL)), "fio-u-" + r(30))
kind("readme_api_key", j("rd", "me_", r(70, LO)), "rdme_" + r(69, LO))
kind("scalingo_token", j("tk-", "us-", r(48, B64URL)), "tk-us-" + r(47))
# --- chat and messaging (Slack: one detector per token type)
kind(
    "slack_bot_token",
    j("xo", "xb-", r(12, "0123456789"), "-", r(13, "0123456789"), "-", r(24)),
    j("xo", "xb-", "X" * 12, "-", "X" * 13, "-", "X" * 24),
    j("xo", "xb-", r(12, "0123456789"), "-", r(10)),
)
more(
    "slack_bot_token",
    j("xo", "xp-", r(12, "0123456789"), "-", r(12, "0123456789"), "-", r(24)),
    None,
)
kind(
    "slack_user_token",
    j("xo", "xp-", *(r(12, "0123456789") + "-" for _ in range(3)), r(32, HEX)),
    j("xo", "xp-", "123-456-789-", r(32, HEX)),
    j("xo", "xb-", *(r(12, "0123456789") + "-" for _ in range(3)), r(32, HEX)),
)
kind(
    "slack_app_token",
    j("xa", "pp-1-", r(11, UP), "-", r(13, "0123456789"), "-", r(64, HEX)),
    j("xa", "pp-1-ABC-123"),
)
kind("slack_config_token", j("xo", "xe.xoxp-1-", r(164)), j("xo", "xe-1-short"))
kind(
    "slack_legacy_token",
    j(
        "xo",
        "xs-",
        r(12, "0123456789"),
        "-",
        r(12, "0123456789"),
        "-",
        r(12, "0123456789"),
        "-",
        r(32, HEX),
    ),
    j("xo", "xs-123"),
)
kind(
    "slack_webhook",
    j("https://hooks.", "slack.com/services/T", r(10, UP), "/B", r(10, UP), "/", r(24)),
    "https://hooks.slack.com/services/T000/B000/XXXX",
)
kind(
    "discord_bot_token",
    j("M", r(25, B64URL), ".", r(6, B64URL), ".", r(38, B64URL)),
    "M" + r(25) + "." + r(6),
)
kind(
    "discord_webhook",
    j("https://discord.com/api/", "webhooks/", r(18, "0123456789"), "/", r(68, B64URL)),
    "https://discord.com/api/webhooks/123/abc",
)
kind("telegram_bot_token", j(r(10, "0123456789"), ":A", "A", r(33, B64URL)), "12345:AAshort")
MSTEAMS = j(
    "https://acme.webhook.office.com/",
    "webhookb2/",
    uuid(),
    "@",
    uuid(),
    "/IncomingWebhook/",
    r(32, HEX),
    "/",
    uuid(),
)
kind("msteams_webhook", MSTEAMS, "https://acme.webhook.office.com/webhookb2/")
kind("twilio_api_key", j("S", "K", r(32, HEX)), "SK" + r(31, HEX), "ASK" + r(32, HEX))
kind("mailgun_api_key", j("ke", "y-", r(32, HEX)), "key-" + r(31, HEX), "key-value-store")
kind("brevo_api_key", j("xkey", "sib-", r(64, HEX), "-", r(16)), "xkeysib-" + r(64, HEX))
kind("mailersend_api_key", j("ml", "sn.", r(64, HEX)), "mlsn." + r(63, HEX))
kind(
    "resend_api_key", j("r", "e_", r(8), "_", r(24)), "re_" + r(8), "re_compile_pattern_of_the_day"
)
kind("twitter_bearer_token", j("A" * 21, r(80, AN + "%")), "A" * 30)
kind("facebook_access_token", j("EA", "AB", r(120)), "EAAB" + r(20))
# --- payments and SaaS
kind("stripe_webhook_secret", j("wh", "sec_", r(32)), "whsec_" + r(10))
kind("square_token", j("sq0", "csp-", r(43, B64URL)), "sq0csp-" + r(20))
more("square_token", "token " + j("EA", "AA", r(60, B64URL)), None)
TABLE["square_token"][-1] = (TABLE["square_token"][-1][0], TABLE["square_token"][-1][0][6:])
kind(
    "braintree_access_token",
    j("access_", "token$production$", r(16, LO), "$", r(32, HEX)),
    "access_token$production$abc",
)
kind("plaid_access_token", j("access-", "sandbox-", uuid()), "access-sandbox-123")
kind(
    "flutterwave_secret_key",
    j("FLW", "SECK_TEST-", r(32, "abcdefgh0123456789"), "-X"),
    "FLWSECK_TEST-abc-X",
)
kind("shopify_token", j("sh", "pat_", r(32, HEX)), "shpat_" + r(31, HEX))
kind("easypost_api_key", j("EZ", "AK", r(54)), "EZAK" + r(20))
kind("duffel_token", j("duffel", "_test_", r(43, B64URL)), "duffel_test_short")
kind("shippo_token", j("shippo", "_live_", r(40, HEX)), "shippo_live_" + r(39, HEX))
kind("lob_api_key", j("li", "ve_", r(35, HEX)), "live_" + r(34, HEX), "live_long_and_prosper")
kind("salesforce_token", j("00D", r(12), "!", r(96, AN + "._")), "00D" + r(12) + "!short")
kind("hubspot_token", j("pa", "t-na1-", uuid()), "pat-na1-123")
kind("notion_token", j("nt", "n_", r(11, "0123456789"), r(35)), "ntn_" + r(20))
kind("airtable_token", j("pa", "t", r(14), ".", r(64, HEX)), "pat" + r(14) + "." + r(10, HEX))
kind("contentful_token", j("CFP", "AT-", r(43, B64URL)), "CFPAT-" + r(20))
kind("typeform_token", j("tf", "p_", r(59, B64URL)), "tfp_" + r(20))
kind("clickup_token", j("p", "k_", r(8, "0123456789"), "_", r(32, UP)), "pk_123_ABC")
kind("dropbox_token", j("s", "l.", r(140, B64URL)), "sl." + r(40))
kind(
    "mapbox_secret_token",
    j("s", "k.eyJ", r(60, B64URL), ".", r(22, B64URL)),
    "pk.eyJ" + r(60) + "." + r(22),
)
kind("segment_token", j("sg", "p_", r(64)), "sgp_" + r(63))
kind("launchdarkly_key", j("ap", "i-", uuid()), "api-" + r(36, HEX), "sdk-not-a-uuid")
kind("riot_api_key", j("RG", "API-", uuid()), "RGAPI-123")
kind("adafruit_io_key", j("ai", "o_", r(28)), "aio_" + r(27))
# --- AI platforms
kind("replicate_api_token", j("r", "8_", r(37)), "r8_" + r(36))
kind("groq_api_key", j("gs", "k_", r(52)), "gsk_" + r(51))
kind("perplexity_api_key", j("pp", "lx-", r(48)), "pplx-" + r(47))
kind("xai_api_key", j("xa", "i-", r(80)), "xai-" + r(79))
kind("openrouter_api_key", j("sk-", "or-v1-", r(64, HEX)), "sk-or-v1-" + r(63, HEX))
kind("langsmith_api_key", j("lsv2", "_pt_", r(32, HEX), "_", r(10, HEX)), "lsv2_pt_" + r(32, HEX))
kind("pinecone_api_key", j("pc", "sk_", r(5), "_", r(65)), "pcsk_" + r(5))
kind("nvidia_api_key", j("nv", "api-", r(64, B64URL)), "nvapi-" + r(63))
kind("tavily_api_key", j("tv", "ly-dev-", r(32)), "tvly-" + r(31))
kind("elevenlabs_api_key", j("s", "k_", r(48, HEX)), "sk_" + r(47, HEX))
kind("cerebras_api_key", j("cs", "k-", r(48, LO)), "csk-" + r(47, LO))
kind("anyscale_api_key", j("esec", "ret_", r(26)), "esecret_" + r(25))
kind("fireworks_api_key", j("f", "w_", r(24)), "fw_" + r(23))
kind("jina_api_key", j("ji", "na_", r(32, HEX), r(30)), "jina_" + r(32, HEX))
kind("firecrawl_api_key", j("f", "c-", r(32, HEX)), "fc-" + r(31, HEX))
kind("wandb_api_key", r(40, HEX), "WANDB_API_KEY=" + r(39, HEX), template="WANDB_API_KEY={v}\n")
# --- generic
PASSWORD = j("Tr0", "ub4dor&3x", r(6))
kind(
    "password_assignment",
    PASSWORD,
    'password = "your_password_here"',
    "password = os.environ['DB_PASSWORD']",
    "token: str",
    "password = settings.DB_PASSWORD",
    "password=${DB_PASSWORD}",
    "the password is correct.",
    "api_key = get_api_key()",
    "password: ********",
    "secret = 'changeme'",
    template='DB_PASSWORD = "{v}"\n',
)
more("password_assignment", f"The password is '{PASSWORD}'.", PASSWORD)
more("password_assignment", f"spring.datasource.password: {PASSWORD}\n", PASSWORD)
more("password_assignment", "max_tokens = 1024", None)
kind(
    "dotnet_config_secret",
    PASSWORD,
    '<add key="SmtpPassword" value="changeme"/>',
    template='<add key="SmtpPassword" value="{v}"/>',
)
kind(
    "cli_user_password",
    PASSWORD,
    "curl -u $USER:$PASS https://x",
    "curl -u user https://x",
    template="curl -u deploy:{v} https://api.example.com",
)
BCRYPT = j("$2", "b$12$", r(53, "./" + AN))
kind("password_hash", BCRYPT, "$2b$12$short", template="admin:{v}\n")
more("password_hash", j("$6$", r(8, AN), "$", r(86, "./" + AN)) + "\n", None)
TABLE["password_hash"][-1] = (TABLE["password_hash"][-1][0], TABLE["password_hash"][-1][0][:-1])
kind(
    "facebook_app_secret",
    r(32, HEX),
    "fb_key = " + r(31, HEX),
    template="FACEBOOK_APP_SECRET = '{v}'",
)
kind(
    "http_basic_auth",
    BASIC,
    "Authorization: Basic " + base64.b64encode(b"nocolon").decode(),
    template="Authorization: Basic {v}\n",
)
BEARER = r(40, B64URL)
kind(
    "http_bearer_token",
    BEARER,
    "Authorization: Bearer <token>",
    "Authorization: Bearer $TOKEN",
    template="Authorization: Bearer {v}\n",
)
kind(
    "connection_string_keyvalue",
    PASSWORD,
    "Server=db;Database=app;User Id=sa;Password=<password>;",
    template="Server=tcp:db.example.com,1433;Database=app;User Id=sa;Password={v};Encrypt=True",
)
kind(
    "netrc_password",
    PASSWORD,
    "machine example.com login bob password PASSWORD",
    template="machine api.example.com login bob password {v}\n",
)
DOCKER_AUTH = base64.b64encode(b"robot:" + r(20).encode()).decode()
kind(
    "docker_config_auth",
    DOCKER_AUTH,
    '"auth": "bm90YXVzZXI="',
    template='{{"auths": {{"registry.example.com": {{"auth": "{v}"}}}}}}',
)

SECRET = j("q7F", "!x9", r(12))
kind(
    "secret_assignment",
    SECRET,
    "client_secret = 'changeme'",
    "secretary = Jane Doe",
    "secret: Following",
    template='CLIENT_SECRET="{v}"\n',
)
more("secret_assignment", f"clientSecret: '{SECRET}'", SECRET)
kind(
    "token_assignment",
    SECRET,
    "max_tokens = 1024",
    "token: --verbose",
    "tokenizer = AutoTokenizer",
    template="access_token = {v}\n",
)
more("token_assignment", f'authToken: "{SECRET}"', SECRET)
kind(
    "api_key_assignment",
    SECRET,
    "api_key = None",
    "monkey = 'Xk9!q7F2'",
    "api_key: sk-...",
    template='api_key="{v}"\n',
)
more("api_key_assignment", f"X-Api-Key: {SECRET}", SECRET)

ROWS = [(name, text, value) for name, rows in TABLE.items() for text, value in rows]
IDS = [f"{name}-{i}" for name, rows in TABLE.items() for i in range(len(rows))]


@pytest.mark.parametrize(("name", "text", "value"), ROWS, ids=IDS)
def test_secret_kind(name: str, text: str, value: str | None) -> None:
    detector = BY_NAME[name]
    found = [(f.start, f.end) for f in detector.find_all(text)]
    if value is None:
        assert found == []  # never print a value
    else:
        start = text.index(value)
        assert found == [(start, start + len(value))]


def test_every_new_kind_has_a_table() -> None:
    core = {d.name for d in CORE_DETECTORS}
    assert set(TABLE) == set(BY_NAME) - core


def test_at_least_100_kinds() -> None:
    assert len(SECRET_DETECTORS) >= 100
