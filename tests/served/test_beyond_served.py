"""latest, the queue cap, pending_ttl_s, run_timeout_s and debounce over HTTP, against
`nbruns serve` (steer, collect and undo have their own served tests)."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk.errors import ConflictError

from tests.helpers import wait_for_status, wait_until

HELLO = {"messages": [{"role": "human", "content": "hello"}]}


def policy(**keys: Any) -> dict[str, Any]:
    return {"multitask": keys}


async def runs_by_id(client: Any, tid: str) -> dict[str, Any]:
    listed = await client.http.get("/nbruns/runs", params={"thread_id": tid})
    return {r["run_id"]: r for r in listed}


async def test_latest_and_the_queue_cap_over_http(serve: Any, sdk: Any) -> None:
    client = sdk(serve().url)
    tid = (await client.threads.create())["thread_id"]
    busy = await client.runs.create(tid, "slow", input=HELLO)
    await wait_for_status(client, tid, busy["run_id"], "running")
    waiting = await client.runs.create(tid, "reply", input=HELLO)
    first = await client.runs.create(tid, "reply", input=HELLO, multitask_strategy="latest")
    last = await client.runs.create(tid, "reply", input=HELLO, multitask_strategy="latest")
    runs = await runs_by_id(client, tid)
    for old, by in ((waiting, first), (first, last)):
        assert runs[old["run_id"]]["status"] == "interrupted"
        assert runs[old["run_id"]]["cancel_source"] == "replaced"
        assert by["run_id"] in runs[old["run_id"]]["cancel_reason"]
    assert runs[last["run_id"]]["status"] == "pending"
    assert runs[busy["run_id"]]["status"] == "running"  # latest leaves a running run alone

    # a cap of one waiting run: the next is refused, naming the limit
    await client.threads.update(tid, metadata=policy(max_pending=1))
    with pytest.raises(ConflictError) as info:
        await client.runs.create(tid, "reply", input=HELLO)
    assert "max_pending=1" in info.value.response.json()["detail"]
    # ...or pushes the oldest out, when the call's policy says so
    dropping = policy(max_pending=1, overflow="drop_oldest")
    newest = await client.runs.create(tid, "reply", input=HELLO, metadata=dropping)
    runs = await runs_by_id(client, tid)
    assert runs[last["run_id"]]["cancel_source"] == "dropped"
    assert runs[newest["run_id"]]["status"] == "pending"
    await client.runs.cancel(tid, busy["run_id"])
    await client.runs.join(tid, newest["run_id"])
    assert (await client.runs.get(tid, newest["run_id"]))["status"] == "success"


async def test_deadlines_over_http(serve: Any, sdk: Any) -> None:
    client = sdk(serve().url)
    tid = (await client.threads.create())["thread_id"]
    # run_timeout_s: the run is stopped, ends `timeout`, and says which limit it was
    slow = await client.runs.create(tid, "slow", input=HELLO, metadata=policy(run_timeout_s=0.3))
    late = await client.runs.create(tid, "reply", input=HELLO, metadata=policy(pending_ttl_s=0.1))
    timed_out = await wait_for_status(client, tid, slow["run_id"], "timeout")
    assert timed_out["cancel_source"] == "run_timeout"
    # pending_ttl_s: the run behind it waited longer than allowed and never started
    expired = await wait_for_status(client, tid, late["run_id"], "timeout")
    assert expired["cancel_source"] == "pending_ttl"
    assert "pending_ttl_s" in expired["cancel_reason"]
    assert expired["started_at"] is None
    after = await client.runs.create(tid, "reply", input=HELLO)
    await client.runs.join(tid, after["run_id"])  # the thread goes on
    assert (await client.runs.get(tid, after["run_id"]))["status"] == "success"


async def test_debounce_answers_a_burst_once_over_http(serve: Any, sdk: Any) -> None:
    client = sdk(serve().url)
    tid = (await client.threads.create(metadata=policy(strategy="debounce", quiet_s=0.05)))[
        "thread_id"
    ]
    burst = [await client.runs.create(tid, "reply", input=HELLO) for _ in range(3)]
    ids = [r["run_id"] for r in burst]
    final = await client.runs.join(tid, ids[-1])

    async def all_done() -> bool:
        runs = await runs_by_id(client, tid)
        return all(runs[i]["status"] == "success" for i in ids)

    await wait_until(all_done, "the burst to end")
    runs = await runs_by_id(client, tid)
    assert [runs[i]["merged_into"] for i in ids] == [None, ids[0], ids[0]]
    assert [await client.runs.join(tid, i) for i in ids] == [final] * 3
    assert [m["type"] for m in final["messages"]] == ["human", "human", "human", "ai"]
