"""Views that take the sync SDK client as well as the async one.

Every view is written once, as a coroutine over the async client. Decorated
with `accepts_sync_client`, it also takes a `SyncLangGraphClient`: the
coroutine then runs against an adapter whose methods call the sync client and
return awaitables that are already finished, so it never suspends and is
driven to its end right there, with no event loop (inside a running notebook
loop too). With the async client the view returns its coroutine, to be
awaited as before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast, overload

from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

__all__ = ["SyncOrAsyncView", "accepts_sync_client", "origin_client", "run_to_end"]

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)

CLIENT_TYPES = (
    "a langgraph_sdk client: the async LangGraphClient (nbruns.get_client(), "
    "langgraph_sdk.get_client()) or the sync SyncLangGraphClient "
    "(nbruns.get_sync_client(), langgraph_sdk.get_sync_client())"
)


class SyncOrAsyncView(Protocol[P, R_co]):
    """A view: its result with the sync client, a coroutine of it with the async one."""

    @overload
    def __call__(
        self, client: SyncLangGraphClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> R_co: ...
    @overload
    def __call__(
        self, client: LangGraphClient, /, *args: P.args, **kwargs: P.kwargs
    ) -> Coroutine[Any, Any, R_co]: ...


class _Finished:
    """An awaitable whose outcome is known: awaiting it returns or raises at once."""

    __slots__ = ("_error", "_value")

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error

    def __await__(self) -> Generator[Any, None, Any]:
        if self._error is not None:
            raise self._error
        return self._value
        yield  # never reached: it makes this a generator that ends without suspending


def _finished_call(method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> _Finished:
    try:
        return _Finished(method(*args, **kwargs))
    except Exception as exc:  # raised where the coroutine awaits, as the async client would
        return _Finished(error=exc)


class _AsAsync:
    """A sync SDK client (or one of its parts) dressed as the async one.

    Methods return `_Finished` awaitables; the SDK's parts (`http`, `threads`,
    `runs`, ...) come back wrapped the same way; anything else as it is.
    """

    __slots__ = ("_target",)

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value):
            return functools.partial(_finished_call, value)
        if type(value).__module__.startswith("langgraph_sdk"):
            return _AsAsync(value)
        return value


def origin_client(client: Any) -> Any:
    """The client a view was called with: the sync client behind an adapter, else `client`.

    For caches keyed by client (an adapter lives for one call only)."""
    return client._target if isinstance(client, _AsAsync) else client


def run_to_end(coro: Coroutine[Any, Any, R]) -> R:
    """Drive a coroutine that never suspends to its end, here, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(R, done.value)
    coro.close()
    raise TypeError(
        f"{getattr(coro, '__qualname__', coro)!r} waited for something other than the "
        "sync client, so it cannot run with one; use the async client "
        "(nbruns.get_client()) and await it"
    )


def accepts_sync_client(
    view: Callable[Concatenate[LangGraphClient, P], Coroutine[Any, Any, R]],
) -> SyncOrAsyncView[P, R]:
    """Let the async `view(client, ...)` take a sync client too (its result, not a coroutine).

    Any other first argument raises TypeError naming the client types allowed.
    """

    @functools.wraps(view)
    def either(client: Any, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        if isinstance(client, SyncLangGraphClient):
            return run_to_end(view(cast(LangGraphClient, _AsAsync(client)), *args, **kwargs))
        if isinstance(client, LangGraphClient):
            return view(client, *args, **kwargs)
        raise TypeError(
            f"{view.__name__}() takes {CLIENT_TYPES} as its first argument, "
            f"not {type(client).__name__}"
        )

    return cast(SyncOrAsyncView[P, R], either)
