"""Secret detectors: (text, count, spans) tables on fake-but-well-formed tokens.

No real secret appears here: every token is generated from a seeded RNG at
import time (prefixes are split so that the file itself holds no token), and
GitHub tokens get a valid CRC32 checksum so they are format-perfect fakes.
"""

from __future__ import annotations

import base64
import importlib
import json
import pkgutil
import random
import string
import zlib

import detect_secrets.plugins
import pytest

from tidegate.detectors.secrets import DETECT_SECRETS_PLUGINS, SECRET_DETECTORS
from tidegate.detectors.secrets.core import CORE_DETECTORS

_RNG = random.Random(20240601)
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64URL = ALNUM + "-_"
B64 = ALNUM + "+/"
BY_NAME = {d.name: d for d in SECRET_DETECTORS}
Case = tuple[str, int, list[tuple[int, int]]]


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = ALNUM[r] + out  # GitHub's base62 alphabet: digits, upper, lower
    return out.rjust(width, "0")


def fake_github(prefix: str) -> str:
    """A GitHub token with a valid CRC32 checksum (30 random chars + 6 check)."""
    body = rand(30)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def b64url_json(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def fake_pem(label: str, lines: int = 10, newline: str = "\n") -> str:
    body = newline.join(rand(64, B64) for _ in range(lines))
    dash = "-" * 5
    return f"{dash}BEGIN {label}{dash}{newline}{body}{newline}{dash}END {label}{dash}"


AKIA = "AKIA" + "IOSFODNN7EXAMPLE"  # AWS documentation example key id
GHP, GHO, GHS = fake_github("gh" + "p"), fake_github("gh" + "o"), fake_github("gh" + "s")
GH_PAT = "github" + "_pat_" + rand(22) + "_" + rand(59)
GLPAT = "gl" + "pat-" + rand(20, B64URL)
GLRUNNER = "GR1348941" + rand(20)
XOXB = "xo" + f"xb-{rand(11, '0123456789')}-{rand(12, '0123456789')}-{rand(24)}"
XOXP = "xo" + "xp-" + "-".join(rand(12, "0123456789") for _ in range(3)) + "-" + rand(32, HEX)
XAPP = "xa" + f"pp-1-A0{rand(9).upper()}-{rand(13, '0123456789')}-{rand(64, HEX)}"
WEBHOOK = "https://hooks.slack.com/services/T" + rand(8).upper() + "/B" + rand(10) + "/" + rand(24)
SK_LIVE = "sk" + "_live_" + rand(24)
RK_TEST = "rk" + "_test_" + rand(99)
PK_LIVE = "pk" + "_live_" + rand(24)
OPENAI_LEGACY = "sk" + "-" + rand(20) + "T3BlbkFJ" + rand(20)
OPENAI_PROJ = "sk" + "-proj-" + rand(74, B64URL) + "T3BlbkFJ" + rand(74, B64URL)
OPENAI_PROJ_NOMARK = "sk" + "-proj-" + rand(120)
ANTHROPIC = "sk" + "-ant-api03-" + rand(93, B64URL) + "AA"
GOOGLE = "AI" + "za" + rand(35, B64URL)
HF = "hf" + "_" + rand(34, string.ascii_letters)
NPM = "np" + "m_" + rand(36)
PYPI = "py" + "pi-AgEIcHlwaS5vcmc" + rand(150, B64URL)
SENDGRID = "SG" + "." + rand(22, B64URL) + "." + rand(43, B64URL)
MAILCHIMP = rand(32, HEX) + "-us13"
JWT_HEADER = b64url_json({"alg": "HS256", "typ": "JWT"})
JWT_TOKEN = (
    f"{JWT_HEADER}.{b64url_json({'sub': '1234567890', 'name': 'Test User'})}.{rand(43, B64URL)}"
)
NOT_JWT = "eyJ" + rand(20, ALNUM) + ".eyJ" + rand(30, ALNUM) + "." + rand(43)
PEM = fake_pem("RSA PRIVATE KEY")
PEM_ESCAPED = fake_pem("PRIVATE KEY", newline="\\n")
PEM_TRUNCATED = fake_pem("EC PRIVATE KEY", lines=3).rsplit("\n", 1)[0]  # END line lost
PUBLIC_PEM = fake_pem("PUBLIC KEY")

CASES: dict[str, list[Case]] = {
    "aws_access_key": [
        (f"aws_access_key_id = {AKIA}", 1, [(20, 40)]),
        (f"{AKIA},{'ASIA' + AKIA[4:]}", 2, [(0, 20), (21, 41)]),
        (AKIA[:-1], 0, []),  # 19 chars
        (AKIA + "Q", 0, []),  # 21 chars
        (AKIA.lower(), 0, []),
        ("XKIA" + AKIA[4:], 0, []),
        ("AKIA is a prefix, not a key", 0, []),
    ],
    "github_token": [
        (f"GITHUB_TOKEN={GHP}", 1, [(13, 53)]),
        (f"token: {GHO} and {GHS}", 2, [(7, 47), (52, 92)]),
        (f"'{GH_PAT}'", 1, [(1, 94)]),
        (GHP[:-1], 0, []),  # 35 chars after the prefix
        ("ghx_" + GHP[4:], 0, []),
        ("ghp-" + GHP[4:], 0, []),
    ],
    "gitlab_token": [
        (f"GO_REPO_TOKEN={GLPAT}", 1, [(14, 40)]),
        (f"--registration-token {GLRUNNER}", 1, [(21, 50)]),
        ("gl" + "pat-short", 0, []),
    ],
    "stripe_key": [
        (f"stripe.api_key = '{SK_LIVE}'", 1, [(18, 50)]),
        (RK_TEST, 1, [(0, 107)]),
        (PK_LIVE, 0, []),  # publishable keys are public
        ("sk" + "_live_" + rand(10), 0, []),
    ],
    "openai_api_key": [
        (f"OPENAI_API_KEY={OPENAI_LEGACY}", 1, [(15, 66)]),
        (OPENAI_PROJ, 1, [(0, 164)]),
        (OPENAI_PROJ_NOMARK, 1, [(0, 128)]),
        ("sk" + "-" + rand(48), 0, []),  # no marker, no project prefix
        (ANTHROPIC, 0, []),
    ],
    "anthropic_api_key": [
        (f"x-api-key: {ANTHROPIC}", 1, [(11, 119)]),
        ("sk" + "-ant-api03-short", 0, []),
    ],
    "google_api_key": [
        (f"var KEY = '{GOOGLE}';", 1, [(11, 50)]),
        (GOOGLE[:-1], 0, []),
        (GOOGLE + "x", 0, []),
    ],
    "huggingface_token": [
        (f'HF_TOKEN:"{HF}"', 1, [(10, 47)]),
        (HF[:-1], 0, []),
    ],
    "npm_token": [
        (f"//registry.npmjs.org/:_authToken={NPM}", 1, [(33, 73)]),
        (NPM[:-1], 0, []),
        ("run npm_install and npm_config_cache", 0, []),
    ],
    "pypi_token": [
        (f"password = {PYPI}", 1, [(11, 181)]),
        ("py" + "pi-AgEIcHlwaS5vcmc" + rand(20), 0, []),
    ],
    "sendgrid_api_key": [
        (f"SENDGRID_API_KEY={SENDGRID}", 1, [(17, 86)]),
        ("SG.short.key", 0, []),
    ],
    "mailchimp_api_key": [
        (f"MAILCHIMP_API='{MAILCHIMP}'", 1, [(15, 52)]),
        (rand(32, HEX), 0, []),
    ],
    "jwt": [
        (f"Authorization: Bearer {JWT_TOKEN}", 1, [(22, 22 + len(JWT_TOKEN))]),
        (f"{JWT_HEADER}.{b64url_json({'a': 1})}.", 1, [(0, 53)]),  # alg none: no signature
        (NOT_JWT, 0, []),  # eyJ-shaped but not base64url JSON
        ("eye.eyeable.should be_nill", 0, []),
    ],
    "private_key": [
        (f"key:\n{PEM}\nend", 1, [(5, 5 + len(PEM))]),
        (f'{{"private_key": "{PEM_ESCAPED}"}}', 1, [(17, 17 + len(PEM_ESCAPED))]),
        (PEM_TRUNCATED + "\n\nThat is the key.", 1, [(0, len(PEM_TRUNCATED))]),
        (PUBLIC_PEM, 0, []),
        ("the file starts with -----BEGIN RSA PRIVATE KEY----- and then base64", 0, []),
    ],
    "connection_string_password": [
        ("postgres://admin:s3cr3tP4ss@db.internal:5432/app", 1, [(17, 27)]),
        ("mongodb+srv://u:p%40ssw0rd@cluster0.example.net/?w=1", 1, [(16, 26)]),
        ("REDIS_URL=redis://:hunter2pass@cache:6379/0", 1, [(19, 30)]),
        ("git clone https://bob:tok3n@example.com/org/repo.git", 1, [(22, 27)]),
        ("mysql://root:pa@ss@localhost/db", 1, [(13, 18)]),  # '@' inside the password
        ("postgres://user@host/db", 0, []),
        ("https://example.com:8080/path and bob@example.com", 0, []),
        ("postgres://user:${DB_PASSWORD}@host/db", 0, []),
        ("postgres://user:****@host/db", 0, []),
    ],
}

ALL_CASES = [(name, *case) for name, cases in CASES.items() for case in cases]
CASE_IDS = [f"{name}-{i}" for name, cases in CASES.items() for i in range(len(cases))]


@pytest.mark.parametrize(("name", "text", "count", "spans"), ALL_CASES, ids=CASE_IDS)
def test_secret_detector(name: str, text: str, count: int, spans: list[tuple[int, int]]) -> None:
    detector = BY_NAME[name]
    findings = list(detector.find_all(text))
    assert len(findings) == count, [f"{f.start}:{f.end}" for f in findings]  # never print values
    assert [(f.start, f.end) for f in findings] == spans
    assert all(f.length <= detector.max_match_chars for f in findings)


def test_every_core_detector_has_cases() -> None:
    assert set(CASES) == {d.name for d in CORE_DETECTORS}


SLACK_CASES: list[tuple[str, str, int]] = [
    ("slack_bot_token", f"SLACK_BOT_TOKEN={XOXB}", 1),
    ("slack_user_token", XOXP, 1),
    ("slack_app_token", XAPP, 1),
    ("slack_webhook", f"url: {WEBHOOK}", 1),
    # one type's token is not another's
    ("slack_bot_token", XOXP, 0),
    ("slack_user_token", XOXB, 0),
    ("slack_app_token", XOXB, 0),
    ("slack_bot_token", "xo" + "xb-", 0),
    ("slack_bot_token", "xo" + "xb-12345", 0),
    ("slack_webhook", "https://hooks.slack.com/services/", 0),
]


@pytest.mark.parametrize(("name", "text", "count"), SLACK_CASES)
def test_slack_split_per_token_type(name: str, text: str, count: int) -> None:
    assert len(list(BY_NAME[name].find_all(text))) == count


def test_github_fakes_have_valid_checksums() -> None:
    for token in (GHP, GHO, GHS):
        body = token[4:]
        assert len(body) == 36
        assert base62(zlib.crc32(body[:30].encode()), 6) == body[30:]


def _plugin(class_name: str) -> type:
    for info in pkgutil.iter_modules(detect_secrets.plugins.__path__):
        module = importlib.import_module(f"detect_secrets.plugins.{info.name}")
        if hasattr(module, class_name):
            cls: type = getattr(module, class_name)
            return cls
    raise LookupError(class_name)


# Positives in the subset of formats the detect-secrets plugin knows
# (Stripe: live keys of 24 chars; OpenAI: T3BlbkFJ keys; npm: in .npmrc form).
CROSS_CHECK = [
    ("aws_access_key", AKIA),
    ("github_token", GHP),
    ("gitlab_token", GLPAT),
    ("slack_bot_token", XOXB),
    ("slack_user_token", XOXP),
    ("slack_webhook", WEBHOOK),
    ("stripe_key", SK_LIVE),
    ("openai_api_key", OPENAI_LEGACY),
    ("npm_token", f"//registry.npmjs.org/:_authToken={NPM}"),
    ("pypi_token", PYPI),
    ("sendgrid_api_key", SENDGRID),
    ("mailchimp_api_key", MAILCHIMP),
    ("jwt", JWT_TOKEN),
    ("private_key", PEM),
    ("connection_string_password", "postgres://admin:s3cr3tP4ss@db.internal:5432/app"),
    ("jfrog_token", "AK" + "Cp" + rand(69)),
    ("azure_storage_key", "AccountKey=" + rand(86, B64) + "=="),
    ("discord_bot_token", "M" + rand(23, B64URL) + "." + rand(6, B64URL) + "." + rand(27, B64URL)),
    ("telegram_bot_token", rand(9, "0123456789") + ":AA" + rand(33, B64URL)),
    ("twilio_api_key", "S" + "K" + rand(32, HEX)),
    ("square_token", "sq0" + "csp-" + rand(43, B64URL)),
    ("password_assignment", 'password = "Tr0ub4dor&3xK9"'),
]


@pytest.mark.parametrize(("name", "text"), CROSS_CHECK, ids=[n for n, _ in CROSS_CHECK])
def test_detect_secrets_plugin_agrees(name: str, text: str) -> None:
    plugin = _plugin(DETECT_SECRETS_PLUGINS[name])()
    assert list(plugin.analyze_string(text)), f"{DETECT_SECRETS_PLUGINS[name]} missed it"
    assert list(BY_NAME[name].find_all(text))


def test_cross_check_covers_every_mapped_detector() -> None:
    assert {name for name, _ in CROSS_CHECK} == set(DETECT_SECRETS_PLUGINS)
