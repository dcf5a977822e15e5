"""The tidegate exception tree.

::

    TidegateError
    ├── ConfigError               invalid configuration (CLI exit code 2)
    ├── RequestError              the client's request is wrong        4xx
    │   ├── BadRequestError       malformed JSON or fields             400
    │   ├── PayloadTooLargeError  body over limits.max_body_bytes      413
    │   └── NotFoundError         unknown route or model               404
    ├── UpstreamError             the upstream failed                  5xx
    │   ├── UpstreamUnreachableError  connect failed                   502
    │   ├── UpstreamTimeoutError      connect or read timeout          504
    │   └── UpstreamProtocolError     the upstream broke its protocol  502
    ├── PolicyViolation           a guardrail blocked the text         400
    └── EmbeddedModelError        the embedded model server cannot start

Each HTTP-facing error carries ``status``, ``error_type`` and ``code``; the
wire-format adapter renders them in the client's own error shape, in one place.
"""

from __future__ import annotations

from collections.abc import Sequence


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


class PayloadTooLargeError(RequestError):
    """The request body is larger than ``limits.max_body_bytes``."""

    status = 413
    code = "request_too_large"


class NotFoundError(RequestError):
    """No route or upstream for this request."""

    status = 404
    code = "not_found"


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
        *,
        threat_type: str | None = None,
        score: float | None = None,
    ) -> None:
        what = f" ({threat_type}, score {score:.2f})" if threat_type and score is not None else ""
        super().__init__(
            f"{direction} blocked by tidegate policy {policy!r}{what} (event_id {event_id})"
        )
        self.policy = policy
        self.event_id = event_id
        self.direction = direction
        self.code = f"{direction}_blocked"
        self.threat_type = threat_type
        self.score = score


class EmbeddedModelError(TidegateError):
    """The embedded model server is not installed or failed to start."""

    code = "embedded_model_unavailable"
