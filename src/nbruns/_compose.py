"""The composition root: one recipe for the engine and its app, for both ways nbruns runs.

`nbruns.Server` (in process) and `nbruns serve` (over HTTP) build the same
things from the same `Options`: an executor over a memory or SQLite store, the
demo graph "agent" beside the given graphs, and the API app over that executor.
So the two modes cannot drift. Only where the engine is started differs, always
on the loop that will run it:

- in process, on the server's loop host: `start` awaited on nbruns's own loop
  thread, or `start_nowait` for a server on the caller's running loop (never
  durable), whose thread cannot wait on its own loop;
- served, in uvicorn's lifespan on uvicorn's loop (`running`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from ._api._app import create_app
from ._engine._executor import Executor
from ._persistence._durable import Durable, open_durable

__all__ = ["Engine", "Options"]


@dataclass(frozen=True, slots=True)
class Options:
    """Everything that decides what an nbruns engine and its app are."""

    # graph id -> compiled graph (or anything `register_graphs` takes), beside "agent"
    graphs: Mapping[str, Any] = field(default_factory=dict)
    # a SQLite file keeping assistants, threads, runs and checkpoints; None: memory only
    path: str | os.PathLike[str] | None = None
    run_timeout: float | None = None
    # served mode's guards; in process nothing needs them
    api_key: str | None = None
    max_body_bytes: int | None = None
    # False when the loop belongs to the caller: its thread pool is left as it is
    own_pool: bool = True


def builtin_graphs() -> dict[str, Any]:
    """The graphs every nbruns server has: the offline demo agent."""
    from .demo import agent  # imported on first start: it loads langgraph

    return {"agent": agent}


class Engine:
    """An executor and its API app, built at once and started on the loop that runs them.

    The app exists before the engine starts (uvicorn is handed the app first), so a
    durable engine opens its SQLite file in `start` and swaps it in before any graph
    is registered.
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.executor = Executor(run_timeout=options.run_timeout)
        self.app: Starlette = create_app(
            self.executor, api_key=options.api_key, max_body_bytes=options.max_body_bytes
        )
        self._durable: Durable | None = None

    async def start(self) -> None:
        """Open the store (if durable), register the graphs and recover left-over runs;
        awaited on the loop that will run the engine."""
        if self.options.path is not None:
            durable = self._durable = await open_durable(os.fspath(self.options.path))
            self.executor.use_storage(durable.store, durable.saver)
        self._serve_here()
        if self._durable is not None:
            await self.executor.recover()

    def start_nowait(self) -> None:
        """`start` for an in-memory engine, called on the thread of its running loop,
        where nothing can be awaited (a server created on the caller's loop)."""
        if self.options.path is not None:
            raise RuntimeError(
                "a durable engine opens its SQLite file before it serves: "
                "use 'await engine.start()'"
            )
        self._serve_here()

    def _serve_here(self) -> None:
        self.executor.install_pool(asyncio.get_running_loop(), owned=self.options.own_pool)
        self.executor.register_graphs({**builtin_graphs(), **self.options.graphs})

    async def aclose(self, reason: str) -> None:
        """Interrupt every run with `reason`, wait for them, then close the store."""
        await self.executor.aclose(reason)
        if self._durable is not None:
            await self._durable.aclose()

    @contextlib.asynccontextmanager
    async def running(self, reason: str) -> AsyncIterator[None]:
        """Started for the duration of the block, closed with `reason` after it (a lifespan)."""
        await self.start()
        try:
            yield
        finally:
            await self.aclose(reason)
