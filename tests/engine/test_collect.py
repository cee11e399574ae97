"""collect and debounce: held runs start as one, the oldest carrying the others' inputs.

A one-node chat graph whose node waits at a gate the test opens. Debounce windows are
made deterministic by their policies (a long `quiet_s` on every arrival but the last,
or a long one with a short `max_wait_s`); tests wait for states, never assert times.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

import nbruns
from tests.engine.merging_graphs import ask, chat, humans
from tests.helpers import Gates, wait_for_status, wait_until


@pytest.fixture
async def client(gates: Gates) -> AsyncIterator[Any]:
    server = nbruns.Server(graphs={"chat": chat(gates)})
    c = server.client()
    yield c
    gates.open_all()
    await c.aclose()
    await server.aclose()


def _policy(**keys: float) -> dict[str, Any]:
    return {"multitask": keys}  # what nbruns.Policy(...).as_metadata() gives


async def _status(client: Any, tid: str, run_id: str) -> str:
    return str((await client.runs.get(tid, run_id))["status"])


async def _timeline(client: Any, tid: str) -> list[dict[str, Any]]:
    return list(await client.http.get("/nbruns/timeline", params={"thread_id": tid}))


async def _thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


async def _check_merged(
    client: Any, tid: str, carrier: str, others: list[str], how: str
) -> dict[str, Any]:
    """Each of `others` merged into `carrier` (in order), every join the carrier's."""
    events = await _timeline(client, tid)
    merged = [(e["run_id"], e["into"], e["how"]) for e in events if e["kind"] == "merged"]
    assert merged == [(o, carrier, how) for o in others]
    started = [e["run_id"] for e in events if e["kind"] == "started"]
    assert carrier in started and not set(others) & set(started)  # never on their own
    final = await client.runs.join(tid, carrier)
    listed = {
        r["run_id"]: r for r in await client.http.get("/nbruns/runs", params={"thread_id": tid})
    }
    for other in others:
        assert await client.runs.join(tid, other) == final
        assert await _status(client, tid, other) == "success"
        assert (await client.runs.get(tid, other))["merged_into"] == carrier
        assert listed[other]["merged_into"] == carrier
    assert await _status(client, tid, carrier) == "success"
    assert (await client.runs.get(tid, carrier))["merged_into"] is None
    return dict(final)


@pytest.mark.parametrize("burst", [1, 2, 10])
async def test_collect_starts_a_burst_as_one_run(client: Any, gates: Gates, burst: int) -> None:
    tid = await _thread(client)
    busy = await client.runs.create(tid, "chat", input=ask("first", gate="g"))
    await gates["g/reply1"].reached()
    held = []
    for i in range(burst):
        gate = "h" if i == burst - 1 else "g"  # other keys: the last one wins
        run = await client.runs.create(
            tid, "chat", input=ask(f"m{i}", gate=gate), multitask_strategy="collect"
        )
        held.append(str(run["run_id"]))
    assert {await _status(client, tid, r) for r in held} == {"pending"}
    gates["g/reply1"].open()
    await gates["h/reply2"].reached()  # the carrier runs, with the last gate
    assert {await _status(client, tid, r) for r in held} == {"running"}
    gates["h/reply2"].open()
    final = await _check_merged(client, tid, held[0], held[1:], "collect")
    texts = [f"m{i}" for i in range(burst)]
    assert humans(final["messages"]) == ["first", *texts]  # in arrival order
    assert final["messages"][-1]["content"] == "saw:" + ",".join(["first", *texts])
    assert final["gate"] == "h"
    assert await _status(client, tid, busy["run_id"]) == "success"


@pytest.mark.parametrize("burst", [1, 2, 10])
async def test_debounce_starts_a_burst_once_quiet(client: Any, gates: Gates, burst: int) -> None:
    tid = await _thread(client)
    held = []
    for i in range(burst):
        # a long quiet window on all but the last: the burst cannot split by timing
        quiet = 0.05 if i == burst - 1 else 30.0
        run = await client.runs.create(
            tid,
            "chat",
            input=ask(f"m{i}", gate="d"),
            multitask_strategy="debounce",
            metadata=_policy(quiet_s=quiet),
        )
        held.append(str(run["run_id"]))
    await gates["d/reply1"].reached()
    assert {await _status(client, tid, r) for r in held} == {"running"}
    gates["d/reply1"].open()
    final = await _check_merged(client, tid, held[0], held[1:], "debounce")
    assert humans(final["messages"]) == [f"m{i}" for i in range(burst)]
    waits = [e for e in await _timeline(client, tid) if e["kind"] == "debounce_wait"]
    assert len(waits) == burst  # each arrival moved the window once
    assert {e["run_id"] for e in waits} == {held[0]}
    until, deadline = (datetime.fromisoformat(waits[-1][k]) for k in ("until", "deadline"))
    assert until < deadline  # the last arrival's short quiet ends it (ISO times)


async def test_debounce_waits_for_a_busy_thread(client: Any, gates: Gates) -> None:
    tid = await _thread(client)
    await client.runs.create(tid, "chat", input=ask("first", gate="b"))
    await gates["b/reply1"].reached()
    held = []
    for text in ("d1", "d2"):
        run = await client.runs.create(
            tid,
            "chat",
            input=ask(text),
            multitask_strategy="debounce",
            metadata=_policy(quiet_s=0.05),
        )
        held.append(str(run["run_id"]))
    quiet_after = time.time() + 0.05

    async def window_over() -> bool:
        return time.time() > quiet_after

    await wait_until(window_over, "the quiet window to end")
    assert {await _status(client, tid, r) for r in held} == {"pending"}  # still busy
    waits = [e for e in await _timeline(client, tid) if e["kind"] == "debounce_wait"]
    assert len(waits) == 2 and {e["run_id"] for e in waits} == {held[0]}  # moved once
    gates["b/reply1"].open()
    await gates["b/reply2"].reached()
    assert {await _status(client, tid, r) for r in held} == {"running"}
    gates["b/reply2"].open()
    final = await _check_merged(client, tid, held[0], held[1:], "debounce")
    assert humans(final["messages"]) == ["first", "d1", "d2"]


async def test_max_wait_bounds_a_stream_of_arrivals(client: Any, gates: Gates) -> None:
    tid = await _thread(client)
    policy = _policy(quiet_s=60.0, max_wait_s=0.3)  # only max_wait can start it
    arrivals: list[str] = []

    async def arrive() -> str:
        text = f"a{len(arrivals)}"
        run = await client.runs.create(
            tid, "chat", input=ask(text, gate="m"), multitask_strategy="debounce", metadata=policy
        )
        arrivals.append(str(run["run_id"]))
        return text

    for _ in range(3):
        await arrive()
    while await _status(client, tid, arrivals[0]) == "pending" and len(arrivals) < 500:
        await arrive()
    carrier = await wait_for_status(client, tid, arrivals[0], "running")
    await gates["m/reply1"].reached()
    events = await _timeline(client, tid)
    merged = [e["run_id"] for e in events if e["kind"] == "merged" and e["into"] == arrivals[0]]
    assert len(merged) >= 2
    assert merged == arrivals[1 : 1 + len(merged)]  # those that came before it started
    later = arrivals[1 + len(merged) :]
    assert {await _status(client, tid, r) for r in later} <= {"pending"}
    gates["m/reply1"].open()
    final = await client.runs.join(tid, carrier["run_id"])
    assert humans(final["messages"]) == [f"a{i}" for i in range(1 + len(merged))]
    gates["m/reply2"].open()
    if later:  # the next ones form a group of their own, bounded the same way
        await wait_for_status(client, tid, later[0], "success")
