"""Faults, deterministically: failing nodes, cancels at every step boundary, blocking
sync nodes under interrupt and rollback, deleting a thread under a run, and clients
that disconnect from a stream.

Ordering comes from gates the test opens and states it waits for (bounded polls),
never from sleeps. Where a test shows that something does NOT happen, it first gives
the server every chance to do it wrongly: a whole sentinel run on another thread goes
through the same loop before the test looks.
"""

from __future__ import annotations

import asyncio
import operator
import time
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import NotFoundError
from typing_extensions import TypedDict

import nbruns
from tests.helpers import wait_for_status, wait_for_thread_status, wait_until

NODES = ("a", "b", "c")


class FaultState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    hold: list[str]  # nodes that wait on the gate "<tag>:<node>" before they write
    fail: str  # the node that raises (after its gate, if held)


def three_nodes(gates: Any, recorder: Any) -> Any:
    """a -> b -> c; node n appends "<tag>:<n>" and records "<tag>:<n>" as it writes."""

    def step(name: str) -> Any:
        async def node(state: FaultState) -> dict[str, Any]:
            tag = state["tag"]
            if name in state.get("hold", ()):
                await gates[f"{tag}:{name}"].passage()
            if state.get("fail") == name:
                raise RuntimeError(f"{tag} fails in {name}")
            recorder.add(f"{tag}:{name}")
            return {"log": [f"{tag}:{name}"]}

        return node

    builder = StateGraph(FaultState)
    for name in NODES:
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


def blocking(gates: Any, recorder: Any) -> Any:
    """One sync node: records "<tag>:start", blocks its worker thread on a
    threading.Event-backed gate when held, records "<tag>:end" once it returns."""

    def work(state: FaultState) -> dict[str, Any]:
        tag = state["tag"]
        recorder.add(f"{tag}:start")
        if "work" in state.get("hold", ()):
            gates[f"{tag}:work"].passage_sync()
        recorder.add(f"{tag}:end")
        return {"log": [f"{tag}:work"]}

    builder = StateGraph(FaultState)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile()


def stubborn(gates: Any, recorder: Any) -> Any:
    """a -> b -> c where a swallows one cancellation while it waits on "<tag>:a", as
    `asyncio.wait_for` does on Python 3.11 when the awaited future completes in the same
    loop iteration as the cancel, then waits on "<tag>:a2"."""

    async def a(state: FaultState) -> dict[str, Any]:
        tag = state["tag"]
        try:
            await gates[f"{tag}:a"].passage()
        except asyncio.CancelledError:
            recorder.add(f"{tag}:swallowed")
        await gates[f"{tag}:a2"].passage()
        recorder.add(f"{tag}:a")
        return {"log": [f"{tag}:a"]}

    def plain(name: str) -> Any:
        async def node(state: FaultState) -> dict[str, Any]:
            recorder.add(f"{state['tag']}:{name}")
            return {"log": [f"{state['tag']}:{name}"]}

        return node

    builder = StateGraph(FaultState)
    builder.add_node("a", a)
    builder.add_node("b", plain("b"))
    builder.add_node("c", plain("c"))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


@pytest.fixture
def server(make_server: Any, gates: Any, recorder: Any) -> nbruns.Server:
    return make_server(  # type: ignore[no-any-return]
        {
            "three": three_nodes(gates, recorder),
            "blocking": blocking(gates, recorder),
            "stubborn": stubborn(gates, recorder),
        }
    )


def ask(tag: str, hold: tuple[str, ...] = (), fail: str = "") -> dict[str, Any]:
    return {"tag": tag, "hold": list(hold), "fail": fail}


def steps(tag: str, upto: int = 3) -> list[str]:
    return [f"{tag}:{n}" for n in NODES[:upto]]


def keys(history: list[Any]) -> list[Any]:
    """What must not change in a checkpoint: ids, values, next."""
    return [
        (h["checkpoint_id"], h["parent_checkpoint_id"], h["values"], h["next"]) for h in history
    ]


def own(history: list[Any], run_id: str) -> list[Any]:
    return [h for h in history if (h["metadata"] or {}).get("run_id") == run_id]


async def new_thread(client: Any) -> str:
    return (await client.threads.create())["thread_id"]  # type: ignore[no-any-return]


async def done_run(client: Any, tid: str, tag: str, graph: str = "three") -> None:
    run = await client.runs.create(tid, graph, input=ask(tag))
    await client.runs.join(tid, run["run_id"])


async def sentinel(client: Any, tag: str) -> None:
    """A whole run on a thread of its own: many turns of the server loop go by."""
    tid = await new_thread(client)
    assert (await client.runs.wait(tid, "three", input=ask(tag)))["log"] == steps(tag)


async def at_step(client: Any, gates: Any, tid: str, run_id: str, k: int) -> None:
    """Wait until node k waits at its gate and the checkpoint before it is visible."""
    tag = "r1"
    await gates[f"{tag}:{NODES[k]}"].reached()

    async def probe() -> bool:
        state = await client.threads.get_state(tid)
        return bool(state["next"] == [NODES[k]] and state["metadata"].get("run_id") == run_id)

    await wait_until(probe, f"the checkpoint before {NODES[k]}")


async def loop_tasks(server: nbruns.Server, names: set[str]) -> list[str]:
    async def probe() -> list[str]:
        return [t.get_name() for t in asyncio.all_tasks() if t.get_name() in names]

    return await server.loop_thread.run_async(probe())


# -- a node raising at each position -------------------------------------------------


@pytest.mark.parametrize("position", range(3))
async def test_node_raises(client: Any, position: int) -> None:
    tid = await new_thread(client)
    await done_run(client, tid, "r0")
    before = keys(await client.threads.get_history(tid, limit=100))
    failing = NODES[position]
    run = await client.runs.create(tid, "three", input=ask("r1", fail=failing))
    body = await client.runs.join(tid, run["run_id"])
    assert body["__error__"]["error"] == "RuntimeError"
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "error"
    thread = await client.threads.get(tid)
    assert thread["status"] == "error"
    state = await client.threads.get_state(tid)
    # the steps before the failing one are kept, the failing one is next
    assert state["values"]["log"] == steps("r0") + steps("r1", position)
    assert state["next"] == [failing]
    history = await client.threads.get_history(tid, limit=100)
    assert len(own(history, run["run_id"])) == 2 + position  # input, start, one per step
    assert keys(history)[2 + position :] == before
    # the thread works again
    after = await client.runs.wait(tid, "three", input=ask("r2"))
    assert after["log"] == steps("r0") + steps("r1", position) + steps("r2")
    assert (await client.threads.get(tid))["status"] == "idle"


# -- cancelling at each step boundary ------------------------------------------------


@pytest.mark.parametrize("wait", [True, False])
@pytest.mark.parametrize("action", ["interrupt", "rollback"])
@pytest.mark.parametrize("boundary", range(3))
async def test_cancel_at_step_boundary(
    client: Any, gates: Any, recorder: Any, boundary: int, action: str, wait: bool
) -> None:
    tid = await new_thread(client)
    await done_run(client, tid, "r0")
    before = keys(await client.threads.get_history(tid, limit=100))
    before_state = await client.threads.get_state(tid)
    run = await client.runs.create(tid, "three", input=ask("r1", hold=NODES))
    rid = run["run_id"]
    for k in range(boundary):
        await at_step(client, gates, tid, rid, k)
        gates[f"r1:{NODES[k]}"].open()
    await at_step(client, gates, tid, rid, boundary)
    await client.runs.cancel(tid, rid, wait=wait, action=action)
    want_status = "interrupted" if action == "interrupt" else "idle"
    await wait_for_thread_status(client, tid, want_status)
    history = await client.threads.get_history(tid, limit=100)
    state = await client.threads.get_state(tid)
    if action == "rollback":
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, rid)
        assert keys(history) == before
        assert state["values"] == before_state["values"]
        assert state["checkpoint"] == before_state["checkpoint"]
        assert state["next"] == []
        kept = steps("r0")
    else:
        assert (await client.runs.get(tid, rid))["status"] == "interrupted"
        mine = own(history, rid)
        assert len(mine) == 2 + boundary
        assert keys(history)[len(mine) :] == before
        assert state["next"] == [NODES[boundary]]
        kept = steps("r0") + steps("r1", boundary)
    assert state["values"]["log"] == kept
    # the held node never wrote, even once its gate opens
    gates[f"r1:{NODES[boundary]}"].open()
    await sentinel(client, "s")
    assert f"r1:{NODES[boundary]}" not in recorder.labels()
    # and the thread works again
    assert (await client.runs.wait(tid, "three", input=ask("r2")))["log"] == kept + steps("r2")


# -- a blocking sync node under interrupt and rollback -------------------------------


@pytest.mark.parametrize("how", ["strategy", "cancel"])
@pytest.mark.parametrize("action", ["interrupt", "rollback"])
async def test_blocking_node_holds_its_thread(
    server: nbruns.Server,
    client: Any,
    gates: Any,
    recorder: Any,
    action: str,
    how: str,
) -> None:
    tid = await new_thread(client)
    await done_run(client, tid, "r0", "blocking")  # one graph per thread: history reads by it
    before = keys(await client.threads.get_history(tid, limit=100))
    r1 = await client.runs.create(tid, "blocking", input=ask("r1", hold=("work",)))
    await gates["r1:work"].reached()
    if how == "strategy":
        r2 = await client.runs.create(tid, "blocking", input=ask("r2"), multitask_strategy=action)
    else:
        await client.runs.cancel(tid, r1["run_id"], action=action)
        await sentinel(client, "s0")
        # stopping, not stopped: the run still holds its thread
        assert (await client.threads.get(tid))["status"] == "busy"
        r2 = await client.runs.create(tid, "blocking", input=ask("r2"))
    # r1 reads as stopped, yet its node still blocks a worker thread: r2 must wait
    if action == "interrupt":
        assert (await client.runs.get(tid, r1["run_id"]))["status"] == "interrupted"
    else:
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, r1["run_id"])
    await sentinel(client, "s")  # give a wrong executor every chance to start r2 now
    assert (await client.runs.get(tid, r2["run_id"]))["status"] == "pending"
    assert "r2:start" not in recorder.labels()
    assert (await client.threads.get(tid))["status"] == "busy"
    gates["r1:work"].open()
    result = await client.runs.join(tid, r2["run_id"])
    assert recorder.at("r2:start") > recorder.at("r1:end")
    # the blocked node's late result was dropped: r1 wrote nothing after the cancel
    assert result["log"] == ["r0:work", "r2:work"]
    history = await client.threads.get_history(tid, limit=100)
    rest = keys(history)[len(own(history, r2["run_id"])) :]
    if action == "rollback":
        assert rest == before
    else:  # r1 keeps its input and start checkpoints, and nothing from its node
        assert len(own(history, r1["run_id"])) == 2
        assert rest[2:] == before
    await wait_for_thread_status(client, tid, "idle")


# -- deleting a thread under a run ---------------------------------------------------


async def test_delete_thread_under_an_async_run(
    server: nbruns.Server, client: Any, gates: Any, recorder: Any
) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "three", input=ask("r1", hold=("b",)))
    rid = run["run_id"]
    await at_step(client, gates, tid, rid, 1)
    await client.threads.delete(tid)
    # its task is gone the moment delete returns
    assert await loop_tasks(server, {f"nbruns-run-{rid}"}) == []
    written = recorder.labels()
    assert written == ["r1:a"]
    gates["r1:b"].open()
    await sentinel(client, "s")
    assert recorder.labels() == [*written, "s:a", "s:b", "s:c"]  # nothing from r1
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, rid)
    with pytest.raises(NotFoundError):
        await client.threads.get_state(tid)
    assert tid not in [t["thread_id"] for t in await client.threads.search(limit=100)]


async def test_delete_thread_under_a_blocking_sync_node(
    server: nbruns.Server, client: Any, gates: Any, recorder: Any
) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "blocking", input=ask("r1", hold=("work",)))
    rid = run["run_id"]
    await gates["r1:work"].reached()
    deleting = asyncio.ensure_future(client.threads.delete(tid))

    async def hidden() -> bool:
        try:
            await client.runs.get(tid, rid)
        except NotFoundError:
            return True
        return False

    await wait_until(hidden, "the deleted thread's run to be cancelled")
    await sentinel(client, "s")
    # the node still blocks a worker thread, so the delete has not returned
    assert not deleting.done()
    gates["r1:work"].open()
    await deleting
    deleted_at = time.monotonic()
    assert recorder.at("r1:end") < deleted_at  # delete waited for the node to return
    assert await loop_tasks(server, {f"nbruns-run-{rid}"}) == []
    labels = recorder.labels()
    await sentinel(client, "s2")
    assert recorder.labels() == [*labels, "s2:a", "s2:b", "s2:c"]
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)
    with pytest.raises(NotFoundError):
        await client.threads.get_history(tid)


# -- clients that disconnect from a stream -------------------------------------------


@pytest.mark.parametrize("on_disconnect", ["cancel", "continue"])
async def test_stream_disconnect(
    client: Any, gates: Any, recorder: Any, on_disconnect: str
) -> None:
    tid = await new_thread(client)
    run_id = None
    async for part in client.runs.stream(
        tid,
        "three",
        input=ask("r1", hold=("b",)),
        stream_mode="updates",
        on_disconnect=on_disconnect,
    ):
        if part.event == "metadata":
            run_id = part.data["run_id"]
        elif part.event == "updates" and "a" in part.data:
            break  # the client goes away while b waits at its gate
    assert run_id is not None
    if on_disconnect == "cancel":
        await wait_for_status(client, tid, run_id, "interrupted")
        gates["r1:b"].open()
        await sentinel(client, "s")
        state = await client.threads.get_state(tid)
        assert state["values"]["log"] == ["r1:a"]
        assert state["next"] == ["b"]
        assert "r1:b" not in recorder.labels()
        await wait_for_thread_status(client, tid, "interrupted")
    else:
        await sentinel(client, "s")  # the disconnect has long been seen: still running
        assert (await client.runs.get(tid, run_id))["status"] == "running"
        gates["r1:b"].open()
        await wait_for_status(client, tid, run_id, "success")
        assert (await client.threads.get_state(tid))["values"]["log"] == steps("r1")
        await wait_for_thread_status(client, tid, "idle")


# -- a node that swallows a cancellation ---------------------------------------------


async def swallowed(recorder: Any) -> None:
    async def probe() -> bool:
        return "r1:swallowed" in recorder.labels()

    await wait_until(probe, "the node to swallow the cancellation")


@pytest.mark.parametrize("action", ["interrupt", "rollback"])
async def test_node_swallowing_a_cancel_keeps_no_late_steps(
    client: Any, gates: Any, recorder: Any, action: str
) -> None:
    """A cancelled run must not go on writing steps because one node ignored the cancel:
    nbruns cancels it again until it stops, keeps nothing it did after the cancel, and
    the thread is free once it has stopped (without the node's gate ever opening)."""
    tid = await new_thread(client)
    run = await client.runs.create(tid, "stubborn", input=ask("r1"))
    await gates["r1:a"].reached()
    await client.runs.cancel(tid, run["run_id"], action=action)
    await swallowed(recorder)

    async def settled() -> Any:
        thread = await client.threads.get(tid)
        return thread if thread["status"] != "busy" else None

    thread = await wait_until(settled, "the thread to be free again")
    gates["r1:a2"].open()  # too late now: the node was cancelled again while it waited
    await sentinel(client, "s")
    state = await client.threads.get_state(tid)
    assert (state["values"] or {}).get("log", []) == [], (
        f"the run went on after its {action}: {state['values']}"
    )
    # a's own code may run on (it ignored the cancel); nothing after it may start
    late = [x for x in recorder.labels() if x in ("r1:b", "r1:c")]
    assert not late, f"steps began after the {action}: {late}"
    assert thread["status"] == ("interrupted" if action == "interrupt" else "idle")


async def test_close_with_a_node_swallowing_a_cancel(
    server: nbruns.Server, client: Any, gates: Any, recorder: Any
) -> None:
    """Server.close() interrupts every run and waits for them: a node that ignores one
    cancellation must not make it wait until the node happens to return."""
    tid = await new_thread(client)
    await client.runs.create(tid, "stubborn", input=ask("r1"))
    await gates["r1:a"].reached()
    closing = asyncio.ensure_future(asyncio.to_thread(server.close))
    try:
        await swallowed(recorder)
        done, _ = await asyncio.wait({closing}, timeout=3)
        assert done, "Server.close() still waits for a run whose node swallowed the cancel"
    finally:
        gates["r1:a2"].open()
        await closing
