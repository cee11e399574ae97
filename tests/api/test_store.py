"""The Store: one LangGraph `BaseStore` handed to every graph run (`store: BaseStore`,
`InjectedStore` tools, `get_store()`) and served as `client.store.*`, in process and
by `nbruns serve`; langgraph.json's `store` section (TTL, index) honoured or refused."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.tools import tool
from langgraph.config import get_store
from langgraph.graph import START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import InjectedStore, ToolNode
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import UnprocessableEntityError
from typing_extensions import TypedDict

import nbruns
from nbruns._compose import Engine, Options
from nbruns._core._errors import InvalidInput
from nbruns._persistence._kvstore import StoreConfig
from tests.helpers import wait_until
from tools import reference_server

REPO_ROOT = Path(__file__).resolve().parents[2]


class Memory(TypedDict, total=False):
    user: str
    remember: str
    memories: list[str]
    messages: Annotated[list[AnyMessage], add_messages]


async def remember(state: Memory, *, store: BaseStore) -> dict[str, Any]:
    namespace = ("memories", state.get("user") or "anon")
    if state.get("remember"):
        await store.aput(namespace, state["remember"], {"text": state["remember"]})
    found = await store.asearch(namespace)
    return {"memories": sorted(item.value["text"] for item in found)}


def via_get_store(state: Memory) -> dict[str, Any]:
    store = get_store()  # the run's store, from LangGraph's config
    store.put(("seen",), "by-get-store", {"user": state.get("user")})
    item = store.get(("seen",), "by-get-store")
    return {"memories": [] if item is None else [item.value["user"]]}


@tool
async def save_memory(text: str, store: Annotated[BaseStore, InjectedStore()]) -> str:
    """Save a memory."""
    await store.aput(("tools",), text, {"text": text})
    return f"saved {text}"


def plan(state: Memory) -> dict[str, Any]:
    call = {"name": "save_memory", "args": {"text": state.get("remember", "")}, "id": "call-1"}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


def one_node(node: Any, **compile_kwargs: Any) -> Any:
    builder = StateGraph(Memory)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    return builder.compile(**compile_kwargs)


def tool_graph() -> Any:
    builder = StateGraph(Memory)
    builder.add_node("plan", plan)
    builder.add_node("tools", ToolNode([save_memory]))
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "tools")
    return builder.compile()


OWN_STORE = InMemoryStore()
GRAPHS = {
    "memory": one_node(remember),
    "getter": one_node(via_get_store),
    "tools": tool_graph(),
    "own": one_node(remember, store=OWN_STORE),
}


@pytest.fixture
def server(make_server: Any) -> nbruns.Server:
    return make_server(GRAPHS)  # type: ignore[no-any-return]


# -- graphs get the server's store ---------------------------------------------------------


async def test_memory_written_in_one_thread_is_read_in_another(client: Any) -> None:
    first = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(first, "memory", input={"user": "ann", "remember": "tea"})
    assert out["memories"] == ["tea"]
    second = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(second, "memory", input={"user": "ann"})
    assert out["memories"] == ["tea"]
    # the same store is behind client.store
    item = await client.store.get_item(["memories", "ann"], key="tea")
    assert item["value"] == {"text": "tea"}
    await client.store.put_item(["memories", "ann"], key="jazz", value={"text": "jazz"})
    out = await client.runs.wait(second, "memory", input={"user": "ann"})
    assert out["memories"] == ["jazz", "tea"]


async def test_both_loop_placements_hand_graphs_the_store(start_server: Any) -> None:
    server = start_server({"memory": GRAPHS["memory"]})
    client = server.client()
    try:
        out = await client.runs.wait(None, "memory", input={"user": "loop", "remember": "a"})
        assert out["memories"] == ["a"]
        assert (await client.store.get_item(["memories", "loop"], key="a")) is not None
    finally:
        await client.aclose()


async def test_injected_store_tool_and_get_store(client: Any) -> None:
    thread = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(thread, "tools", input={"remember": "cats"})
    assert out["messages"][-1]["content"] == "saved cats"
    assert (await client.store.get_item(["tools"], key="cats"))["value"] == {"text": "cats"}
    out = await client.runs.wait(None, "getter", input={"user": "bo"})
    assert out["memories"] == ["bo"]
    assert (await client.store.get_item(["seen"], key="by-get-store"))["value"] == {"user": "bo"}


async def test_a_graph_compiled_with_its_own_store_keeps_it(client: Any) -> None:
    # LangGraph's server refuses such a graph at start-up; in process nbruns keeps it
    thread = (await client.threads.create())["thread_id"]
    out = await client.runs.wait(thread, "own", input={"user": "own", "remember": "x"})
    assert out["memories"] == ["x"]
    assert OWN_STORE.get(("memories", "own"), "x") is not None
    assert await client.store.get_item(["memories", "own"], key="x") is None


# -- client.store ----------------------------------------------------------------------------


async def test_put_get_search_delete_list(client: Any) -> None:
    store = client.store
    await store.put_item(["docs", "a"], key="1", value={"tag": "x", "n": 1})
    await store.put_item(["docs", "b"], key="2", value={"tag": "y", "n": 2})
    await store.put_item(["docs", "b"], key="3", value={"tag": "x", "n": 3}, index=False)
    await store.put_item(["other"], key="4", value={"tag": "x"})

    item = await store.get_item(["docs", "a"], key="1")
    assert item["namespace"] == ["docs", "a"] and item["key"] == "1"
    assert item["value"] == {"tag": "x", "n": 1}
    assert item["created_at"].endswith("+00:00") and item["updated_at"].endswith("+00:00")
    assert await store.get_item(["docs", "a"], key="missing") is None

    found = await store.search_items(["docs"])
    assert sorted(i["key"] for i in found["items"]) == ["1", "2", "3"]
    assert all(i["score"] is None for i in found["items"])
    found = await store.search_items(["docs"], filter={"tag": "x"})
    assert sorted(i["key"] for i in found["items"]) == ["1", "3"]
    found = await store.search_items(["docs"], filter={"n": {"$gte": 2}})
    assert sorted(i["key"] for i in found["items"]) == ["2", "3"]
    every = [i["key"] for i in (await store.search_items(["docs"]))["items"]]
    page = await store.search_items(["docs"], limit=1, offset=1)
    assert [i["key"] for i in page["items"]] == every[1:2]

    listed = await store.list_namespaces(prefix=["docs"])
    assert listed == {"namespaces": [["docs", "a"], ["docs", "b"]]}
    assert await store.list_namespaces(max_depth=1) == {"namespaces": [["docs"], ["other"]]}
    assert await store.list_namespaces(suffix=["b"]) == {"namespaces": [["docs", "b"]]}
    assert await store.list_namespaces(limit=1, offset=1) == {"namespaces": [["docs", "b"]]}

    await store.put_item(["docs", "a"], key="1", value={"tag": "z"})
    assert (await store.get_item(["docs", "a"], key="1"))["value"] == {"tag": "z"}
    await store.delete_item(["docs", "a"], key="1")
    await store.delete_item(["docs", "a"], key="1")  # deleting nothing is done too
    assert await store.get_item(["docs", "a"], key="1") is None


async def test_ttl_needs_a_store_that_keeps_ttls(client: Any) -> None:
    with pytest.raises(UnprocessableEntityError) as info:
        await client.store.put_item(["t"], key="k", value={}, ttl=5)
    assert "store.ttl" in info.value.response.json()["detail"]
    assert await client.store.get_item(["t"], key="k") is None


async def test_info_says_the_store_is_served(client: Any) -> None:
    info = (await client.http.client.get("/info")).json()
    assert info["flags"]["store"] is True


# -- langgraph.json's store section ---------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"bogus": 1}, "store: unknown key(s) 'bogus'"),
        ({"ttl": {"default_ttl": 5, "nope": True}}, "store.ttl: unknown key(s) 'nope'"),
        ({"ttl": {"default_ttl": -1}}, "store.ttl.default_ttl"),
        ({"ttl": {"refresh_on_read": "yes"}}, "store.ttl.refresh_on_read"),
        (
            {"index": {"dims": 8, "embed": "openai:text-embedding-3-small"}},
            "store.index.embed: 'openai:text-embedding-3-small' needs the network",
        ),
        ({"index": {"embed": "./e.py:embed"}}, "store.index.dims"),
        ({"index": {"dims": 8, "embed": "./missing.py:embed"}}, "store.index.embed"),
        ({"path": "./missing.py:store"}, "store.path: './missing.py:store': no file"),
        ({"path": "./e.py:s", "ttl": {"default_ttl": 1}}, "store.ttl: applies to nbruns's own"),
    ],
)
def test_store_section_refused_naming_the_key(section: Any, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        StoreConfig.from_json(section)
    assert fragment in info.value.detail


CUSTOM = textwrap.dedent(
    """
    from langgraph.store.memory import InMemoryStore

    def make_store():
        store = InMemoryStore()
        store.put(("seeded",), "k", {"by": "custom"})
        return store
    """
)


async def test_a_custom_store_from_store_path(tmp_path: Path) -> None:
    (tmp_path / "custom.py").write_text(CUSTOM)
    config = StoreConfig.from_json({"path": "./custom.py:make_store"}, base_dir=tmp_path)
    assert config.custom is not None
    async with engine_client(Options(store=config, graphs=GRAPHS)) as client:
        item = await client.store.get_item(["seeded"], key="k")
        assert item is not None and item["value"] == {"by": "custom"}
        out = await client.runs.wait(None, "memory", input={"user": "c", "remember": "m"})
        assert out["memories"] == ["m"]
    assert config.custom.get(("memories", "c"), "m") is not None


EMBED = textwrap.dedent(
    """
    def embed(texts):
        # a letter histogram: offline, deterministic, close for similar words
        return [[t.lower().count(c) for c in "abcdefgh"] for t in texts]
    """
)


@contextlib.asynccontextmanager
async def engine_client(options: Options) -> AsyncIterator[LangGraphClient]:
    """The SDK client over an engine's app, on this loop (the engine started here too)."""
    engine = Engine(options)
    await engine.start()
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=engine.app), base_url="http://nbruns"
    )
    try:
        yield LangGraphClient(http)
    finally:
        await http.aclose()
        await engine.aclose("test over")


async def test_index_with_a_local_embedding_function(tmp_path: Path) -> None:
    (tmp_path / "e.py").write_text(EMBED)
    config = StoreConfig.from_json(
        {"index": {"dims": 8, "embed": "./e.py:embed", "fields": ["text"]}}, base_dir=tmp_path
    )
    async with engine_client(Options(store=config)) as client:
        await client.store.put_item(["n"], key="1", value={"text": "abba"})
        await client.store.put_item(["n"], key="2", value={"text": "hhgg"})
        found = (await client.store.search_items(["n"], query="aabb"))["items"]
        assert [i["key"] for i in found] == ["1", "2"]
        assert found[0]["score"] > found[1]["score"]


@pytest.mark.skipif(
    hasattr(sqlite3.Connection, "enable_load_extension"),
    reason="this Python's sqlite3 loads extensions: sqlite-vec works",
)
async def test_index_in_sqlite_needs_extension_loading(tmp_path: Path) -> None:
    (tmp_path / "e.py").write_text(EMBED)
    section = {"index": {"dims": 8, "embed": "./e.py:embed"}, "ttl": {"default_ttl": 5}}
    config = StoreConfig.from_json(section, base_dir=tmp_path)
    with pytest.raises(InvalidInput) as info:
        Engine(Options(store=config))
    assert "store.index" in info.value.detail and "sqlite-vec" in info.value.detail


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "sqlite-file"])
async def test_ttl_items_expire_at_the_next_sweep(tmp_path: Path, durable: bool) -> None:
    # 0.001 minutes: a sweep every 60 ms, so the item is gone within a bounded wait
    config = StoreConfig.from_json({"ttl": {"sweep_interval_minutes": 0.001}})
    path = tmp_path / "s.sqlite" if durable else None
    async with engine_client(Options(store=config, path=path, graphs=GRAPHS)) as client:
        await client.store.put_item(["t"], key="brief", value={"a": 1}, ttl=0.001)
        await client.store.put_item(["t"], key="kept", value={"a": 2})

        async def expired() -> bool:
            return await client.store.get_item(["t"], key="brief") is None

        await wait_until(expired, "the item with a TTL to be swept")
        assert (await client.store.get_item(["t"], key="kept"))["value"] == {"a": 2}
        # graphs get the same store
        out = await client.runs.wait(None, "memory", input={"user": "t", "remember": "m"})
        assert out["memories"] == ["m"]


# -- served ------------------------------------------------------------------------------------

SERVED_GRAPHS = textwrap.dedent(
    """
    from langgraph.graph import START, StateGraph
    from langgraph.store.base import BaseStore
    from typing_extensions import TypedDict

    class Memory(TypedDict, total=False):
        user: str
        remember: str
        memories: list

    async def remember(state: Memory, *, store: BaseStore) -> dict:
        namespace = ("memories", state.get("user") or "anon")
        if state.get("remember"):
            await store.aput(namespace, state["remember"], {"text": state["remember"]})
        return {"memories": sorted(i.value["text"] for i in await store.asearch(namespace))}

    builder = StateGraph(Memory)
    builder.add_node("node", remember)
    builder.add_edge(START, "node")
    memory = builder.compile()
    """
)


@pytest.fixture
def served_url(tmp_path: Path) -> Any:
    (tmp_path / "graphs.py").write_text(SERVED_GRAPHS)
    config = {
        "dependencies": ["."],
        "graphs": {"memory": "./graphs.py:memory"},
        "store": {"ttl": {"sweep_interval_minutes": 0.001}},
    }
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    port = reference_server.free_port()
    log = tmp_path / "serve.log"
    cmd = [sys.executable, "-m", "nbruns", "serve", "--config", str(tmp_path / "langgraph.json")]
    cmd += ["--port", str(port), "--db", str(tmp_path / "db.sqlite")]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            reference_server.wait_ok(url, proc, 60, log, name="nbruns serve", poll=0.1)
            yield url
        finally:
            proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown closes the store
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


async def test_served_memory_agent_and_ttl(served_url: str) -> None:
    from langgraph_sdk import get_client

    client = get_client(url=served_url, api_key=None)
    try:
        first = (await client.threads.create())["thread_id"]
        await client.runs.wait(first, "memory", input={"user": "sam", "remember": "tea"})
        second = (await client.threads.create())["thread_id"]
        out = await client.runs.wait(second, "memory", input={"user": "sam"})
        assert out["memories"] == ["tea"]
        found = await client.store.search_items(["memories"], filter={"text": "tea"})
        assert [i["key"] for i in found["items"]] == ["tea"]
        await client.store.put_item(["t"], key="brief", value={}, ttl=0.001)

        async def expired() -> bool:
            return await client.store.get_item(["t"], key="brief") is None

        await wait_until(expired, "the item with a TTL to be swept")
        assert await client.store.list_namespaces() == {"namespaces": [["memories", "sam"]]}
    finally:
        await client.aclose()


def sweepers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "ttl-sweeper" and t.is_alive()]


async def test_sweeper_stops_with_the_engine() -> None:
    before = len(sweepers())
    config = StoreConfig.from_json({"ttl": {"sweep_interval_minutes": 0.001}})
    engine = Engine(Options(store=config))
    await engine.start()
    assert len(sweepers()) == before + 1
    await engine.aclose("test over")
    assert len(sweepers()) == before
