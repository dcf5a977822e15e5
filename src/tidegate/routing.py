"""Routing: which upstream, and which guard engine, serves a request.

Each endpoint speaks one wire format. A request goes to the first route whose
conditions all hold (``model`` glob, ``path_prefix``); otherwise to the first
upstream of the endpoint's format (or the first upstream at all, for an
OpenAI-compatible server used through every OpenAI endpoint). A route may
carry its own policies, so it gets its own :class:`GuardEngine`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from tidegate.audit import AuditLog
from tidegate.config import RouteConfig, TidegateConfig
from tidegate.errors import BadRequestError, NotFoundError
from tidegate.guard.engine import GuardEngine
from tidegate.upstream import Upstream

# The upstream format each client wire format needs.
UPSTREAM_FORMAT = {
    "openai": "openai",
    "responses": "openai",
    "anthropic": "anthropic",
    "generic": "generic",
    "completions": "openai",
    "embeddings": "openai",
    "moderations": "openai",
}


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved route: its config, upstream and guard engine."""

    config: RouteConfig
    upstream: Upstream
    engine: GuardEngine

    def matches(self, path: str, model: str | None) -> bool:
        """Whether every condition of the route holds for this request."""
        cfg = self.config
        if cfg.path_prefix is not None and not path.startswith(cfg.path_prefix):
            return False
        return cfg.model is None or (model is not None and fnmatchcase(model, cfg.model))


class Router:
    """Resolves requests to (upstream, engine).

    Args:
        config: The gateway configuration.
        upstreams: Upstreams by name.
        engine: The engine with the global policies.
        audit: Audit log shared by the per-route engines.

    Raises:
        ConfigError: A route's policies are invalid.
    """

    def __init__(
        self,
        config: TidegateConfig,
        upstreams: Mapping[str, Upstream],
        engine: GuardEngine,
        audit: AuditLog,
    ) -> None:
        self._upstreams = dict(upstreams)
        self.engine = engine
        self.routes = tuple(
            Route(
                route,
                self._upstreams[route.upstream],
                engine
                if route.policies is None
                else GuardEngine(
                    config.model_copy(update={"policies": route.policies}), audit=audit
                ),
            )
            for route in config.routes
        )

    def select(
        self, wire_format: str, path: str, model: str | None
    ) -> tuple[Upstream, GuardEngine]:
        """Pick the upstream and engine for a request.

        Args:
            wire_format: The endpoint's format (``openai``, ``responses``,
                ``anthropic``).
            path: The request path, e.g. ``/v1/messages``.
            model: The request's ``model`` field.

        Raises:
            NotFoundError: No upstream is configured for this format.
            BadRequestError: The matching route's upstream speaks another format.
        """
        wanted = UPSTREAM_FORMAT[wire_format]
        for route in self.routes:
            if route.matches(path, model):
                if route.upstream.config.format != wanted:
                    raise BadRequestError(
                        f"route sends a {wire_format} request to upstream "
                        f"{route.upstream.name!r}, which speaks {route.upstream.config.format}"
                    )
                return route.upstream, route.engine
        for upstream in self._upstreams.values():
            if upstream.config.format == wanted:
                return upstream, self.engine
        raise NotFoundError(f"no {wanted} upstream is configured for {path}")

    def upstream(self, name: str) -> Upstream:
        """An upstream by name.

        Raises:
            NotFoundError: Unknown name.
        """
        try:
            return self._upstreams[name]
        except KeyError:
            raise NotFoundError(f"no upstream named {name!r}") from None
