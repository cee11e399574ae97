"""Runs: create, get, list, delete, wait."""

from __future__ import annotations

import asyncio
import time
import uuid

from .._prober import Prober

KEY = "runs"
TITLE = "Runs: create, get, list, delete, wait"
INTRO = "`slow` runs with `delay` 0 unless said otherwise."


async def probe(p: Prober) -> None:
    t, rid = await _create_and_get(p)
    await _wait(p, t)
    await _list(p)
    await _list_default_limit(p)
    await _delete(p, t, rid)


async def _create_and_get(p: Prober) -> tuple[str, str]:
    """Create a run (raw and SDK) and get it before and after it finished; returns the
    thread and the run."""
    t = await p.new_thread()
    r = await p.call(
        KEY,
        "create",
        "POST",
        f"/threads/{t}/runs",
        json_body={"assistant_id": "slow", "input": {"delay": 0}},
        all_headers=True,
    )
    run = r.json()
    rid = run["run_id"]
    await p.call(KEY, "get (just created)", "GET", f"/threads/{t}/runs/{rid}")
    await p.sdk(
        KEY,
        "create (SDK)",
        "runs.create(t, 'slow', input={...}) — return type and keys",
        p.client.runs.create(t, "slow", input={"delay": 0}),
        show=lambda v: {"type": type(v).__name__, "keys": sorted(v)},
    )
    await p.client.runs.join(t, rid)
    await p.idle(t)
    await p.call(KEY, "get (finished)", "GET", f"/threads/{t}/runs/{rid}")
    await p.call(KEY, "get unknown run", "GET", f"/threads/{t}/runs/{uuid.uuid4()}")
    await p.call(
        KEY, "get run via other thread", "GET", f"/threads/{await p.new_thread()}/runs/{rid}"
    )
    return t, rid


async def _wait(p: Prober, t: str) -> None:
    await p.call(
        KEY,
        "wait",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "slow", "input": {"delay": 0}},
        all_headers=True,
    )
    await p.sdk(
        KEY,
        "wait (SDK)",
        "runs.wait(t, 'slow', input={...})",
        p.client.runs.wait(t, "slow", input={"delay": 0}),
    )
    await p.call(
        KEY,
        "wait, stream_mode updates",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "slow", "input": {"delay": 0}, "stream_mode": ["updates"]},
        note="wait's body is the last *values* state whatever stream_mode says",
    )


async def _list(p: Prober) -> None:
    """List order and the status filter, on three enqueued runs."""
    tl = await p.new_thread()
    made = []
    for _ in range(3):
        made.append((await p.create_run(tl, "slow", input={"delay": 0.3}))["run_id"])
    labels = {rid_: f"R{i + 1}" for i, rid_ in enumerate(made)}
    show_list = lambda b: (  # noqa: E731
        [f"{labels.get(x['run_id'], '?')}:{x['status']}" for x in b] if isinstance(b, list) else b
    )
    await p.call(
        KEY,
        "list (3 enqueued runs)",
        "GET",
        f"/threads/{tl}/runs",
        show=show_list,
        note="R1..R3 in creation order; body shown as label:status",
    )
    await p.call(
        KEY,
        "list status=pending",
        "GET",
        f"/threads/{tl}/runs",
        params={"status": "pending"},
        show=show_list,
    )
    await p.call(
        KEY,
        "list status=bogus",
        "GET",
        f"/threads/{tl}/runs",
        params={"status": "bogus"},
    )
    await p.call(
        KEY,
        "list select",
        "GET",
        f"/threads/{tl}/runs",
        params={"select": "run_id", "limit": 1},
    )
    await p.sdk(
        KEY,
        "list (SDK)",
        "runs.list(t)",
        p.client.runs.list(tl),
        show=lambda v: [f"{labels.get(x['run_id'], '?')}:{x['status']}" for x in v],
    )
    for x in made:
        await p.client.runs.join(tl, x)
    await p.idle(tl)
    await p.call(
        KEY,
        "list after all finished",
        "GET",
        f"/threads/{tl}/runs",
        show=show_list,
    )
    await p.call(KEY, "list unknown thread", "GET", f"/threads/{uuid.uuid4()}/runs")


async def _list_default_limit(p: Prober) -> None:
    """The list's default limit and offset, on twelve parked (`after_seconds`) runs."""
    td = await p.new_thread()
    parked = []
    for _ in range(12):
        parked.append((await p.create_run(td, "slow", input={}, after_seconds=600))["run_id"])
    await p.call(
        KEY,
        "list default limit (12 runs exist)",
        "GET",
        f"/threads/{td}/runs",
        show=lambda b: {"len": len(b)},
    )
    await p.call(
        KEY,
        "list limit=20",
        "GET",
        f"/threads/{td}/runs",
        params={"limit": 20},
        show=lambda b: {"len": len(b)},
    )
    await p.call(
        KEY,
        "list offset=10",
        "GET",
        f"/threads/{td}/runs",
        params={"offset": 10},
        show=lambda b: {"len": len(b)},
    )
    await p.http.post("/runs/cancel", json={"thread_id": td, "run_ids": parked})


async def _delete(p: Prober, t: str, rid: str) -> None:
    """Delete a finished run, then a running one, watching the thread for 6 s after."""
    await p.call(KEY, "delete finished run", "DELETE", f"/threads/{t}/runs/{rid}")
    await p.call(KEY, "get deleted run", "GET", f"/threads/{t}/runs/{rid}")
    await p.call(KEY, "delete again", "DELETE", f"/threads/{t}/runs/{rid}")
    log_before = len((await p.http.get(f"/threads/{t}/state")).json()["values"]["log"])
    busy = await p.create_run(t, "slow", input={"delay": 1})
    await p.wait_run(t, busy["run_id"], {"running"})
    await p.call(KEY, "delete running run", "DELETE", f"/threads/{t}/runs/{busy['run_id']}")
    await p.call(
        KEY,
        "get it after delete attempt",
        "GET",
        f"/threads/{t}/runs/{busy['run_id']}",
        show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
    )
    await p.sdk(
        KEY,
        "delete the same run again (SDK)",
        "runs.delete(t, <just deleted>)",
        p.client.runs.delete(t, busy["run_id"]),
    )
    seen = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 6:
        st = await p.thread_status(t)
        if not seen or seen[-1][1] != st:
            seen.append((round(time.monotonic() - t0, 1), st))
        await asyncio.sleep(0.1)
    log_after = len((await p.http.get(f"/threads/{t}/state")).json()["values"]["log"])
    p.rec.fact(
        KEY,
        "Deleting a *running* run (`slow`, delay 1) answers 204 and GET on it is 404 at once, "
        "but the thread's status over the next 6 s was "
        + ", ".join(f"`{st}` (t={ts}s)" for ts, st in seen)
        + f"; `values.log` grew from {log_before} to {log_after} entries, i.e. the deleted "
        "run's graph kept executing and writing checkpoints.",
    )
    t2 = await p.new_thread()
    await p.client.runs.wait(t2, "slow", input={})
    done = (await p.client.runs.list(t2))[0]["run_id"]
    await p.sdk(
        KEY,
        "delete (SDK) on a finished run",
        "runs.delete(t, <finished>)",
        p.client.runs.delete(t2, done),
    )
