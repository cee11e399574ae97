"""Runs: streaming (SSE)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from .._prober import Prober

KEY = "stream"
TITLE = "Runs: streaming (SSE)"
INTRO = (
    "Raw SSE text as it came off the wire (uuids/timestamps redacted). Each event is "
    "`event:` + `data:` lines followed by a blank line; `id:` lines appear only where "
    "shown."
)


async def probe(p: Prober) -> None:
    await _modes(p)
    await _debug_modes(p)
    await _failures_and_interrupts(p)
    await _cut_by_double_text(p)
    await _join_stream(p)
    await _join_stream_cancelled(p)
    await _sdk_parts(p)
    p.rec.fact(
        KEY,
        f"SSE framing: line endings {sorted(p.sse_line_endings)}; "
        f"{p.sse_comments} comment/heartbeat lines (`:`-prefixed) seen in all streams "
        f"above; every event name seen: `{sorted(p.sse_event_names)}`.",
    )


async def _modes(p: Prober) -> None:
    """values+updates, the default, messages-tuple, messages and custom."""
    t = await p.new_thread()
    await p.sse(
        KEY,
        "values+updates",
        "POST",
        f"/threads/{t}/runs/stream",
        json_body={
            "assistant_id": "slow",
            "input": {"delay": 0},
            "stream_mode": ["values", "updates"],
        },
    )
    await p.sse(
        KEY,
        "default stream_mode",
        "POST",
        f"/threads/{await p.new_thread()}/runs/stream",
        json_body={"assistant_id": "slow", "input": {"delay": 0}},
    )
    await p.sse(
        KEY,
        "input {} (writes no channel)",
        "POST",
        f"/threads/{await p.new_thread()}/runs/stream",
        json_body={"assistant_id": "hitl", "input": {}, "stream_mode": ["values"]},
        note="no initial values event when the input writes nothing",
    )
    tc = await p.new_thread()
    await p.sse(
        KEY,
        "messages-tuple",
        "POST",
        f"/threads/{tc}/runs/stream",
        json_body={
            "assistant_id": "chat",
            "input": {"messages": [{"role": "user", "content": "hi"}]},
            "stream_mode": "messages-tuple",
        },
    )
    await p.sse(
        KEY,
        "messages",
        "POST",
        f"/threads/{tc}/runs/stream",
        json_body={
            "assistant_id": "chat",
            "input": {"messages": [{"role": "user", "content": "again"}]},
            "stream_mode": "messages",
        },
    )
    await p.sse(
        KEY,
        "custom",
        "POST",
        f"/threads/{t}/runs/stream",
        json_body={"assistant_id": "slow", "input": {}, "stream_mode": "custom"},
    )


async def _debug_modes(p: Prober) -> None:
    """debug, tasks+checkpoints, events and subgraphs on the two-node `hitl`."""
    th = await p.new_thread()
    await p.sse(
        KEY,
        "debug (hitl, 2 nodes)",
        "POST",
        f"/threads/{th}/runs/stream",
        json_body={"assistant_id": "hitl", "input": {}, "stream_mode": "debug"},
        max_chars=9000,
    )
    await p.sse(
        KEY,
        "tasks+checkpoints",
        "POST",
        f"/threads/{th}/runs/stream",
        json_body={
            "assistant_id": "hitl",
            "input": {},
            "stream_mode": ["tasks", "checkpoints"],
        },
        max_chars=9000,
    )
    await p.sse(
        KEY,
        "events (abbreviated)",
        "POST",
        f"/threads/{th}/runs/stream",
        json_body={"assistant_id": "hitl", "input": {}, "stream_mode": "events"},
        max_chars=1500,
    )
    await p.sse(
        KEY,
        "subgraphs=true, updates",
        "POST",
        f"/threads/{th}/runs/stream",
        json_body={
            "assistant_id": "hitl",
            "input": {},
            "stream_mode": "updates",
            "stream_subgraphs": True,
        },
    )


async def _failures_and_interrupts(p: Prober) -> None:
    """A graph that raises, interrupt_before, a dynamic interrupt() and its resume."""
    tf = await p.new_thread()
    await p.sse(
        KEY,
        "failing graph",
        "POST",
        f"/threads/{tf}/runs/stream",
        json_body={"assistant_id": "fail", "input": {}, "stream_mode": ["values", "updates"]},
    )
    tx = await p.new_thread()
    await p.sse(
        KEY,
        "interrupt_before=b",
        "POST",
        f"/threads/{tx}/runs/stream",
        json_body={
            "assistant_id": "hitl",
            "input": {},
            "stream_mode": ["values", "updates"],
            "interrupt_before": ["b"],
        },
    )
    tdn = await p.new_thread()
    await p.sse(
        KEY,
        "dynamic interrupt()",
        "POST",
        f"/threads/{tdn}/runs/stream",
        json_body={"assistant_id": "dyn", "input": {}, "stream_mode": ["values", "updates"]},
    )
    await p.sse(
        KEY,
        "resume dynamic interrupt via command",
        "POST",
        f"/threads/{tdn}/runs/stream",
        json_body={
            "assistant_id": "dyn",
            "command": {"resume": "yes"},
            "stream_mode": ["values", "updates"],
        },
    )


async def _cut_by_double_text(p: Prober) -> None:
    """A stream cut by a second run created with `interrupt`, then with `rollback`."""
    for strategy in ("interrupt", "rollback"):
        tm = await p.new_thread()
        seen_values = asyncio.Event()

        def watch(text: str, _: Any, ev: asyncio.Event = seen_values) -> None:
            if text.count("event: values") >= 2:
                ev.set()

        task = asyncio.create_task(
            p.sse(
                KEY,
                f"stream cut by multitask_strategy={strategy}",
                "POST",
                f"/threads/{tm}/runs/stream",
                json_body={
                    "assistant_id": "slow",
                    "input": {"delay": 1},
                    "stream_mode": ["values"],
                },
                on_event=watch,
                note="a second run with this strategy was created after the 2nd values "
                "event (node a done)",
            )
        )
        await asyncio.wait_for(seen_values.wait(), 15)
        await p.create_run(tm, "slow", input={}, multitask_strategy=strategy)
        await asyncio.wait_for(task, 20)
        await p.idle(tm)


async def _join_stream(p: Prober) -> None:
    """join_stream on a running and a finished run, and on a resumable one with and without
    Last-Event-ID."""
    tj = await p.new_thread()
    jr = (await p.create_run(tj, "slow", input={"delay": 0.5}, stream_mode=["values", "updates"]))[
        "run_id"
    ]
    await p.wait_run(tj, jr, {"running"})
    await p.sse(
        KEY,
        "join_stream on a running run",
        "GET",
        f"/threads/{tj}/runs/{jr}/stream",
        note="run created with stream_mode [values, updates]; joined after it started running",
    )
    await p.sse(
        KEY,
        "join_stream on a finished run",
        "GET",
        f"/threads/{tj}/runs/{jr}/stream",
    )
    _, _, events = await p.sse(
        KEY,
        "stream_resumable=true",
        "POST",
        f"/threads/{tj}/runs/stream",
        json_body={
            "assistant_id": "slow",
            "input": {},
            "stream_mode": ["values", "updates"],
            "stream_resumable": True,
        },
    )
    runs_now = (await p.http.get(f"/threads/{tj}/runs")).json()
    jr2 = runs_now[0]["run_id"]
    ids = [e["id"] for e in events if e.get("id")]
    await p.sse(
        KEY,
        "join_stream on a finished resumable run",
        "GET",
        f"/threads/{tj}/runs/{jr2}/stream",
        note="no Last-Event-ID header",
    )
    if len(ids) >= 3:
        await p.sse(
            KEY,
            "join_stream, resumable, Last-Event-ID",
            "GET",
            f"/threads/{tj}/runs/{jr2}/stream",
            headers={"Last-Event-ID": ids[2]},
            note="Last-Event-ID = the id of the 3rd event above",
        )
        await p.sse(
            KEY,
            "join_stream, resumable, Last-Event-ID, stream_mode=values",
            "GET",
            f"/threads/{tj}/runs/{jr2}/stream",
            params={"stream_mode": "values"},
            headers={"Last-Event-ID": ids[0]},
            note="Last-Event-ID = the id of the 1st event above",
        )
    await p.call(KEY, "join_stream unknown run", "GET", f"/threads/{tj}/runs/{uuid.uuid4()}/stream")


async def _join_stream_cancelled(p: Prober) -> None:
    """join_stream on a run cancelled (interrupt) while it is joined."""
    tk = await p.new_thread()
    kr = (await p.create_run(tk, "slow", input={"delay": 1}))["run_id"]
    await p.wait_log(tk, "a")
    cancel_later = asyncio.create_task(_cancel_after(p, tk, kr, 1.3))
    await p.sse(
        KEY,
        "join_stream while the run is cancelled (interrupt)",
        "GET",
        f"/threads/{tk}/runs/{kr}/stream",
        params={"stream_mode": "values"},
        note="joined after node a finished; cancelled 1.3 s later, i.e. after node b",
    )
    await cancel_later
    await p.idle(tk)


async def _sdk_parts(p: Prober) -> None:
    """The same stream as the SDK's `runs.stream` parts."""
    ts = await p.new_thread()
    parts = []

    async def collect() -> list[dict[str, Any]]:
        async for part in p.client.runs.stream(
            ts, "slow", input={}, stream_mode=["values", "updates"]
        ):
            parts.append(
                {
                    "event": part.event,
                    "data": part.data,
                    **({"id": part.id} if getattr(part, "id", None) else {}),
                }
            )
        return parts

    await p.sdk(
        KEY,
        "SDK runs.stream parts",
        "[{event, data} for p in runs.stream(t, 'slow', stream_mode=['values','updates'])]",
        collect(),
    )


async def _cancel_after(
    p: Prober, tid: str, rid: str, delay: float, action: str = "interrupt"
) -> None:
    """Cancel the run `delay` seconds from now (the probe times this on purpose)."""
    await asyncio.sleep(delay)
    await p.http.post(f"/threads/{tid}/runs/{rid}/cancel", params={"action": action})
