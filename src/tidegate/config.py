"""Configuration: pydantic models, YAML loading and validation errors.

Every key is checked; unknown keys are errors (``extra="forbid"``), so a typo
never silently disables a guardrail. :func:`load_config` reports every error
with its key path, for example ``upstreams.0.timeouts.read_s``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import phonenumbers
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from tidegate.detectors.pii.phone import DEFAULT_PHONE_REGIONS
from tidegate.errors import ConfigError
from tidegate.logs import get_logger
from tidegate.ops.config import AuditConfig, LoggingConfig, MetricsConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Upstream timeouts, in seconds.

    Attributes:
        connect_s: TCP connect (and pool acquire) timeout.
        read_s: Longest wait for the next bytes of a response.
    """

    connect_s: Annotated[float, Field(gt=0)] = 5.0
    read_s: Annotated[float, Field(gt=0)] = 120.0


class UpstreamConfig(_Strict):
    """One upstream LLM API.

    Attributes:
        name: Unique name, referred to by routes and ``--upstream NAME=URL``.
        base_url: Base URL including the version prefix, e.g.
            ``http://127.0.0.1:8101/v1``.
        format: Wire format the upstream speaks.
        api_key_env: Name of an environment variable holding the key to send
            upstream. When unset, the client's own auth header passes through.
        timeouts: Connect and read timeouts.
        max_connections: Requests in flight to this upstream at once, and the
            size of its keep-alive connection pool. One more request is
            answered HTTP 429 at once, never queued for a pooled connection.
        text_path: ``generic`` only: JSON path of the text in each streamed
            ``data:`` object and in a non-streamed body (``[text]`` for
            ``{"text": "..."}``; ``[choices, 0, text]`` for nested ones).
        forward_query: ``generic`` only: append the client's query string to
            the upstream URL. Off by default, so a client cannot add
            parameters the operator did not intend.
    """

    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    format: Literal["openai", "anthropic", "generic"] = "openai"
    api_key_env: str | None = None
    timeouts: Timeouts = Timeouts()
    max_connections: Annotated[int, Field(ge=1)] = 1000
    text_path: Annotated[tuple[str | int, ...], Field(min_length=1)] = ("text",)
    forward_query: bool = False

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")


class AuthKey(_Strict):
    """One client key accepted by the gateway.

    Only the key's digest is configured; ``tidegate hash-key`` prints it.

    Attributes:
        name: Unique label, logged as ``key_name`` (the key itself never is).
        sha256: SHA-256 of the key's UTF-8 bytes, 64 lowercase hex digits.
    """

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


class AuthConfig(_Strict):
    """Client authentication: requests must carry one of these keys.

    Attributes:
        keys: The accepted keys; names and digests are unique.
    """

    keys: Annotated[tuple[AuthKey, ...], Field(min_length=1)]

    @field_validator("keys")
    @classmethod
    def _unique_keys(cls, value: tuple[AuthKey, ...]) -> tuple[AuthKey, ...]:
        names = [k.name for k in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate key names: {', '.join(dupes)}")
        digests = [k.sha256 for k in value]
        if len(set(digests)) != len(digests):
            raise ValueError("two keys have the same sha256")
        return value


class LimitsConfig(_Strict):
    """Request limits: what one client can cost the gateway.

    Attributes:
        max_body_bytes: Largest accepted request body, in bytes (HTTP 413 above).
        max_event_bytes: Longest SSE line, and largest SSE event (or
            non-streamed body), accepted from an upstream, in bytes; a bigger
            one ends the response with an ``upstream_protocol_error``
            (memory stays bounded).
        max_concurrent_streams: Completion requests (streamed or not) in
            flight at once in the whole gateway; one more is answered HTTP 429
            with ``Retry-After`` at once.
        max_header_bytes: Largest request line plus headers, in bytes; a
            larger header block gets HTTP 431 and the connection is closed.
            16 KiB is h11's and Node's default.
        header_timeout_s: Longest time, in seconds, from a connection's (or a
            request's) first byte until its request headers are complete;
            then HTTP 408 and the connection is closed (slowloris).
        body_idle_timeout_s: Longest wait, in seconds, for the next piece of
            a request body; then HTTP 408 in the endpoint's wire format.
        keepalive_timeout_s: Idle seconds before an open keep-alive client
            connection is closed (uvicorn's ``timeout_keep_alive``).
    """

    max_body_bytes: Annotated[int, Field(ge=1)] = 4 * 1024 * 1024
    max_event_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    max_concurrent_streams: Annotated[int, Field(ge=1)] = 1000
    max_header_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024
    header_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    body_idle_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    keepalive_timeout_s: Annotated[int, Field(ge=1)] = 5


class ShutdownConfig(_Strict):
    """Graceful shutdown (SIGTERM).

    Attributes:
        drain_s: Seconds that open streams may run on after SIGTERM; the
            streams still open then are ended with the format's termination
            event (``gateway_shutting_down``).
    """

    drain_s: Annotated[float, Field(ge=0)] = 30.0


class EmbeddedModelConfig(_Strict):
    """The embedded SmolLM2 server started when no upstream is configured.

    Attributes:
        n_ctx: Context window, in tokens.
        startup_timeout_s: Longest wait for the model server to become ready.
    """

    n_ctx: Annotated[int, Field(ge=256)] = 2048
    startup_timeout_s: Annotated[float, Field(gt=0)] = 120.0


Strategy = Literal["end_only", "periodic", "sentence_boundary", "continuous"]
Action = Literal["observe", "redact", "block"]
Direction = Literal["input", "output", "both"]
Mode = Literal["enforce", "monitor"]


class StreamingConfig(_Strict):
    """When the output guard evaluates a stream.

    Attributes:
        strategy: ``continuous`` evaluates on every delta; ``periodic`` every
            ``eval_interval_chars`` chars, ``eval_interval_tokens`` deltas or
            ``max_eval_interval_ms`` ms, whichever comes first;
            ``sentence_boundary`` when a delta ends a sentence (``.!?`` or a
            newline); ``end_only`` once, at the end of the stream.
        eval_interval_chars: ``periodic``: chars of new text between evaluations.
        eval_interval_tokens: ``periodic``: deltas (≈ tokens) between evaluations.
        max_eval_interval_ms: ``periodic`` and ``sentence_boundary``: longest
            time between evaluations while text arrives, in ms.
        max_buffer_chars: Any strategy: force an evaluation when this many
            chars are unevaluated.
        early_termination: ``false`` turns output ``block`` into record-only:
            the finding is recorded and the stream finishes.
        keepalive_s: Idle seconds before an SSE keep-alive comment is sent
            (the guard may hold text back for a while).
        window_chars: Threat classifiers (``threats``, ``onnx``) judge windows
            of text: a window ends at each sentence end (``.!?`` or a newline)
            or after this many new chars, whichever comes first.
        window_overlap_chars: Chars of earlier text each window repeats in
            front of its new text, so a phrase cut by a window edge is still
            seen whole. Must be smaller than ``window_chars``.
    """

    strategy: Strategy = "continuous"
    eval_interval_chars: Annotated[int, Field(ge=1)] = 500
    eval_interval_tokens: Annotated[int, Field(ge=1)] = 100
    max_eval_interval_ms: Annotated[int, Field(ge=1)] = 2000
    max_buffer_chars: Annotated[int, Field(ge=1)] = 10000
    early_termination: bool = True
    keepalive_s: Annotated[float, Field(gt=0)] = 15.0
    window_chars: Annotated[int, Field(ge=20, le=100_000)] = 400
    window_overlap_chars: Annotated[int, Field(ge=0)] = 100

    @model_validator(mode="after")
    def _overlap_below_window(self) -> StreamingConfig:
        if self.window_overlap_chars >= self.window_chars:
            raise ValueError("streaming.window_overlap_chars must be smaller than window_chars")
        return self


class PolicyConfig(_Strict):
    """One guardrail policy.

    Attributes:
        name: Unique policy name, reported in errors and findings.
        detectors: Detector groups (``pii``, ``secrets``) or detector names.
        direction: Which text it applies to.
        action: ``observe`` records, ``redact`` replaces spans with a
            placeholder, ``block`` refuses the input or ends the output.
        placeholder: Redaction text; ``{entity_type}`` and ``{detector}`` are
            filled in. Defaults to ``redaction.placeholder``.
        stream_first: Threat classifiers under ``block`` only. ``false`` (the
            default) holds each window of output until it is judged, so
            flagged text never reaches the client; ``true`` releases text at
            once and ends the stream when a later verdict flags it (exposure
            bounded by ``streaming.window_chars``).
    """

    name: Annotated[str, Field(min_length=1)]
    detectors: Annotated[tuple[str, ...], Field(min_length=1)]
    direction: Direction = "both"
    action: Action = "block"
    placeholder: str | None = None
    stream_first: bool = False


class CustomDetectorConfig(_Strict):
    """A detector defined in config.

    Attributes:
        name: Unique detector name, usable in ``policies[].detectors``.
        type: ``regex`` (one bounded pattern), ``keywords``, or ``onnx`` (a
            text classifier exported to ONNX; needs ``tidegate[onnx]``).
        pattern: ``regex`` only: the pattern; unbounded quantifiers are errors.
        keywords: ``keywords`` only: the words or phrases.
        case_sensitive: Match case exactly (``keywords``; ``regex`` uses the
            pattern's own flags unless this is false and ``ignore_case`` set).
        ignore_case: ``regex`` only: case-insensitive matching.
        entity_type: Entity label reported (default: the name, upper-cased;
            for ``onnx``, the winning label).
        placeholder: Redaction text for this detector.
        model_path: ``onnx`` only: the ``.onnx`` file (inputs ``input_ids``
            and optionally ``attention_mask``/``token_type_ids``; output
            logits of shape ``[batch, len(labels)]``).
        tokenizer_path: ``onnx`` only: a Hugging Face ``tokenizer.json``.
        labels: ``onnx`` only: the class names in output order; the first is
            the benign class, every other one is a threat.
        threshold: ``onnx`` only: a window is flagged when the summed
            probability of the threat labels reaches this value.
        max_tokens: ``onnx`` only: tokens per window fed to the model (longer
            windows are cut).
    """

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    type: Literal["regex", "keywords", "onnx"]
    pattern: str | None = None
    keywords: tuple[str, ...] = ()
    case_sensitive: bool = False
    ignore_case: bool = False
    entity_type: str | None = None
    placeholder: str = ""
    model_path: str | None = None
    tokenizer_path: str | None = None
    labels: tuple[str, ...] = ()
    threshold: Annotated[float, Field(ge=0, le=1)] = 0.5
    max_tokens: Annotated[int, Field(ge=1, le=8192)] = 512


class ThreatDetectorConfig(_Strict):
    """Settings of one built-in threat detector.

    Attributes:
        threshold: Score in [0, 1] at or above which a window is flagged.
            Default: the value shipped with the model, chosen on the
            development split (see ``bench/MODEL_CARD.md``).
    """

    threshold: Annotated[float | None, Field(ge=0, le=1)] = None


class ThreatsConfig(_Strict):
    """The threat classifiers (``threats`` group and ``onnx`` detectors).

    Attributes:
        workers: Threads that run classifiers, shared by all requests of a
            gateway, so that scoring never runs on the event loop.
        prompt_injection: The ``prompt_injection`` detector.
        jailbreak: The ``jailbreak`` detector.
        toxicity: The ``toxicity`` detector.
    """

    workers: Annotated[int, Field(ge=1, le=64)] = 2
    prompt_injection: ThreatDetectorConfig = ThreatDetectorConfig()
    jailbreak: ThreatDetectorConfig = ThreatDetectorConfig()
    toxicity: ThreatDetectorConfig = ThreatDetectorConfig()


class DetectionConfig(_Strict):
    """Settings of the built-in detectors.

    Attributes:
        phone_regions: ISO 3166-1 alpha-2 regions whose national phone
            numbers (written without ``+``) the ``phone`` detector accepts,
            tried in order. Numbers written with ``+`` or ``00`` are checked
            for every country whatever this list. Default: US, GB, DE, FR, IN,
            CA, AU, BR, IT, ES, NL, JP.
    """

    phone_regions: Annotated[tuple[str, ...], Field(min_length=1)] = DEFAULT_PHONE_REGIONS

    @field_validator("phone_regions")
    @classmethod
    def _known_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        regions = tuple(r.upper() for r in value)
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown phone regions (ISO 3166-1 alpha-2): {', '.join(unknown)}")
        return regions


class RedactionConfig(_Strict):
    """Redaction defaults.

    Attributes:
        placeholder: Default placeholder; ``{entity_type}`` and ``{detector}``
            are filled in (``[EMAIL_ADDRESS]``).
    """

    placeholder: str = "[{entity_type}]"


class TerminationConfig(_Strict):
    """The error a policy block answers with, for clients written against other guards.

    It shapes the JSON error of a blocked request (status ``http_status``)
    and the in-stream error event that ends a blocked stream. The defaults
    are tidegate's own; Anthropic-shaped errors keep the documented
    ``invalid_request_error`` type and take ``code`` and ``message``.

    Attributes:
        code: The error's ``code`` (default ``input_blocked`` / ``output_blocked``).
        type: The error's ``type``.
        message: The error's ``message``; ``{policy}``, ``{event_id}`` and
            ``{direction}`` are filled in (default: tidegate's sentence).
        http_status: Status of a blocked non-streamed answer (a started
            stream stays 200 and ends with the error event).
    """

    code: Annotated[str | None, Field(min_length=1)] = None
    type: Annotated[str, Field(min_length=1)] = "content_policy_violation"
    message: Annotated[str | None, Field(min_length=1)] = None
    http_status: Annotated[int, Field(ge=400, le=599)] = 400

    @field_validator("message")
    @classmethod
    def _known_fields(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(policy="p", event_id="e", direction="d")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"only {{policy}}, {{event_id}} and {{direction}} can be filled in ({exc})"
                ) from None
        return value


class RouteConfig(_Strict):
    """Sends matching requests to an upstream, optionally with their own policies.

    Routes are tried in order; the first whose every given condition holds
    wins. Requests no route matches go to the first upstream of the
    endpoint's wire format.

    Attributes:
        name: Route name, for logs (defaults to its position).
        model: Glob matched against the request's ``model`` (``claude-*``).
        path_prefix: Prefix of the request path (``/v1/messages``).
        upstream: Name of the upstream to use.
        policies: Policies for this route instead of the global ones.
    """

    name: str | None = None
    model: str | None = None
    path_prefix: Annotated[str | None, Field(pattern=r"^/")] = None
    upstream: str
    policies: tuple[PolicyConfig, ...] | None = None


DEFAULT_POLICIES = (
    PolicyConfig(name="redact-pii", detectors=("pii",), direction="both", action="redact"),
    PolicyConfig(name="block-secrets", detectors=("secrets",), direction="both", action="block"),
    PolicyConfig(
        name="observe-threats", detectors=("threats",), direction="input", action="observe"
    ),
)


class TidegateConfig(_Strict):
    """The whole gateway configuration.

    Attributes:
        listen: ``HOST:PORT`` to bind.
        upstreams: Upstream APIs; the first of each format is that format's
            default. Empty means "start the embedded model".
        routes: Model-name and path-prefix routes to upstreams.
        limits: Request limits.
        shutdown: Graceful shutdown.
        embedded: Settings of the embedded model server.
        streaming: Output evaluation strategy.
        policies: Guardrail policies (default: redact PII and block secrets,
            both directions; observe threats on input).
        custom_detectors: Config-defined regex, keyword and ONNX detectors.
        detection: Settings of the built-in detectors (phone regions).
        threats: Threat classifier settings (thresholds, worker threads).
        redaction: Redaction defaults.
        fail_open: When a detector fails, let the text through (logged)
            instead of blocking it. Default false: guardrails fail closed.
        auth: Client keys; absent means no client authentication.
        mode: ``enforce`` applies every policy's action; ``monitor`` (shadow
            mode) turns every ``block`` and ``redact`` into ``observe``:
            findings are recorded, no text is changed or held back.
        termination: The error a block answers with (code, type, message, status).
        admin: Admin keys for ``/admin/*``; absent means those endpoints are 404.
        audit: The audit store.
        logging: Log level and format.
        metrics: Prometheus metrics.
    """

    listen: Annotated[str, Field(pattern=r"^\[?[A-Za-z0-9_.:-]+\]?:\d{1,5}$")] = "127.0.0.1:8080"
    upstreams: tuple[UpstreamConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    limits: LimitsConfig = LimitsConfig()
    shutdown: ShutdownConfig = ShutdownConfig()
    embedded: EmbeddedModelConfig = EmbeddedModelConfig()
    streaming: StreamingConfig = StreamingConfig()
    policies: tuple[PolicyConfig, ...] = DEFAULT_POLICIES
    custom_detectors: tuple[CustomDetectorConfig, ...] = ()
    detection: DetectionConfig = DetectionConfig()
    threats: ThreatsConfig = ThreatsConfig()
    redaction: RedactionConfig = RedactionConfig()
    fail_open: bool = False
    auth: AuthConfig | None = None
    mode: Mode = "enforce"
    termination: TerminationConfig = TerminationConfig()
    admin: AuthConfig | None = None
    audit: AuditConfig = AuditConfig()
    logging: LoggingConfig = LoggingConfig()
    metrics: MetricsConfig = MetricsConfig()

    @field_validator("policies")
    @classmethod
    def _unique_policies(cls, value: tuple[PolicyConfig, ...]) -> tuple[PolicyConfig, ...]:
        names = [p.name for p in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate policy names: {', '.join(dupes)}")
        return value

    @field_validator("upstreams")
    @classmethod
    def _unique_names(cls, value: tuple[UpstreamConfig, ...]) -> tuple[UpstreamConfig, ...]:
        names = [u.name for u in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate upstream names: {', '.join(dupes)}")
        return value

    @model_validator(mode="after")
    def _routes_name_upstreams(self) -> TidegateConfig:
        names = {u.name for u in self.upstreams}
        problems = []
        for i, route in enumerate(self.routes):
            if route.model is None and route.path_prefix is None:
                problems.append(f"routes.{i}: give 'model', 'path_prefix' or both")
            if names and route.upstream not in names:
                problems.append(f"routes.{i}.upstream: unknown upstream {route.upstream!r}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def host_port(self) -> tuple[str, int]:
        """Split ``listen`` into host and port.

        Returns:
            ``(host, port)``; IPv6 brackets are removed.
        """
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


def _format_errors(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        if path:
            lines.append(f"{path}: {msg}")
        else:  # model-level checks already name their key paths
            lines.extend(msg.split("; "))
    return lines


def parse_config(data: Mapping[str, Any]) -> TidegateConfig:
    """Validate a configuration mapping.

    Args:
        data: Parsed YAML (or any mapping of the same shape).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: With one ``"key.path: message"`` line per problem.
    """
    try:
        return TidegateConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc)) from None


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping (not yet validated).

    Args:
        path: File path.

    Raises:
        ConfigError: The file cannot be read, is not YAML, or is not a mapping.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"<file>: cannot read {path}: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"<file>: invalid YAML: {exc}"]) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(["<root>: the config must be a mapping of keys"])
    return data


API_VERSION_PREFIX = "/v1"
"""Added to an ``--upstream`` URL given without a path (OpenAI and Anthropic both serve ``/v1``)."""


def parse_upstream_flag(flag: str) -> dict[str, str]:
    """Parse a ``--upstream NAME=URL`` command-line value.

    A URL without a path (``https://api.openai.com``) gets the ``/v1``
    version prefix, as other guards' CLIs take it; the addition is logged
    (``upstream_version_prefix_added``). A URL with any path is kept as is.

    Raises:
        ConfigError: The value is not ``NAME=URL``.
    """
    name, sep, url = flag.partition("=")
    if not sep or not name or not url:
        raise ConfigError([f"--upstream: expected NAME=URL, got {flag!r}"])
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.path in ("", "/") and not parts.query:
        url = url.rstrip("/") + API_VERSION_PREFIX
        get_logger("config").info("upstream_version_prefix_added", upstream=name, base_url=url)
    return {"name": name, "base_url": url}


def load_config(
    path: str | Path | None = None,
    *,
    listen: str | None = None,
    upstreams: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    streaming_strategy: str | None = None,
) -> TidegateConfig:
    """Build the configuration from a file, environment and flags.

    Precedence, lowest first: the YAML file, ``TIDEGATE_*`` environment
    variables (``TIDEGATE_LISTEN``, ``TIDEGATE_CONFIG`` for the file path,
    ``TIDEGATE_UPSTREAM`` as comma-separated ``NAME=URL``), then flags.
    An upstream given by flag overrides the ``base_url`` of a configured one
    with the same name, or is added in front (so it becomes the default).

    Args:
        path: YAML file, or None.
        listen: ``--listen`` value.
        upstreams: ``--upstream`` values, ``NAME=URL`` each.
        environ: Environment to read (defaults to ``os.environ``).
        streaming_strategy: ``--streaming-strategy`` value (``streaming.strategy``).

    Raises:
        ConfigError: Any invalid input.
    """
    env = os.environ if environ is None else environ
    path = path or env.get("TIDEGATE_CONFIG") or None
    data = read_config_file(path) if path else {}
    listen = listen or env.get("TIDEGATE_LISTEN")
    if listen:
        data["listen"] = listen
    flags = list(upstreams)
    if not flags and env.get("TIDEGATE_UPSTREAM"):
        flags = [u.strip() for u in env["TIDEGATE_UPSTREAM"].split(",") if u.strip()]
    if flags:
        configured = [dict(u) if isinstance(u, dict) else u for u in data.get("upstreams") or []]
        added = []
        for flag in flags:
            parsed = parse_upstream_flag(flag)
            same = [
                u for u in configured if isinstance(u, dict) and u.get("name") == parsed["name"]
            ]
            if same:
                same[0]["base_url"] = parsed["base_url"]
            else:
                added.append(parsed)
        data["upstreams"] = added + configured
    streaming = data.get("streaming") or {}
    if streaming_strategy and isinstance(streaming, dict):
        data["streaming"] = {**streaming, "strategy": streaming_strategy}
    return parse_config(data)
