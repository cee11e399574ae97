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
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from ._api._app import create_app
from ._api._assemble import assemble_app
from ._api._cors import CorsPolicy
from ._engine._executor import Executor
from ._engine._policies import Choose
from ._engine._rolled_back import DEFAULT_KEEP_ROLLED_BACK_S, check_keep_rolled_back_s
from ._persistence._durable import Durable, open_durable
from ._persistence._kvstore import KvStore, StoreConfig, open_kvstore

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
    # a `langgraph_sdk.Auth` object (langgraph.json's `auth.path`): every request, in
    # process too, is authenticated and authorized by its handlers
    auth: Any = None
    # False when the loop belongs to the caller: its thread pool is left as it is
    own_pool: bool = True
    # the graphs' long-term memory store (langgraph.json's `store`, read by
    # `StoreConfig.from_json`); None: LangGraph's InMemoryStore, or its SQLite store in `path`
    store: StoreConfig | None = None
    # langgraph.json's graph descriptions, shown on the graphs' system assistants
    descriptions: Mapping[str, str] = field(default_factory=dict)
    # langgraph.json's `http`: a Starlette/FastAPI app served around the API (its
    # lifespan runs with the engine's), route families switched off, and CORS (served
    # mode: loopback pages by default; None: no CORS headers at all)
    http_app: Starlette | None = None
    disabled_routes: frozenset[str] = frozenset()
    cors: CorsPolicy | None = None
    # seconds a rolled-back run's checkpoints stay restorable (`_engine/_rolled_back.py`);
    # 0 deletes them at once, as LangGraph's server does
    keep_rolled_back_s: float = DEFAULT_KEEP_ROLLED_BACK_S
    # `choose(new_input, thread) -> strategy name | None`: a new run's multitask strategy
    # when neither its call nor its policy names one (`_engine/_policies.py`)
    choose: Choose | None = None
    # the engine's clock (Unix seconds): record timestamps and the delays computed from
    # them; under virtual time it follows the loop's clock (`_inprocess/_clock.py`)
    clock: Callable[[], float] = time.time


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
        # the graphs' store; a durable engine's is in its SQLite file, opened by `start`
        self._kvstore: KvStore | None = None
        if options.path is None:
            self._kvstore = open_kvstore(options.store)
        kvstore = None if self._kvstore is None else self._kvstore.store
        self.executor = Executor(
            run_timeout=options.run_timeout,
            kvstore=kvstore,
            choose=options.choose,
            clock=options.clock,
        )
        self.executor.keep_rolled_back_s = check_keep_rolled_back_s(options.keep_rolled_back_s)
        self.app: Starlette = create_app(
            self.executor,
            api_key=options.api_key,
            max_body_bytes=options.max_body_bytes,
            auth=options.auth,
        )
        self.app = assemble_app(
            self.app,
            disabled=options.disabled_routes,
            custom_app=options.http_app,
            cors=options.cors,
        )
        self._custom_lifespan = contextlib.AsyncExitStack()
        # taken now: served mode then gives that app the engine's lifespan
        custom = options.http_app
        self._custom_starts = None if custom is None else custom.router.lifespan_context
        self._durable: Durable | None = None

    async def start(self) -> None:
        """Open the store (if durable), register the graphs and recover left-over runs;
        awaited on the loop that will run the engine."""
        if self.options.path is not None:
            durable = self._durable = await open_durable(
                os.fspath(self.options.path), self.options.store
            )
            kvstore = durable.kvstore.store if durable.kvstore is not None else None
            self.executor.use_storage(durable.store, durable.saver, kvstore)
            if durable.crons is not None:
                self.executor.crons.use_table(durable.crons)
        self._serve_here()
        if self._custom_starts is not None:  # its startup may use the API: after ours
            app = self.options.http_app
            await self._custom_lifespan.enter_async_context(self._custom_starts(app))
        if self._durable is not None:
            await self.executor.recover()
        self.executor.crons.start()  # after recovery: a firing may start a run at once

    def start_nowait(self) -> None:
        """`start` for an in-memory engine, called on the thread of its running loop,
        where nothing can be awaited (a server created on the caller's loop)."""
        if self.options.path is not None:
            raise RuntimeError(
                "a durable engine opens its SQLite file before it serves: "
                "use 'await engine.start()'"
            )
        if self.options.http_app is not None:
            raise RuntimeError(
                'langgraph.json\'s http.app needs loop="thread": its lifespan is awaited '
                "before the server serves, which cannot wait on the caller's running loop"
            )
        self._serve_here()
        self.executor.crons.start()

    def _serve_here(self) -> None:
        self.executor.install_pool(asyncio.get_running_loop(), owned=self.options.own_pool)
        self.executor.graphs.descriptions.update(self.options.descriptions)
        self.executor.register_graphs({**builtin_graphs(), **self.options.graphs})

    async def aclose(self, reason: str) -> None:
        """Interrupt every run with `reason`, wait for them, then close the store."""
        await self._custom_lifespan.aclose()
        await self.executor.aclose(reason)
        if self._durable is not None:
            await self._durable.aclose()
        if self._kvstore is not None:
            await self._kvstore.aclose()

    @contextlib.asynccontextmanager
    async def running(self, reason: str) -> AsyncIterator[None]:
        """Started for the duration of the block, closed with `reason` after it (a lifespan)."""
        await self.start()
        try:
            yield
        finally:
            await self.aclose(reason)
