"""Every way a run is stopped records its `cancel_source` on the run's record.

The executor runs on the test's own loop, without HTTP; runs are held in a node on
an asyncio gate the test opens, so the order of events is forced, never timed.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from nbruns._core._errors import InvalidInput
from nbruns._core._records import RunRecord
from nbruns._engine._executor import LOOP_TEARDOWN, Executor, RunSpec


class Gate:
    """A node waits on it until the test opens it; the test waits until it is reached."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()


class Gates(dict[str, Gate]):
    def __missing__(self, tag: str) -> Gate:
        gate = self[tag] = Gate()
        return gate

    def open_all(self) -> None:
        for gate in self.values():
            gate.opened.set()


class State(TypedDict, total=False):
    tag: str
    log: Annotated[list[str], operator.add]


class Crash(BaseException):
    """Not an Exception: what nbruns does not expect a node to raise (Ctrl-C is one)."""


def graphs(gates: Gates) -> dict[str, Any]:
    async def hold(state: State) -> State:
        gate = gates[state["tag"]]
        gate.reached.set()
        await gate.opened.wait()
        return {"log": [state["tag"]]}

    async def crash(state: State) -> State:
        raise Crash

    async def own_timeout(state: State) -> State:
        raise TimeoutError("the node's own deadline, not the server's")

    def one_node(node: Any) -> Any:
        builder = StateGraph(State)
        builder.add_node("node", node)
        builder.add_edge(START, "node")
        builder.add_edge("node", END)
        return builder.compile()

    return {"hold": one_node(hold), "crash": one_node(crash), "own_timeout": one_node(own_timeout)}


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
async def ex(gates: Gates) -> AsyncIterator[Executor]:
    executor = Executor()
    executor.register_graphs(graphs(gates))
    yield executor
    gates.open_all()
    await executor.aclose()


def start(
    ex: Executor, thread_id: str, tag: str, *, graph: str = "hold", strategy: Any = "enqueue"
) -> RunRecord:
    spec = RunSpec(assistant_id=graph, input={"tag": tag}, multitask_strategy=strategy)
    run, _ = ex.create_run(thread_id, spec)
    return run


def record(ex: Executor, run: RunRecord) -> RunRecord:
    return ex.store.runs[run.run_id]


async def ended(ex: Executor, run: RunRecord) -> RunRecord:
    await ex.outcome(run.run_id)
    return record(ex, run)


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
async def test_superseded(ex: Executor, gates: Gates, strategy: str) -> None:
    tid = ex.create_thread().thread_id
    running = start(ex, tid, "r1")
    await gates["r1"].reached.wait()
    pending = start(ex, tid, "r2")
    newest = start(ex, tid, "r3", strategy=strategy)
    # create_run stops both before it returns; a running run's record stays until its
    # task has stopped, even a rolled-back one (hidden from clients meanwhile)
    stopping = record(ex, running)
    assert (stopping.phase, stopping.cancel_action) == ("stopping", strategy)
    assert stopping.cancel_source == "superseded"
    assert stopping.superseded_by == newest.run_id
    if strategy == "interrupt":
        assert record(ex, pending).cancel_source == "superseded"
        assert (await ended(ex, running)).cancel_source == "superseded"
    else:  # rollback deletes both records, as it deletes the runs
        assert pending.run_id not in ex.store.runs
        await ex.outcome(running.run_id)
        assert running.run_id not in ex.store.runs
    gates["r3"].opened.set()
    finished = await ended(ex, newest)
    assert (finished.phase, finished.cancel_source) == ("success", None)


async def test_client_cancel_and_cancel_many(ex: Executor, gates: Gates) -> None:
    tid = ex.create_thread().thread_id
    running = start(ex, tid, "r1")
    await gates["r1"].reached.wait()
    pending = start(ex, tid, "r2")
    assert ex.cancel_many(status="pending") == 1
    assert record(ex, pending).cancel_source == "client"
    ex.cancel(tid, running.run_id, "interrupt")
    stopped = await ended(ex, running)
    assert (stopped.phase, stopped.cancel_source) == ("interrupted", "client")
    assert stopped.cancel_reason == "cancelled by client (action=interrupt)"


async def test_a_cancel_action_is_checked(ex: Executor, gates: Gates) -> None:
    tid = ex.create_thread().thread_id
    running = start(ex, tid, "r1")
    message = r"^Invalid cancel action 'sideways': use one of \('interrupt', 'rollback'\)$"
    with pytest.raises(InvalidInput, match=message):
        ex.cancel(tid, running.run_id, "sideways")
    with pytest.raises(InvalidInput, match=message):
        ex.cancel_many(thread_id=tid, action="sideways")
    assert record(ex, running).cancel_source is None  # nothing was stopped


async def test_shutdown(ex: Executor, gates: Gates) -> None:
    tid = ex.create_thread().thread_id
    running = start(ex, tid, "r1")
    await gates["r1"].reached.wait()
    pending = start(ex, tid, "r2")
    await ex.aclose("the test closed the server")
    for run in (running, pending):
        stopped = record(ex, run)
        assert (stopped.phase, stopped.cancel_source) == ("interrupted", "shutdown")
        assert stopped.cancel_reason == "the test closed the server"


def _run_task_of(run: RunRecord) -> asyncio.Task[Any]:
    # what a loop being torn down sees: its tasks, by name
    (task,) = [t for t in asyncio.all_tasks() if t.get_name() == f"nbruns-run-{run.run_id}"]
    return task


@pytest.mark.parametrize("when", ["before its first step", "in a node"])
async def test_loop_teardown(ex: Executor, gates: Gates, when: str) -> None:
    tid = ex.create_thread().thread_id
    running = start(ex, tid, "r1")
    if when == "in a node":
        await gates["r1"].reached.wait()
    task = _run_task_of(running)
    task.cancel()  # not asked by the executor: the loop is going away
    await asyncio.wait([task])
    stopped = record(ex, running)
    assert (stopped.phase, stopped.cancel_source) == ("interrupted", "shutdown")
    assert stopped.cancel_reason == LOOP_TEARDOWN


async def test_run_timeout(gates: Gates) -> None:
    ex = Executor(run_timeout=0.05)  # the deadline is the feature here, not an ordering
    ex.register_graphs(graphs(gates))
    try:
        tid = ex.create_thread().thread_id
        held = start(ex, tid, "r1")  # its gate never opens
        timed_out = await ended(ex, held)
        assert (timed_out.phase, timed_out.cancel_source) == ("timeout", "run_timeout")
        own = await ended(ex, start(ex, tid, "r2", graph="own_timeout"))
        # a node's own TimeoutError is an error like any other, as on the reference
        assert (own.phase, own.cancel_source) == ("error", None)
        assert own.error == {
            "error": "TimeoutError",
            "message": "the node's own deadline, not the server's",
        }
    finally:
        gates.open_all()
        await ex.aclose()


async def test_crashed(ex: Executor) -> None:
    tid = ex.create_thread().thread_id
    run = start(ex, tid, "r1", graph="crash")
    task = _run_task_of(run)
    await asyncio.wait([task])
    assert isinstance(task.exception(), Crash)
    stopped = record(ex, run)
    assert (stopped.phase, stopped.cancel_source) == ("interrupted", "crashed")
    assert stopped.cancel_reason == "stopped: its task raised Crash"
