"""The in-process guard: :class:`Guard`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast, overload

import anyio

from tidegate.audit import AuditLog
from tidegate.config import Mode, TidegateConfig, parse_config, read_config_file
from tidegate.guard.engine import GuardEngine
from tidegate.sdk.decision import Decision
from tidegate.sdk.scan import Direction, Messages, Style, scan_value

ClientT = TypeVar("ClientT")

ConfigSource = str | Path | Mapping[str, Any] | TidegateConfig | None
"""A config file path, a mapping of the config file's shape, a validated config, or None."""


def load_guard_config(config: ConfigSource = None, *, mode: Mode | None = None) -> TidegateConfig:
    """Validate the configuration of an in-process guard.

    The keys are the gateway's (``policies``, ``custom_detectors``,
    ``streaming``, ``redaction``, ``fail_open``, ``mode``…); keys that only
    the gateway uses (``upstreams``, ``routes``, ``auth``…) are accepted and
    ignored.

    Args:
        config: A YAML file path, a mapping, a :class:`TidegateConfig`, or
            ``None`` for the defaults (redact PII, block secrets).
        mode: ``"enforce"`` or ``"monitor"``; overrides the config's ``mode``.

    Raises:
        ConfigError: The configuration is invalid (one line per problem).
    """
    if config is None:
        validated = parse_config({})
    elif isinstance(config, TidegateConfig):
        validated = config
    elif isinstance(config, str | Path):
        validated = parse_config(read_config_file(config))
    else:
        validated = parse_config(config)
    if mode is not None and mode != validated.mode:
        validated = parse_config({**validated.model_dump(), "mode": mode})
    return validated


class Guard:
    """Tidegate's guard inside your own process.

    The same engine as the gateway: the same policies, detectors,
    placeholders, streaming strategies and zero-leak rule, from the same
    configuration keys.

    Args:
        config: A YAML file path, a mapping, a :class:`~tidegate.config.TidegateConfig`,
            or ``None`` for the default policies (redact PII, block secrets,
            both directions).
        mode: ``"enforce"`` or ``"monitor"`` (shadow mode: every block and
            redact only records its finding); overrides the config's ``mode``.
        audit: Where findings are recorded (default: a new in-memory
            :class:`~tidegate.audit.AuditLog`; each finding is also logged
            through ``structlog`` as a ``finding`` event, without its value).

    Raises:
        ConfigError: The configuration, a policy or a custom detector is invalid.

    Example:
        >>> guard = Guard()
        >>> guard.scan("mail me at jane@example.com").redacted_messages
        'mail me at [EMAIL_ADDRESS]'
    """

    def __init__(
        self,
        config: ConfigSource = None,
        *,
        mode: Mode | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.config = load_guard_config(config, mode=mode)
        self.engine = GuardEngine(self.config, audit=audit)

    @property
    def mode(self) -> Mode:
        """``"enforce"`` or ``"monitor"``."""
        return self.config.mode

    @property
    def audit(self) -> AuditLog:
        """The audit log: every finding of every scan and guarded call."""
        return self.engine.audit

    @overload
    def scan(
        self, messages: str, direction: Direction = "input", *, style: Style = "auto"
    ) -> Decision[str]: ...

    @overload
    def scan(
        self,
        messages: Sequence[Mapping[str, Any]],
        direction: Direction = "input",
        *,
        style: Style = "auto",
    ) -> Decision[list[dict[str, Any]]]: ...

    def scan(
        self, messages: Messages, direction: Direction = "input", *, style: Style = "auto"
    ) -> Decision[Any]:
        """Scan a prompt, a message list or an answer, and apply the policies.

        Args:
            messages: A string, or a list of OpenAI- or Anthropic-style
                message dicts (``{"role": ..., "content": str | [blocks]}``).
                Every string that is not structural (roles, ids, types) is
                scanned, as the gateway scans a request body.
            direction: ``"input"`` applies the input policies, ``"output"``
                the output ones.
            style: ``"auto"`` (Anthropic-only block types make it
                ``"anthropic"``), ``"openai"`` or ``"anthropic"``.

        Returns:
            The :class:`Decision`; ``messages`` itself is never changed.

        Raises:
            ValueError: Unknown ``direction`` or ``style``.
            TypeError: ``messages`` is neither a string nor a list of mappings
                of JSON values.
            BadRequestError: A lone surrogate, or nesting deeper than 128.
        """
        return scan_value(self.engine, messages, direction, style)

    @overload
    async def ascan(
        self, messages: str, direction: Direction = "input", *, style: Style = "auto"
    ) -> Decision[str]: ...

    @overload
    async def ascan(
        self,
        messages: Sequence[Mapping[str, Any]],
        direction: Direction = "input",
        *,
        style: Style = "auto",
    ) -> Decision[list[dict[str, Any]]]: ...

    async def ascan(
        self, messages: Messages, direction: Direction = "input", *, style: Style = "auto"
    ) -> Decision[Any]:
        """The async twin of :meth:`scan`: scans in a worker thread.

        Scanning is CPU work; running it in a thread keeps the event loop
        free for other tasks. Same arguments, result and errors as :meth:`scan`.
        """
        return await anyio.to_thread.run_sync(
            lambda: scan_value(self.engine, messages, direction, style)
        )

    def wrap(self, client: ClientT, *, scan_responses: bool = True) -> ClientT:
        """A guarded copy of an ``openai`` or ``anthropic`` SDK client.

        The copy (``client.with_options(http_client=...)``) sends through a
        guarded HTTP client in front of the original's own: requests to Chat
        Completions, Responses and Messages are scanned (and redacted or
        blocked) before they are sent, and their answers, streamed or not,
        are guarded before the SDK parses them. Other endpoints pass through.
        The copy shares the original's connection pool; closing either
        closes it, as with any ``with_options`` copy.

        Args:
            client: An ``openai.OpenAI``, ``openai.AsyncOpenAI``,
                ``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic``
                (or a subclass such as ``openai.AzureOpenAI``).
            scan_responses: Guard the answers too (default); ``False``
                guards only the requests.

        Returns:
            A client of the same type. A block raises :class:`BlockedError`
            from the call, or from the stream's iteration at the point of
            termination.

        Raises:
            TypeError: Not one of those clients, or one built on the legacy
                ``httpx`` package instead of ``httpx2``.
        """
        from tidegate.sdk.clients import binding_for
        from tidegate.sdk.transport import Router, guarded_http_client

        binding, is_async = binding_for(client)
        sdk_client = cast(Any, client)
        router = Router(self.engine, binding, scan_responses=scan_responses)
        http = guarded_http_client(sdk_client._client, router, is_async=is_async)
        return cast(ClientT, sdk_client.with_options(http_client=http))
