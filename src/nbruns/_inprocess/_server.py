"""The in-process server: an executor and its API on one event loop.

By default (`loop="thread"`) that loop runs in a daemon thread of its own, so
the server serves every caller the same way: a notebook cell (top-level await
on the kernel's loop), a script calling `asyncio.run` several times, a
synchronous client blocking a cell, and graph nodes themselves. None of them
can starve or deadlock it, and no `nest_asyncio` is needed.

With `loop="current"` the server lives on the event loop that created it: no
thread hand-off per request and one thread doing all the work, which is
markedly faster (docs/benchmarks.md), in exchange for three rules: the loop
must keep running while runs do (a notebook kernel's does; `asyncio.run` ends
the server with its coroutine), a sync client cannot be used on that loop's
thread, and a node that blocks the loop blocks the caller too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from .._compose import Engine, Options
from .._engine._executor import LOOP_TEARDOWN
from .._engine._policies import Choose, checked_hook
from .._engine._rolled_back import DEFAULT_KEEP_ROLLED_BACK_S, check_keep_rolled_back_s
from .._project._load import ConfigError, load_project, project_options
from ._clients import (
    InProcessAsyncClient,
    InProcessClient,
    refusing_websocket,
    with_inline_json,
)
from ._clock import ClockChoice, VirtualClock, VirtualTimeLoop, check_clock_choice, engine_clock
from ._loops import CallerLoop, LoopHost, LoopThread
from ._transport import AsyncBridgeTransport, SyncBridgeTransport

__all__ = [
    "DEFAULT_TIMEOUT",
    "ConfigError",
    "LoopChoice",
    "Server",
    "check_loop_choice",
]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5, read=300, write=300, pool=5)
_BASE_URL = "http://nbruns"
LoopChoice = Literal["thread", "current"]
_LOOP_CHOICES = ("thread", "current")


class Server:
    """An nbruns server inside this process.

    `Server(graphs)` starts it; `client()` and `sync_client()` return official
    LangGraph SDK clients wired to it; `close()` interrupts its runs (with a
    reason) and stops its loop. The demo graph "agent" is always registered.

    `config="langgraph.json"` loads a LangGraph project: its env first, then its
    graphs (factories too), store, auth and http app; a key nbruns cannot honour
    raises `ConfigError` naming it.

    `loop="thread"` (the default) runs it on a loop in a thread of its own;
    `loop="current"` on the event loop running where it is created (see the
    module's docstring for what that buys and costs; no `path` there).

    `choose=` is the server's choose hook, `choose(new_input, thread) -> strategy name
    | None`, asked for a new run's multitask strategy when neither the call nor the
    run's policy (`metadata={"multitask": {...}}` of the call, thread or assistant)
    names one; None from it means "enqueue". It gets the run's input (its `command`
    for a resume) and the thread as `threads.get` shows it, values included (a thread
    the run creates reads idle, with no values). It runs on the server's loop as the
    run is created, so it must be a plain function that returns quickly (no I/O, no
    model calls). An exception or a name that is not one of the eight strategies
    fails the request with a 422 naming the hook, and nothing is created.
    `nbruns.policies.by_message` is an example to copy.

    `keep_rolled_back_s=` (default 3600) is how long a rolled-back run's checkpoints
    stay restorable (`nbruns.rolled_back_frame`, `nbruns.restore`); 0 deletes them at
    once, as LangGraph's server does. A negative or non-number value is a ValueError.

    `clock="virtual"` gives the server virtual time: while a client waits on it (a
    join, a wait, a stream) and nothing else is ready, its clock jumps to the next timer
    (`after_seconds`, a graph's `asyncio.sleep`, debounce windows, pending TTLs, run
    timeouts, crons), so a ten-minute scenario ends in a moment with the same outcome.
    A blocking sync node or a node's network I/O is waited for in real time. Not with
    `loop="current"` or `path=`. `virtual_clock` reports what it skipped.
    """

    def __init__(
        self,
        graphs: Mapping[str, Any] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        run_timeout: float | None = None,
        loop: LoopChoice = "thread",
        auth: Any = None,
        config: str | os.PathLike[str] | None = None,
        choose: Choose | None = None,
        keep_rolled_back_s: float = DEFAULT_KEEP_ROLLED_BACK_S,
        clock: ClockChoice = "real",
    ) -> None:
        check_loop_choice(loop, path)
        check_clock_choice(clock, loop=loop, path=path)
        keep_rolled_back_s = check_keep_rolled_back_s(keep_rolled_back_s)
        checked_hook(choose)  # a TypeError before anything starts
        # langgraph.json first: its env and dependencies come before any of its imports
        project = None if config is None else load_project(config)
        if project is not None and project.auth is not None and auth is not None:
            raise ValueError(f"auth= and {project.path.name}'s auth.path both name an auth")
        self._loop: LoopHost = (
            CallerLoop()
            if loop == "current"
            else LoopThread(new_loop=VirtualTimeLoop)
            if clock == "virtual"
            else LoopThread()
        )
        self._clock: ClockChoice = clock
        self.loop_choice: LoopChoice = loop
        self.path = None if path is None else os.fspath(path)
        self.config = None if project is None else project.path
        options = Options(
            graphs={**(project.graphs if project else {}), **(graphs or {})},
            path=self.path,
            run_timeout=run_timeout,
            own_pool=loop == "thread",
            keep_rolled_back_s=keep_rolled_back_s,
            choose=choose,
            clock=engine_clock(self._loop.loop) if clock == "virtual" else time.time,
            **(project_options(project) if project is not None else {}),
        )
        if auth is not None:  # a langgraph_sdk.Auth: every request is authenticated
            options = dataclasses.replace(options, auth=auth)
        self._engine = Engine(options)
        self.executor = self._engine.executor
        self.app = self._engine.app
        self._watch: asyncio.Task[None] | None = None
        if loop == "current":  # this thread runs the loop: it cannot wait on it
            self._engine.start_nowait()
            self._watch = self._loop.loop.create_task(self._watch_loop(), name="nbruns-loop-watch")
        else:
            self._loop.run(self._engine.start())
        self._closed = False

    @property
    def clock(self) -> ClockChoice:
        """ "real", or "virtual" for a server whose time skips idle waits."""
        return self._clock

    @property
    def virtual_clock(self) -> VirtualClock | None:
        """Under virtual time, what the clock skipped (`skipped_s`) and why it waited
        for real (`refused`); None for a real-time server."""
        return getattr(self._loop.loop, "virtual_clock", None)

    @property
    def choose(self) -> Choose | None:
        """The server's choose hook (see the class docstring); assignable."""
        return self.executor.choose

    @choose.setter
    def choose(self, hook: Choose | None) -> None:
        self.executor.choose = hook

    @property
    def keep_rolled_back_s(self) -> float:
        """Seconds a rolled-back run's checkpoints stay restorable (`nbruns.restore`);
        0 deletes them at once, as LangGraph's server does. Assignable: it applies to
        rollbacks from then on."""
        return self.executor.keep_rolled_back_s

    @keep_rolled_back_s.setter
    def keep_rolled_back_s(self, seconds: float) -> None:
        self.executor.keep_rolled_back_s = check_keep_rolled_back_s(seconds)

    def register(self, graphs: Mapping[str, Any]) -> None:
        """Add or replace graphs by id (each gets a system assistant of the same name)."""
        if graphs:
            self._loop.call(self.executor.register_graphs, graphs)

    @property
    def loop_thread(self) -> LoopHost:
        """The loop the server runs on, with thread-safe ways to schedule onto it."""
        return self._loop

    @property
    def closed(self) -> bool:
        """True once closed, or once the caller's loop it lived on has closed."""
        return self._closed or self._loop.closed

    async def _watch_loop(self) -> None:
        # Only asyncio.run tearing the loop down (or aclose) cancels this: then stop
        # the runs the loop is cancelling and start no more, so none is left running.
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            if not self._closed:
                self._closed = True
                self.executor.stop_all(LOOP_TEARDOWN)
            raise

    def client(self, *, timeout: httpx.Timeout | float | None = None) -> LangGraphClient:
        """An async `langgraph_sdk` client talking to this server in-process."""
        transport = AsyncBridgeTransport(self.app, self._loop)
        return with_inline_json(
            LangGraphClient(
                InProcessAsyncClient(
                    transport=transport, base_url=_BASE_URL, timeout=timeout or DEFAULT_TIMEOUT
                )
            )
        )

    def sync_client(self, *, timeout: httpx.Timeout | float | None = None) -> SyncLangGraphClient:
        """A sync `langgraph_sdk` client talking to this server in-process."""
        transport = SyncBridgeTransport(self.app, self._loop)
        return refusing_websocket(
            SyncLangGraphClient(
                InProcessClient(
                    transport=transport, base_url=_BASE_URL, timeout=timeout or DEFAULT_TIMEOUT
                )
            )
        )

    def close(self, reason: str = "the nbruns server shut down") -> None:
        """Interrupt every run with `reason`, wait for them to stop, stop the loop.

        A server on the caller's loop must be closed with `await server.aclose()`
        from that loop's thread (blocking there would deadlock)."""
        if self._closed:
            return
        if self._loop.closed:  # the caller's loop ended, and the server with it
            self._closed = True
            return
        if self._loop.is_current():
            raise RuntimeError(
                "Server.close() was called on the thread of the event loop the server "
                "runs on, where waiting for its runs would deadlock; use "
                "'await server.aclose()' there"
            )
        self._closed = True
        self._loop.run(self._shutdown(reason))
        self._loop.close()

    async def aclose(self, reason: str = "the nbruns server shut down") -> None:
        """`close()` for async code; the way to close a server on the caller's loop."""
        if self._closed or self._loop.closed:
            self._closed = True
            return
        self._closed = True
        await self._loop.run_async(self._shutdown(reason))
        self._loop.close()

    async def _shutdown(self, reason: str) -> None:
        if self._watch is not None:
            self._watch.cancel()
        await self._engine.aclose(reason)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        where = "" if self.loop_choice == "thread" else " loop='current'"
        clock = "" if self._clock == "real" else f" clock={self._clock!r}"
        return f"<nbruns.Server {state}{where}{clock} graphs={self.executor.graphs.ids()}>"


def check_loop_choice(loop: str, path: object) -> None:
    if loop not in _LOOP_CHOICES:
        raise ValueError(f"loop={loop!r}: expected one of {', '.join(map(repr, _LOOP_CHOICES))}")
    if loop == "current" and path is not None:
        raise ValueError(
            'path= (a durable server) needs loop="thread": its SQLite store is opened '
            "and recovered before the server serves, which cannot wait on the caller's "
            "running loop"
        )
