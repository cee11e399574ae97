"""Runs: cancel and cancel_many."""

from __future__ import annotations

import asyncio
import uuid

from .._prober import Prober

KEY = "cancel"
TITLE = "Runs: cancel and cancel_many"
INTRO = "`POST /threads/{t}/runs/{r}/cancel?wait=&action=` and `POST /runs/cancel`."


async def probe(p: Prober) -> None:
    t, r1 = await _pending_then_running(p)
    await _finished_unknown_and_bad(p, t, r1)
    await _rollback(p)
    await _rollback_wait(p)
    await _sdk_return_values(p)
    await _cancel_many(p)
    await _cancel_many_pending_sdk(p)


async def _pending_then_running(p: Prober) -> tuple[str, str]:
    """Cancel a pending run, then the running one (wait=1); returns the thread and the
    cancelled running run."""
    t = await p.new_thread()
    r1 = (await p.create_run(t, "slow", input={"delay": 1}))["run_id"]
    r2 = (await p.create_run(t, "slow", input={}))["run_id"]
    await p.wait_run(t, r1, {"running"})
    await p.call(
        KEY,
        "cancel pending run (wait=0)",
        "POST",
        f"/threads/{t}/runs/{r2}/cancel",
        all_headers=True,
    )
    await p.call(
        KEY,
        "pending run after cancel",
        "GET",
        f"/threads/{t}/runs/{r2}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.call(
        KEY,
        "thread right after (R1 still running)",
        "GET",
        f"/threads/{t}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.wait_log(t, "a")
    await p.call(
        KEY,
        "cancel running run (wait=1)",
        "POST",
        f"/threads/{t}/runs/{r1}/cancel",
        params={"wait": 1},
        all_headers=True,
    )
    await p.call(
        KEY,
        "run after cancel",
        "GET",
        f"/threads/{t}/runs/{r1}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.idle(t)
    await p.call(
        KEY,
        "thread after cancel",
        "GET",
        f"/threads/{t}",
        show=lambda b: {
            "status": b.get("status"),
            "values": b.get("values"),
            "interrupts": b.get("interrupts"),
        },
    )
    await p.call(
        KEY,
        "state after cancel",
        "GET",
        f"/threads/{t}/state",
        show=lambda b: {
            "next": b.get("next"),
            "tasks": b.get("tasks"),
            "interrupts": b.get("interrupts"),
        },
    )
    return t, r1


async def _finished_unknown_and_bad(p: Prober, t: str, r1: str) -> None:
    """Cancel a finished run, unknown ones, and with bad `action`/`wait` values."""
    await p.call(KEY, "cancel finished run", "POST", f"/threads/{t}/runs/{r1}/cancel")
    await p.call(
        KEY,
        "cancel finished run (wait=1)",
        "POST",
        f"/threads/{t}/runs/{r1}/cancel",
        params={"wait": 1},
    )
    await p.call(KEY, "cancel unknown run", "POST", f"/threads/{t}/runs/{uuid.uuid4()}/cancel")
    await p.call(
        KEY, "cancel on unknown thread", "POST", f"/threads/{uuid.uuid4()}/runs/{r1}/cancel"
    )
    await p.call(
        KEY,
        "cancel bad action, finished run",
        "POST",
        f"/threads/{t}/runs/{r1}/cancel",
        params={"action": "bogus"},
    )
    for label, params in (
        ("action=bogus", {"action": "bogus"}),
        ("wait=bogus", {"wait": "bogus"}),
        ("wait=true", {"wait": "true"}),
        ("action=ROLLBACK", {"action": "ROLLBACK"}),
    ):
        live = (await p.create_run(t, "slow", input={}, after_seconds=600))["run_id"]
        await p.call(
            KEY,
            f"cancel {label}, pending run",
            "POST",
            f"/threads/{t}/runs/{live}/cancel",
            params=params,
        )
        await p.call(
            KEY,
            f"… that run afterwards ({label})",
            "GET",
            f"/threads/{t}/runs/{live}",
            show=lambda b: {"status": b.get("status")},
        )


async def _rollback(p: Prober) -> None:
    """Cancel with action=rollback, nobody subscribed; the thread 2.5 s later."""
    tr = await p.new_thread()
    await p.client.runs.wait(tr, "slow", input={})
    await p.idle(tr)
    rb = (await p.create_run(tr, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(tr, "b")
    await p.call(
        KEY,
        "cancel running run, action=rollback",
        "POST",
        f"/threads/{tr}/runs/{rb}/cancel",
        params={"action": "rollback"},
    )
    await p.call(KEY, "rolled-back run, immediately", "GET", f"/threads/{tr}/runs/{rb}")
    await asyncio.sleep(2.5)
    await p.call(
        KEY,
        "thread 2.5 s after rollback",
        "GET",
        f"/threads/{tr}",
        show=lambda b: {"status": b.get("status"), "values": b.get("values")},
    )
    await p.call(
        KEY,
        "state 2.5 s after rollback",
        "GET",
        f"/threads/{tr}/state",
        show=lambda b: {
            "next": b.get("next"),
            "values.log": (b.get("values") or {}).get("log"),
            "step": (b.get("metadata") or {}).get("step"),
        },
    )
    await p.call(
        KEY,
        "runs.list after rollback",
        "GET",
        f"/threads/{tr}/runs",
        show=lambda b: [x["status"] for x in b],
    )


async def _rollback_wait(p: Prober) -> None:
    tr2 = await p.new_thread()
    rb2 = (await p.create_run(tr2, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(tr2, "a")
    await p.call(
        KEY,
        "cancel running run, rollback, wait=1",
        "POST",
        f"/threads/{tr2}/runs/{rb2}/cancel",
        params={"action": "rollback", "wait": 1},
    )
    await p.call(KEY, "run after rollback wait=1", "GET", f"/threads/{tr2}/runs/{rb2}")
    await p.call(
        KEY,
        "thread after rollback wait=1",
        "GET",
        f"/threads/{tr2}",
        show=lambda b: {"status": b.get("status"), "values": b.get("values")},
    )


async def _sdk_return_values(p: Prober) -> None:
    t3 = await p.new_thread()
    a = (await p.create_run(t3, "slow", input={"delay": 1}))["run_id"]
    b = (await p.create_run(t3, "slow", input={}))["run_id"]
    await p.sdk(KEY, "SDK cancel pending", "runs.cancel(t, pending)", p.client.runs.cancel(t3, b))
    await p.wait_run(t3, a, {"running"})
    await p.sdk(
        KEY,
        "SDK cancel running, wait=True",
        "runs.cancel(t, running, wait=True)",
        p.client.runs.cancel(t3, a, wait=True),
    )
    await p.sdk(KEY, "SDK cancel finished", "runs.cancel(t, finished)", p.client.runs.cancel(t3, a))
    await p.idle(t3)


async def _cancel_many(p: Prober) -> None:
    tm = await p.new_thread()
    parked = [
        (await p.create_run(tm, "slow", input={}, after_seconds=600))["run_id"] for _ in range(3)
    ]
    await p.call(
        KEY,
        "cancel_many by thread+run_ids",
        "POST",
        "/runs/cancel",
        json_body={"thread_id": tm, "run_ids": parked[:2]},
        all_headers=True,
    )
    await p.call(
        KEY,
        "runs after cancel_many",
        "GET",
        f"/threads/{tm}/runs",
        show=lambda b: sorted(x["status"] for x in b),
    )
    await p.call(
        KEY,
        "cancel_many, same ids again",
        "POST",
        "/runs/cancel",
        json_body={"thread_id": tm, "run_ids": parked[:2]},
    )
    await p.call(
        KEY,
        "cancel_many by status=pending",
        "POST",
        "/runs/cancel",
        json_body={"status": "pending"},
    )
    await p.call(
        KEY,
        "runs after status=pending",
        "GET",
        f"/threads/{tm}/runs",
        show=lambda b: sorted(x["status"] for x in b),
    )
    await p.call(
        KEY,
        "cancel_many status=pending, none left",
        "POST",
        "/runs/cancel",
        json_body={"status": "pending"},
    )
    await p.call(
        KEY,
        "cancel_many thread+run_ids+status",
        "POST",
        "/runs/cancel",
        json_body={"thread_id": tm, "run_ids": parked, "status": "pending"},
    )
    await p.call(
        KEY,
        "cancel_many run_ids without thread",
        "POST",
        "/runs/cancel",
        json_body={"run_ids": parked},
    )
    await p.call(
        KEY,
        "cancel_many thread without run_ids",
        "POST",
        "/runs/cancel",
        json_body={"thread_id": tm},
    )
    await p.call(KEY, "cancel_many empty body", "POST", "/runs/cancel", json_body={})
    await p.call(
        KEY, "cancel_many status=bogus", "POST", "/runs/cancel", json_body={"status": "bogus"}
    )
    await p.call(
        KEY,
        "cancel_many action=rollback query",
        "POST",
        "/runs/cancel",
        params={"action": "rollback"},
        json_body={"thread_id": tm, "run_ids": parked},
    )
    await p.sdk(
        KEY,
        "SDK cancel_many",
        "runs.cancel_many(thread_id=t, run_ids=[finished])",
        p.client.runs.cancel_many(thread_id=tm, run_ids=parked),
    )


async def _cancel_many_pending_sdk(p: Prober) -> None:
    tq = await p.new_thread()
    parked = [
        (await p.create_run(tq, "slow", input={}, after_seconds=600))["run_id"] for _ in range(2)
    ]
    await p.sdk(
        KEY,
        "SDK cancel_many (pending)",
        "runs.cancel_many(thread_id=t, run_ids=[pending])",
        p.client.runs.cancel_many(thread_id=tq, run_ids=parked),
    )
