"""What runs endpoints answer in the corners the random programs found (issue #12, item 5).

nbruns matches the reference on: `cancel_many` (ids that name no run are skipped, 404
when nothing is left to cancel), `context` with `config.configurable` (400), `join` of
an ended run (the thread's values as they read now), `wait` on a run deleted with its
thread (the `__error__` body), `join_stream` of a run that is not there (200 and one
`error` event), the order of `runs.list` (`after_seconds` moves a run ahead), and
`runs.delete` (the run's checkpoints go too).

Kept on purpose (docs/compatibility.md): a rollback deletes its run even when something
waits on it; the reference keeps a pending run so rolled back as `interrupted`
whenever anything is subscribed to it (`test_rollback_of_a_pending_run_with_a_subscriber`).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

RUN_NOT_FOUND = {"error": "HTTPException", "message": "404: Run not found"}
NOTHING_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, "
    "and the runs haven't been deleted or completed."
)


async def pending_run(drv: Any, t: str, log: str) -> str:
    run_id = await drv.create(t, "slow", input={"log": [log], "delay": 0})
    assert (await drv.client.runs.get(t, run_id))["status"] == "pending"
    return str(run_id)


async def test_cancel_many_skips_ids_that_name_no_run(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=5)
    gone = await pending_run(drv, t, "gone")
    kept = await pending_run(drv, t, "kept")
    rollback = await drv.http.post(
        f"/threads/{t}/runs/{gone}/cancel", params={"action": "rollback"}
    )
    assert rollback.status_code == 202
    assert await drv.run_or_none(t, gone) is None

    await drv.client.runs.cancel_many(thread_id=t, run_ids=[gone, kept])
    assert (await drv.client.runs.get(t, kept))["status"] == "interrupted"
    assert (await drv.client.runs.get(t, r1))["status"] == "running"

    # nothing of those ids exists any more, or nothing is left to cancel: 404
    resp = await drv.http.post("/runs/cancel", json={"thread_id": t, "run_ids": [gone]})
    assert (resp.status_code, resp.json()) == (404, {"detail": "No runs found to cancel."})
    resp = await drv.http.post("/runs/cancel", json={"thread_id": t, "run_ids": [gone, kept]})
    assert (resp.status_code, resp.json()) == (404, {"detail": NOTHING_TO_CANCEL})
    with pytest.raises(NotFoundError):
        await drv.client.runs.cancel_many(thread_id=t, run_ids=[kept])
    assert (await drv.client.runs.get(t, r1))["status"] == "running"


async def test_cancel_many_with_nothing_to_cancel(drv: Any, new_uuid: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={})
    finished = (await drv.client.runs.list(t))[0]["run_id"]
    resp = await drv.http.post("/runs/cancel", json={"thread_id": t, "run_ids": [finished]})
    assert (resp.status_code, resp.json()) == (404, {"detail": NOTHING_TO_CANCEL})
    resp = await drv.http.post("/runs/cancel", json={"thread_id": t, "run_ids": [new_uuid()]})
    assert (resp.status_code, resp.json()) == (404, {"detail": "No runs found to cancel."})
    # by status: nothing pending on the whole server (every test cancels what it leaves)
    resp = await drv.http.post("/runs/cancel", json={"status": "pending"})
    assert (resp.status_code, resp.json()) == (404, {"detail": "No runs found to cancel."})
    # status selects runs on every thread: it cannot be narrowed to one
    resp = await drv.http.post("/runs/cancel", json={"status": "pending", "thread_id": t})
    assert resp.status_code == 422
    assert (await drv.client.runs.get(t, finished))["status"] == "success"


async def test_context_with_configurable_is_refused(drv: Any) -> None:
    t = await drv.thread()
    both = {"context": {"user": "a"}, "config": {"configurable": {"user": "b"}}}
    calls = (
        lambda: drv.client.runs.create(t, "slow", input={}, **both),
        lambda: drv.client.runs.wait(t, "slow", input={}, **both),
        lambda: drv.client.runs.create(None, "slow", input={}, **both),
    )
    for call in calls:
        # (runs.wait raises the plain httpx error: the SDK reconnects there)
        with pytest.raises(httpx.HTTPStatusError) as refused:
            await call()
        assert refused.value.response.status_code == 400
        assert refused.value.response.json()["detail"].startswith(
            "Cannot specify both configurable and context. Prefer setting context alone."
        )
    assert await drv.client.runs.list(t) == []
    # either alone, or an empty one beside the other, is fine
    await drv.client.runs.wait(t, "slow", input={}, context={"user": "a"}, config={"tags": ["x"]})
    await drv.client.runs.wait(t, "slow", input={}, context={}, config={"configurable": {"u": 1}})
    assert [r["status"] for r in await drv.client.runs.list(t)] == ["success", "success"]


async def test_join_of_an_ended_run_answers_the_thread_as_it_reads_now(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.create(t, "slow", input={"log": ["one"]})
    assert (await drv.client.runs.join(t, first))["log"] == ["one", "a", "b", "c"]
    second = await drv.create(t, "slow", input={"log": ["two"]})
    await drv.client.runs.join(t, second)
    now = ["one", "a", "b", "c", "two", "a", "b", "c"]
    assert (await drv.client.runs.join(t, first))["log"] == now

    # an error run answers its error while the thread reads `error`, values after that
    t2 = await drv.thread()
    failed = await drv.create(t2, "fail", input={})
    await drv.wait_run(t2, failed, "error")
    assert await drv.client.runs.join(t2, failed) == {
        "__error__": {"error": "ValueError", "message": "boom"}
    }
    await drv.client.runs.wait(t2, "slow", input={"log": ["ok"]})
    assert (await drv.client.runs.join(t2, failed))["log"] == ["ok", "a", "b", "c"]

    # a superseded run answers its successor's values once that one has finished
    t3 = await drv.thread()
    old = await drv.busy(t3, delay=5, log=["x"])
    new = await drv.create(
        t3, "slow", input={"log": ["B"], "delay": 0}, multitask_strategy="interrupt"
    )
    await drv.client.runs.join(t3, new)
    assert (await drv.client.runs.join(t3, old))["log"] == ["x", "B", "a", "b", "c"]


async def test_wait_on_a_run_whose_thread_is_deleted(drv: Any) -> None:
    t = await drv.thread()
    await drv.busy(t, delay=5)
    pending = await pending_run(drv, t, "W")
    joined = asyncio.ensure_future(drv.client.runs.join(t, pending))
    waited = asyncio.ensure_future(
        drv.client.runs.wait(t, "slow", input={"delay": 0}, raise_error=False)
    )
    await drv.until(lambda: _pending_count(drv, t, 2), "the waited run to be created")
    await drv.client.threads.delete(t)
    assert await joined == {"__error__": RUN_NOT_FOUND}
    assert await waited == {"__error__": RUN_NOT_FOUND}


async def _pending_count(drv: Any, t: str, n: int) -> bool:
    runs = await drv.client.runs.list(t, status="pending")
    return len(runs) >= n


async def test_join_stream_of_a_run_that_is_not_there(drv: Any, new_uuid: Any) -> None:
    t = await drv.thread()
    await drv.busy(t, delay=5)
    gone = await pending_run(drv, t, "gone")
    await drv.http.post(f"/threads/{t}/runs/{gone}/cancel", params={"action": "rollback"})
    for run_id in (gone, new_uuid()):
        parts = [p async for p in drv.client.runs.join_stream(t, run_id)]
        assert [(p.event, p.data) for p in parts] == [("error", RUN_NOT_FOUND)]
    # a run that has finished: nothing more to send
    finished = (await drv.client.runs.list(await _ran_once(drv)))[0]
    parts = [
        p async for p in drv.client.runs.join_stream(finished["thread_id"], finished["run_id"])
    ]
    assert parts == []


async def _ran_once(drv: Any) -> str:
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={})
    return str(t)


async def test_runs_list_orders_by_when_a_run_is_due(drv: Any) -> None:
    t = await drv.thread()
    later = await drv.create(t, "slow", input={"delay": 0}, after_seconds=1)
    now = await drv.create(t, "slow", input={"delay": 0})
    assert [r["run_id"] for r in await drv.client.runs.list(t)] == [later, now]
    await drv.client.runs.join(t, later)
    assert [r["run_id"] for r in await drv.client.runs.list(t)] == [later, now]


async def test_delete_of_a_finished_run_deletes_its_checkpoints(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.create(t, "slow", input={"log": ["one"]})
    await drv.client.runs.join(t, first)
    history_after_first = len(await drv.client.threads.get_history(t, limit=100))
    second = await drv.create(t, "slow", input={"log": ["two"]})
    await drv.client.runs.join(t, second)

    await drv.client.runs.delete(t, second)
    state = await drv.client.threads.get_state(t)
    assert state["values"]["log"] == ["one", "a", "b", "c"]
    assert len(await drv.client.threads.get_history(t, limit=100)) == history_after_first
    thread = await drv.client.threads.get(t)
    if drv.is_reference:
        # the reference leaves the thread's cached values as they were
        assert thread["values"]["log"][-4:] == ["two", "a", "b", "c"]
    else:
        assert thread["values"] == state["values"]  # nbruns reads them afresh

    await drv.client.runs.delete(t, first)
    assert await drv.client.threads.get_history(t, limit=100) == []
    assert (await drv.client.threads.get_state(t))["values"] in ({}, None)
    # the thread goes on from an empty state
    assert (await drv.client.runs.wait(t, "slow", input={"log": ["three"]}))["log"] == [
        "three",
        "a",
        "b",
        "c",
    ]


@pytest.mark.parametrize("subscriber", ["wait", "stream"])
async def test_rollback_of_a_pending_run_with_a_subscriber(drv: Any, subscriber: str) -> None:
    """(A join subscribes too, on the reference; but when its request has arrived cannot
    be observed, so it is left out here.)"""
    t = await drv.thread()
    await drv.busy(t, delay=5)
    waiting: asyncio.Future[Any]
    if subscriber == "wait":
        waiting = asyncio.ensure_future(drv.client.runs.wait(t, "slow", input={"delay": 0}))
    else:
        waiting = asyncio.ensure_future(_metadata(drv.client.runs.stream(t, "slow", input={})))
    target = await drv.until(lambda: _the_pending(drv, t), "the subscribed run, pending")
    resp = await drv.http.post(f"/threads/{t}/runs/{target}/cancel", params={"action": "rollback"})
    assert resp.status_code == 202
    after = await drv.run_or_none(t, target)
    if drv.is_reference:
        # with anything subscribed, the reference degrades the rollback to an interrupt
        assert after is not None and after["status"] == "interrupted"
    else:
        assert after is None  # nbruns: a rollback deletes its run, always
    if subscriber == "wait":
        assert await waiting == {}
    else:
        assert await waiting == []  # the run never started: no metadata event


async def _the_pending(drv: Any, t: str) -> str | None:
    runs = await drv.client.runs.list(t, status="pending")
    return str(runs[0]["run_id"]) if runs else None


async def _metadata(parts: Any) -> list[str]:
    return [p.data["run_id"] async for p in parts if p.event == "metadata"]
