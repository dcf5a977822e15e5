"""Admission control: a bounded number of requests in flight, the rest refused at once.

Under overload, a request that waits in a queue (for a pooled upstream
connection, say) ties up its client and a server task only to fail later with
a timeout. Here a request that finds no free slot is answered HTTP 429 with
``Retry-After`` right away, in its endpoint's wire format, and costs nothing
more. Two limits use :class:`tidegate.slots.Slots`:

* ``limits.max_concurrent_streams`` for the whole gateway, taken by
  :class:`AdmissionControl` before the request body is read and held until
  the response has been sent (or the client went away);
* an upstream's ``max_connections``, taken by
  :meth:`tidegate.upstream.Upstream.open` for as long as its response is open.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tidegate.adapters.base import WireAdapter
from tidegate.logs import get_logger
from tidegate.slots import Slots


class AdmissionControl:
    """Pure ASGI middleware: a slot per request, or HTTP 429 at once.

    The slot is held until the wrapped app returns, that is until the whole
    response (an event stream included) has been sent, the client went away,
    or the app failed.

    Args:
        app: The wrapped ASGI app (one route's endpoint).
        slots: The gateway's slots.
        adapter: Renders the 429 in the endpoint's wire format.
    """

    def __init__(self, app: ASGIApp, *, slots: Slots, adapter: WireAdapter) -> None:
        self._app = app
        self._slots = slots
        self._adapter = adapter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit the request or refuse it (ASGI entry point)."""
        if not self._slots.try_acquire():
            exc = self._slots.overloaded()
            get_logger("admission").info(
                "request_refused", error=exc.code, in_flight=self._slots.in_use
            )
            response = JSONResponse(
                self._adapter.error_body(exc), status_code=exc.status, headers=exc.headers()
            )
            await response(scope, receive, send)
            return
        try:
            await self._app(scope, receive, send)
        finally:
            self._slots.release()
