"""Configuration of the operations features: audit store, logging, metrics.

These models are part of :class:`tidegate.config.TidegateConfig` (keys
``audit``, ``logging``, ``metrics``); like every config model they refuse
unknown keys.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tidegate.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuditConfig(_Strict):
    """Where guard events and request records are persisted.

    Attributes:
        store: ``sqlite`` (default), ``postgres`` or ``none`` (nothing is
            persisted; events stay in the in-memory log and the JSON logs).
        path: ``sqlite`` only: the database file (created with its schema).
        url: ``postgres`` only: a libpq connection URL
            (``postgresql://user:pw@host:5432/db``). It is never logged.
        url_env: ``postgres`` only: name of an environment variable holding
            the URL instead (give ``url`` or ``url_env``, not both).
        retention_days: Records older than this many days are deleted (at
            start, then hourly).
        on_failure: ``drop`` (default): when the store is down or the queue
            is full, records are dropped and counted
            (``tidegate_audit_dropped_total``) and the gateway keeps serving.
            ``block``: fail closed; while the store is failing, new requests
            are refused with HTTP 503 ``audit_unavailable``.
        queue_size: Records waiting for the writer, at most (the bound of
            the queue between the event loop and the writer thread).
        batch_size: Records written per transaction, at most.
    """

    store: Literal["sqlite", "postgres", "none"] = "sqlite"
    path: Annotated[str, Field(min_length=1)] = "./tidegate-audit.db"
    url: str | None = None
    url_env: str | None = None
    retention_days: Annotated[int, Field(ge=1)] = 30
    on_failure: Literal["drop", "block"] = "drop"
    queue_size: Annotated[int, Field(ge=1)] = 10_000
    batch_size: Annotated[int, Field(ge=1)] = 500

    @model_validator(mode="after")
    def _postgres_url(self) -> AuditConfig:
        given = (self.url is not None) + (self.url_env is not None)
        if self.store == "postgres" and given != 1:
            raise ValueError("audit: store 'postgres' needs exactly one of 'url' or 'url_env'")
        if self.store != "postgres" and given:
            raise ValueError("audit: 'url' and 'url_env' are only for store 'postgres'")
        return self

    def postgres_url(self, environ: Mapping[str, str] | None = None) -> str:
        """The PostgreSQL URL, from ``url`` or the ``url_env`` variable.

        Args:
            environ: Environment to read (default ``os.environ``).

        Raises:
            ConfigError: ``url_env`` names a variable that is unset or empty.
        """
        if self.url is not None:
            return self.url
        env = os.environ if environ is None else environ
        value = env.get(self.url_env or "", "")
        if not value:
            raise ConfigError([f"audit.url_env: environment variable {self.url_env} is not set"])
        return value


class LoggingConfig(_Strict):
    """Log output.

    Attributes:
        level: Minimum level: ``debug``, ``info``, ``warning`` or ``error``.
        format: ``json`` (one JSON object per line, the default) or
            ``console`` (aligned key=value text for humans).
    """

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class MetricsConfig(_Strict):
    """Prometheus metrics.

    Attributes:
        enabled: Serve ``GET /metrics`` and record the series. When false,
            ``/metrics`` is a 404 and nothing is recorded.
    """

    enabled: bool = True
