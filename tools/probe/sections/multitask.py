"""Multitask strategies on a busy thread."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from .._prober import Prober

KEY = "multitask"
TITLE = "Multitask strategies on a busy thread"
INTRO = (
    "Each case starts run R1 on `slow` with `delay` 1 (about 3 s of work), waits until "
    "R1 is `running` and has finished node `a`, then creates R2 on the same thread with "
    "the strategy. History tables are oldest first; `run` names which run wrote the "
    "checkpoint."
)


async def probe(p: Prober) -> None:
    await _reject(p)
    await _interrupt(p)
    await _rollback(p)
    await _rollback_with_waiter(p)
    await _enqueue(p)
    await _interrupt_blocking_node(p)


async def _busy_thread(p: Prober, graph: str = "slow", delay: float = 1) -> tuple[str, str]:
    """A new thread whose run R1 is `running` (and, on `slow`, past node a): (thread, R1)."""
    t = await p.new_thread()
    r1 = (await p.create_run(t, graph, input={"delay": delay}))["run_id"]
    await p.wait_run(t, r1, {"running"})
    if graph == "slow":
        await p.wait_log(t, "a")
    return t, r1


async def _reject(p: Prober) -> None:
    """`reject` through create, wait and stream, raw and SDK; then on an idle thread."""
    t, r1 = await _busy_thread(p)
    await p.call(
        KEY,
        "reject: create",
        "POST",
        f"/threads/{t}/runs",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
    )
    await p.call(
        KEY,
        "reject: wait",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
    )
    await p.sse(
        KEY,
        "reject: stream",
        "POST",
        f"/threads/{t}/runs/stream",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
    )
    await p.sdk(
        KEY,
        "reject: runs.create (SDK)",
        "runs.create(t, 'slow', multitask_strategy='reject')",
        p.client.runs.create(t, "slow", input={}, multitask_strategy="reject"),
    )
    await p.sdk(
        KEY,
        "reject: runs.wait (SDK)",
        "runs.wait(t, 'slow', multitask_strategy='reject')",
        p.client.runs.wait(t, "slow", input={}, multitask_strategy="reject"),
    )

    async def drain() -> list[Any]:
        return [
            part
            async for part in p.client.runs.stream(t, "slow", input={}, multitask_strategy="reject")
        ]

    await p.sdk(
        KEY,
        "reject: runs.stream (SDK)",
        "async for p in runs.stream(t, 'slow', multitask_strategy='reject')",
        drain(),
    )
    await p.call(
        KEY,
        "reject: runs.list afterwards",
        "GET",
        f"/threads/{t}/runs",
        show=lambda b: [x["status"] for x in b],
        note="no rejected run was stored",
    )
    await p.client.runs.join(t, r1)
    await p.idle(t)
    await p.call(
        KEY,
        "reject on an idle thread",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        show=lambda b: {"log": b.get("log")} if isinstance(b, dict) else b,
    )


async def _interrupt(p: Prober) -> None:
    t, r1 = await _busy_thread(p)
    t0 = time.monotonic()
    r = await p.call(
        KEY,
        "interrupt: create R2",
        "POST",
        f"/threads/{t}/runs",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "interrupt"},
        show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
    )
    r2 = r.json()["run_id"]
    await p.call(
        KEY,
        "interrupt: R1 right after",
        "GET",
        f"/threads/{t}/runs/{r1}",
        show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
    )
    await p.call(
        KEY,
        "interrupt: thread right after",
        "GET",
        f"/threads/{t}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.wait_run(t, r2, {"running", "success"})
    p.rec.fact(
        KEY, f"interrupt: R2 left `pending` {time.monotonic() - t0:.2f} s after it was created."
    )
    await p.call(KEY, "interrupt: join R1", "GET", f"/threads/{t}/runs/{r1}/join")
    await p.call(KEY, "interrupt: join R2", "GET", f"/threads/{t}/runs/{r2}/join")
    await p.idle(t)
    await p.call(
        KEY,
        "interrupt: runs.list",
        "GET",
        f"/threads/{t}/runs",
        show=lambda b: [f"{'R1' if x['run_id'] == r1 else 'R2'}:{x['status']}" for x in b],
    )
    p.history_table(KEY, "interrupt: history", await p.history_rows(t, {r1: "R1", r2: "R2"}))


async def _rollback(p: Prober) -> None:
    """`rollback` on a thread with an earlier finished run, R1 past node b."""
    t = await p.new_thread()
    await p.client.runs.wait(t, "slow", input={})
    await p.idle(t)
    r0 = (await p.http.get(f"/threads/{t}/runs")).json()[0]["run_id"]
    r1 = (await p.create_run(t, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(t, "b")
    r = await p.call(
        KEY,
        "rollback: create R2",
        "POST",
        f"/threads/{t}/runs",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "rollback"},
        show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
    )
    r2 = r.json()["run_id"]
    await p.call(KEY, "rollback: R1 right after", "GET", f"/threads/{t}/runs/{r1}")
    await p.call(
        KEY,
        "rollback: runs.list right after",
        "GET",
        f"/threads/{t}/runs",
        show=lambda b: [
            f"{ {r0: 'R0', r1: 'R1', r2: 'R2'}.get(x['run_id']) }:{x['status']}" for x in b
        ],
    )
    await p.call(KEY, "rollback: join R1", "GET", f"/threads/{t}/runs/{r1}/join")
    await p.call(KEY, "rollback: join R2", "GET", f"/threads/{t}/runs/{r2}/join")
    await p.idle(t)
    p.history_table(
        KEY,
        "rollback: history (R0 = an earlier finished run on the thread, "
        "R1 rolled back after node b)",
        await p.history_rows(t, {r0: "R0", r1: "R1", r2: "R2"}),
    )


async def _rollback_with_waiter(p: Prober) -> None:
    """`rollback` while R1's creator is waiting on /runs/wait."""
    t = await p.new_thread()
    wait_task = asyncio.create_task(
        p.call(
            KEY,
            "rollback: R1's own /runs/wait call",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "slow", "input": {"delay": 1, "log": ["from-R1"]}},
            note="this waiter was attached when R2 (rollback) was created",
        )
    )
    await p.wait_log(t, "a")
    await p.create_run(t, "slow", input={}, multitask_strategy="rollback")
    await wait_task
    await p.idle(t)
    await p.call(
        KEY,
        "rollback (waiter attached): runs.list",
        "GET",
        f"/threads/{t}/runs",
        show=lambda b: [x["status"] for x in b],
    )


async def _enqueue(p: Prober) -> None:
    """R2 with no strategy (the default) and R3 with `enqueue` behind a running R1."""
    t, r1 = await _busy_thread(p)
    r2 = (await p.create_run(t, "slow", input={"log": ["R2"]}))["run_id"]
    r3 = (await p.create_run(t, "slow", input={"log": ["R3"]}, multitask_strategy="enqueue"))[
        "run_id"
    ]
    lab = {r1: "R1", r2: "R2", r3: "R3"}
    await p.call(
        KEY,
        "enqueue: runs.list right after",
        "GET",
        f"/threads/{t}/runs",
        show=lambda b: [
            f"{lab.get(x['run_id'])}:{x['status']}:{x['multitask_strategy']}" for x in b
        ],
        note="R2 created with no strategy (default), R3 with enqueue; "
        "shown as label:status:multitask_strategy",
    )
    await p.client.runs.join(t, r3)
    await p.idle(t)
    await p.call(
        KEY,
        "enqueue: final values.log",
        "GET",
        f"/threads/{t}/state",
        show=lambda b: b["values"]["log"],
    )
    p.history_table(KEY, "enqueue: history", await p.history_rows(t, lab))


async def _interrupt_blocking_node(p: Prober) -> None:
    """`interrupt` on `blocking`, whose sync node sleeps 2 s."""
    t = await p.new_thread()
    r1 = (await p.create_run(t, "blocking", input={"delay": 2}))["run_id"]
    await p.wait_run(t, r1, {"running"})
    r1_running = time.monotonic()
    t0 = time.monotonic()
    r2 = (await p.create_run(t, "blocking", input={"delay": 0}, multitask_strategy="interrupt"))[
        "run_id"
    ]
    await p.wait_run(t, r2, {"running", "success"})
    started = time.monotonic() - t0
    await p.client.runs.join(t, r2)
    await p.idle(t)
    fin = time.monotonic() - t0
    vals = (await p.http.get(f"/threads/{t}/state")).json()["values"]
    r1_sleep_left = 2 - (t0 + started - r1_running)
    p.rec.fact(
        KEY,
        "interrupt on `blocking` (a sync node doing `time.sleep(2)`): "
        f"R2 left `pending` {started:.2f} s after it was created, when R1's sleep still had "
        f"about {r1_sleep_left:.1f} s to go (R1 was seen `running` {t0 - r1_running:.2f} s "
        f"before R2 was created), and finished {fin:.2f} s after creation; final "
        f"`values.log` = `{vals.get('log')}`: R1's write was discarded, but its node body "
        "was not stopped.",
    )
