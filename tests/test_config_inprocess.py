"""`langgraph.json` in process: `Server(config=...)` and `get_client(config=...)` load a project
(tests/config_project) the way `nbruns serve --config` and `langgraph dev` do."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import nbruns

PROJECT = Path(__file__).resolve().parent / "config_project"


def project_module(name: str) -> ModuleType:
    """The project's module `name` as the last load imported it."""
    file = str(PROJECT / f"{name}.py")
    found = [m for m in sys.modules.values() if getattr(m, "__file__", None) == file]
    assert found, f"{file} was not imported"
    return found[-1]


@pytest.fixture
def server() -> Iterator[nbruns.Server]:
    with nbruns.Server(config=PROJECT / "langgraph.json") as server:
        yield server


async def run(client: Any, graph: str, **kwargs: Any) -> Any:
    thread = await client.threads.create()
    return await client.runs.wait(thread["thread_id"], graph, input={"text": "x"}, **kwargs)


async def test_every_graph_form_runs(server: nbruns.Server) -> None:
    client = server.client()
    assert await run(client, "echo") == {"text": "x"}
    assert await run(client, "from_module") == {"text": "x from lib"}  # module syntax, a StateGraph
    assert await run(client, "greeter") == {"text": "x / hello from .env"}  # env before import


async def test_a_factory_makes_the_graph_per_run_from_its_config(server: nbruns.Server) -> None:
    client = server.client()
    graphs = project_module("graphs")
    first = await run(client, "made", config={"configurable": {"suffix": "one"}})
    second = await run(client, "made", config={"configurable": {"suffix": "two"}})
    assert (first, second) == ({"text": "x one"}, {"text": "x two"})
    assert graphs.CALLS.count("made") >= 2  # once per run at least (state reads call it too)
    assert await run(client, "made_async", config={"configurable": {"suffix": "s"}}) == {
        "text": "x async s"
    }


async def test_an_async_context_factory_is_held_open_around_the_run(
    server: nbruns.Server,
) -> None:
    client = server.client()
    graphs = project_module("graphs")
    assert await run(client, "made_in_context") == {"text": "x entered 1"}
    # every time it was entered it was left again, in order
    assert graphs.CONTEXTS[:2] == ["enter", "exit"]
    assert graphs.CONTEXTS.count("enter") == graphs.CONTEXTS.count("exit")


async def test_a_factory_asking_for_the_runtime_gets_the_run_context(
    server: nbruns.Server,
) -> None:
    client = server.client()
    thread = await client.threads.create()
    out = await client.runs.wait(
        thread["thread_id"], "made_with_runtime", input={"text": "x"}, context={"k": 1}
    )
    assert out == {"text": "x threads.create_run {'k': 1}"}
    # a state read makes the graph again, for reading: no context then
    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"] == out


async def test_schemas_and_drawing_of_a_factory_graph(server: nbruns.Server) -> None:
    client = server.client()
    schemas = await client.assistants.get_schemas("made_async")
    assert schemas["graph_id"] == "made_async"
    assert "text" in schemas["state_schema"]["properties"]
    drawing = await client.assistants.get_graph("made_in_context")
    assert {node["id"] for node in drawing["nodes"]} == {"__start__", "say", "__end__"}


async def test_descriptions_show_on_system_assistants(server: nbruns.Server) -> None:
    client = server.client()
    found = {a["graph_id"]: a["description"] for a in await client.assistants.search(limit=50)}
    assert found["echo"] == "Echoes what it is given"
    assert found["made"] is None


async def test_the_http_app_is_served_around_the_api(server: nbruns.Server) -> None:
    client = server.client()
    hello = await client.http.get("/hello")
    assert hello == {"hello": "hello from .env", "lifespan": ["started"]}
    assert await client.http.get("/ok") == {"ok": True}  # /ok stays nbruns's
    assert (await client.http.get("/info"))["flags"] is not None


def test_get_client_config_gives_one_server_per_file() -> None:
    config = PROJECT / "langgraph.json"
    first = nbruns.get_sync_client(config=config)
    second = nbruns.get_sync_client(config=str(config))
    assert first.assistants.search(graph_id="made")[0]["graph_id"] == "made"
    server = nbruns.default_server(config=config)
    assert server is nbruns.default_server(config=str(config))
    assert server is not nbruns.default_server()
    assert second.http.get("/hello")["hello"] == "hello from .env"


def test_config_cannot_go_with_url() -> None:
    with pytest.raises(ValueError, match=r"config= loads a langgraph\.json"):
        nbruns.get_client(url="http://127.0.0.1:1", config=PROJECT / "langgraph.json")


def test_a_key_nbruns_cannot_honour_stops_the_server(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    config = json.loads((copy / "langgraph.json").read_text())
    (copy / "langgraph.json").write_text(json.dumps({**config, "checkpointer": {"path": "x"}}))
    with pytest.raises(nbruns.ConfigError, match=r"langgraph\.json: checkpointer: nbruns supplies"):
        nbruns.Server(config=copy / "langgraph.json")


async def test_the_configured_auth_guards_every_request(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    config = json.loads((copy / "langgraph.json").read_text())
    config["auth"] = {"path": "./auth.py:auth", "disable_studio_auth": True}
    (copy / "langgraph.json").write_text(json.dumps(config))
    async with nbruns.Server(config=copy / "langgraph.json") as server:
        stranger = server.client()
        with pytest.raises(Exception, match="who are you"):
            await stranger.threads.create()
        alice = server.client()
        alice.http.client.headers["x-user"] = "alice"
        thread = await alice.threads.create()
        assert [t["thread_id"] for t in await alice.threads.search()] == [thread["thread_id"]]


def test_route_families_follow_the_reference_grouping() -> None:
    from nbruns._api._assemble import family_of

    assert family_of("/threads/{thread_id}/runs/{run_id}/join") == "runs"
    assert family_of("/runs/crons/search") == "runs"
    assert family_of("/threads/{thread_id}/state") == "threads"
    assert family_of("/assistants/{assistant_id}/schemas") == "assistants"
    assert family_of("/store/items/search") == "store"
    assert family_of("/info") == "meta"
    assert family_of("/ok") is None


async def test_disable_runs_leaves_threads_working(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    config = json.loads((copy / "langgraph.json").read_text())
    config["http"] = {"disable_runs": True}
    (copy / "langgraph.json").write_text(json.dumps(config))
    async with nbruns.Server(config=copy / "langgraph.json") as server:
        client = server.client()
        thread = await client.threads.create()
        assert (await client.threads.get(thread["thread_id"]))["status"] == "idle"
        with pytest.raises(Exception, match="is not an nbruns route"):
            await client.runs.create(thread["thread_id"], "echo", input={"text": "x"})
        with pytest.raises(Exception, match="is not an nbruns route"):
            await client.http.get("/nbruns/runs")  # nbruns's listing would show runs too


async def test_an_http_app_needs_a_server_thread() -> None:
    with pytest.raises(RuntimeError, match=r"http\.app needs loop=.thread."):
        nbruns.Server(config=PROJECT / "langgraph.json", loop="current")
