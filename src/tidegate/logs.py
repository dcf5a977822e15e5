"""Structured JSON logs (structlog).

Log events carry codes, counts, policy names and event IDs, never detected
values: a detected secret or PII value must not reach a log in clear text.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


class _CurrentStderr:
    """A file-like object that writes to whatever ``sys.stderr`` is at write time."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "info", stream: TextIO | None = None, fmt: str = "json") -> None:
    """Send structlog output as one JSON object per line (or console text).

    Logging is process-wide configuration by nature; call this once from the
    CLI, never from library code.

    Args:
        level: Minimum level name (``"debug"``, ``"info"``, ``"warning"``…).
        stream: Where to write (default ``sys.stderr``).
        fmt: ``"json"`` (one JSON object per line) or ``"console"``
            (``key=value`` text for humans, no colours).

    Raises:
        KeyError: Unknown level name.
    """
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if fmt == "console":  # renders exceptions itself
        processors.append(structlog.dev.ConsoleRenderer(colors=False))
    else:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.WriteLoggerFactory(stream or _CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A structured logger bound to a component name."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(component=name)
    return logger
