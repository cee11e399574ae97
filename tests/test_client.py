"""`get_client` / `get_sync_client`: the official SDK clients, in-process or remote."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import Any

import httpx
import pytest
from langgraph.graph import START, StateGraph
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from typing_extensions import TypedDict

import nbruns
from nbruns._inprocess._clients import InlineJsonHttp


class Count(TypedDict, total=False):
    n: int


async def add_one(state: Count) -> Count:
    return {"n": state.get("n", 0) + 1}


COUNTER = StateGraph(Count).add_node("add", add_one).add_edge(START, "add").compile()
SF = {"messages": [{"role": "human", "content": "whats the weather in sf?"}]}


def test_the_same_client_works_across_several_asyncio_runs() -> None:
    # a script may call asyncio.run more than once; the server's loop is its own
    client = nbruns.get_client(graphs={"counter-a": COUNTER})
    assert isinstance(client, LangGraphClient)

    async def one_run() -> Any:
        thread = await client.threads.create()
        return await client.runs.wait(thread["thread_id"], "counter-a", input={"n": 41})

    assert asyncio.run(one_run()) == {"n": 42}
    assert asyncio.run(one_run()) == {"n": 42}


def test_get_client_shares_one_default_server() -> None:
    first = nbruns.get_client(graphs={"counter-b": COUNTER})

    async def scenario() -> tuple[str, Any]:
        thread = await first.threads.create()
        second = nbruns.get_client()  # a second client sees the same threads
        return thread["thread_id"], await second.threads.get(thread["thread_id"])

    thread_id, seen = asyncio.run(scenario())
    assert seen["thread_id"] == thread_id


def test_sync_client_in_a_plain_script_and_in_a_busy_event_loop() -> None:
    client = nbruns.get_sync_client(graphs={"counter-c": COUNTER})
    assert isinstance(client, SyncLangGraphClient)
    thread = client.threads.create()
    assert client.runs.wait(thread["thread_id"], "counter-c", input={"n": 1}) == {"n": 2}

    async def notebook_cell() -> Any:
        # a cell blocks its own (kernel) loop while the sync call waits: no deadlock
        return client.runs.wait(thread["thread_id"], "counter-c", input={"n": 10})

    assert asyncio.run(notebook_cell()) == {"n": 11}


def test_sync_client_from_another_thread() -> None:
    client = nbruns.get_sync_client()
    results: list[Any] = []

    def worker() -> None:
        thread = client.threads.create()
        results.append(client.runs.wait(thread["thread_id"], "agent", input=SF))

    t = threading.Thread(target=worker)
    t.start()
    t.join(timeout=60)
    assert not t.is_alive()
    assert "San Francisco" in results[0]["messages"][-1]["content"]


def test_url_builds_a_plain_sdk_client_and_refuses_graphs() -> None:
    remote = nbruns.get_client(url="http://127.0.0.1:9")
    assert str(remote.http.client.base_url).startswith("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="graphs= registers graphs on the in-process server"):
        nbruns.get_client(graphs={"x": COUNTER}, url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="path= makes the in-process server durable"):
        nbruns.get_client(url="http://127.0.0.1:9", path="x.sqlite")


def test_unsupported_graph_objects_get_a_clear_error() -> None:
    with pytest.raises(TypeError, match="expected a compiled LangGraph graph"):
        nbruns.get_client(graphs={"bad": object()})


def test_server_repr_and_close_are_short_and_idempotent() -> None:
    server = nbruns.Server()
    assert repr(server).startswith("<nbruns.Server running graphs=")
    server.close()
    server.close()
    assert repr(server).startswith("<nbruns.Server closed")


# -- JSON on the caller's loop (nbruns._inprocess._clients) ---------------------------


class _CountingPool(concurrent.futures.ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.jobs = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.jobs += 1
        return super().submit(fn, *args, **kwargs)


async def test_the_in_process_client_keeps_json_off_the_thread_pool() -> None:
    loop = asyncio.get_running_loop()
    pool = _CountingPool()
    loop.set_default_executor(pool)
    server = nbruns.Server({"counter-j": COUNTER})
    try:
        client = server.client()
        parts = [client.assistants, client.threads, client.runs, client.crons, client.store]
        assert isinstance(client.http, InlineJsonHttp)
        assert all(part.http is client.http for part in parts)
        tid = (await client.threads.create(metadata={"k": 1}))["thread_id"]
        assert await client.runs.wait(tid, "counter-j", input={"n": 1}) == {"n": 2}
        run = await client.runs.create(tid, "counter-j", input={"n": 5})
        assert await client.runs.join(tid, run["run_id"]) == {"n": 6}
        await client.threads.update(tid, metadata={"k": 2})
        assert (await client.threads.get(tid))["metadata"]["k"] == 2
        assert pool.jobs == 0
        # the SDK's own client, for contrast, hands each body to the pool
        await get_sdk_client(server).threads.get(tid)
        assert pool.jobs > 0
    finally:
        await server.aclose()
        pool.shutdown()


def get_sdk_client(server: nbruns.Server) -> LangGraphClient:
    inline = server.client()
    return LangGraphClient(inline.http.client)  # the SDK's HttpClient over the same httpx client


async def _outcome(call: Any) -> Any:
    """What a call gave: its value, or its error's type, status, text and notes."""
    try:
        return await call
    except httpx.HTTPStatusError as exc:
        return type(exc), exc.response.status_code, str(exc), getattr(exc, "__notes__", None)


async def test_errors_are_the_sdks_own() -> None:
    server = nbruns.Server({"counter-e": COUNTER})
    try:
        inline, sdk = server.client(), get_sdk_client(server)
        tid = (await inline.threads.create())["thread_id"]
        missing = "00000000-0000-4000-8000-000000000000"
        calls = [
            lambda c: c.threads.get(missing),
            lambda c: c.threads.update(missing, metadata={}),
            lambda c: c.runs.create(tid, "counter-e", input={}, multitask_strategy="sideways"),
            lambda c: c.runs.join(tid, missing),  # a 200 with an error body, as the reference
            lambda c: c.runs.wait(missing, "counter-e", input={}),
        ]
        for call in calls:
            outcomes = [await _outcome(call(c)) for c in (inline, sdk)]
            assert outcomes[0] == outcomes[1]
        assert isinstance(outcomes[0], tuple)  # the last call raised (a 404 with a note)
        assert outcomes[0][1] == 404 and outcomes[0][3]
    finally:
        await server.aclose()
