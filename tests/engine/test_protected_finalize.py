"""A stop that lands while a run records its own end waits for that to finish.

A run that ended by itself (here: its node raised, or paused at `interrupt()`)
still awaits the checkpointer to refresh its thread's head before its record is
final. With the SQLite saver that await really yields, so a client's cancel or a
superseding run can arrive right then. The stop must not cancel that work, nor
be taken for the event loop being torn down (which stops the whole server); the
run ends as the stop asked, and the next run on the server runs.

The refresh is held on a gate the test opens: the checkpointer's read of the
thread, armed by the node just before the run ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from langgraph_sdk.errors import NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns._engine._executor import LOOP_TEARDOWN, Executor, RunSpec
from nbruns._persistence._checkpoints import NbrunsMemorySaver
from tests.helpers import Gate, wait_until


class State(TypedDict, total=False):
    ending: str
    answer: str


class HeldRead:
    """Holds the checkpointer's next read of a thread once a node has armed it."""

    def __init__(self) -> None:
        self.armed = threading.Event()
        self.gate = Gate("head refresh")


def graph(held: HeldRead) -> Any:
    async def node(state: State) -> State:
        if state.get("ending") == "error":
            held.armed.set()
            raise ValueError("the node failed")
        if state.get("ending") == "paused":
            held.armed.set()
            return {"answer": interrupt("a question")}
        return {"answer": "done"}

    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile()


@pytest.fixture
def held() -> HeldRead:
    return HeldRead()


@pytest.fixture
def server(tmp_path: Path, held: HeldRead) -> Iterator[nbruns.Server]:
    server = nbruns.Server({"g": graph(held)}, path=tmp_path / "db.sqlite")
    saver = server.executor.saver
    read = saver.aget_tuple

    async def held_read(config: Any) -> Any:
        if held.armed.is_set():
            held.armed.clear()
            await held.gate.passage()
        return await read(config)

    saver.aget_tuple = held_read  # type: ignore[method-assign]
    try:
        yield server
    finally:
        held.gate.open()
        server.close()


STOPS = [
    pytest.param("cancel", "interrupt", id="cancel-interrupt"),
    pytest.param("cancel", "rollback", id="cancel-rollback"),
    pytest.param("supersede", "interrupt", id="superseded-interrupt"),
    pytest.param("supersede", "rollback", id="superseded-rollback"),
]


@pytest.mark.parametrize("ending", ["error", "paused"])
@pytest.mark.parametrize(("how", "action"), STOPS)
async def test_a_stop_during_finalization_is_not_a_teardown(
    server: nbruns.Server, held: HeldRead, ending: str, how: str, action: Any
) -> None:
    client = server.client()
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "g", input={"ending": ending})
    await held.gate.reached()  # the node is done; the run awaits its head refresh
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "running"

    successor = None
    if how == "cancel":
        await client.runs.cancel(tid, run["run_id"], action=action)
    else:
        successor = await client.runs.create(
            tid, "g", input={"ending": "success"}, multitask_strategy=action
        )
    held.gate.open()
    await client.runs.join(tid, run["run_id"])

    assert not server.executor._closed  # the server was not shut down
    if action == "rollback":  # a rollback deletes its run
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, run["run_id"])
    else:
        stopped = await client.runs.get(tid, run["run_id"])
        source = "client" if how == "cancel" else "superseded"
        assert (stopped["status"], stopped["cancel_source"]) == ("interrupted", source)
    if successor is not None:
        assert (await client.runs.join(tid, successor["run_id"])) == {
            "ending": "success",
            "answer": "done",
        }
        assert (await client.runs.get(tid, successor["run_id"]))["status"] == "success"

    # a later run on the same server, on the same thread, runs
    later = await client.runs.wait(tid, "g", input={"ending": "success"})
    assert later == {"ending": "success", "answer": "done"}
    thread = await wait_until(
        lambda: _idle(client, tid), f"thread {tid} to be idle after the later run"
    )
    assert thread["values"] == later
    await client.aclose()


async def _idle(client: Any, tid: str) -> Any:
    thread = await client.threads.get(tid)
    return thread if thread["status"] == "idle" else None


async def test_the_loop_torn_down_during_finalization_still_stops_everything() -> None:
    """Protected from stops, not from the event loop going away: that still ends the
    run as interrupted by a shutdown and closes the executor (on the test's loop)."""
    held = HeldRead()

    class HeldSaver(NbrunsMemorySaver):
        async def aget_tuple(self, config: Any) -> Any:
            if held.armed.is_set():
                held.armed.clear()
                await held.gate.passage()
            return await super().aget_tuple(config)

    ex = Executor(saver=HeldSaver())
    ex.register_graphs({"g": graph(held)})
    try:
        tid = ex.create_thread().thread_id
        run, _ = ex.create_run(tid, RunSpec(assistant_id="g", input={"ending": "error"}))
        await held.gate.reached()
        (task,) = [t for t in asyncio.all_tasks() if t.get_name() == f"nbruns-run-{run.run_id}"]
        task.cancel()  # not asked by the executor: the loop is going away
        await asyncio.wait([task])
        stopped = ex.store.runs[run.run_id]
        assert (stopped.phase, stopped.cancel_source) == ("interrupted", "shutdown")
        assert stopped.cancel_reason == LOOP_TEARDOWN
        assert ex._closed
    finally:
        held.gate.open()
        await ex.aclose()
