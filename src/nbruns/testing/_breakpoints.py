"""Step breakpoints: `pause` a thread's runs at a step boundary, for any graph.

A breakpoint is a hold (`/nbruns/holds`, the Playground's "hold the next run"): the
server keeps a run that reaches the boundary there, reading `running`, with the steps
it finished checkpointed, until the breakpoint is released or removed. Everything goes
through the SDK client, so it works in process and against `nbruns serve`; other
LangGraph servers have no holds (`BreakpointsUnsupported`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from ..views._holds import (
    HoldsUnsupported,
    create_hold,
    delete_hold,
    get_hold,
    release_hold,
    wait_held,
)

__all__ = ["Breakpoint", "BreakpointsUnsupported", "Hit", "pause", "require_async_client"]

_UNSUPPORTED = (
    "breakpoints need an nbruns server: nbruns.get_client() in process, or "
    "get_client(url=...) of `nbruns serve`; this server has no /nbruns/holds"
)
_SERVER_WAIT_MAX = 300.0  # the longest wait `/nbruns/holds/{id}/wait` takes


class BreakpointsUnsupported(HoldsUnsupported):
    """Raised by `pause` (and a `Breakpoint`'s methods) when the server is not nbruns."""


def require_async_client(client: Any, function: str) -> LangGraphClient:
    """`client` if it is the async SDK client; else a TypeError saying which to use."""
    if isinstance(client, LangGraphClient):
        return client
    kind = "the sync client" if isinstance(client, SyncLangGraphClient) else type(client).__name__
    raise TypeError(
        f"{function}() takes the async langgraph_sdk client (nbruns.get_client(), or "
        f"langgraph_sdk.get_client(url=...) of `nbruns serve`), not {kind}; await it in a "
        "notebook cell or an async test"
    )


@dataclass(frozen=True, slots=True)
class Hit:
    """A run held at a breakpoint: which run, and the boundary it waits at.

    `after`: the nodes of the step it just finished (empty before its first step);
    `before`: the nodes of its next step (empty when it is about to end).
    """

    run_id: str
    thread_id: str
    after: tuple[str, ...]
    before: tuple[str, ...]
    since: str  # when it was caught (ISO 8601, the server's clock)

    def __str__(self) -> str:
        return f"run {self.run_id} held {_boundary_words(self.after, self.before)}"


def _boundary_words(after: tuple[str, ...], before: tuple[str, ...]) -> str:
    if before:
        return "before " + ", ".join(repr(n) for n in before)
    return "after " + ", ".join(repr(n) for n in after) + " (at its end)"


class Breakpoint:
    """A hold on one thread's runs, made by `pause`.

    `hits`, `armed` and `held` are what the server said at the last call (`reached`,
    `release`, `refresh`, `remove`), not live; `await bp.refresh()` asks again. Use it as
    `async with await pause(...) as bp:` to remove it at the end of the block.
    """

    def __init__(self, client: LangGraphClient, hold: dict[str, Any]) -> None:
        self._client = client
        self.id: str = hold["hold_id"]
        self.thread_id: str = hold["thread_id"]
        self.before: str | None = hold["before"]
        self.after: str | None = hold["after"]
        self.times: int | None = hold["times"]
        self.new_runs_only: bool = hold["new_runs_only"]
        self.removed = False
        self._learn(hold)

    def _learn(self, hold: dict[str, Any]) -> None:
        self.hits: int = hold["hits"]
        self.armed: bool = hold["armed"]
        self._held: list[dict[str, Any]] = list(hold["held"])

    def _hit(self, held: dict[str, Any]) -> Hit:
        after, before = tuple(held["after"]), tuple(held["before"])
        return Hit(held["run_id"], self.thread_id, after, before, held["since"])

    @property
    def held(self) -> tuple[Hit, ...]:
        """The runs held here, as last known (`refresh()` to ask the server)."""
        return tuple(self._hit(h) for h in self._held)

    @property
    def where(self) -> str:
        """`before 'tools'`, `after 'agent'`, `before any node`."""
        key, node = ("before", self.before) if self.before is not None else ("after", self.after)
        return f"{key} any node" if node == "*" else f"{key} {node!r}"

    def __repr__(self) -> str:
        state = "removed" if self.removed else ("armed" if self.armed else "disarmed")
        times = "" if self.times is None else f"/{self.times}"
        return (
            f"<Breakpoint {self.id[:8]} {self.where} on thread {self.thread_id[:8]}: "
            f"{self.hits}{times} hits, {state}>"
        )

    async def _call(self, coro: Any) -> dict[str, Any]:
        try:
            return dict(await coro)
        except BreakpointsUnsupported:
            raise
        except HoldsUnsupported:
            raise BreakpointsUnsupported(_UNSUPPORTED) from None

    async def refresh(self) -> Breakpoint:
        """Read `hits`, `armed` and who is held from the server."""
        self._learn(await self._call(get_hold(self._client, self.id)))
        return self

    async def reached(self, timeout: float = 30.0) -> Hit:  # noqa: ASYNC109 (the server waits)
        """The run held here, once one is (at once if one already is and was not released).

        Raises `TimeoutError` naming the breakpoint and its hits after `timeout` s.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            try:
                hold = await self._call(
                    wait_held(self._client, self.id, timeout=min(left, _SERVER_WAIT_MAX))
                )
            except TimeoutError:
                if left > _SERVER_WAIT_MAX:
                    continue  # the server waits this long at most per request
                await self.refresh()
                raise TimeoutError(
                    f"{self!r} was not reached within {timeout} s: no run of thread "
                    f"{self.thread_id} was held {self.where} (it caught {self.hits} so far"
                    f"{'' if self.armed else ', and is disarmed'})"
                ) from None
            self._learn(hold)
            return self._hit(self._held[0])

    async def release(self) -> Breakpoint:
        """Let the runs held here go on; it stays armed if it has catches left.

        The server no longer lists them as held once it answers, so `reached()` then
        waits for the next catch.
        """
        hold = await self._call(release_hold(self._client, self.id))
        self._learn(hold)
        return self

    async def remove(self) -> None:
        """Disarm it and let its runs go on. Removing it twice, or after its thread was
        deleted (which removes its holds), does nothing."""
        if self.removed:
            return
        try:
            self._learn(await self._call(delete_hold(self._client, self.id)))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
        self.removed, self.armed, self._held = True, False, []

    async def __aenter__(self) -> Breakpoint:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.remove()


async def pause(
    client: LangGraphClient,
    thread_id: str,
    *,
    before: str | None = None,
    after: str | None = None,
    times: int | None = None,
    new_runs_only: bool = False,
) -> Breakpoint:
    """Hold runs of `thread_id` at a step boundary until released; the `Breakpoint`.

    `before="tools"`: before a step that runs node `tools`; `after="agent"`: after one
    that ran `agent` (after the last step: just before the run ends); `"*"`: any node;
    neither: `before="*"` (with `times=1`, the next boundary a run reaches). Set it
    before a run starts or while one goes. `times`: disarm after that many catches
    (None: until removed). `new_runs_only`: leave runs created before it alone.

    A node no graph has is refused (the SDK's `UnprocessableEntityError`, listing the
    graphs' nodes); a server other than nbruns raises `BreakpointsUnsupported`.
    """
    require_async_client(client, "pause")
    try:
        hold = await create_hold(
            client, thread_id, before=before, after=after, times=times, new_runs_only=new_runs_only
        )
    except HoldsUnsupported:
        raise BreakpointsUnsupported(_UNSUPPORTED) from None
    return Breakpoint(client, hold)
