"""The tidegate exception tree.

::

    TidegateError
    ├── ConfigError               invalid configuration (CLI exit code 2)
    ├── RequestError              the client's request is wrong        4xx
    │   ├── BadRequestError       malformed JSON or fields             400
    │   ├── AuthenticationError   missing or unknown tidegate key      401
    │   ├── PayloadTooLargeError  body over limits.max_body_bytes      413
    │   ├── NotFoundError         unknown route or model               404
    │   ├── RequestTimeoutError   the client stopped sending its body  408
    │   └── ClientDisconnectedError  the client went away              499
    ├── OverloadedError           too many requests in flight          429
    ├── ShuttingDownError         the gateway stopped, mid-stream      503
    ├── UpstreamError             the upstream failed                  5xx
    │   ├── UpstreamUnreachableError  connect failed                   502
    │   ├── UpstreamTimeoutError      connect or read timeout          504
    │   └── UpstreamProtocolError     the upstream broke its protocol  502
    ├── PolicyViolation           a guardrail blocked the text         400
    │                             (status, type, code, message: ``termination:``)
    ├── AuditUnavailableError     audit store down, on_failure: block  503
    ├── EmbeddedModelError        the embedded model server cannot start
    └── BlockedError              an in-process SDK call was blocked
                                  (:mod:`tidegate.sdk.decision`; carries the Decision)

Each HTTP-facing error carries ``status``, ``error_type`` and ``code``; the
wire-format adapter renders them in the client's own error shape, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidegate.config import TerminationConfig


class TidegateError(Exception):
    """Root of all tidegate errors.

    Attributes:
        status: HTTP status to answer with.
        error_type: The ``type`` field of the wire error.
        code: The ``code`` field of the wire error.
    """

    status = 500
    error_type = "server_error"
    code = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str]:
        """Extra HTTP response headers for this error (none by default)."""
        return {}


class ConfigError(TidegateError):
    """The configuration is invalid.

    Attributes:
        problems: One ``"key.path: message"`` line per problem.
    """

    code = "invalid_config"

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class RequestError(TidegateError):
    """The client's request cannot be served as sent."""

    status = 400
    error_type = "invalid_request_error"
    code = "invalid_request"


class BadRequestError(RequestError):
    """Malformed JSON or an invalid field."""

    code = "invalid_json"


class AuthenticationError(RequestError):
    """The request carries no tidegate key, or one that is not configured.

    ``code`` is the one OpenAI answers an unknown key with
    (``invalid_api_key``); the Anthropic adapter maps HTTP 401 to its
    documented ``authentication_error`` type.
    """

    status = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class PayloadTooLargeError(RequestError):
    """The request body is larger than ``limits.max_body_bytes``."""

    status = 413
    code = "request_too_large"


class NotFoundError(RequestError):
    """No route or upstream for this request."""

    status = 404
    code = "not_found"


class RequestTimeoutError(RequestError):
    """The client sent nothing for ``limits.body_idle_timeout_s`` while sending its body."""

    status = 408
    code = "request_timeout"


class ClientDisconnectedError(RequestError):
    """The client closed its connection before its request was read.

    Status 499 is nginx's "client closed request"; nobody is left to read it.
    """

    status = 499
    code = "client_disconnected"


class OverloadedError(TidegateError):
    """Too many requests are in flight; the client should retry later.

    Raised at ``limits.max_concurrent_streams`` (the whole gateway) or at an
    upstream's ``max_connections``, at once: never after waiting in a queue.

    Attributes:
        retry_after_s: Seconds the client should wait, sent as ``Retry-After``.
    """

    status = 429
    error_type = "rate_limit_error"
    code = "gateway_overloaded"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        """``Retry-After`` in whole seconds (RFC 9110 section 10.2.3)."""
        return {"retry-after": str(self.retry_after_s)}


class ShuttingDownError(TidegateError):
    """The gateway is shutting down and ended a stream its drain did not finish.

    Sent as the stream's termination event once ``shutdown.drain_s`` has passed.
    """

    status = 503
    code = "gateway_shutting_down"


class UpstreamError(TidegateError):
    """The upstream did not give a usable answer."""

    status = 502
    error_type = "upstream_error"
    code = "upstream_error"


class UpstreamUnreachableError(UpstreamError):
    """Connecting to the upstream failed."""

    code = "upstream_unreachable"


class UpstreamTimeoutError(UpstreamError):
    """The upstream did not answer, or stopped sending, in time."""

    status = 504
    code = "upstream_timeout"


class UpstreamProtocolError(UpstreamError):
    """The upstream broke its wire protocol, or its stream ended abruptly."""

    code = "upstream_protocol_error"


class PolicyViolation(TidegateError):
    """A guardrail policy blocked the text.

    Its ``code``, ``error_type``, ``message`` and ``status`` are tidegate's
    unless a ``termination:`` config is given (:class:`~tidegate.config.TerminationConfig`).

    Attributes:
        policy: Name of the policy that blocked.
        event_id: Unique ID of this guard event, also written to the audit log.
        direction: ``"input"`` or ``"output"``.
        threat_type: For a threat detector's block, the entity type
            (``"PROMPT_INJECTION"``, ``"JAILBREAK"``, ``"TOXICITY"``, or a
            custom ONNX detector's label); None for pattern detectors.
        score: For a threat detector's block, the classifier score in [0, 1].
    """

    status = 400
    error_type = "content_policy_violation"

    def __init__(
        self,
        policy: str,
        event_id: str,
        direction: str,
        termination: TerminationConfig | None = None,
        *,
        threat_type: str | None = None,
        score: float | None = None,
    ) -> None:
        what = f" ({threat_type}, score {score:.2f})" if threat_type and score is not None else ""
        message = f"{direction} blocked by tidegate policy {policy!r}{what} (event_id {event_id})"
        self.code = f"{direction}_blocked"
        if termination is not None:  # the configured ``termination:`` error
            if termination.message is not None:
                message = termination.message.format(
                    policy=policy, event_id=event_id, direction=direction
                )
            self.code = termination.code or self.code
            self.error_type = termination.type
            self.status = termination.http_status
        super().__init__(message)
        self.policy = policy
        self.event_id = event_id
        self.direction = direction
        self.threat_type = threat_type
        self.score = score


class AuditUnavailableError(TidegateError):
    """The audit store is failing and ``audit.on_failure`` is ``block``: fail closed."""

    status = 503
    error_type = "server_error"
    code = "audit_unavailable"


class EmbeddedModelError(TidegateError):
    """The embedded model server is not installed or failed to start."""

    code = "embedded_model_unavailable"
