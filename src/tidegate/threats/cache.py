"""Loading the shipped threat model once per process.

The issue asks for the model to be "loaded once per process": a gateway builds
one guard engine per route, and the CLI and tests build many, so they share a
:class:`ModelCache`. The model is immutable after loading, and the heavy
imports (scikit-learn, SciPy) happen only when a policy uses the ``threats``
group.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidegate.threats.model import ThreatModel


class ModelCache:
    """Loads the shipped threat model on first use, then shares it (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._builtin: ThreatModel | None = None

    def builtin(self) -> ThreatModel:
        """The shipped model (``tidegate/threats/data/threats.npz``).

        Raises:
            OSError: The package data file is missing.
            ValueError: It is corrupt or was built for other features.
        """
        with self._lock:
            if self._builtin is None:
                from tidegate.threats.model import ThreatModel

                self._builtin = ThreatModel.load()
            return self._builtin


@functools.cache
def shared_models() -> ModelCache:
    """The process-wide cache used by engines that are not given one."""
    return ModelCache()
