"""A failing graph."""

from __future__ import annotations

from .._prober import Prober

KEY = "failure"
TITLE = "A failing graph"
INTRO = '`fail` has one node `boom` that raises `ValueError("boom")`.'


async def probe(p: Prober) -> None:
    t = await p.new_thread()
    r = await p.create_run(t, "fail", input={})
    await p.call(KEY, "join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
    await p.idle(t)
    await p.call(
        KEY,
        "run",
        "GET",
        f"/threads/{t}/runs/{r['run_id']}",
        show=lambda b: {"status": b.get("status"), "keys": sorted(b)},
    )
    await p.call(KEY, "thread", "GET", f"/threads/{t}")
    await p.call(KEY, "state", "GET", f"/threads/{t}/state")
    await p.call(
        KEY,
        "wait",
        "POST",
        f"/threads/{t}/runs/wait",
        json_body={"assistant_id": "fail", "input": {}},
        all_headers=True,
    )
    await p.sdk(
        KEY,
        "wait (SDK default raise_error)",
        "runs.wait(t, 'fail')",
        p.client.runs.wait(t, "fail", input={}),
    )
    await p.sdk(
        KEY,
        "wait (SDK raise_error=False)",
        "runs.wait(t, 'fail', raise_error=False)",
        p.client.runs.wait(t, "fail", input={}, raise_error=False),
    )
    await p.idle(t)
    t2 = await p.new_thread()
    await p.client.runs.wait(t2, "slow", input={}, raise_error=False)
    await p.idle(t2)
    await p.client.runs.wait(t2, "fail", input={}, raise_error=False)
    await p.idle(t2)
    ok = await p.create_run(t2, "slow", input={})
    await p.client.runs.join(t2, ok["run_id"])
    await p.idle(t2)
    await p.call(
        KEY,
        "thread after a later success",
        "GET",
        f"/threads/{t2}",
        show=lambda b: {k: b.get(k) for k in ("status", "error")},
    )
    t3 = await p.new_thread()
    r3 = await p.create_run(t3, "slow", input="abc")
    await p.call(
        KEY,
        "input as a string: join",
        "GET",
        f"/threads/{t3}/runs/{r3['run_id']}/join",
        note='the server accepted input="abc" (200) and the run failed inside the graph',
    )
    await p.idle(t3)
    await p.call(
        KEY,
        "input as a string: run",
        "GET",
        f"/threads/{t3}/runs/{r3['run_id']}",
        show=lambda b: {"status": b.get("status")},
    )
