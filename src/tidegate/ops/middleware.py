"""The ops middleware: request IDs, the access log, and the end of every request.

A pure ASGI middleware (Starlette advises against ``BaseHTTPMiddleware`` for
streaming responses), outermost in the app, so it also sees requests that
the auth middleware refuses. For each HTTP request it:

* creates the :class:`~tidegate.ops.observe.RequestObservation` and puts it in
  ``scope["state"]``;
* adds ``x-tidegate-request-id`` to the response headers;
* notes the status, the body bytes sent (the first one is the client TTFT)
  and a client disconnect (an ``http.disconnect`` received before the last
  body message was sent);
* when the app returns (for a stream: after its last byte, or after the
  client left), calls :meth:`~tidegate.ops.operations.Operations.finish`.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tidegate.logs import get_logger
from tidegate.ops.observe import OBSERVATION_STATE
from tidegate.ops.operations import Operations

REQUEST_ID_HEADER = b"x-tidegate-request-id"


class OpsMiddleware:
    """Observes every HTTP request (see the module docstring).

    Args:
        app: The wrapped ASGI app.
        ops: The gateway's operations object.
    """

    def __init__(self, app: ASGIApp, ops: Operations) -> None:
        self.app = app
        self.ops = ops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ops = self.ops
        obs = ops.observe(scope)
        state = scope.get("state")
        scope = {**scope, "state": {**(state or {}), OBSERVATION_STATE: obs}}
        request_id = (REQUEST_ID_HEADER, obs.request_id.encode())

        async def observed_send(message: Message) -> None:
            kind = message["type"]
            if kind == "http.response.body":
                body = message.get("body", b"")
                if body:
                    obs.sent(len(body))
                if not message.get("more_body", False):
                    obs.complete = True
            elif kind == "http.response.start":
                obs.status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), request_id]}
                if obs.streaming:
                    ops.stream_started(obs)
            await send(message)

        async def observed_receive() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and not obs.complete:
                obs.disconnected = True
            return message

        try:
            await self.app(scope, observed_receive, observed_send)
        finally:
            try:
                ops.finish(obs)
            except Exception:  # observing must never break serving
                get_logger("ops").exception("observation_failed", request_id=obs.request_id)
