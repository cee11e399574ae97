"""The four multitask strategies on a busy thread, on every target.

R1 is a `slow` run (nodes a -> b -> c, each sleeping `delay` s) that is seen
`running` (and, where it matters, has finished node a) before the second run is
created. What the old run reads as, what the thread keeps and how the new run
continues must be the same on nbruns and on the reference.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError

REJECT_DETAIL = (
    "Thread is already running a task. Wait for it to finish or choose a different "
    "multitask strategy."
)


def run_ids(runs: list[dict[str, Any]]) -> list[str]:
    return [r["run_id"] for r in runs]


async def history(drv: Any, thread_id: str) -> list[dict[str, Any]]:
    return list(await drv.client.threads.get_history(thread_id, limit=100))


async def test_reject(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=5)

    # raw: 409 with the reference's detail
    resp = await drv.http.post(
        f"/threads/{t}/runs",
        json={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
    )
    assert resp.status_code == 409
    assert resp.json() == {"detail": REJECT_DETAIL}

    # SDK: create and stream raise ConflictError; wait raises a plain HTTPStatusError(409)
    with pytest.raises(ConflictError) as err:
        await drv.client.runs.create(t, "slow", input={}, multitask_strategy="reject")
    assert REJECT_DETAIL in str(err.value)
    with pytest.raises(ConflictError):
        async for _ in drv.client.runs.stream(t, "slow", input={}, multitask_strategy="reject"):
            pass
    with pytest.raises(httpx.HTTPStatusError) as err2:
        await drv.client.runs.wait(t, "slow", input={}, multitask_strategy="reject")
    assert err2.value.response.status_code == 409

    # nothing was stored, and R1 carries on
    runs = await drv.client.runs.list(t)
    assert run_ids(runs) == [r1]
    assert runs[0]["status"] == "running"
    assert (await drv.client.threads.get(t))["status"] == "busy"


async def test_reject_on_idle_thread_runs(drv: Any) -> None:
    t = await drv.thread()
    out = await drv.client.runs.wait(t, "slow", input={}, multitask_strategy="reject")
    assert out["log"] == ["a", "b", "c"]


async def test_interrupt(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=1.5)
    assert await drv.wait_log(t, 1) == ["a"]  # R1 finished node a; b is sleeping

    # R2's nodes sleep too, so R2 is still inflight while R1 is inspected below (the
    # reference's join of a finished run falls back to the thread's values)
    run2 = await drv.client.runs.create(
        t, "slow", input={"delay": 0.5}, multitask_strategy="interrupt"
    )
    r2 = run2["run_id"]
    assert run2["status"] == "pending"
    assert run2["multitask_strategy"] == "interrupt"

    # right after create returns: R1 reads interrupted, keeping the strategy it was created with
    old = await drv.client.runs.get(t, r1)
    assert old["status"] == "interrupted"
    assert old["multitask_strategy"] == "enqueue"
    thread_status = (await drv.client.threads.get(t))["status"]
    if (await drv.client.runs.get(t, r2))["status"] in ("pending", "running"):
        assert thread_status == "busy"  # R2 was inflight when the thread was read

    # R1's join answers the values at interruption
    assert (await drv.client.runs.join(t, r1))["log"] == ["a"]
    # R2 continues from R1's last checkpoint: a (R1), then a, b, c (R2)
    assert (await drv.client.runs.join(t, r2))["log"] == ["a", "a", "b", "c"]
    await drv.wait_thread(t, "idle")

    runs = await drv.client.runs.list(t)
    assert [(r["run_id"], r["status"]) for r in runs] == [(r2, "success"), (r1, "interrupted")]

    # R1's completed steps stay in the history, below R2's
    writers = [h["metadata"].get("run_id") for h in reversed(await history(drv, t))]
    assert r1 in writers and r2 in writers
    assert writers.index(r1) < writers.index(r2)
    assert writers[-1] == r2
    r1_states = [h for h in await history(drv, t) if h["metadata"].get("run_id") == r1]
    assert ["a"] in [h["values"].get("log") for h in r1_states]


async def test_rollback(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={})  # R0: log a, b, c
    await drv.wait_thread(t, "idle")
    before = await history(drv, t)
    state_before = await drv.client.threads.get_state(t)

    r1 = await drv.busy(t, delay=1.5)
    assert await drv.wait_log(t, 4) == ["a", "b", "c", "a"]  # R1 wrote a checkpoint

    run2 = await drv.client.runs.create(
        t, "slow", input={"delay": 0}, multitask_strategy="rollback"
    )
    r2 = run2["run_id"]

    # right after create returns: R1 is gone
    resp = await drv.http.get(f"/threads/{t}/runs/{r1}")
    assert resp.status_code == 404
    assert r1 not in run_ids(await drv.client.runs.list(t))

    # joining R1 answers 200 with an __error__ body
    assert await drv.client.runs.join(t, r1) == {
        "__error__": {"error": "HTTPException", "message": "404: Run not found"}
    }

    assert (await drv.client.runs.join(t, r2))["log"] == ["a", "b", "c", "a", "b", "c"]
    await drv.wait_thread(t, "idle")

    # none of R1's checkpoints remain; what was there before R1 is untouched
    after = await history(drv, t)
    assert all(h["metadata"].get("run_id") != r1 for h in after)
    kept = [h for h in after if h["metadata"].get("run_id") != r2]
    assert [h["checkpoint"]["checkpoint_id"] for h in kept] == [
        h["checkpoint"]["checkpoint_id"] for h in before
    ]
    # R2 started from the checkpoint R0 left
    first_r2 = [h for h in after if h["metadata"].get("run_id") == r2][-1]
    assert (
        first_r2["parent_checkpoint"]["checkpoint_id"]
        == (state_before["checkpoint"]["checkpoint_id"])
    )
    runs = await drv.client.runs.list(t)
    assert [r["run_id"] for r in runs][:1] == [r2]
    assert all(r["status"] == "success" for r in runs)


async def test_enqueue_fifo(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=0.3)
    # R2 with no strategy (the default is enqueue), R3 with enqueue
    run2 = await drv.client.runs.create(t, "slow", input={"log": ["R2"], "delay": 0})
    run3 = await drv.client.runs.create(
        t, "slow", input={"log": ["R3"], "delay": 0}, multitask_strategy="enqueue"
    )
    r2, r3 = run2["run_id"], run3["run_id"]
    assert run2["multitask_strategy"] == "enqueue"
    assert run3["multitask_strategy"] == "enqueue"

    listed = {r["run_id"]: r["status"] for r in await drv.client.runs.list(t)}
    assert listed[r2] == listed[r3] == "pending"

    await drv.client.runs.join(t, r3)
    await drv.wait_thread(t, "idle")
    assert await drv.log(t) == ["a", "b", "c", "R2", "a", "b", "c", "R3", "a", "b", "c"]
    runs = await drv.client.runs.list(t)
    assert [(r["run_id"], r["status"]) for r in runs] == [
        (r3, "success"),
        (r2, "success"),
        (r1, "success"),
    ]


async def test_queue_then_interrupt_then_rollback(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=1.5)
    assert await drv.wait_log(t, 1) == ["a"]
    r2 = await drv.create(t, "slow", input={"log": ["R2"]})
    r3 = await drv.create(t, "slow", input={"log": ["R3"]})

    # interrupt cancels every inflight run: the running one and the queued ones
    r4 = await drv.create(
        t, "slow", input={"log": ["R4"], "delay": 2}, multitask_strategy="interrupt"
    )
    for r in (r1, r2, r3):
        assert (await drv.client.runs.get(t, r))["status"] == "interrupted", r

    await drv.wait_run(t, r4, "running")
    assert await drv.wait_log(t, 2) == ["a", "R4"]  # R4's input checkpoint

    # rollback deletes R4 (and its checkpoints); R5 starts from R1's last checkpoint
    r5 = await drv.create(
        t, "slow", input={"log": ["R5"], "delay": 0}, multitask_strategy="rollback"
    )
    assert await drv.run_or_none(t, r4) is None
    await drv.client.runs.join(t, r5)
    await drv.wait_thread(t, "idle")

    assert await drv.log(t) == ["a", "R5", "a", "b", "c"]
    runs = await drv.client.runs.list(t)
    assert [(r["run_id"], r["status"]) for r in runs] == [
        (r5, "success"),
        (r3, "interrupted"),
        (r2, "interrupted"),
        (r1, "interrupted"),
    ]
    # the queued runs never executed
    assert "R2" not in await drv.log(t) and "R3" not in await drv.log(t)
