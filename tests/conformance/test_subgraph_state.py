"""State reads of graphs that run a subgraph, on every target (issue #12, item 2):
`get_state` (with and without `subgraphs=True`), `get_history`, the state at a
checkpoint, paused by `interrupt()` inside the subgraph, resumed, and after
double-texting while a run is inside the subgraph; `RemoteGraph` reads them too."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph.pregel.remote import RemoteGraph

QUESTION = {"question": "ok?"}


def _is_subgraph_config(checkpoint: Any, thread_id: str) -> bool:
    """A task's `checkpoint` when it runs a subgraph: where that subgraph checkpoints."""
    return (
        isinstance(checkpoint, dict)
        and checkpoint.get("thread_id") == thread_id
        and str(checkpoint.get("checkpoint_ns", "")).startswith("agent:")
    )


def _assert_plain_interrupt(interrupt: Any) -> None:
    assert set(interrupt) == {"id", "value"}, interrupt  # no null response_schema
    assert interrupt["value"] == QUESTION


async def _all_reads(drv: Any, thread_id: str) -> list[Any]:
    """Every state read a client has, each answered (the SDK raises on a 4xx/5xx)."""
    threads = drv.client.threads
    history = await threads.get_history(thread_id, limit=20)
    reads: list[Any] = [
        await threads.get_state(thread_id),
        await threads.get_state(thread_id, subgraphs=True),
        history,
    ]
    for state in history:
        checkpoint_id = state["checkpoint"]["checkpoint_id"]
        reads.append(await threads.get_state(thread_id, checkpoint_id=checkpoint_id))
        reads.append(
            await threads.get_state(thread_id, checkpoint=state["checkpoint"], subgraphs=True)
        )
        resp = await drv.http.get(f"/threads/{thread_id}/state/{checkpoint_id}")
        assert resp.status_code == 200, resp.text
        for task in state["tasks"]:
            assert task["state"] is None, task  # subgraphs are never asked for in history
    return reads


async def test_paused_inside_a_subgraph_then_resumed(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "subhitl", input={})
    thread = await drv.wait_thread(t, "interrupted")
    assert thread["values"]["log"] == ["outer"]
    [(task_id, [interrupt])] = thread["interrupts"].items()
    _assert_plain_interrupt(interrupt)

    state = await drv.client.threads.get_state(t)
    assert state["next"] == ["agent"]
    [task] = state["tasks"]
    assert (task["id"], task["name"], task["state"]) == (task_id, "agent", None)
    assert _is_subgraph_config(task["checkpoint"], t), task["checkpoint"]
    assert "checkpoint_id" not in task["checkpoint"]
    [interrupt] = task["interrupts"]
    _assert_plain_interrupt(interrupt)

    nested = await drv.client.threads.get_state(t, subgraphs=True)
    [task] = nested["tasks"]
    assert task["checkpoint"] is None
    inner = task["state"]
    assert inner["values"]["steps"] == ["inner"]
    assert inner["next"] == ["ask"]
    assert inner["checkpoint"]["checkpoint_ns"] == inner["parent_checkpoint"]["checkpoint_ns"]
    assert inner["checkpoint"]["checkpoint_ns"].startswith("agent:")
    assert inner["checkpoint"]["checkpoint_map"][""] == nested["checkpoint"]["checkpoint_id"]
    [inner_task] = inner["tasks"]
    assert inner_task["name"] == "ask"
    assert (inner_task["checkpoint"], inner_task["state"]) == (None, None)
    _assert_plain_interrupt(inner_task["interrupts"][0])

    await _all_reads(drv, t)

    # the multi-agent HITL pattern: resume the subgraph's interrupt with Command(resume=...)
    out = await drv.client.runs.wait(t, "subhitl", command={"resume": "yes"})
    assert (out["answer"], out["log"]) == ("yes", ["outer", "done"])
    thread = await drv.wait_thread(t, "idle")
    assert thread["interrupts"] == {}
    state, nested, history, *_ = await _all_reads(drv, t)
    assert (state["next"], state["tasks"]) == ([], [])
    assert nested == state
    # the checkpoint that was paused in the subgraph still reads the same
    paused = [s for s in history if s["next"] == ["agent"]]
    assert paused and all(_is_subgraph_config(s["tasks"][0]["checkpoint"], t) for s in paused)


@pytest.mark.parametrize("strategy", ["interrupt", "rollback", "enqueue"])
async def test_double_texting_inside_a_subgraph(drv: Any, strategy: str) -> None:
    t = await drv.thread()
    first = await drv.create(t, "subslow", input={"delay": 1.5})

    async def inside_the_subgraph() -> Any:
        state = await drv.client.threads.get_state(t, subgraphs=True)  # while busy, too
        tasks = state["tasks"]
        inner = tasks[0]["state"] if tasks and tasks[0]["name"] == "agent" else None
        return inner is not None and "x" in (inner["values"].get("steps") or [])

    await drv.until(inside_the_subgraph, "the first run inside the subgraph, past x")
    second = await drv.create(
        t, "subslow", input={"delay": 0, "log": ["second"]}, multitask_strategy=strategy
    )
    await drv.client.runs.join(t, second)
    thread = await drv.wait_thread(t, "idle")
    first_run = await drv.run_or_none(t, first)
    expected_first = {"interrupt": "interrupted", "rollback": None, "enqueue": "success"}
    assert (None if first_run is None else first_run["status"]) == expected_first[strategy]
    log = thread["values"]["log"]
    expected_log = {
        "interrupt": ["outer", "second", "outer", "done"],  # the first run's completed step
        "rollback": ["second", "outer", "done"],
        "enqueue": ["outer", "done", "second", "outer", "done"],
    }
    assert log == expected_log[strategy]
    state, nested, history, *_ = await _all_reads(drv, t)
    assert (state["next"], nested["next"]) == ([], [])
    assert state["values"] == nested["values"] == thread["values"]
    assert all(s["metadata"]["run_id"] != first for s in history) == (strategy == "rollback")


async def test_remote_graph_reads_subgraph_state(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "subhitl", input={})
    await drv.wait_thread(t, "interrupted")
    remote = RemoteGraph("subhitl", client=drv.client)
    config = {"configurable": {"thread_id": t}}
    snapshot = await remote.aget_state(config)
    assert snapshot.next == ("agent",)
    assert snapshot.values["log"] == ["outer"]
    [task] = snapshot.tasks
    assert task.name == "agent"
    nested = await remote.aget_state(config, subgraphs=True)
    inner = nested.tasks[0].state
    assert inner is not None and inner.next == ("ask",)  # type: ignore[union-attr]
    history = [s async for s in remote.aget_state_history(config, limit=10)]
    assert [s.next for s in history][:2] == [("agent",), ("outer",)]
    newest = history[0].config["configurable"]["checkpoint_id"]
    assert newest == snapshot.config["configurable"]["checkpoint_id"]


async def test_a_subgraphs_state_by_its_namespace(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "subhitl", input={})
    await drv.wait_thread(t, "interrupted")
    state = await drv.client.threads.get_state(t)
    nested = await drv.client.threads.get_state(t, subgraphs=True)
    inner = nested["tasks"][0]["state"]
    # a task's `checkpoint` (no checkpoint_id: the subgraph's latest) and the nested
    # state's own checkpoint read the same subgraph state
    by_task = await drv.client.threads.get_state(t, checkpoint=state["tasks"][0]["checkpoint"])
    by_checkpoint = await drv.client.threads.get_state(t, checkpoint=inner["checkpoint"])
    assert by_task["values"] == by_checkpoint["values"] == inner["values"]
    assert by_task["next"] == by_checkpoint["next"] == ["ask"]
    history = await drv.client.threads.get_history(t, checkpoint=state["tasks"][0]["checkpoint"])
    assert [s["values"]["steps"] for s in history] == [["inner"], [], []]
    assert {s["checkpoint"]["checkpoint_ns"] for s in history} == {
        state["tasks"][0]["checkpoint"]["checkpoint_ns"]
    }
    # a namespace with no checkpoints: the empty state, on both
    resp = await drv.http.post(
        f"/threads/{t}/state/checkpoint", json={"checkpoint": {"checkpoint_ns": "nowhere:1"}}
    )
    assert resp.status_code == 200
    assert (resp.json()["values"], resp.json()["checkpoint"]) == ({}, None)
