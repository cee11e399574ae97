"""Runs: join."""

from __future__ import annotations

import asyncio
import uuid

from .._prober import Prober

KEY = "join"
TITLE = "Runs: join"
INTRO = "`GET /threads/{t}/runs/{r}/join` (the SDK's `runs.join`) in each terminal case."


async def probe(p: Prober) -> None:
    t = await p.new_thread()
    rid = (await p.create_run(t, "slow", input={"delay": 0}))["run_id"]
    await p.call(KEY, "join, success", "GET", f"/threads/{t}/runs/{rid}/join", all_headers=True)
    await p.call(KEY, "join again, finished", "GET", f"/threads/{t}/runs/{rid}/join")
    await p.sdk(KEY, "join, success (SDK)", "runs.join(t, r)", p.client.runs.join(t, rid))

    tf = await p.new_thread()
    fr = (await p.create_run(tf, "fail", input={}))["run_id"]
    await p.call(KEY, "join, error", "GET", f"/threads/{tf}/runs/{fr}/join")
    await p.sdk(KEY, "join, error (SDK)", "runs.join(t, r)", p.client.runs.join(tf, fr))

    # interrupted while joined
    ti = await p.new_thread()
    r1 = (await p.create_run(ti, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(ti, "a")
    jt = asyncio.create_task(
        p.call(
            KEY,
            "join, run cancelled (interrupt) while waiting",
            "GET",
            f"/threads/{ti}/runs/{r1}/join",
        )
    )
    await asyncio.sleep(0.2)
    await p.http.post(f"/threads/{ti}/runs/{r1}/cancel", params={"action": "interrupt"})
    await jt
    await p.idle(ti)
    await p.call(KEY, "join, interrupted run, afterwards", "GET", f"/threads/{ti}/runs/{r1}/join")

    # rolled back while waiting
    tr = await p.new_thread()
    r2 = (await p.create_run(tr, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(tr, "a")
    jt = asyncio.create_task(
        p.call(KEY, "join, run rolled back while waiting", "GET", f"/threads/{tr}/runs/{r2}/join")
    )
    await asyncio.sleep(0.2)
    await p.http.post(f"/threads/{tr}/runs/{r2}/cancel", params={"action": "rollback"})
    await jt
    await asyncio.sleep(0.3)
    await p.call(
        KEY, "GET the rolled-back run (a joiner was attached)", "GET", f"/threads/{tr}/runs/{r2}"
    )

    # pending run cancelled while joined
    tp = await p.new_thread()
    b1 = (await p.create_run(tp, "slow", input={"delay": 1}))["run_id"]
    p1 = (await p.create_run(tp, "slow", input={}))["run_id"]
    jt = asyncio.create_task(
        p.call(
            KEY,
            "join, pending run cancelled while waiting",
            "GET",
            f"/threads/{tp}/runs/{p1}/join",
        )
    )
    await asyncio.sleep(0.2)
    await p.http.post(f"/threads/{tp}/runs/{p1}/cancel")
    await jt
    await p.client.runs.join(tp, b1)

    # HITL stop
    th = await p.new_thread()
    hr = (await p.create_run(th, "hitl", input={}, interrupt_before=["b"]))["run_id"]
    await p.call(KEY, "join, stopped at interrupt_before", "GET", f"/threads/{th}/runs/{hr}/join")
    tdn = await p.new_thread()
    dr = (await p.create_run(tdn, "dyn", input={}))["run_id"]
    await p.call(KEY, "join, dynamic interrupt()", "GET", f"/threads/{tdn}/runs/{dr}/join")

    await p.call(KEY, "join, unknown run", "GET", f"/threads/{t}/runs/{uuid.uuid4()}/join")
    await p.call(KEY, "join, unknown thread", "GET", f"/threads/{uuid.uuid4()}/runs/{rid}/join")
    await p.sdk(
        KEY,
        "join, unknown run (SDK)",
        "runs.join(t, <unknown>)",
        p.client.runs.join(t, str(uuid.uuid4())),
    )
