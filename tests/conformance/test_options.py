"""Run options and thread operations, on every target: stateless runs, if_not_exists,
update_state while busy, breakpoints and dynamic interrupts, forking from a
checkpoint, history defaults."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError


async def test_stateless_wait(drv: Any) -> None:
    out = await drv.client.runs.wait(None, "slow", input={})
    assert out["log"] == ["a", "b", "c"]


async def test_stateless_stream(drv: Any) -> None:
    parts = [
        p.event async for p in drv.client.runs.stream(None, "slow", input={}, stream_mode="updates")
    ]
    assert parts == ["metadata", "updates", "updates", "updates"]


async def test_if_not_exists(drv: Any, new_uuid: Any) -> None:
    missing = new_uuid()
    with pytest.raises(NotFoundError) as err:
        await drv.client.runs.create(missing, "slow", input={})
    assert "Thread or assistant not found." in str(err.value)
    with pytest.raises(NotFoundError):
        await drv.client.threads.get(missing)

    t = drv.track(new_uuid())
    run = await drv.client.runs.create(t, "slow", input={}, if_not_exists="create")
    assert run["thread_id"] == t
    assert (await drv.client.runs.join(t, run["run_id"]))["log"] == ["a", "b", "c"]
    thread = await drv.wait_thread(t, "idle")
    assert thread["metadata"]["graph_id"] == "slow"


async def test_update_state_while_busy(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=0.5, log=["x"])
    with pytest.raises(ConflictError):
        await drv.client.threads.update_state(t, {"log": ["manual"]})
    resp = await drv.http.post(f"/threads/{t}/state", json={"values": {"log": ["manual"]}})
    assert resp.status_code == 409
    assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]

    await drv.client.runs.join(t, r1)
    await drv.wait_thread(t, "idle")
    update = await drv.client.threads.update_state(t, {"log": ["manual"]})
    assert update["checkpoint"]["checkpoint_id"]
    assert await drv.log(t) == ["x", "a", "b", "c", "manual"]


async def test_interrupt_before_and_resume(drv: Any) -> None:
    t = await drv.thread()
    out = await drv.client.runs.wait(t, "hitl", input={}, interrupt_before=["b"])
    assert out["log"] == ["a"]
    run = (await drv.client.runs.list(t))[0]
    assert run["status"] == "success"  # a breakpoint is not a cancellation
    thread = await drv.wait_thread(t, "interrupted")
    assert thread["interrupts"] == {}
    assert (await drv.client.threads.get_state(t))["next"] == ["b"]

    out = await drv.client.runs.wait(t, "hitl", input=None)
    assert out["log"] == ["a", "b"]
    await drv.wait_thread(t, "idle")
    assert (await drv.client.threads.get_state(t))["next"] == []


async def test_dynamic_interrupt_and_resume(drv: Any) -> None:
    t = await drv.thread()
    out = await drv.client.runs.wait(t, "dyn", input={})
    (pending,) = out["__interrupt__"]
    assert pending["value"] == {"question": "ok?"}
    # paused in the first node: the checkpoint's values come beside the interrupt
    assert {k: v for k, v in out.items() if k != "__interrupt__"} == {"messages": [], "log": []}
    assert (await drv.client.runs.list(t))[0]["status"] == "success"
    thread = await drv.wait_thread(t, "interrupted")
    (task_interrupts,) = thread["interrupts"].values()
    assert [i["value"] for i in task_interrupts] == [{"question": "ok?"}]
    state = await drv.client.threads.get_state(t)
    assert state["next"] == ["ask"]
    assert [i["value"] for i in state["interrupts"]] == [{"question": "ok?"}]

    out = await drv.client.runs.wait(t, "dyn", command={"resume": "yes"})
    assert out["answer"] == "yes"
    assert out["log"] == ["ask"]
    thread = await drv.wait_thread(t, "idle")
    assert thread["interrupts"] == {}


async def test_fork_from_checkpoint(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={})
    history = await drv.client.threads.get_history(t, limit=100)
    (at_b,) = [h for h in history if h["next"] == ["b"]]
    assert at_b["values"]["log"] == ["a"]
    cp = at_b["checkpoint"]["checkpoint_id"]

    out = await drv.client.runs.wait(t, "slow", input=None, checkpoint_id=cp)
    assert out["log"] == ["a", "b", "c"]  # b and c re-ran on top of the fork point
    await drv.wait_thread(t, "idle")
    history = await drv.client.threads.get_history(t, limit=100)
    fork_runs = {h["metadata"]["run_id"] for h in history[:2]}
    assert len(fork_runs) == 1
    # the fork's first checkpoint descends from the chosen one
    chain = {h["checkpoint"]["checkpoint_id"]: h for h in history}
    node = history[0]
    while node["parent_checkpoint"] and node["metadata"]["run_id"] in fork_runs:
        node = chain[node["parent_checkpoint"]["checkpoint_id"]]
    assert node["checkpoint"]["checkpoint_id"] == cp

    # new input on a fork starts a fresh __start__ step
    out = await drv.client.runs.wait(t, "slow", input={}, checkpoint={"checkpoint_id": cp})
    assert out["log"] == ["a", "a", "b", "c"]


async def test_history_default_limit(drv: Any) -> None:
    t = await drv.thread()
    for _ in range(3):  # 3 runs of 5 checkpoints each
        await drv.client.runs.wait(t, "slow", input={})
    await drv.wait_thread(t, "idle")
    assert len(await drv.client.threads.get_history(t)) == 10  # the SDK sends limit=10
    assert len(await drv.client.threads.get_history(t, limit=100)) == 15
    get = (await drv.http.get(f"/threads/{t}/history")).json()
    post = (await drv.http.post(f"/threads/{t}/history", json={})).json()
    if drv.is_reference:
        # the reference's server-side default is 1 state
        assert (len(get), len(post)) == (1, 1)
    else:
        # nbruns uses the SDK's default, 10
        assert (len(get), len(post)) == (10, 10)
    assert get[0]["checkpoint"] == post[0]["checkpoint"]
    assert get[0]["values"]["log"] == ["a", "b", "c"] * 3
