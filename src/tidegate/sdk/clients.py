"""Which SDK a client belongs to, and what is guarded for it.

Each supported SDK has a :class:`SDKBinding` in its own module
(:mod:`tidegate.sdk._openai`, :mod:`tidegate.sdk._anthropic`), imported only
when that SDK is installed: ``import tidegate`` needs neither.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from tidegate.adapters.base import WireAdapter
from tidegate.sdk.decision import BlockedError

_BINDING_MODULES = ("tidegate.sdk._openai", "tidegate.sdk._anthropic")


@dataclass(frozen=True, slots=True)
class SDKBinding:
    """How the clients of one SDK are guarded.

    Attributes:
        name: ``"openai"`` or ``"anthropic"``.
        endpoints: ``(path suffix, wire format)`` of every guarded ``POST``
            endpoint; requests to any other endpoint pass through unchanged.
        blocked_error: The :class:`BlockedError` subclass raised through this
            SDK (it is also the SDK's own base error, which the SDK re-raises
            as is, without retries).
        sync_client: The SDK's synchronous client class.
        async_client: The SDK's asynchronous client class.
    """

    name: str
    endpoints: tuple[tuple[str, WireAdapter], ...]
    blocked_error: type[BlockedError]
    sync_client: type[Any]
    async_client: type[Any]

    def adapter_for(self, method: str, path: str) -> WireAdapter | None:
        """The wire format of a request, or ``None`` if it is not guarded.

        Args:
            method: HTTP method.
            path: URL path (``/v1/chat/completions``; Azure's
                ``/openai/deployments/{name}/chat/completions`` too).
        """
        if method != "POST":
            return None
        path = path.rstrip("/")
        for suffix, adapter in self.endpoints:
            if path.endswith(suffix):
                return adapter
        return None


def installed_bindings() -> list[SDKBinding]:
    """The bindings of the SDKs that can be imported."""
    bindings = []
    for module in _BINDING_MODULES:
        try:
            binding: SDKBinding = importlib.import_module(module).BINDING
        except ImportError:
            continue
        bindings.append(binding)
    return bindings


def binding_for(client: object) -> tuple[SDKBinding, bool]:
    """The binding of an SDK client, and whether the client is asynchronous.

    Raises:
        TypeError: Not an ``openai.OpenAI``, ``openai.AsyncOpenAI``,
            ``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic`` (or a
            subclass, such as ``openai.AzureOpenAI``).
    """
    for binding in installed_bindings():
        if isinstance(client, binding.sync_client):
            return binding, False
        if isinstance(client, binding.async_client):
            return binding, True
    raise TypeError(
        f"tidegate cannot guard a {type(client).__name__}: expected an openai.OpenAI, "
        "openai.AsyncOpenAI, anthropic.Anthropic or anthropic.AsyncAnthropic client"
    )
