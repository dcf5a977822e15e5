"""HTTP endpoints for operators: ``GET /metrics`` and the audit queries under ``/admin``.

``/metrics`` is open, like ``/healthz`` (Prometheus scrapers usually carry no
key; it holds counts and configured names only). ``/admin/*`` exists only
when ``admin.keys`` is configured (otherwise 404) and then needs one of those
keys (``Authorization: Bearer KEY`` or ``x-api-key: KEY``, checked like
client keys, by SHA-256 digest with :func:`hmac.compare_digest`); client keys
do not open it. Answers are OpenAI-shaped JSON, errors too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tidegate.adapters.openai_chat import openai_error_body
from tidegate.auth import KeyRing, presented_keys
from tidegate.config import AuthConfig
from tidegate.errors import (
    AuditUnavailableError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    TidegateError,
)
from tidegate.logs import get_logger
from tidegate.ops.operations import Operations
from tidegate.store.database import Database, StoreError
from tidegate.store.records import parse_since
from tidegate.store.schema import MAX_LIMIT, EventQuery, get_request, query_events

ADMIN_PREFIX = "/admin/"
"""Paths under this prefix check admin keys, not client keys."""

# Longest accepted filter value, in chars.
_MAX_FILTER_CHARS = 200


def _error(exc: TidegateError) -> JSONResponse:
    return JSONResponse(openai_error_body(exc), status_code=exc.status)


class AdminEndpoints:
    """``/metrics`` and ``/admin/*`` of one gateway.

    Args:
        ops: The gateway's operations object.
        admin: The ``admin`` config section (None: ``/admin/*`` is 404).
    """

    def __init__(self, ops: Operations, admin: AuthConfig | None) -> None:
        self.ops = ops
        self._ring = KeyRing(admin.keys) if admin is not None else None
        self._log = get_logger("admin")

    def routes(self) -> list[Route]:
        """The Starlette routes to add to the app."""
        return [
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/admin/events", self.events, methods=["GET"]),
            Route("/admin/requests/{request_id}", self.request, methods=["GET"]),
        ]

    async def metrics(self, request: Request) -> Response:
        """``GET /metrics``: the Prometheus text exposition (404 when disabled)."""
        metrics = self.ops.metrics
        if metrics is None:
            return _error(NotFoundError("metrics are disabled (metrics.enabled: false)"))
        body, content_type = await anyio.to_thread.run_sync(metrics.render)
        return Response(body, headers={"content-type": content_type})

    async def events(self, request: Request) -> Response:
        """``GET /admin/events?since=1h&policy=P&action=block&request_id=R&limit=N``.

        Returns ``{"object": "list", "data": [event, …]}``: the newest
        matching events (at most ``limit``, default 100, max 1000), oldest first.
        """
        refused = self._refuse(request)
        if refused is not None:
            return refused
        try:
            query = _event_query(dict(request.query_params))
        except BadRequestError as exc:
            return _error(exc)
        found = await self._read(lambda db: {"object": "list", "data": query_events(db, query)})
        assert found is not None  # a list is always found
        return found

    async def request(self, request: Request) -> Response:
        """``GET /admin/requests/{request_id}``: the request record with its events."""
        refused = self._refuse(request)
        if refused is not None:
            return refused
        request_id = request.path_params["request_id"][:_MAX_FILTER_CHARS]
        found = await self._read(lambda db: get_request(db, request_id))
        if isinstance(found, Response):
            return found
        return _error(NotFoundError(f"no request {request_id!r} in the audit store"))

    def _refuse(self, request: Request) -> Response | None:
        """The error answer for a request without a valid admin key, or None."""
        if self._ring is None:
            return _error(NotFoundError(f"GET {request.url.path}: Not Found"))
        keys = presented_keys(request.scope["headers"])
        names = [self._ring.match(key) for key in keys]
        name = next((n for n in names if n is not None), None)
        if name is None:
            self._log.info("admin_auth_failed", path=request.url.path)
            return _error(AuthenticationError("missing or invalid admin key"))
        return None

    async def _read(self, query: Callable[[Database], Any]) -> Response | None:
        """Run ``query(db)`` in a worker thread; its result as JSON (None: not found)."""
        db = self.ops.database
        if db is None:
            return _error(NotFoundError("the audit store is disabled (audit.store: none)"))
        try:
            result = await anyio.to_thread.run_sync(query, db)
        except StoreError as exc:
            self._log.warning("admin_query_failed", error=str(exc))
            return _error(AuditUnavailableError("the audit store cannot be read"))
        if result is None:
            return None
        return JSONResponse(result)


def _event_query(params: dict[str, str]) -> EventQuery:
    """An :class:`EventQuery` from query parameters.

    Raises:
        BadRequestError: Unknown parameter, bad ``since`` or ``limit``.
    """
    known = {"since", "policy", "action", "request_id", "limit"}
    unknown = sorted(set(params) - known)
    if unknown:
        raise BadRequestError(f"unknown query parameter(s): {', '.join(unknown)}")
    for name, value in params.items():
        if len(value) > _MAX_FILTER_CHARS:
            raise BadRequestError(f"{name}: longer than {_MAX_FILTER_CHARS} chars")
    try:
        since = parse_since(params["since"]) if "since" in params else None
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    limit_text = params.get("limit", "100")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise BadRequestError(f"limit: expected an integer from 1 to {MAX_LIMIT}")
    return EventQuery(
        since=since,
        policy=params.get("policy"),
        action=params.get("action"),
        request_id=params.get("request_id"),
        limit=int(limit_text),
    )
