"""The in-process server: an executor and its API on a loop of their own.

The server's loop runs in a daemon thread, so it serves every caller the same
way: a notebook cell (top-level await on the kernel's loop), a script calling
`asyncio.run` several times, a synchronous client blocking a cell, and graph
nodes themselves. None of them can starve or deadlock it, and no
`nest_asyncio` is needed.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Mapping
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from ._api import create_app
from ._durable import Durable, open_durable
from ._executor import Executor
from ._httpclient import InProcessAsyncClient, InProcessClient
from ._loopthread import LoopThread
from ._transport import AsyncBridgeTransport, SyncBridgeTransport

__all__ = ["DEFAULT_TIMEOUT", "Server", "default_server", "get_client", "get_sync_client"]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5, read=300, write=300, pool=5)
_BASE_URL = "http://nbruns"


def _builtin_graphs() -> dict[str, Any]:
    from .demo import agent

    return {"agent": agent}


class Server:
    """An nbruns server inside this process.

    `Server(graphs)` starts it; `client()` and `sync_client()` return official
    LangGraph SDK clients wired to it; `close()` interrupts its runs (with a
    reason) and stops its loop. The demo graph "agent" is always registered.
    """

    def __init__(
        self,
        graphs: Mapping[str, Any] | None = None,
        *,
        path: str | os.PathLike[str] | None = None,
        run_timeout: float | None = None,
    ) -> None:
        self._loop = LoopThread()
        self.path = None if path is None else os.fspath(path)
        self._durable: Durable | None = None
        if self.path is None:
            self.executor = Executor(run_timeout=run_timeout)
        else:
            self._durable = self._loop.run(open_durable(self.path))
            self.executor = Executor(
                store=self._durable.store, saver=self._durable.saver, run_timeout=run_timeout
            )
        self._loop.call_soon(self.executor.install_pool, self._loop.loop)
        self.register({**_builtin_graphs(), **(graphs or {})})
        if self._durable is not None:
            self._loop.run(self.executor.recover())
        self.app = create_app(self.executor)
        self._closed = False

    def register(self, graphs: Mapping[str, Any]) -> None:
        """Add or replace graphs by id (each gets a system assistant of the same name)."""
        if graphs:
            self._loop.run(_call(self.executor.register_graphs, graphs))

    @property
    def loop_thread(self) -> LoopThread:
        return self._loop

    def client(self, *, timeout: httpx.Timeout | float | None = None) -> LangGraphClient:
        """An async `langgraph_sdk` client talking to this server in-process."""
        transport = AsyncBridgeTransport(self.app, self._loop)
        return LangGraphClient(
            InProcessAsyncClient(
                transport=transport, base_url=_BASE_URL, timeout=timeout or DEFAULT_TIMEOUT
            )
        )

    def sync_client(self, *, timeout: httpx.Timeout | float | None = None) -> SyncLangGraphClient:
        """A sync `langgraph_sdk` client talking to this server in-process."""
        transport = SyncBridgeTransport(self.app, self._loop)
        return SyncLangGraphClient(
            InProcessClient(
                transport=transport, base_url=_BASE_URL, timeout=timeout or DEFAULT_TIMEOUT
            )
        )

    def close(self, reason: str = "the nbruns server shut down") -> None:
        """Interrupt every run with `reason`, wait for them to stop, stop the loop."""
        if self._closed:
            return
        self._closed = True
        self._loop.run(self._shutdown(reason))
        self._loop.close()

    async def aclose(self, reason: str = "the nbruns server shut down") -> None:
        if self._closed:
            return
        self._closed = True
        await self._loop.run_async(self._shutdown(reason))
        self._loop.close()

    async def _shutdown(self, reason: str) -> None:
        await self.executor.aclose(reason)
        if self._durable is not None:
            await self._durable.aclose()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Server:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "running"
        return f"<nbruns.Server {state} graphs={self.executor.graphs.ids()}>"


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


_defaults: dict[str | None, Server] = {}
_default_lock = threading.Lock()


def default_server(path: str | os.PathLike[str] | None = None) -> Server:
    """The process-wide server behind `get_client()`: one in memory, one per SQLite path."""
    key = None if path is None else os.path.abspath(os.fspath(path))
    with _default_lock:
        server = _defaults.get(key)
        if server is None or server._closed:
            server = _defaults[key] = Server(path=key)
            atexit.register(server.close)
        return server


def _in_process_server(
    graphs: Mapping[str, Any] | None, url: str | None, path: str | os.PathLike[str] | None
) -> Server | None:
    """The in-process server a client should talk to, with `graphs` registered; None for
    `url`, after checking that nothing meant for the in-process server came with it."""
    if url is not None:
        if path is not None:
            raise ValueError("path= makes the in-process server durable; it cannot go with url=")
        if graphs:
            raise ValueError(
                "graphs= registers graphs on the in-process server; a server at url= loads "
                "its own graphs (for nbruns serve: --config langgraph.json)"
            )
        return None
    server = default_server(path)
    if graphs:
        server.register(graphs)
    return server


def get_client(
    graphs: Mapping[str, Any] | None = None,
    *,
    url: str | None = None,
    path: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
) -> LangGraphClient:
    """The official async LangGraph SDK client, for nbruns in this process or any server.

    With no `url`, the client talks to this process's nbruns server, after
    registering `graphs` (graph id -> compiled graph, StateGraph or entrypoint)
    on it. With `path`, that server keeps assistants, threads, runs and
    checkpoints in one SQLite file, and finds them there after a restart.
    With `url`, it is `langgraph_sdk.get_client(url=...)`: a plain client for
    `nbruns serve` or any LangGraph API server.
    """
    server = _in_process_server(graphs, url, path)
    if server is None:
        from langgraph_sdk import get_client as sdk_get_client

        return sdk_get_client(url=url, api_key=api_key, headers=headers, timeout=timeout)  # type: ignore[arg-type]
    client = server.client(timeout=timeout)
    if headers:
        client.http.client.headers.update(headers)
    return client


def get_sync_client(
    graphs: Mapping[str, Any] | None = None,
    *,
    url: str | None = None,
    path: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
) -> SyncLangGraphClient:
    """The official sync LangGraph SDK client; see `get_client`. Safe inside a notebook cell."""
    server = _in_process_server(graphs, url, path)
    if server is None:
        from langgraph_sdk import get_sync_client as sdk_get_sync_client

        return sdk_get_sync_client(url=url, api_key=api_key, headers=headers, timeout=timeout)  # type: ignore[arg-type]
    client = server.sync_client(timeout=timeout)
    if headers:
        client.http.client.headers.update(headers)
    return client
