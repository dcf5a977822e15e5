"""Serving a gateway with uvicorn: client limits, and a graceful drain on SIGTERM.

uvicorn's own graceful shutdown (SIGTERM or SIGINT) closes the listening
socket and the idle keep-alive connections, waits for open ones to finish
for up to ``timeout_graceful_shutdown`` seconds, then cancels what is left: a
stream cut that way stops mid-answer without a termination event.
:class:`DrainingServer` adds the drain: it logs ``draining``, lets the open
streams run on for ``shutdown.drain_s`` seconds, then tells those still open
to terminate (:class:`tidegate.drain.Drain`): each sends its wire format's
termination event (``gateway_shutting_down``) and ``[DONE]`` where the
format has one. They get :data:`TERMINATE_GRACE_S` more seconds to do so
before uvicorn cancels them; then ``stopped`` is logged.

Client limits given to uvicorn (``limits.*``): the header size cap and
deadline (:mod:`tidegate.http_limits`), ``h11_max_incomplete_event_size``
(the same cap, where h11 is the parser) and ``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import math
import socket

import uvicorn
from starlette.applications import Starlette

from tidegate.app import Gateway
from tidegate.config import TidegateConfig
from tidegate.http_limits import limited_http_protocol
from tidegate.logs import get_logger

TERMINATE_GRACE_S = 5.0
"""Seconds that terminated streams get to send their last event, after the drain."""


def uvicorn_config(app: Starlette, config: TidegateConfig) -> uvicorn.Config:
    """The uvicorn configuration for ``tidegate serve``.

    Args:
        app: The gateway app (:func:`tidegate.app.create_app`).
        config: Its configuration: ``listen``, ``limits`` and ``shutdown``.
    """
    host, port = config.host_port()
    limits = config.limits
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=limited_http_protocol(limits),
        h11_max_incomplete_event_size=limits.max_header_bytes,
        timeout_keep_alive=limits.keepalive_timeout_s,
        timeout_graceful_shutdown=math.ceil(config.shutdown.drain_s + TERMINATE_GRACE_S),
    )


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose shutdown drains, then terminates, open streams.

    Args:
        config: The uvicorn configuration (:func:`uvicorn_config`).
        gateway: The gateway whose streams to drain.
        drain_s: Seconds open streams may run on after SIGTERM.
    """

    def __init__(self, config: uvicorn.Config, gateway: Gateway, drain_s: float) -> None:
        super().__init__(config)
        self._gateway = gateway
        self._drain_s = drain_s
        self._log = get_logger("server")

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Drain, terminate the streams left, then let uvicorn finish."""
        drain = self._gateway.drain
        self._log.info(
            "draining",
            streams=drain.active,
            requests=self._gateway.slots.in_use,
            drain_s=self._drain_s,
        )
        timer = asyncio.create_task(self._terminate_after_drain())
        try:
            await super().shutdown(sockets)
        finally:
            timer.cancel()
        self._log.info(
            "stopped",
            streams_terminated=drain.terminated,
            requests_left=self._gateway.slots.in_use,
        )

    async def _terminate_after_drain(self) -> None:
        await asyncio.sleep(self._drain_s)
        count = self._gateway.drain.terminate_all()
        self._log.info("drain_time_up", streams_terminated=count)


def serve(app: Starlette, config: TidegateConfig) -> bool:
    """Serve ``app`` until SIGTERM or SIGINT, then drain and stop.

    uvicorn raises the caught signal again once it has stopped (so the
    process's own handler for it runs last).

    Args:
        app: The gateway app; ``app.state.gateway`` is its :class:`Gateway`.
        config: Its configuration.

    Returns:
        Whether the server started (False: the port could not be bound, or
        the app's start-up failed; uvicorn has logged why).
    """
    server = DrainingServer(uvicorn_config(app, config), app.state.gateway, config.shutdown.drain_s)
    server.run()
    return server.started
