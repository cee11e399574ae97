"""Run options: batch, stateless, if_not_exists, after_seconds, checkpoint fork."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import datetime

from .._prober import Prober

KEY = "options"
TITLE = "Run options: batch, stateless, if_not_exists, after_seconds, checkpoint fork"
INTRO = ""


async def probe(p: Prober) -> None:
    await _batch(p)
    await _stateless_wait(p)
    await _stateless_other(p)
    await _if_not_exists(p)
    await _after_seconds(p)
    await _checkpoint_fork(p)


async def _batch(p: Prober) -> None:
    await p.call(
        KEY,
        "create_batch",
        "POST",
        "/runs/batch",
        json_body=[
            {"assistant_id": "slow", "input": {}},
            {"assistant_id": "hitl", "input": {}},
        ],
        show=lambda b: (
            {
                "len": len(b),
                "first": b[0],
                "thread_ids_differ": b[0]["thread_id"] != b[1]["thread_id"],
            }
            if isinstance(b, list)
            else b
        ),
    )
    await p.call(
        KEY,
        "create_batch, one bad item",
        "POST",
        "/runs/batch",
        json_body=[{"assistant_id": "slow"}, {"input": {}}],
    )
    await p.call(KEY, "create_batch, empty", "POST", "/runs/batch", json_body=[])
    await p.sdk(
        KEY,
        "create_batch (SDK)",
        "runs.create_batch([{assistant_id:'slow'}])",
        p.client.runs.create_batch([{"assistant_id": "slow", "input": {}}]),
        show=lambda v: {"type": type(v).__name__, "len": len(v)},
    )


async def _stateless_wait(p: Prober) -> None:
    """Stateless /runs/wait: its temporary thread 1 s later, and with on_completion=keep."""
    r = await p.call(
        KEY,
        "stateless wait",
        "POST",
        "/runs/wait",
        json_body={"assistant_id": "slow", "input": {"delay": 0}},
        all_headers=True,
    )
    loc = r.headers.get("content-location", "")
    m = re.search(r"/threads/([^/]+)/runs/([^/]+)", loc)
    if m:
        await asyncio.sleep(1.0)
        await p.call(KEY, "its temporary thread, 1 s later", "GET", f"/threads/{m.group(1)}")
        await p.call(KEY, "its run, 1 s later", "GET", f"/threads/{m.group(1)}/runs/{m.group(2)}")
    r = await p.call(
        KEY,
        "stateless wait, on_completion=keep",
        "POST",
        "/runs/wait",
        json_body={"assistant_id": "slow", "input": {"delay": 0}, "on_completion": "keep"},
    )
    m = re.search(r"/threads/([^/]+)/runs/([^/]+)", r.headers.get("content-location", ""))
    if m:
        await asyncio.sleep(1.0)
        await p.call(KEY, "kept thread", "GET", f"/threads/{m.group(1)}")
        await p.call(KEY, "kept thread state", "GET", f"/threads/{m.group(1)}/state")
        await p.call(
            KEY,
            "kept run",
            "GET",
            f"/threads/{m.group(1)}/runs/{m.group(2)}",
            show=lambda b: (
                {k: b.get(k) for k in ("status", "kwargs")} if isinstance(b, dict) else b
            ),
        )
    await p.sdk(
        KEY,
        "stateless wait (SDK)",
        "runs.wait(None, 'slow', input={})",
        p.client.runs.wait(None, "slow", input={}),
    )


async def _stateless_other(p: Prober) -> None:
    """Stateless create, stream, command.resume and multitask_strategy=reject."""
    r = await p.call(
        KEY,
        "stateless create",
        "POST",
        "/runs",
        json_body={"assistant_id": "slow", "input": {}},
        all_headers=True,
    )
    if r.status_code == 200:
        run = r.json()
        await p.client.runs.join(run["thread_id"], run["run_id"])
        await asyncio.sleep(0.5)
        await p.call(
            KEY, "stateless create: thread after run", "GET", f"/threads/{run['thread_id']}"
        )
    await p.sse(
        KEY,
        "stateless stream",
        "POST",
        "/runs/stream",
        json_body={"assistant_id": "slow", "input": {}, "stream_mode": ["updates"]},
    )
    await p.call(
        KEY,
        "stateless with command.resume",
        "POST",
        "/runs",
        json_body={"assistant_id": "dyn", "command": {"resume": 1}},
    )
    await p.call(
        KEY,
        "stateless, multitask_strategy=reject",
        "POST",
        "/runs/wait",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        show=lambda b: b if not isinstance(b, dict) or "log" not in b else {"log": b["log"]},
    )


async def _if_not_exists(p: Prober) -> None:
    """A run on an unknown thread: by default, with `reject`, `create` and a bogus value."""
    unknown = str(uuid.uuid4())
    await p.call(
        KEY,
        "run on unknown thread (default)",
        "POST",
        f"/threads/{unknown}/runs",
        json_body={"assistant_id": "slow", "input": {}},
    )
    await p.sdk(
        KEY,
        "run on unknown thread (SDK)",
        "runs.create(<unknown>, 'slow')",
        p.client.runs.create(unknown, "slow", input={}),
    )
    await p.call(
        KEY,
        "wait on unknown thread",
        "POST",
        f"/threads/{unknown}/runs/wait",
        json_body={"assistant_id": "slow", "input": {}},
    )
    await p.call(
        KEY,
        "if_not_exists=reject",
        "POST",
        f"/threads/{unknown}/runs",
        json_body={"assistant_id": "slow", "input": {}, "if_not_exists": "reject"},
    )
    r = await p.call(
        KEY,
        "if_not_exists=create",
        "POST",
        f"/threads/{unknown}/runs",
        json_body={"assistant_id": "slow", "input": {}, "if_not_exists": "create"},
    )
    if r.status_code == 200:
        await p.client.runs.join(unknown, r.json()["run_id"])
        await p.idle(unknown)
        await p.call(
            KEY,
            "thread created by if_not_exists",
            "GET",
            f"/threads/{unknown}",
            show=lambda b: {k: b.get(k) for k in ("status", "metadata", "config")},
        )
    await p.call(
        KEY,
        "if_not_exists=bogus",
        "POST",
        f"/threads/{unknown}/runs",
        json_body={"assistant_id": "slow", "if_not_exists": "bogus"},
    )


async def _after_seconds(p: Prober) -> None:
    """A run delayed 3 s: its created_at, the thread meanwhile, reject; then -5 s."""
    ta = await p.new_thread()
    t0 = time.time()
    r = await p.call(
        KEY,
        "after_seconds=3",
        "POST",
        f"/threads/{ta}/runs",
        json_body={"assistant_id": "slow", "input": {}, "after_seconds": 3},
        show=lambda b: {k: b.get(k) for k in ("status", "created_at", "updated_at", "kwargs")},
    )
    ar = r.json()
    created = datetime.fromisoformat(ar["created_at"]).timestamp()
    p.rec.fact(
        KEY,
        f"With `after_seconds=3` the run's `created_at` was {created - t0:+.1f} s from the "
        "request time (pushed into the future); `updated_at` is the real time.",
    )
    await p.call(
        KEY,
        "after_seconds: thread while waiting",
        "GET",
        f"/threads/{ta}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.call(
        KEY,
        "after_seconds: run at +0.5 s",
        "GET",
        f"/threads/{ta}/runs/{ar['run_id']}",
        show=lambda b: {"status": b.get("status")},
    )
    await p.call(
        KEY,
        "after_seconds: reject while it waits",
        "POST",
        f"/threads/{ta}/runs",
        json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
    )
    st = await p.wait_run(ta, ar["run_id"], {"running", "success"}, limit_s=10)
    p.rec.fact(
        KEY,
        f"The delayed run left `pending` after {time.time() - t0:.1f} s (first seen as `{st}`).",
    )
    await p.client.runs.join(ta, ar["run_id"])
    await p.call(
        KEY,
        "after_seconds=-5",
        "POST",
        f"/threads/{ta}/runs",
        json_body={"assistant_id": "slow", "input": {}, "after_seconds": -5},
        show=lambda b: (
            {k: b.get(k) for k in ("status", "created_at", "updated_at")}
            if isinstance(b, dict)
            else b
        ),
        note="accepted; created_at is set 5 s in the past",
    )
    await p.idle(ta)


async def _checkpoint_fork(p: Prober) -> None:
    """Runs from an earlier checkpoint: by id with input=None, as an object, unknown id."""
    tk = await p.new_thread()
    await p.client.runs.wait(tk, "slow", input={})
    await p.idle(tk)
    hist = (await p.http.post(f"/threads/{tk}/history", json={"limit": 100})).json()
    fork = next(h for h in hist if h["next"] == ["b"])
    await p.call(
        KEY,
        "run with checkpoint_id (fork at next=[b])",
        "POST",
        f"/threads/{tk}/runs/wait",
        json_body={
            "assistant_id": "slow",
            "input": None,
            "checkpoint_id": fork["checkpoint"]["checkpoint_id"],
        },
    )
    await p.idle(tk)
    rows = await p.history_rows(tk, {})
    p.history_table(
        KEY,
        "History after forking at the `next=[b]` checkpoint and running with `input=None`",
        rows,
    )
    await p.call(
        KEY,
        "run with checkpoint (object)",
        "POST",
        f"/threads/{tk}/runs/wait",
        json_body={
            "assistant_id": "slow",
            "input": {},
            "checkpoint": {"checkpoint_id": fork["checkpoint"]["checkpoint_id"]},
        },
        note="with new input the fork starts a fresh __start__ step",
    )
    await p.idle(tk)
    await p.call(
        KEY,
        "run with unknown checkpoint_id",
        "POST",
        f"/threads/{tk}/runs/wait",
        json_body={"assistant_id": "slow", "input": {}, "checkpoint_id": str(uuid.uuid4())},
    )
    await p.idle(tk)
