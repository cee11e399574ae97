"""The Store with `path=`: LangGraph's SQLite store in the same file as everything else,
its items there after a restart, for `client.store` and for graphs alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.store.base import BaseStore
from typing_extensions import TypedDict

import nbruns


class Memory(TypedDict, total=False):
    user: str
    remember: str
    memories: list[str]


async def remember(state: Memory, *, store: BaseStore) -> dict[str, Any]:
    namespace = ("memories", state.get("user") or "anon")
    if state.get("remember"):
        await store.aput(namespace, state["remember"], {"text": state["remember"]})
    return {"memories": sorted(i.value["text"] for i in await store.asearch(namespace))}


def memory_graph() -> Any:
    builder = StateGraph(Memory)
    builder.add_node("node", remember)
    builder.add_edge(START, "node")
    return builder.compile()


VALUE = {"text": "naïve café 😀", "n": 2**63 - 1, "f": 0.1, "deep": {"a": [1, None, True]}}


async def test_items_survive_a_restart_in_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "nbruns.sqlite"
    server = nbruns.Server(graphs={"memory": memory_graph()}, path=path)
    client = server.client()
    thread = (await client.threads.create())["thread_id"]
    await client.runs.wait(thread, "memory", input={"user": "ann", "remember": "tea"})
    await client.store.put_item(["docs", "a"], key="1", value=VALUE)
    await client.store.put_item(["docs", "b"], key="2", value={"gone": True})
    await client.store.delete_item(["docs", "b"], key="2")
    before = await client.store.get_item(["docs", "a"], key="1")
    await client.aclose()
    server.close()

    # one file: nbruns's tables, LangGraph's checkpoints and its store
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"nbruns_threads", "checkpoints", "store"} <= tables

    server = nbruns.Server(graphs={"memory": memory_graph()}, path=path)
    client = server.client()
    try:
        assert await client.store.get_item(["docs", "a"], key="1") == before
        assert before is not None and before["value"] == VALUE
        assert await client.store.get_item(["docs", "b"], key="2") is None
        listed = await client.store.list_namespaces()
        assert listed == {"namespaces": [["docs", "a"], ["memories", "ann"]]}
        # a graph in a new thread reads the memory written before the restart
        other = (await client.threads.create())["thread_id"]
        out = await client.runs.wait(other, "memory", input={"user": "ann"})
        assert out["memories"] == ["tea"]
    finally:
        await client.aclose()
        server.close()
