"""Guarding every ``openai`` and ``anthropic`` client of the process: :func:`instrument`.

The SDK clients keep their ``httpx2`` client in the instance attribute
``_client``. :func:`instrument` installs a data descriptor of that name on
``openai.OpenAI``, ``openai.AsyncOpenAI``, ``anthropic.Anthropic`` and
``anthropic.AsyncAnthropic``; a data descriptor on the class wins over the
instance's own attribute, so every client, made before or after, reads a
guarded HTTP client in front of its own (see :mod:`tidegate.sdk.transport`).
The instance's own client is never replaced: :func:`uninstrument` removes the
descriptors and every client is as it was.

The patch's state lives on the patched classes (the descriptor), not in a
tidegate module.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from tidegate.config import Mode
from tidegate.sdk.clients import SDKBinding, installed_bindings
from tidegate.sdk.guard import ConfigSource, Guard

if TYPE_CHECKING:
    from tidegate.sdk.transport import Router

_ATTRIBUTE = "_client"


class InstrumentedHttpClient:
    """The ``_client`` descriptor installed on one SDK client class.

    Reading ``client._client`` gives a guarded client in front of the
    instance's own (one per SDK client, cached weakly). An instance whose
    own client is already guarded (a :meth:`Guard.wrap` copy) keeps that
    guard. Writing stores the instance's own client (a guarded client made
    here is unwrapped first, so ``with_options`` copies stay plain).

    Args:
        guard: The guard to apply.
        binding: The SDK's binding.
        is_async: Whether the class is the SDK's async client.
        scan_responses: Guard answers too.
    """

    def __init__(
        self, guard: Guard, binding: SDKBinding, *, is_async: bool, scan_responses: bool
    ) -> None:
        from tidegate.sdk.transport import Router

        self.guard = guard
        self._router: Router = Router(guard.engine, binding, scan_responses=scan_responses)
        self._is_async = is_async
        # Per SDK client (weakly: the entry goes with the client; the guarded
        # client refers to the own client, never to the SDK client).
        self._guarded: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()

    def __get__(self, obj: Any, objtype: type[Any] | None = None) -> Any:
        from tidegate.sdk.transport import guarded_http_client, is_guarded

        if obj is None:
            return self
        try:
            own = obj.__dict__[_ATTRIBUTE]
        except KeyError:
            raise AttributeError(_ATTRIBUTE) from None
        if is_guarded(own):
            return own
        guarded = self._guarded.get(obj)
        if guarded is None or guarded.inner is not own:
            guarded = guarded_http_client(own, self._router, is_async=self._is_async, owner=self)
            self._guarded[obj] = guarded
        return guarded

    def __set__(self, obj: Any, value: Any) -> None:
        from tidegate.sdk.transport import is_guarded

        if is_guarded(value) and value.owner is self:
            value = value.inner
        obj.__dict__[_ATTRIBUTE] = value


def _patched_classes() -> list[tuple[type[Any], SDKBinding, bool]]:
    return [
        (cls, binding, is_async)
        for binding in installed_bindings()
        for cls, is_async in ((binding.sync_client, False), (binding.async_client, True))
    ]


def instrument(
    mode: Mode | None = None,
    scan_responses: bool = True,
    *,
    config: ConfigSource = None,
    guard: Guard | None = None,
) -> Guard:
    """Guard every ``openai`` and ``anthropic`` client of the process.

    Patches ``openai.OpenAI``, ``openai.AsyncOpenAI``, ``anthropic.Anthropic``
    and ``anthropic.AsyncAnthropic`` (and so their subclasses, such as
    ``openai.AzureOpenAI``): every client, made before or after this call,
    guards its Chat Completions, Responses and Messages calls exactly as a
    :meth:`Guard.wrap` copy does. Calling it again replaces the previous
    instrumentation. SDKs that are not installed are skipped.

    Args:
        mode: ``"enforce"`` or ``"monitor"``; overrides the config's ``mode``.
        scan_responses: Guard the answers too (default), or only requests.
        config: The guard's configuration (see :class:`Guard`); default policies if omitted.
        guard: A guard to use instead of building one from ``config`` and ``mode``.

    Returns:
        The guard in use (its ``audit`` log has every finding).

    Raises:
        ValueError: Both ``guard`` and ``config`` or ``mode`` were given.
        ConfigError: The configuration is invalid.
        RuntimeError: Neither SDK is installed.
    """
    if guard is not None and (config is not None or mode is not None):
        raise ValueError("give either a guard, or a config and mode, not both")
    guard = guard or Guard(config, mode=mode)
    targets = _patched_classes()
    if not targets:
        raise RuntimeError("neither the openai nor the anthropic SDK is installed")
    uninstrument()
    for cls, _, _ in targets:
        if _ATTRIBUTE in vars(cls):
            raise RuntimeError(f"{cls.__qualname__} defines {_ATTRIBUTE}: cannot instrument it")
    for cls, binding, is_async in targets:
        descriptor = InstrumentedHttpClient(
            guard, binding, is_async=is_async, scan_responses=scan_responses
        )
        setattr(cls, _ATTRIBUTE, descriptor)
    return guard


def uninstrument() -> bool:
    """Undo :func:`instrument`: every SDK client uses its own HTTP client again.

    Returns:
        Whether anything was instrumented.
    """
    removed = False
    for cls, _, _ in _patched_classes():
        if isinstance(vars(cls).get(_ATTRIBUTE), InstrumentedHttpClient):
            delattr(cls, _ATTRIBUTE)
            removed = True
    return removed
