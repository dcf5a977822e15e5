"""Access control through the real gateway: client keys, generic paths, forwarded headers.

Real openai and anthropic SDKs (and httpx, and a raw socket where httpx would
normalise the path) talk to a real gateway in front of the scripted upstream,
which records every request it receives.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpx
import openai
import pytest
import structlog

from tests.conftest import GatewayFactory
from tests.support.servers import free_port
from tests.support.upstream import Script, ScriptedUpstream, chat_completion, chat_stream
from tidegate.auth import hash_key
from tidegate.cli import is_loopback, main
from tidegate.config import parse_config
from tidegate.errors import ConfigError
from tidegate.logs import configure_logging

ALICE = "tg-alice-7f3c9e21d4b8a605"
BOB = "tg-bob-0b5e82c47a19d3f6"
MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]
MSG: dict[str, Any] = {"model": "claude-test", "max_tokens": 64, "messages": MESSAGES}
ANTHROPIC_REPLY = {
    "id": "msg_test",
    "type": "message",
    "role": "assistant",
    "model": "claude-test",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}
AUTH = {
    "keys": [
        {"name": "alice", "sha256": hashlib.sha256(ALICE.encode()).hexdigest()},
        {"name": "bob", "sha256": hashlib.sha256(BOB.encode()).hexdigest()},
    ]
}


def gateway_config(upstream_url: str, *, auth: bool = True, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "upstreams": [
            {"name": "oai", "base_url": upstream_url},
            {"name": "claude", "base_url": upstream_url, "format": "anthropic"},
            {"name": "gen", "base_url": upstream_url, "format": "generic"},
            {"name": "genq", "base_url": upstream_url, "format": "generic", "forward_query": True},
        ],
        "routes": [{"path_prefix": "/v1/messages", "upstream": "claude"}],
        **extra,
    }
    if auth:
        config["auth"] = AUTH
    return config


@pytest.fixture
def authed(make_gateway: GatewayFactory, upstream_url: str) -> Iterator[str]:
    with make_gateway(gateway_config(upstream_url)) as url:
        yield url


def oai(url: str, key: str = ALICE) -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def claude(url: str, key: str = ALICE) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)


def upstream_saw_key(upstream: ScriptedUpstream, *keys: str) -> bool:
    return any(
        key in value or key.encode() in r["body"]
        for r in upstream.requests
        for value in r["headers"].values()
        for key in keys
    )


# --- 401 ---------------------------------------------------------------------------

OPENAI_401 = [
    ("POST", "/v1/chat/completions", {"model": "m", "messages": MESSAGES}),
    ("POST", "/v1/responses", {"model": "m", "input": "hi"}),
    ("GET", "/v1/models", None),
    ("POST", "/generic/gen/generate", {"prompt": "hi"}),
    ("POST", "/generic/nope/x", {"prompt": "hi"}),  # no route detail before auth
    ("GET", "/v1/unknown", None),
]
WRONG_KEYS = [
    {},
    {"authorization": "Bearer tg-mallory"},
    {"x-api-key": "tg-mallory"},
    {"authorization": f"Basic {ALICE}"},  # not a Bearer token
    {"authorization": "Bearer " + ALICE[:-1]},
    {"x-api-key": ALICE + "x"},
]


@pytest.mark.parametrize("headers", WRONG_KEYS)
@pytest.mark.parametrize(("method", "path", "body"), OPENAI_401)
def test_openai_endpoints_answer_401_openai_shaped(
    upstream: ScriptedUpstream,
    authed: str,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> None:
    r = httpx.request(method, authed + path, json=body, headers=headers)
    assert r.status_code == 401
    error = r.json()["error"]
    assert (error["type"], error["code"]) == ("authentication_error", "invalid_api_key")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert upstream.requests == []


@pytest.mark.parametrize("headers", WRONG_KEYS)
def test_messages_answers_401_anthropic_shaped(
    upstream: ScriptedUpstream, authed: str, headers: dict[str, str]
) -> None:
    r = httpx.post(authed + "/v1/messages", json=MSG, headers=headers)
    assert r.status_code == 401
    body = r.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "authentication_error"
    assert upstream.requests == []


def test_sdks_raise_authentication_error(upstream: ScriptedUpstream, authed: str) -> None:
    upstream.reset(Script(events=chat_stream(["hi"]), json_body=chat_completion("hi")))
    with pytest.raises(openai.AuthenticationError) as oai_info:
        oai(authed, "tg-wrong").chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert oai_info.value.code == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError) as claude_info:
        claude(authed, "tg-wrong").messages.create(**MSG)
    assert claude_info.value.status_code == 401
    assert upstream.requests == []


def test_health_probes_need_no_key(authed: str) -> None:
    assert httpx.get(authed + "/healthz").status_code == 200
    assert httpx.get(authed + "/readyz").json()["status"] == "ready"


# --- valid keys --------------------------------------------------------------------


def test_bearer_key_works_and_stays_here(upstream: ScriptedUpstream, authed: str) -> None:
    """openai SDK (Authorization: Bearer): streamed, non-streamed and /v1/models."""
    upstream.reset(Script(events=chat_stream(["hel", "lo"]), json_body=chat_completion("hi")))
    client = oai(authed)
    stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == "hello"
    reply = client.chat.completions.create(model="m", messages=MESSAGES)
    assert reply.choices[0].message.content == "hi"
    assert [m.id for m in client.models.list()] == ["scripted"]
    assert len(upstream.requests) == 3
    assert not upstream_saw_key(upstream, ALICE)
    assert all("authorization" not in r["headers"] for r in upstream.requests)


def test_x_api_key_works_and_stays_here(upstream: ScriptedUpstream, authed: str) -> None:
    """anthropic SDK (x-api-key), and a generic request with both headers."""
    upstream.reset(Script(json_body=ANTHROPIC_REPLY))
    reply = claude(authed, BOB).messages.create(**MSG)
    assert reply.content[0].type == "text"
    upstream.reset(Script(json_body={"text": "ok"}))
    r = httpx.post(
        authed + "/generic/gen/generate",
        json={"prompt": "hi"},
        headers={"x-api-key": BOB, "authorization": f"Bearer {BOB}"},
    )
    assert r.json() == {"text": "ok"}
    assert not upstream_saw_key(upstream, BOB)
    headers = upstream.requests[0]["headers"]
    assert "x-api-key" not in headers
    assert "authorization" not in headers


def test_upstream_gets_only_its_configured_key(
    upstream: ScriptedUpstream,
    make_gateway: GatewayFactory,
    upstream_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TIDEGATE_TEST_KEY", "sk-upstream")
    config = {
        "upstreams": [{"name": "u", "base_url": upstream_url, "api_key_env": "TIDEGATE_TEST_KEY"}],
        "auth": AUTH,
    }
    upstream.reset(Script(json_body=chat_completion("hi")))
    with make_gateway(config) as url:
        oai(url).chat.completions.create(model="m", messages=MESSAGES)
    assert upstream.requests[0]["headers"]["authorization"] == "Bearer sk-upstream"
    assert not upstream_saw_key(upstream, ALICE)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """The gateway's JSON log lines (structlog is process-wide; restored after)."""
    saved = structlog.get_config()
    buffer = io.StringIO()
    configure_logging("debug", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.configure(**saved)


def test_logs_name_the_key_never_show_it(
    upstream: ScriptedUpstream, authed: str, log_lines: io.StringIO
) -> None:
    upstream.reset(Script(status=429, json_body={"error": {"message": "slow down"}}))
    with pytest.raises(openai.RateLimitError):
        oai(authed).chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.AuthenticationError):
        oai(authed, ALICE[:-1]).chat.completions.create(model="m", messages=MESSAGES)
    text = log_lines.getvalue()
    events = [json.loads(line) for line in text.splitlines()]
    relay = next(e for e in events if e["event"] == "upstream_error_status")
    assert relay["key_name"] == "alice"
    failed = next(e for e in events if e["event"] == "auth_failed")
    assert failed["reason"] == "unknown_key"
    assert ALICE[:-1] not in text
    assert ALICE[4:12] not in text


# --- CLI -----------------------------------------------------------------------


def test_hash_key_from_argument_and_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = hashlib.sha256(ALICE.encode()).hexdigest()
    assert hash_key(ALICE) == expected
    assert main(["hash-key", ALICE]) == 0
    assert capsys.readouterr().out == expected + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(ALICE + "\n"))
    assert main(["hash-key"]) == 0
    assert capsys.readouterr().out == expected + "\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    assert main(["hash-key"]) == 2


def test_hash_key_command_in_a_process() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tidegate.cli", "hash-key"],
        input=BOB + "\r\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == AUTH["keys"][1]["sha256"]


def test_check_config_warns_about_a_shared_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "tidegate.yaml"
    upstreams = "upstreams:\n  - {name: u, base_url: 'http://x/v1', api_key_env: OPENAI_API_KEY}\n"
    path.write_text(upstreams)
    assert main(["check-config", str(path)]) == 0
    out = capsys.readouterr()
    assert "warning: upstreams.0: 'u' sends the key in $OPENAI_API_KEY" in out.err
    assert "ok" in out.out
    path.write_text(upstreams + f"auth: {json.dumps(AUTH)}\n")
    assert main(["check-config", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({"keys": [{"name": "a", "sha256": "AB" * 32}]}, "auth.keys.0.sha256"),
        ({"keys": [{"name": "a", "sha256": "ab" * 31}]}, "auth.keys.0.sha256"),
        ({"keys": [{"name": "a", "sha256": "ab" * 32, "key": "x"}]}, "auth.keys.0.key: unknown"),
        ({"keys": []}, "auth.keys"),
        (
            {"keys": [{"name": "a", "sha256": "ab" * 32}, {"name": "a", "sha256": "cd" * 32}]},
            "duplicate key names: a",
        ),
        (
            {"keys": [{"name": "a", "sha256": "ab" * 32}, {"name": "b", "sha256": "ab" * 32}]},
            "two keys have the same sha256",
        ),
    ],
)
def test_auth_config_is_validated(auth: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"auth": auth})
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ["127.0.0.1", "127.8.0.1", "::1", "localhost"])
    assert not any(is_loopback(h) for h in ["0.0.0.0", "::", "10.0.0.5", "gateway.internal"])


def test_serve_warns_on_a_public_address_without_auth() -> None:
    port = free_port()
    args = ["serve", "--listen", f"0.0.0.0:{port}", "--upstream", "u=http://127.0.0.1:9/v1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tidegate.cli", *args],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = []
        for line in proc.stderr:
            lines.append(json.loads(line))
            if lines[-1]["event"] == "listening":
                break
    finally:
        proc.kill()  # this test is about the warning; shutdown is tests/test_drain.py's
        proc.wait(timeout=30)
    warning = next(e for e in lines if e["event"] == "no_client_auth")
    assert (warning["level"], warning["host"]) == ("warning", "0.0.0.0")


# --- generic paths -------------------------------------------------------------


def raw_request(url: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
    """Send ``POST target`` as written (httpx would normalise ``..``); status and JSON."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    head = [f"POST {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload) if payload else None


ESCAPES = [
    "../chat/completions",
    "a/../../models",
    "./generate",
    "..%2Fchat%2Fcompletions",
    "x%2F..%2F..%2Fadmin",
    "%2e%2e/admin",
    "%2E%2E/admin",
    ".%2e/admin",
    "x/%2e",
    "x%3Fadmin=1",
    "x%23frag",
    "x%5C..%5Cadmin",
    "..\\admin",
    "..;/admin",
    "x//y",
    "%c0%ae%c0%ae/admin",
    "%252e%252e/admin",
    "x%00y",
    "x%09y",
    ".../admin",
    "...%20/admin",
    "..%20/admin",
]


@pytest.mark.parametrize("escape", ESCAPES)
def test_generic_path_cannot_leave_base(
    upstream: ScriptedUpstream, authed: str, escape: str
) -> None:
    upstream.reset(Script(json_body={"text": "ok"}))
    status, body = raw_request(
        authed, "/generic/gen/" + escape, {"x-api-key": ALICE}, b'{"prompt":"hi"}'
    )
    assert status == 400
    if body is not None:  # None: the HTTP parser itself refused the request line
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["code"] == "invalid_path"
    assert upstream.requests == []


def test_encoded_line_break_is_not_routed(upstream: ScriptedUpstream, authed: str) -> None:
    """Starlette's ``{path:path}`` does not match a line break: 404, nothing upstream."""
    target = "/generic/gen/x%0d%0aInjected:%201"
    status, body = raw_request(authed, target, {"x-api-key": ALICE}, b"{}")
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert upstream.requests == []


def test_encoded_upstream_name_is_refused(upstream: ScriptedUpstream, authed: str) -> None:
    status, body = raw_request(authed, "/generic/%67en/generate", {"x-api-key": ALICE}, b"{}")
    assert (status, body["error"]["code"]) == (400, "invalid_path")
    assert upstream.requests == []


def test_generic_path_and_query_forwarding(upstream: ScriptedUpstream, authed: str) -> None:
    upstream.reset(Script(json_body={"text": "ok"}))
    body = b'{"prompt":"hi"}'
    key = {"x-api-key": ALICE}
    target = "/models/my%20model:generate/?alpha=1&b=%26x&c=d%20e"
    assert raw_request(authed, "/generic/gen" + target, key, body) == (200, {"text": "ok"})
    assert raw_request(authed, "/generic/genq" + target, key, body) == (200, {"text": "ok"})
    plain, forwarded = upstream.requests
    assert plain["raw_path"] == b"/v1/models/my%20model:generate/"
    assert plain["query_string"] == b""
    assert forwarded["raw_path"] == b"/v1/models/my%20model:generate/"
    assert forwarded["query_string"] == b"alpha=1&b=%26x&c=d%20e"


# --- forwarded headers ---------------------------------------------------------


def test_only_allow_listed_headers_go_upstream(upstream: ScriptedUpstream, gateway: str) -> None:
    upstream.reset(Script(json_body=chat_completion("hi")))
    sent = {
        "authorization": "Bearer sk-client",
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": "mine/1.0",
        "openai-organization": "org-1",
        "anthropic-beta": "tools-2024",
        "x-stainless-lang": "python",
        "connection": "keep-alive, X-Stainless-Drop",
        "x-stainless-drop": "1",
        "cookie": "session=secret",
        "x-forwarded-for": "10.1.2.3",
        "x-forwarded-host": "evil.example",
        "forwarded": "for=10.1.2.3",
        "proxy-authorization": "Basic eDp5",
        "x-foo": "bar",
        "te": "trailers",
    }
    body = json.dumps({"model": "m", "messages": MESSAGES})
    assert httpx.post(gateway + "/v1/chat/completions", content=body, headers=sent).is_success
    got = upstream.requests[0]["headers"]
    kept = [
        "authorization",
        "content-type",
        "accept",
        "user-agent",
        "openai-organization",
        "anthropic-beta",
        "x-stainless-lang",
    ]
    assert {k: got[k] for k in kept} == {k: sent[k] for k in kept}
    assert set(got) == {*kept, "host", "content-length", "accept-encoding"}
    assert got["accept-encoding"] == "identity"


@pytest.mark.parametrize(("status", "relayed"), [(429, True), (503, True), (500, False)])
def test_retry_after_is_relayed_on_429_and_503(
    upstream: ScriptedUpstream, gateway: str, status: int, relayed: bool
) -> None:
    headers = {"retry-after": "7", "x-ratelimit-remaining-requests": "0", "x-other": "no"}
    upstream.reset(Script(status=status, json_body={"error": {"message": "busy"}}, headers=headers))
    r = httpx.post(gateway + "/v1/chat/completions", json={"model": "m", "messages": MESSAGES})
    assert r.status_code == status
    assert r.headers.get("retry-after") == ("7" if relayed else None)
    assert r.headers["x-ratelimit-remaining-requests"] == "0"
    assert "x-other" not in r.headers
    upstream.reset(
        Script(status=status, raw_body=b"busy", content_type="text/plain", headers=headers)
    )
    with pytest.raises(openai.APIStatusError) as info:
        oai(gateway).chat.completions.create(model="m", messages=MESSAGES)
    assert info.value.status_code == status
    assert info.value.response.headers.get("retry-after") == ("7" if relayed else None)
