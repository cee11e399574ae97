"""`get_client`, `get_sync_client` and the servers behind them.

`default_server` keeps one in-process server per kind of use (in memory, per SQLite
path, per `langgraph.json`, per clock; with `loop="current"` per running loop), so
every `get_client()` of a process reaches the same runs. With `url=` the SDK's own
client is returned, after refusing every option that only the in-process server has.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from .._engine._policies import Choose
from .._engine._rolled_back import check_keep_rolled_back_s
from ._clock import ClockChoice, check_clock_choice
from ._loops import CallerLoop
from ._server import LoopChoice, Server, check_loop_choice

__all__ = ["default_server", "get_client", "get_sync_client"]

# (SQLite path, langgraph.json, clock) -> the server get_client() gives for them
_defaults: dict[tuple[str | None, str | None, ClockChoice], Server] = {}
_loop_defaults: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str | None, Server]] = (
    weakref.WeakKeyDictionary()
)
_default_lock = threading.Lock()


def _absolute(path: str | os.PathLike[str] | None) -> str | None:
    return None if path is None else os.path.abspath(os.fspath(path))


def default_server(
    path: str | os.PathLike[str] | None = None,
    *,
    loop: LoopChoice = "thread",
    config: str | os.PathLike[str] | None = None,
    clock: ClockChoice = "real",
) -> Server:
    """The server behind `get_client()`: for `loop="thread"` one per process in memory
    and one per SQLite path; for `loop="current"` one per running event loop; in both,
    one more per `langgraph.json` (its project loaded once); and a virtual-time one
    apart from the real-time one."""
    check_loop_choice(loop, path)
    check_clock_choice(clock, loop=loop, path=path)
    config_key = _absolute(config)
    if loop == "current":
        running = CallerLoop().loop  # raises, explaining, when no loop runs here
        with _default_lock:
            servers = _loop_defaults.setdefault(running, {})
            server = servers.get(config_key)
            if server is None or server.closed:
                server = servers[config_key] = Server(loop="current", config=config_key)
            return server
    key = (_absolute(path), config_key, clock)
    with _default_lock:
        server = _defaults.get(key)
        if server is None or server._closed:
            server = _defaults[key] = Server(path=key[0], config=config_key, clock=clock)
            atexit.register(server.close)
        return server


def _in_process_server(
    graphs: Mapping[str, Any] | None,
    url: str | None,
    path: str | os.PathLike[str] | None,
    loop: LoopChoice = "thread",
    config: str | os.PathLike[str] | None = None,
    choose: Choose | None = None,
    keep_rolled_back_s: float | None = None,
    clock: ClockChoice = "real",
) -> Server | None:
    """The in-process server a client should talk to, with `graphs` registered (and
    `choose` as its hook, if given); None for `url`, after checking that nothing meant
    for the in-process server came with it."""
    if keep_rolled_back_s is not None:
        keep_rolled_back_s = check_keep_rolled_back_s(keep_rolled_back_s)
    if url is not None:
        if keep_rolled_back_s is not None:
            raise ValueError(
                "keep_rolled_back_s= is the in-process server's option; a server at url= "
                "has its own (for nbruns serve: --keep-rolled-back-s)"
            )
        if choose is not None:
            raise ValueError(
                "choose= is the in-process server's choose hook; a server at url= has its "
                "own (for nbruns serve: --choose module:function)"
            )
        if path is not None:
            raise ValueError("path= makes the in-process server durable; it cannot go with url=")
        if config is not None:
            raise ValueError(
                "config= loads a langgraph.json into the in-process server; a server at url= "
                "loads its own (for nbruns serve: --config langgraph.json)"
            )
        if graphs:
            raise ValueError(
                "graphs= registers graphs on the in-process server; a server at url= loads "
                "its own graphs (for nbruns serve: --config langgraph.json)"
            )
        if loop != "thread":
            raise ValueError("loop= places the in-process server; it cannot go with url=")
        if clock != "real":
            raise ValueError(
                f"clock={clock!r} sets the in-process server's clock; a server at url= "
                "keeps real time"
            )
        return None
    server = default_server(path, loop=loop, config=config, clock=clock)
    if graphs:
        server.register(graphs)
    if choose is not None:
        server.choose = choose
    if keep_rolled_back_s is not None:
        server.keep_rolled_back_s = keep_rolled_back_s
    return server


def get_client(
    graphs: Mapping[str, Any] | None = None,
    *,
    url: str | None = None,
    path: str | os.PathLike[str] | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
    loop: LoopChoice = "thread",
    config: str | os.PathLike[str] | None = None,
    choose: Choose | None = None,
    keep_rolled_back_s: float | None = None,
    clock: ClockChoice = "real",
) -> LangGraphClient:
    """The official async LangGraph SDK client, for nbruns in this process or any server.

    With no `url`, the client talks to this process's nbruns server, after
    registering `graphs` (graph id -> compiled graph, StateGraph or entrypoint)
    on it. With `path`, that server keeps assistants, threads, runs and
    checkpoints in one SQLite file, and finds them there after a restart.
    `loop="current"` picks instead the server running on the calling event loop
    (created on first use; one per loop): faster, with the limits `Server`
    lists. `config="langgraph.json"` loads a LangGraph project into that server
    (its graphs, env, dependencies, store, auth and http app; one server per file),
    as `nbruns serve --config` and `langgraph dev` do. `choose=` sets that server's
    choose hook (see `Server`; it stays until replaced), `keep_rolled_back_s=` how long
    its rolled-back runs stay restorable (see `Server`). `clock="virtual"` picks the
    virtual-time server instead (see `Server`; one per process, apart from the
    real-time one). With `url`, it is
    `langgraph_sdk.get_client(url=...)`: a plain client for `nbruns serve` or any
    LangGraph API server.
    """
    server = _in_process_server(
        graphs, url, path, loop, config, choose, keep_rolled_back_s=keep_rolled_back_s, clock=clock
    )
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
    config: str | os.PathLike[str] | None = None,
    choose: Choose | None = None,
    keep_rolled_back_s: float | None = None,
    clock: ClockChoice = "real",
) -> SyncLangGraphClient:
    """The official sync LangGraph SDK client; see `get_client`. Safe inside a notebook cell."""
    server = _in_process_server(
        graphs,
        url,
        path,
        config=config,
        choose=choose,
        keep_rolled_back_s=keep_rolled_back_s,
        clock=clock,
    )
    if server is None:
        from langgraph_sdk import get_sync_client as sdk_get_sync_client

        return sdk_get_sync_client(url=url, api_key=api_key, headers=headers, timeout=timeout)  # type: ignore[arg-type]
    client = server.sync_client(timeout=timeout)
    if headers:
        client.http.client.headers.update(headers)
    return client
