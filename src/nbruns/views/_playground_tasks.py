"""The Playground's background work: tasks on the kernel's loop, and the live refresh.

Jupyter calls widget handlers synchronously and never awaits them, so handlers
schedule coroutines on the kernel's running loop and keep a reference to each
task. One refresh task re-renders at most ~10 times a second while something is
in flight, then renders once more and ends. Background code never prints:
outcomes and errors go to the status line (`say`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]

_INTERVAL = 0.1  # seconds between live renders: at most ~10 a second


class BackgroundTasks:
    """Owns a playground's tasks; subclasses supply `refresh()` and `say()`."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live: asyncio.Task[Any] | None = None
        self._kicked = False
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

    async def refresh(self) -> bool:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    def say(self, words: str) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError

    async def aclose(self) -> None:
        """Cancel this playground's background tasks (its runs and holds stay)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    def _on_loop(self, fn: Callable[[], object]) -> None:
        """Call `fn` on the kernel's loop: now if this thread runs it, else thread-safely."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(fn)
            else:
                self.say("no running event loop: await pg.send() in a notebook cell")
            return
        fn()

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.say(f"error: {type(exc).__name__}: {exc}")

    def _kick(self) -> None:
        """Ask for a render soon; start the refresh task unless it is running."""
        self._kicked = True
        if self._live is None or self._live.done():
            self._live = self._spawn(self._live_loop())

    async def _live_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._kicked = False
            began = loop.time()
            busy = await self.refresh()
            if not busy and not self._kicked:
                return
            await asyncio.sleep(max(0.0, _INTERVAL - (loop.time() - began)))
