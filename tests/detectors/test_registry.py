"""The built-in catalogue: bounds of every pattern, groups, and name resolution."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import tidegate.detectors as detectors_pkg
from tidegate.detectors import (
    DETECTOR_GROUPS,
    PatternDetector,
    UnknownDetectorError,
    bounds,
    custom,
    default_detectors,
    keyword_detector,
    pattern_bounds,
    pii,
    registry,
    resolve,
    secrets,
)

DEFAULTS = default_detectors()
PII_MODULES = list(pkgutil.iter_modules(pii.__path__))
SECRET_MODULES = list(pkgutil.iter_modules(secrets.__path__))
PARSE_FLAGS = regex.IGNORECASE | regex.MULTILINE | regex.DOTALL | regex.VERBOSE


@pytest.mark.parametrize("detector", DEFAULTS, ids=[d.name for d in DEFAULTS])
def test_declared_bounds_cover_the_pattern(detector: PatternDetector) -> None:
    computed = pattern_bounds(detector.pattern.pattern, detector.pattern.flags & PARSE_FLAGS)
    assert computed.max_chars < 10_000  # finite and small enough to hold back
    assert computed.max_chars <= detector.max_match_chars
    assert computed.context_chars <= detector.context_chars


@pytest.mark.parametrize("detector", DEFAULTS, ids=[d.name for d in DEFAULTS])
def test_declared_bounds_are_tight(detector: PatternDetector) -> None:
    computed = pattern_bounds(detector.pattern.pattern, detector.pattern.flags & PARSE_FLAGS)
    assert detector.max_match_chars == computed.max_chars
    assert detector.context_chars == computed.context_chars


@pytest.mark.parametrize("detector", DEFAULTS, ids=[d.name for d in DEFAULTS])
def test_patterns_use_the_regex_module(detector: PatternDetector) -> None:
    assert isinstance(detector.pattern, regex.Pattern)


@pytest.mark.parametrize(
    ("pattern", "max_chars", "context"),
    [
        (r"ab{1,3}", 4, 0),
        (r"\bx\b", 1, 1),
        (r"(?<![0-9])[0-9]{3}(?=[a-z]{2})", 3, 2),
        (r"(?=a(?=bcd))a", 1, 4),  # nested look-aheads add up
        (r"x|y{2,5}", 5, 0),
    ],
)
def test_pattern_bounds(pattern: str, max_chars: int, context: int) -> None:
    b = pattern_bounds(pattern)
    assert (b.max_chars, b.context_chars) == (max_chars, context)


def test_pattern_bounds_rejects_unbounded() -> None:
    with pytest.raises(bounds.UnboundedPatternError, match="unbounded"):
        pattern_bounds(r"a{2}b*")


def test_defaults_are_named_and_grouped() -> None:
    names = [d.name for d in DEFAULTS]
    assert len(names) == len(set(names))
    assert {d.group for d in DEFAULTS} == {"pii", "secrets"}
    assert set(DETECTOR_GROUPS) == {"pii", "secrets", "threats"}
    for group in ("pii", "secrets"):  # pattern detectors; threats are classifiers
        assert DETECTOR_GROUPS[group] == tuple(d.name for d in DEFAULTS if d.group == group)
    assert DETECTOR_GROUPS["threats"] == ("prompt_injection", "jailbreak", "toxicity")
    assert DETECTOR_GROUPS["pii"] == (
        "email",
        "phone",
        "credit_card",
        "us_ssn",
        "iban",
        "ip_address",
        "us_itin",
        "passport",
        "us_driver_license",
        "aba_routing",
        "uk_nino",
        "uk_nhs",
        "in_aadhaar",
        "in_pan",
        "btc_address",
        "eth_address",
        "mac_address",
    )
    assert {"aws_access_key", "github_token", "jwt", "private_key"} <= set(
        DETECTOR_GROUPS["secrets"]
    )


def test_groups_are_immutable() -> None:
    with pytest.raises(TypeError):
        DETECTOR_GROUPS["pii"] = ()  # type: ignore[index]
    assert default_detectors() == DEFAULTS


@pytest.mark.parametrize(
    "module",
    [
        bounds,
        custom,
        pii,
        *(importlib.import_module(f"tidegate.detectors.pii.{m.name}") for m in PII_MODULES),
        *(importlib.import_module(f"tidegate.detectors.secrets.{m.name}") for m in SECRET_MODULES),
        registry,
        secrets,
        detectors_pkg,
    ],
)
def test_no_module_level_mutable_state(module: types.ModuleType) -> None:
    for name, value in vars(module).items():
        if not name.startswith("__"):
            assert not isinstance(value, (list, dict, set, bytearray)), name


def test_resolve_groups_and_names() -> None:
    chosen = resolve(["pii", "jwt"], DEFAULTS)
    assert [d.name for d in chosen] == [*DETECTOR_GROUPS["pii"], "jwt"]
    assert resolve(["jwt", "secrets"], DEFAULTS)[0].name == "jwt"
    assert len(resolve(["secrets", "jwt"], DEFAULTS)) == len(DETECTOR_GROUPS["secrets"])
    assert resolve([], DEFAULTS) == ()


def test_resolve_custom_group() -> None:
    mine = keyword_detector("codenames", ["falcon"])
    chosen = resolve(["custom", "email"], [*DEFAULTS, mine])
    assert [d.name for d in chosen] == ["codenames", "email"]


def test_resolve_unknown_name_lists_valid_names() -> None:
    with pytest.raises(KeyError) as info:
        resolve(["pii", "emial"], DEFAULTS)
    message = str(info.value)
    assert "'emial'" in message and "email" in message and "secrets" in message
    with pytest.raises(ValueError, match="unknown detector or group"):
        resolve(["nope"], DEFAULTS)
    assert issubclass(UnknownDetectorError, KeyError)


def test_resolve_rejects_bad_input() -> None:
    with pytest.raises(TypeError):
        resolve("pii", DEFAULTS)
    with pytest.raises(ValueError, match="two available detectors"):
        resolve(["pii"], [*DEFAULTS, DEFAULTS[0]])
    with pytest.raises(ValueError, match="clash"):
        resolve(["pii"], [*DEFAULTS, keyword_detector("custom", ["x"])])


PROSE = (
    "In 2023 the team shipped version 2.4.1 (build 1.2.3.4.5) on 12/05/2023 at 10:30, "
    "and v3.0.0-rc.1 followed on 2024-01-15 14:00:59. Prices rose 3.5% to $1,299.99; "
    "42 of 1,024 users (4.1%) upgraded, saving 1,250,000 EUR. See section 4.2.1, RFC 7231, "
    "ISO 8601, ISBN 978-3-16-148410-0 and page 555 of volume 12. Order #100234 (tracking "
    "1Z999AA10123456784) ships Mon-Fri 9-5; call extension 4412 or room 101-B. Pi is "
    "3.14159265358979, e is 2.718281828, and the ratio was 16:9 at 1920x1080, 60 fps. "
    "The sk-learn package, the ghost_writer tool and AKIA-style prefixes were discussed. "
    "Scores were 15-12, 98.6 F, 0.0.0 and 127 items at 12.5 kg each, ZIP 94103-1234."
)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 -.:@+()/=_abcdefxyzAKIQ", max_size=300))
def test_findings_stay_within_declared_bounds(text: str) -> None:
    for detector in DEFAULTS:
        for f in detector.find_all(text):
            assert 0 <= f.start < f.end <= len(text)
            assert f.length <= detector.max_match_chars


def test_ordinary_prose_has_no_findings() -> None:
    found = [(d.name, f.start, f.end) for d in DEFAULTS for f in d.find_all(PROSE)]
    assert found == []


def test_default_detectors_take_phone_regions() -> None:
    danish = "ring 32 12 34 56 today"
    phone = next(d for d in default_detectors(("US", "DK")) if d.name == "phone")
    assert [(f.start, f.end) for f in phone.find_all(danish)] == [(5, 16)]
    default_phone = next(d for d in DEFAULTS if d.name == "phone")
    assert list(default_phone.find_all(danish)) == []
    assert default_detectors(pii.DEFAULT_PHONE_REGIONS) == DEFAULTS
    with pytest.raises(ValueError, match="regions"):
        default_detectors(("XX",))


def test_phone_regions_config_key() -> None:
    from tidegate.config import parse_config
    from tidegate.errors import ConfigError

    assert parse_config({}).detection.phone_regions == pii.DEFAULT_PHONE_REGIONS
    assert parse_config({"detection": {"phone_regions": ["dk"]}}).detection.phone_regions == ("DK",)
    with pytest.raises(ConfigError, match=r"detection\.phone_regions"):
        parse_config({"detection": {"phone_regions": ["ZZ"]}})
    with pytest.raises(ConfigError, match=r"detection\.phone_regions"):
        parse_config({"detection": {"phone_regions": []}})


BENIGN_CODE = [
    'API_KEY = os.environ["OPENAI_API_KEY"]\nclient = OpenAI(api_key=API_KEY)',
    "password = getpass.getpass()\ntoken: str = ''",
    'headers = {"Authorization": f"Bearer {token}"}',
    "curl -u $USER:$TOKEN https://api.github.com/user",
    "export AWS_SECRET_ACCESS_KEY=<your-secret-key>",
    "aws_secret_access_key = YOUR_SECRET_ACCESS_KEY",
    'DB_PASSWORD = "your_password_here"',
    "password: ${{ secrets.DB_PASSWORD }}",
    "Use a strong password: at least 12 characters, mixing cases and digits.",
    "The token is stored in the keychain and the secret is rotated monthly.",
    "git commit -m 'Fix login' && git push origin main",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "uuid = 123e4567-e89b-12d3-a456-426614174000",
    "const apiKey = process.env.API_KEY;",
    "if (password.length < 8) { return false; }",
    "b.removeTransientObservers() and s.getElementsByClassNameX()",
    "max_tokens = 1024, temperature = 0.7",
    "Set `OPENAI_API_KEY=sk-...` in your .env file.",
    "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx is the shape of a GitHub token",
    "hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt())",
]


@pytest.mark.parametrize("text", BENIGN_CODE)
def test_benign_code_has_no_secret_findings(text: str) -> None:
    found = [d.name for d in DEFAULTS if d.group == "secrets" and list(d.find_all(text))]
    assert found == []


def test_the_engine_builds_its_phone_detector_from_phone_regions() -> None:
    from tidegate.config import parse_config
    from tidegate.guard.engine import GuardEngine

    text = "call me on 020 7946 0018 today"  # a London number, national format
    found = {}
    for regions in (["US"], ["GB"]):
        engine = GuardEngine(parse_config({"detection": {"phone_regions": regions}}))
        found[regions[0]] = [r.finding.entity_type for r in engine.scan(text, "output")]
    assert found == {"US": [], "GB": ["PHONE_NUMBER"]}
