"""An app factory for running several worker processes under uvicorn.

``tidegate serve`` runs one process. To run several, with their metrics
summed at ``/metrics`` (prometheus-client's multiprocess mode), start uvicorn
with this factory and an empty ``PROMETHEUS_MULTIPROC_DIR``::

    rm -rf /tmp/tidegate-metrics && mkdir /tmp/tidegate-metrics
    PROMETHEUS_MULTIPROC_DIR=/tmp/tidegate-metrics TIDEGATE_CONFIG=tidegate.yaml \\
        uvicorn --factory tidegate.ops.worker:app_from_env --workers 4 \\
        --host 127.0.0.1 --port 8080 --no-access-log

Each worker reads the configuration from the environment, as ``tidegate
serve`` does (``TIDEGATE_CONFIG``, ``TIDEGATE_UPSTREAM``…); an upstream must
be configured (the embedded model is not started here).
"""

from __future__ import annotations

from starlette.types import ASGIApp

from tidegate.app import create_app
from tidegate.config import load_config
from tidegate.errors import ConfigError
from tidegate.logs import configure_logging


def app_from_env() -> ASGIApp:
    """Build one worker's app from the environment's configuration.

    Raises:
        ConfigError: Invalid configuration, or no upstream configured.
    """
    config = load_config()
    if not config.upstreams:
        raise ConfigError(["upstreams: configure an upstream to run several workers"])
    configure_logging(config.logging.level, fmt=config.logging.format)
    return create_app(config)
