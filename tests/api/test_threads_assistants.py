"""Assistants and threads through the official async SDK client."""

from __future__ import annotations

import asyncio
import itertools
import operator
import uuid
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from tests.helpers import wait_for_thread_status, wait_until


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    gate: str


def log_graph(gates: Any, recorder: Any) -> Any:
    """a -> b -> c; b waits on its input's gate and records how it left."""

    def step(name: str) -> Any:
        async def node(state: LogState) -> dict[str, Any]:
            tag = state.get("tag", "")
            recorder.add(f"{tag}:{name}:start")
            try:
                if name == "b" and state.get("gate"):
                    await gates[state["gate"]].passage()
            except asyncio.CancelledError:
                recorder.add(f"{tag}:{name}:cancelled")
                raise
            recorder.add(f"{tag}:{name}:end")
            return {"log": [f"{tag}:{name}"]}

        return node

    builder = StateGraph(LogState)
    for name in "abc":
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


def ask(tag: str, gate: str = "") -> dict[str, Any]:
    return {"tag": tag, "gate": gate}


def full(tag: str) -> list[str]:
    return [f"{tag}:a", f"{tag}:b", f"{tag}:c"]


@pytest.fixture
def server(make_server: Any, gates: Any, recorder: Any) -> nbruns.Server:
    return make_server({"log": log_graph(gates, recorder)})  # type: ignore[no-any-return]


async def thread_with_run(client: Any, tag: str, **thread_kwargs: Any) -> str:
    tid = (await client.threads.create(**thread_kwargs))["thread_id"]
    await client.runs.wait(tid, "log", input=ask(tag))
    return tid  # type: ignore[no-any-return]


# -- assistants -----------------------------------------------------------------------


async def test_assistant_create_get_and_if_exists(client: Any) -> None:
    aid = str(uuid.uuid4())
    made = await client.assistants.create(
        "log", assistant_id=aid, metadata={"team": "x"}, name="Logger", config={"tags": ["t"]}
    )
    assert made["assistant_id"] == aid
    assert made["graph_id"] == "log"
    assert made["name"] == "Logger"
    assert made["metadata"] == {"team": "x"}
    got = await client.assistants.get(aid)
    assert got["assistant_id"] == aid and got["graph_id"] == "log"

    with pytest.raises(ConflictError) as info:
        await client.assistants.create("log", assistant_id=aid)
    assert info.value.response.status_code == 409
    assert aid in info.value.response.json()["detail"]
    same = await client.assistants.create(
        "log", assistant_id=aid, if_exists="do_nothing", name="Other"
    )
    assert same["assistant_id"] == aid
    assert same["name"] == "Logger"  # unchanged


async def test_assistant_by_graph_id(client: Any) -> None:
    system = await client.assistants.get("log")
    assert system["graph_id"] == "log"
    assert system["assistant_id"] != "log"
    uuid.UUID(system["assistant_id"])
    agent = await client.assistants.get("agent")  # the demo agent is always there
    assert agent["graph_id"] == "agent"
    # a graph id works wherever an assistant id is expected
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "log", input=ask("g"))
    assert run["assistant_id"] == system["assistant_id"]
    await client.runs.join(tid, run["run_id"])


async def test_assistant_search(client: Any) -> None:
    made = await client.assistants.create("log", metadata={"team": "search-me"})
    found = await client.assistants.search(graph_id="log")
    ids = [a["assistant_id"] for a in found]
    assert made["assistant_id"] in ids
    assert (await client.assistants.get("log"))["assistant_id"] in ids
    assert {a["graph_id"] for a in found} == {"log"}
    by_meta = await client.assistants.search(metadata={"team": "search-me"})
    assert [a["assistant_id"] for a in by_meta] == [made["assistant_id"]]
    assert await client.assistants.search(metadata={"team": "nobody"}) == []
    everything = await client.assistants.search(limit=100)
    assert {"log", "agent"} <= {a["graph_id"] for a in everything}


async def test_assistant_unknown_graph_is_404(client: Any) -> None:
    before = await client.assistants.count()
    with pytest.raises(NotFoundError) as info:
        await client.assistants.create("no-such-graph")
    assert "no-such-graph" in info.value.response.json()["detail"]
    assert await client.assistants.count() == before
    with pytest.raises(NotFoundError):
        await client.assistants.get(str(uuid.uuid4()))


# -- threads ---------------------------------------------------------------------------


async def test_thread_create_get_update_delete(client: Any) -> None:
    tid = str(uuid.uuid4())
    made = await client.threads.create(thread_id=tid, metadata={"user": "ann"})
    assert made["thread_id"] == tid
    assert made["status"] == "idle"
    assert made["metadata"] == {"user": "ann"}
    with pytest.raises(ConflictError):
        await client.threads.create(thread_id=tid)
    again = await client.threads.create(thread_id=tid, if_exists="do_nothing")
    assert again["metadata"] == {"user": "ann"}

    got = await client.threads.get(tid)
    assert got["thread_id"] == tid and got["status"] == "idle"
    updated = await client.threads.update(tid, metadata={"topic": "weather"})
    assert updated["metadata"] == {"user": "ann", "topic": "weather"}
    assert (await client.threads.get(tid))["metadata"] == {"user": "ann", "topic": "weather"}

    await client.threads.delete(tid)
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)
    with pytest.raises(NotFoundError):
        await client.threads.delete(tid)
    with pytest.raises(NotFoundError):
        await client.threads.update(tid, metadata={"x": 1})


async def test_delete_thread_stops_its_runs(client: Any, gates: Any, recorder: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "log", input=ask("r1", "g"))
    await gates["g"].reached()
    queued = await client.runs.create(tid, "log", input=ask("r2"))
    await client.threads.delete(tid)

    with pytest.raises(NotFoundError):
        await client.threads.get(tid)
    for r in (run, queued):
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, r["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.list(tid)

    # the blocked node was cancelled (its gate is still shut), nothing else ran
    async def b_cancelled() -> bool:
        return "r1:b:cancelled" in recorder.labels()

    await wait_until(b_cancelled, "node b of the deleted thread's run to be cancelled")
    assert not gates["g"].is_open
    assert recorder.labels() == ["r1:a:start", "r1:a:end", "r1:b:start", "r1:b:cancelled"]
    # a thread with the same id starts from nothing
    fresh = await client.threads.create(thread_id=tid)
    assert fresh["status"] == "idle"
    assert (await client.threads.get_state(tid))["values"] == {}
    assert await client.runs.list(tid) == []


async def test_thread_search(client: Any, gates: Any) -> None:
    idle = await thread_with_run(client, "i", metadata={"kind": "idle", "owner": "me"})
    paused_tid = (await client.threads.create(metadata={"kind": "paused", "owner": "me"}))[
        "thread_id"
    ]
    await client.runs.wait(paused_tid, "log", input=ask("p"), interrupt_before=["b"])
    busy = (await client.threads.create(metadata={"kind": "busy"}))["thread_id"]
    await client.runs.create(busy, "log", input=ask("b", "g"))
    await gates["g"].reached()

    def ids(threads: list[Any]) -> list[str]:
        return [t["thread_id"] for t in threads]

    assert ids(await client.threads.search(metadata={"owner": "me"})) == [paused_tid, idle]
    assert ids(await client.threads.search(metadata={"kind": "busy"})) == [busy]
    assert ids(await client.threads.search(status="busy")) == [busy]
    assert ids(await client.threads.search(status="interrupted")) == [paused_tid]
    assert ids(await client.threads.search(status="idle")) == [idle]
    assert await client.threads.search(status="error") == []
    assert ids(await client.threads.search(limit=1)) == [busy]  # newest first
    assert ids(await client.threads.search(limit=2, offset=1)) == [paused_tid, idle]
    assert await client.threads.count(status="busy") == 1
    gates["g"].open()
    await wait_for_thread_status(client, busy, "idle")
    assert ids(await client.threads.search(status="idle")) == [busy, idle]


async def test_thread_count_filters_by_values_as_search_does(client: Any) -> None:
    tagged = await thread_with_run(client, "count-p")
    await thread_with_run(client, "count-q")
    found = await client.threads.search(values={"tag": "count-p"})
    assert [t["thread_id"] for t in found] == [tagged]
    assert await client.threads.count(values={"tag": "count-p"}) == 1


async def test_thread_copy(client: Any) -> None:
    source = await thread_with_run(client, "s", metadata={"owner": "ann"})
    source_state = await client.threads.get_state(source)
    source_history = await client.threads.get_history(source, limit=100)
    copied = await client.threads.copy(source)
    new_id = copied["thread_id"]
    assert new_id != source
    assert copied["status"] == "idle"
    assert copied["metadata"]["owner"] == "ann"
    state = await client.threads.get_state(new_id)
    assert state["values"] == source_state["values"] == {"log": full("s"), **ask("s")}
    assert state["next"] == []
    history = await client.threads.get_history(new_id, limit=100)
    assert [h["values"] for h in history] == [h["values"] for h in source_history]
    assert await client.runs.list(new_id) == []  # runs are not copied
    assert len(await client.runs.list(source)) == 1
    # the copy has a life of its own
    await client.runs.wait(new_id, "log", input=ask("c"))
    assert (await client.threads.get_state(new_id))["values"]["log"] == [*full("s"), *full("c")]
    assert (await client.threads.get_state(source))["values"]["log"] == full("s")


async def test_get_state_of_new_thread(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    state = await client.threads.get_state(tid)
    assert state["values"] == {}
    assert state["next"] == []
    assert state["tasks"] == []
    assert await client.threads.get_history(tid) == []
    thread = await client.threads.get(tid)
    assert thread["values"] in ({}, None)
    assert thread["interrupts"] == {}
    with pytest.raises(NotFoundError):
        await client.threads.get_state(str(uuid.uuid4()))


async def test_get_history_limit_and_before(client: Any) -> None:
    tid = await thread_with_run(client, "h")
    history = await client.threads.get_history(tid, limit=100)
    # input, a, b, c: four supersteps after the input checkpoint
    assert [h["metadata"]["step"] for h in history] == [3, 2, 1, 0, -1]
    assert [h["next"] for h in history] == [[], ["c"], ["b"], ["a"], ["__start__"]]
    assert len(await client.threads.get_history(tid)) == 5  # SDK default limit is 10
    two = await client.threads.get_history(tid, limit=2)
    assert [h["checkpoint"] for h in two] == [h["checkpoint"] for h in history[:2]]
    older = await client.threads.get_history(tid, limit=2, before=history[1]["checkpoint"])
    assert [h["checkpoint"] for h in older] == [h["checkpoint"] for h in history[2:4]]
    # each state links to its parent
    for newer, parent in itertools.pairwise(history):
        assert newer["parent_checkpoint"]["checkpoint_id"] == parent["checkpoint"]["checkpoint_id"]


async def test_update_state(client: Any) -> None:
    tid = await thread_with_run(client, "u")
    before = await client.threads.get_state(tid)
    result = await client.threads.update_state(tid, {"log": ["manual"]}, as_node="c")
    assert result["checkpoint"]["thread_id"] == tid
    assert result["checkpoint"]["checkpoint_id"] != before["checkpoint"]["checkpoint_id"]
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == [*full("u"), "manual"]  # through the reducer
    assert state["checkpoint"]["checkpoint_id"] == result["checkpoint"]["checkpoint_id"]
    assert (await client.threads.get(tid))["values"]["log"] == [*full("u"), "manual"]
    # the next run continues from the updated state
    await client.runs.wait(tid, "log", input=ask("v"))
    assert (await client.threads.get_state(tid))["values"]["log"] == [
        *full("u"),
        "manual",
        *full("v"),
    ]


async def test_update_state_conflicts_with_inflight_run(client: Any, gates: Any) -> None:
    tid = await thread_with_run(client, "u")
    before = await client.threads.get_state(tid)
    run = await client.runs.create(tid, "log", input=ask("r", "g"))
    await gates["g"].reached()
    with pytest.raises(ConflictError) as info:
        await client.threads.update_state(tid, {"log": ["manual"]})
    assert info.value.response.status_code == 409
    detail = info.value.response.json()["detail"]
    assert tid in detail and "in-flight runs" in detail
    # a pending run counts too
    queued = await client.runs.create(tid, "log", input=ask("q"))
    with pytest.raises(ConflictError):
        await client.threads.update_state(tid, {"log": ["manual"]})
    gates["g"].open()
    await client.runs.join(tid, queued["run_id"])
    final = (await client.threads.get_state(tid))["values"]["log"]
    assert final == [*full("u"), *full("r"), *full("q")]
    assert "manual" not in final
    assert before["checkpoint"] != (await client.threads.get_state(tid))["checkpoint"]
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
