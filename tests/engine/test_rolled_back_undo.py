"""Rollback you can undo: a rolled-back run's checkpoints are kept as a hidden branch.

Every SDK endpoint still sees the run as gone (404; the thread's state and history as
if its checkpoints were deleted); `/nbruns/threads/{id}/rolled_back` lists the branch
with the state it had got to, and `.../restore` writes that state back on top of the
thread's head (history keeps everything). `keep_rolled_back_s=0` keeps nothing.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns.views._rolled_back import restore, rolled_back_frame
from tests.helpers import Gates, wait_for_status, wait_until


class State(TypedDict, total=False):
    messages: Annotated[list[Any], add_messages]
    gate: str


def two_step_graph(gates: Gates) -> Any:
    """`first` then `second`; `second` waits at the gate the input names."""

    # messages with ids: a message without one gets a new random id each time a reducer
    # applies it, so the same state could read differently
    async def first(state: State) -> State:
        n = len(state.get("messages", []))
        return {"messages": [{"role": "ai", "content": "first", "id": f"first-{n}"}]}

    async def second(state: State) -> State:
        if gate := state.get("gate"):
            await gates[gate].passage()
        n = len(state.get("messages", []))
        return {"messages": [{"role": "ai", "content": "second", "id": f"second-{n}"}]}

    builder = StateGraph(State)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    return builder.compile()


def said(text: str, gate: str | None = None) -> dict[str, Any]:
    message = {"role": "human", "content": text, "id": f"human-{text}"}
    return {"messages": [message], **({"gate": gate} if gate else {})}


async def listed(client: Any, thread_id: str) -> list[dict[str, Any]]:
    return await client.http.get(f"/nbruns/threads/{thread_id}/rolled_back")  # type: ignore[no-any-return]


async def restored(client: Any, thread_id: str, run_id: str) -> dict[str, Any]:
    path = f"/nbruns/threads/{thread_id}/rolled_back/{run_id}/restore"
    return await client.http.post(path, json=None)  # type: ignore[no-any-return]


def ids(history: list[dict[str, Any]]) -> list[str]:
    return [s["checkpoint_id"] for s in history]


async def _three(found: Any) -> Any:
    got = await found
    return got if len(got) == 3 else None  # its input, then after `__start__` and `first`


async def held_then_rolled_back(client: Any, gates: Gates, tid: str, gate: str) -> dict[str, Any]:
    """A run that finished `first` and waits in `second`, rolled back by the client.
    What the thread showed while it waited: its run id, state and checkpoint count."""
    run = await client.runs.create(tid, "g", input=said("hold", gate))
    await gates[gate].reached()

    async def its_checkpoints() -> list[dict[str, Any]]:
        history = await client.threads.get_history(tid, limit=100)
        return [s for s in history if s["metadata"].get("run_id") == run["run_id"]]

    # LangGraph saves a step's checkpoint in the background: wait for `first`'s
    written = await wait_until(lambda: _three(its_checkpoints()), "the run's checkpoints")
    state = await client.threads.get_state(tid)
    await client.runs.cancel(tid, run["run_id"], action="rollback", wait=True)
    return {"run_id": run["run_id"], "values": state["values"], "checkpoints": len(written)}


async def test_a_rollback_is_listed_and_restored_exactly(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(tid, "g", input=said("hello"))
        before_state = await client.threads.get_state(tid)
        before_history = await client.threads.get_history(tid, limit=100)

        gone = await held_then_rolled_back(client, gates, tid, "a")
        assert gone["checkpoints"] == 3  # its input, then after `__start__` and `first`
        assert [m["content"] for m in gone["values"]["messages"]][-2:] == ["hold", "first"]

        # every SDK endpoint reads as when the checkpoints are deleted
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, gone["run_id"])
        assert await client.threads.get_state(tid) == before_state
        assert await client.threads.get_history(tid, limit=100) == before_history
        assert (await client.threads.get(tid))["values"] == before_state["values"]

        [branch] = await listed(client, tid)
        assert branch["run_id"] == gone["run_id"]
        assert branch["values"] == gone["values"]
        assert branch["checkpoints"] == gone["checkpoints"]
        assert branch["superseded_by"] is None and branch["cancel_reason"]
        assert branch["expires_at"] > branch["rolled_back_at"]

        state = await restored(client, tid, gone["run_id"])
        assert state["values"] == gone["values"]
        assert await client.threads.get_state(tid) == state
        assert state["next"] == ["second"]  # where the run had got to
        history = await client.threads.get_history(tid, limit=100)
        assert ids(history) == [state["checkpoint_id"], *ids(before_history)]
        assert state["parent_checkpoint_id"] == before_state["checkpoint_id"]
        assert (await client.threads.get(tid))["values"] == gone["values"]
        timeline = await client.http.get("/nbruns/timeline", params={"thread_id": tid})
        [event] = [e for e in timeline if e["kind"] == "restored"]
        assert (event["run_id"], event["checkpoint_id"]) == (
            gone["run_id"],
            state["checkpoint_id"],
        )

        # the next run goes on from the restored state (its gate, "a", included)
        gates["a"].open()
        after = await client.runs.wait(tid, "g", input=said("again"))
        contents = [m["content"] for m in after["messages"]]
        assert contents == [
            *(m["content"] for m in gone["values"]["messages"]),
            "again",
            "first",
            "second",
        ]
        # kept until it expires: restorable again, onto the new head
        again = await restored(client, tid, gone["run_id"])
        assert again["values"] == gone["values"]
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


async def test_restore_refuses_a_busy_thread_and_unknown_runs(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        other = (await client.threads.create())["thread_id"]
        gone = await held_then_rolled_back(client, gates, tid, "a")
        busy = await client.runs.create(tid, "g", input=said("busy", "b"))
        await wait_for_status(client, tid, busy["run_id"], "running")
        with pytest.raises(ConflictError, match="in-flight runs"):
            await restored(client, tid, gone["run_id"])
        pending = await client.runs.create(tid, "g", input=said("queued"))
        gates["b"].open()
        await client.runs.join(tid, pending["run_id"])
        state = await client.threads.get_state(tid)
        with pytest.raises(NotFoundError, match="no rolled-back run"):
            await restored(client, tid, str(uuid.uuid4()))
        with pytest.raises(NotFoundError):  # a run of another thread
            await restored(client, other, gone["run_id"])
        with pytest.raises(NotFoundError):
            await listed(client, str(uuid.uuid4()))
        assert await client.threads.get_state(tid) == state  # nothing changed
        assert await listed(client, other) == []
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


async def test_a_rollback_strategy_keeps_what_it_replaced(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        first = await client.runs.create(tid, "g", input=said("one", "a"))
        await gates["a"].reached()
        held = await client.threads.get_state(tid)
        second = await client.runs.create(
            tid, "g", input=said("two"), multitask_strategy="rollback"
        )
        await client.runs.join(tid, second["run_id"])
        [branch] = await listed(client, tid)
        assert (branch["run_id"], branch["superseded_by"]) == (first["run_id"], second["run_id"])
        assert branch["values"] == held["values"]
        state = await restored(client, tid, first["run_id"])
        assert state["values"] == held["values"]
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


async def test_keep_zero_keeps_nothing(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)}, keep_rolled_back_s=0)
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(tid, "g", input=said("hello"))
        before = await client.threads.get_history(tid, limit=100)
        gone = await held_then_rolled_back(client, gates, tid, "a")
        assert await listed(client, tid) == []
        with pytest.raises(NotFoundError):
            await restored(client, tid, gone["run_id"])
        assert await client.threads.get_history(tid, limit=100) == before
        # and nothing hidden is left in the checkpointer either
        assert set(server.executor.saver.storage) == {tid}  # type: ignore[union-attr]
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


async def test_expired_branches_are_dropped(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)}, keep_rolled_back_s=60)
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        gone = await held_then_rolled_back(client, gates, tid, "a")
        assert [b["run_id"] for b in await listed(client, tid)] == [gone["run_id"]]
        saver: Any = server.executor.saver
        assert len(saver.storage) == 2  # the thread and its hidden branch
        server.executor.rolled_back.clock = lambda: time.time() + 61
        assert await listed(client, tid) == []
        with pytest.raises(NotFoundError, match="expired"):
            await restored(client, tid, gone["run_id"])
        assert set(saver.storage) == {tid}
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


@pytest.mark.parametrize("keep", [-1, "60", float("nan"), True])
def test_bad_keep_values_are_refused(keep: Any) -> None:
    with pytest.raises(ValueError, match=r"keep_rolled_back_s=.*expected a number of seconds"):
        nbruns.Server(keep_rolled_back_s=keep)
    with pytest.raises(ValueError, match="keep_rolled_back_s"):
        nbruns.get_client(url="http://127.0.0.1:1", keep_rolled_back_s=60)


async def test_the_frame_and_restore_with_async_and_sync_clients(gates: Gates) -> None:
    server = nbruns.Server({"g": two_step_graph(gates)})
    try:
        client, sync = server.client(), server.sync_client()
        tid = (await client.threads.create())["thread_id"]
        empty = await rolled_back_frame(client, tid)
        assert empty.empty and list(empty.columns)[:2] == ["run_id", "rolled_back_at"]
        old = await held_then_rolled_back(client, gates, tid, "a")
        new = await held_then_rolled_back(client, gates, tid, "b")
        frame = await rolled_back_frame(client, tid)
        assert list(frame["run_id"]) == [new["run_id"], old["run_id"]]  # newest first
        assert list(frame["checkpoints"]) == [new["checkpoints"], old["checkpoints"]]
        assert str(frame["rolled_back_at"].dtype) == "datetime64[us, UTC]"
        assert frame.equals(rolled_back_frame(sync, tid))
        state = await restore(client, tid, old["run_id"])
        assert state["values"] == old["values"]
        state = restore(sync, tid, new["run_id"])
        assert state["values"] == new["values"]
        assert (await client.threads.get_state(tid))["values"] == new["values"]
        with pytest.raises(NotFoundError):
            restore(sync, tid, str(uuid.uuid4()))
        await client.aclose()
        sync.close()
    finally:
        gates.open_all()
        await server.aclose()


async def test_a_durable_server_keeps_branches_across_a_restart(
    tmp_path: Path, gates: Gates
) -> None:
    path = tmp_path / "db.sqlite"
    first = nbruns.Server({"g": two_step_graph(gates)}, path=path)
    try:
        client = first.client()
        tid = (await client.threads.create())["thread_id"]
        # the thread's only run: restored onto a thread with no checkpoint left
        gone = await held_then_rolled_back(client, gates, tid, "a")
        assert (await client.threads.get_state(tid))["values"] == {}
        [before] = await listed(client, tid)
        await client.aclose()
    finally:
        gates.open_all()
        await first.aclose()

    second = nbruns.Server({"g": two_step_graph(gates)}, path=path)
    try:
        client = second.client()
        assert await listed(client, tid) == [before]
        assert (await client.threads.get_state(tid))["values"] == {}
        assert await client.threads.get_history(tid) == []
        state = await restored(client, tid, gone["run_id"])
        assert state["values"] == gone["values"]
        gates["a"].open()  # the restored state names it
        done = await client.runs.wait(tid, "g", input=said("on"))
        assert [m["content"] for m in done["messages"]] == [
            "hold", "first", "on", "first", "second"
        ]  # fmt: skip
        await client.aclose()
    finally:
        await second.aclose()
    third = nbruns.Server({"g": two_step_graph(gates)}, path=path)
    try:
        client = third.client()
        assert [b["run_id"] for b in await listed(client, tid)] == [gone["run_id"]]
        await client.aclose()
    finally:
        await third.aclose()
