"""The composition root (`nbruns._compose`): one recipe behind `nbruns.Server` and
`nbruns serve`, so the two modes build the same engine and app from the same options."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from starlette.testclient import TestClient
from typing_extensions import TypedDict

import nbruns
from nbruns._compose import Engine, Options
from nbruns._persistence._durable import DurableStore
from nbruns._served._app import build_app


class Count(TypedDict, total=False):
    n: int


async def add_one(state: Count) -> Count:
    return {"n": state.get("n", 0) + 1}


COUNTER = StateGraph(Count).add_node("add", add_one).add_edge(START, "add").compile()


def routes(app: Any) -> list[tuple[str, tuple[str, ...]]]:
    # (a WebSocket route has no methods)
    return [(r.path, tuple(sorted(getattr(r, "methods", None) or ()))) for r in app.routes]


async def test_an_engine_serves_once_started_on_its_loop() -> None:
    engine = Engine(Options(graphs={"counter": COUNTER}))
    assert engine.executor.graphs.ids() == []  # built, not started: nothing registered yet
    await engine.start()
    try:
        assert sorted(engine.executor.graphs.ids()) == ["agent", "counter"]
        pool = asyncio.get_running_loop()._default_executor  # type: ignore[attr-defined]
        assert pool is engine.executor._pool
    finally:
        await engine.aclose("test over")


async def test_a_durable_engine_cannot_start_without_waiting(tmp_path: Path) -> None:
    engine = Engine(Options(path=tmp_path / "db.sqlite"))
    with pytest.raises(RuntimeError, match=r"^a durable engine opens its SQLite file"):
        engine.start_nowait()
    async with engine.running("test over"):
        assert isinstance(engine.executor.store, DurableStore)
        assert engine.executor.graphs.ids() == ["agent"]


def test_both_modes_build_the_same_engine_and_app() -> None:
    served = build_app({"counter": COUNTER})
    with nbruns.Server({"counter": COUNTER}) as server:
        assert isinstance(server._engine, Engine)
        assert routes(server.app) == routes(served)
        in_process = sorted(server.executor.graphs.ids())
    with TestClient(served) as http:  # runs the lifespan: the engine starts there
        assert http.get("/ok").status_code == 200
        assert sorted(served.state.engine.executor.graphs.ids()) == in_process
    assert served.state.engine.executor._closed


def test_served_options_come_from_build_app(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    app = build_app({}, api_key="k", max_body_bytes=10, run_timeout=2.5, db=str(db))
    options = app.state.engine.options
    assert (options.path, options.api_key, options.max_body_bytes) == (str(db), "k", 10)
    assert (options.run_timeout, options.own_pool) == (2.5, True)
    assert build_app({}, db="").state.engine.options.path is None  # as `if db:` did


async def test_a_server_on_the_callers_loop_leaves_the_loops_pool_alone() -> None:
    async with nbruns.Server(loop="current") as server:
        assert server._engine.options.own_pool is False
        assert server.executor.graphs.ids() == ["agent"]
