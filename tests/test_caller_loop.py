"""`loop="current"`: the server on the caller's event loop.

The strategies and the runs API run against both placements (the `server_loop`
fixture); this file covers what only this placement has: where runs execute,
one server per loop, the loop ending under the server, and its refusals.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import pytest
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

import nbruns
from nbruns._inprocess import _get_client

WAIT = 10.0


class Where(TypedDict, total=False):
    thread: int
    same_loop: bool


def where_graph(loop_box: list[asyncio.AbstractEventLoop]) -> Any:
    async def note(state: Where) -> Where:
        return {
            "thread": threading.get_ident(),
            "same_loop": asyncio.get_running_loop() is loop_box[0],
        }

    return StateGraph(Where).add_node("note", note).add_edge(START, "note").compile()


class Gated(TypedDict, total=False):
    done: bool


def gated_graph(reached: threading.Event) -> Any:
    async def wait_until_cancelled(state: Gated) -> Gated:
        reached.set()
        await asyncio.get_running_loop().create_future()  # only a cancel ends this
        return {"done": True}

    return (
        StateGraph(Gated).add_node("wait", wait_until_cancelled).add_edge(START, "wait").compile()
    )


async def test_runs_execute_on_the_callers_loop_and_thread() -> None:
    box = [asyncio.get_running_loop()]
    server = nbruns.Server({"where": where_graph(box)}, loop="current")
    try:
        client = server.client()
        thread = await client.threads.create()
        out = await client.runs.wait(thread["thread_id"], "where", input={})
        assert out == {"thread": threading.get_ident(), "same_loop": True}
        assert repr(server).startswith("<nbruns.Server running loop='current'")
    finally:
        await server.aclose()
    assert server.closed


async def test_a_sync_client_on_another_thread_reaches_it() -> None:
    server = nbruns.Server(loop="current")
    try:

        def from_a_worker_thread() -> list[str]:
            sync = server.sync_client()
            try:
                tid = sync.threads.create()["thread_id"]
                return [t["thread_id"] for t in sync.threads.search()] + [tid]
            finally:
                sync.close()

        found = await asyncio.to_thread(from_a_worker_thread)
        assert found[0] == found[1]  # the one thread it created, seen by search
        assert [t["thread_id"] for t in await server.client().threads.search()] == [found[1]]
    finally:
        await server.aclose()


def test_get_client_gives_one_server_per_loop() -> None:
    async def first() -> tuple[str, list[str]]:
        a = nbruns.get_client(loop="current")
        b = nbruns.get_client(loop="current")
        tid = (await a.threads.create())["thread_id"]
        return tid, [t["thread_id"] for t in await b.threads.search()]

    tid, seen = asyncio.run(first())
    assert seen == [tid]  # both clients of one loop talk to one server

    async def second() -> list[Any]:
        return await nbruns.get_client(loop="current").threads.search()

    # a new loop, a new server: the first one ended with its loop
    assert asyncio.run(second()) == []


def test_the_loop_ending_stops_every_run_and_starts_none() -> None:
    reached = threading.Event()
    holder: dict[str, Any] = {}

    async def script() -> None:
        server = holder["server"] = nbruns.Server({"gated": gated_graph(reached)}, loop="current")
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        running = await client.runs.create(tid, "gated", input={})
        queued = await client.runs.create(tid, "gated", input={})
        later = await client.runs.create(
            (await client.threads.create())["thread_id"], "gated", input={}, after_seconds=60
        )
        await asyncio.to_thread(reached.wait, WAIT)  # the first run is inside its node
        holder["ids"] = [running["run_id"], queued["run_id"], later["run_id"]]
        # returning now ends asyncio.run, which cancels every task on the loop

    asyncio.run(script())
    server: nbruns.Server = holder["server"]
    runs = [server.executor.store.runs[run_id] for run_id in holder["ids"]]
    assert [r.phase for r in runs] == ["interrupted", "interrupted", "interrupted"]
    assert {r.cancel_reason for r in runs} == {
        "the event loop running the nbruns server is shutting down"
    }
    assert server.closed
    server.close()  # a no-op now, not an error
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(server.client().threads.search())


async def test_close_on_its_own_loop_says_to_use_aclose() -> None:
    server = nbruns.Server(loop="current")
    with pytest.raises(RuntimeError, match=r"use 'await server.aclose\(\)' there"):
        server.close()
    assert not server.closed
    assert await server.client().threads.search() == []  # still serving
    await server.aclose()
    assert server.closed


async def test_the_callers_default_executor_is_left_alone() -> None:
    loop = asyncio.get_running_loop()
    pool = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="users-pool")
    loop.set_default_executor(pool)
    server = nbruns.Server(loop="current")
    await asyncio.sleep(0)  # the server sets itself up on the loop's next turn
    name = await loop.run_in_executor(None, lambda: threading.current_thread().name)
    assert name.startswith("users-pool")
    await server.aclose()
    # still usable after the server closed: nbruns did not shut it down
    assert await loop.run_in_executor(None, lambda: 42) == 42


def test_bad_placements_are_refused_and_create_nothing() -> None:
    before = dict(_get_client._defaults), dict(_get_client._loop_defaults)
    with pytest.raises(ValueError, match=r"loop='elsewhere': expected one of 'thread', 'current'"):
        nbruns.Server(loop="elsewhere")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"loop='elsewhere': expected one of"):
        nbruns.get_client(loop="elsewhere")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match=r"none is: call it from a coroutine"):
        nbruns.get_client(loop="current")  # no loop runs here
    with pytest.raises(ValueError, match=r'path= \(a durable server\) needs loop="thread"'):
        nbruns.get_client(loop="current", path="runs.db")
    with pytest.raises(ValueError, match=r"loop= places the in-process server"):
        nbruns.get_client(url="http://127.0.0.1:9", loop="current")
    assert (dict(_get_client._defaults), dict(_get_client._loop_defaults)) == before


class Abort(BaseException):
    """Not an Exception: what a Ctrl-C landing inside a node looks like to its task."""


@pytest.mark.parametrize("placement", ["current", "thread"])
async def test_a_base_exception_in_a_node_ends_that_run_only(placement: str) -> None:
    async def abort(state: Gated) -> Gated:
        raise Abort

    async def finish(state: Gated) -> Gated:
        return {"done": True}

    graphs = {
        "abort": StateGraph(Gated).add_node("a", abort).add_edge(START, "a").compile(),
        "finish": StateGraph(Gated).add_node("f", finish).add_edge(START, "f").compile(),
    }
    server = nbruns.Server(graphs, loop=placement)  # type: ignore[arg-type]
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        aborted = await client.runs.create(tid, "abort", input={})
        await client.runs.join(tid, aborted["run_id"])
        assert (await client.runs.get(tid, aborted["run_id"]))["status"] == "interrupted"
        # the server goes on: the next run on the same thread succeeds
        assert await client.runs.wait(tid, "finish", input={}) == {"done": True}
    finally:
        await server.aclose()
