"""Standalone cancels (`POST …/runs/{r}/cancel`) on running and pending runs.

Reference behaviours nbruns deliberately does not copy (docs/compatibility.md) are
pinned in the same tests as the behaviour both share:

- (a) cancelling a *pending* run while another runs: the reference sets the thread
  `idle` although a run is still running; nbruns keeps it `busy`;
- (b) a standalone `action=rollback` cancel with no subscriber: the reference leaves
  the thread stuck `busy`; nbruns settles on the thread's derived status;
- (d) `DELETE` of a running run; (j) an unknown cancel `action`;
- (k) the body of `cancel?wait=1`; (l) `rollback&wait=1` of a pending run;
  (m) the thread's `error`/`values` after `rollback&wait=1`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import NotFoundError

ACTIONS = ["interrupt", "rollback"]
WAITS = [False, True]


async def cancel(drv: Any, t: str, r: str, action: str, wait: bool) -> Any:
    """Raw cancel; returns the response (202 empty, or 200 with a join-like body for wait)."""
    params = {"action": action}
    if wait:
        params["wait"] = "1"
    return await drv.http.post(f"/threads/{t}/runs/{r}/cancel", params=params)


@pytest.mark.parametrize("wait", WAITS, ids=["nowait", "wait"])
@pytest.mark.parametrize("action", ACTIONS)
async def test_cancel_running(drv: Any, action: str, wait: bool) -> None:
    t = await drv.thread()
    state_before = await drv.client.threads.get_state(t)
    r1 = await drv.busy(t, delay=5, log=["x"])  # its input checkpoint exists (next = a)

    resp = await cancel(drv, t, r1, action, wait)
    if not wait:
        assert resp.status_code == 202
        assert resp.content == b""
    else:
        assert resp.status_code == 200
        if drv.is_reference or action == "rollback":
            # the reference subscribes to the run only as it cancels it, so it never
            # sees a values event: its body is always {}
            assert resp.json() == {}
        else:
            # nbruns answers like join: the values at interruption
            assert resp.json() == {"messages": [], "log": ["x"], "delay": 5}

    if action == "interrupt":
        assert (await drv.client.runs.get(t, r1))["status"] == "interrupted"
        assert [r["run_id"] for r in await drv.client.runs.list(t)] == [r1]
        # cancelled mid-graph: the last checkpoint still has next tasks
        await drv.wait_thread(t, "interrupted")
        state = await drv.client.threads.get_state(t)
        assert state["next"] == ["a"]
        return

    # rollback: the run is deleted at once and the state reads as before the run
    assert await drv.run_or_none(t, r1) is None
    assert await drv.client.runs.list(t) == []
    if wait:
        thread = await drv.wait_thread(t, "idle")
        if drv.is_reference:
            # the reference records the rollback as the thread's error, and nulls its values
            assert thread["error"]["error"] == "UserRollback"
            assert thread["values"] is None
        else:
            assert thread["error"] is None  # a rollback is not an error
            assert thread["values"] is None
    elif drv.is_reference:
        # reference bug: with no subscriber, the thread is left `busy` (until a later
        # run on it finishes); nbruns settles on the derived status (`idle`)
        await drv.stays(t, "busy", 2.0)
    else:
        await drv.wait_thread(t, "idle")
    assert await drv.client.threads.get_state(t) == state_before


@pytest.mark.parametrize("wait", WAITS, ids=["nowait", "wait"])
@pytest.mark.parametrize("action", ACTIONS)
async def test_cancel_pending(drv: Any, action: str, wait: bool) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=0.6)
    r2 = await drv.create(t, "slow", input={"log": ["R2"], "delay": 0})
    assert (await drv.client.runs.get(t, r2))["status"] == "pending"

    resp = await cancel(drv, t, r2, action, wait)
    assert resp.status_code == (200 if wait else 202)
    thread_status = (await drv.client.threads.get(t))["status"]
    r1_status = (await drv.client.runs.get(t, r1))["status"]
    assert r1_status == "running", "R1 must still run for this check; raise its delay"

    r2_after = await drv.run_or_none(t, r2)
    listed = [r["run_id"] for r in await drv.client.runs.list(t)]
    if action == "interrupt" or (action == "rollback" and wait and drv.is_reference):
        # interrupt: the pending run reads `interrupted` and stays listed. The reference
        # does the same for rollback when a subscriber (here: wait=1) exists.
        assert r2_after is not None and r2_after["status"] == "interrupted"
        assert r2 in listed
    else:
        # rollback: the pending run is deleted (nbruns: always; reference: without wait)
        assert r2_after is None
        assert r2 not in listed

    reference_sets_idle = drv.is_reference and (action == "interrupt" or wait)
    if reference_sets_idle:
        # reference bug: cancelling the pending run sets the thread idle while R1 runs
        assert thread_status == "idle"
    else:
        assert thread_status == "busy"

    # R1 finishes; R2 never executes
    assert (await drv.client.runs.join(t, r1))["log"] == ["a", "b", "c"]
    await drv.wait_thread(t, "idle")
    assert await drv.log(t) == ["a", "b", "c"]
    r2_final = await drv.run_or_none(t, r2)
    assert (r2_final or {}).get("status") == (r2_after or {}).get("status")


async def test_cancel_unknown_and_finished(drv: Any, new_uuid: Any) -> None:
    t = await drv.thread()
    missing = new_uuid()
    resp = await drv.http.post(f"/threads/{t}/runs/{missing}/cancel")
    assert resp.status_code == 404
    assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]
    with pytest.raises(NotFoundError):
        await drv.client.runs.cancel(t, missing)

    await drv.client.runs.wait(t, "slow", input={})
    finished = (await drv.client.runs.list(t))[0]["run_id"]
    resp = await drv.http.post(f"/threads/{t}/runs/{finished}/cancel")
    assert resp.status_code == 404
    with pytest.raises(NotFoundError):
        await drv.client.runs.cancel(t, finished)
    # with wait=True the SDK goes through request_reconnect: a plain HTTPStatusError
    with pytest.raises(httpx.HTTPStatusError) as err:
        await drv.client.runs.cancel(t, finished, wait=True)
    assert err.value.response.status_code == 404


async def test_cancel_unknown_action(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=5)
    r2 = await drv.create(t, "slow", input={})
    resp = await drv.http.post(f"/threads/{t}/runs/{r2}/cancel", params={"action": "bogus"})
    if drv.is_reference:
        # the reference accepts any action and treats it as interrupt
        assert resp.status_code == 202
        assert (await drv.client.runs.get(t, r2))["status"] == "interrupted"
    else:
        # nbruns: a clear 422 naming the allowed actions; nothing is cancelled
        assert resp.status_code == 422
        detail = resp.json()["detail"]
        assert "interrupt" in detail and "rollback" in detail
        assert (await drv.client.runs.get(t, r2))["status"] == "pending"
    assert (await drv.client.runs.get(t, r1))["status"] == "running"


async def test_delete_running_run(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=0.5)
    resp = await drv.http.delete(f"/threads/{t}/runs/{r1}")
    if drv.is_reference:
        # reference: 204, the run row is gone, but the graph keeps running
        assert resp.status_code == 204
        assert await drv.run_or_none(t, r1) is None
        assert await drv.wait_log(t, 3) == ["a", "b", "c"]
    else:
        # nbruns: 409 with a detail (cancel it first); the run is untouched
        assert resp.status_code == 409
        assert "cancel" in resp.json()["detail"].lower()
        assert (await drv.client.runs.get(t, r1))["status"] == "running"
        assert (await drv.client.runs.join(t, r1))["log"] == ["a", "b", "c"]
