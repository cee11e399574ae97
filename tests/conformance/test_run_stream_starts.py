"""When a run's stream says the run started, and how it ends when the run goes away
(issue #12, item 5), on every target.

The `metadata` event `{run_id, attempt}` is sent when the run starts, to every stream
open on it then: `runs.stream` of a run that starts at once gets it first, a
`join_stream` opened while the run is pending gets it when the run starts, and a stream
of a run stopped while pending gets none. A stream open on a run whose thread is
deleted ends with an `error` event (404 Run not found).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

RUN_NOT_FOUND = {"error": "HTTPException", "message": "404: Run not found"}


async def pending_run(drv: Any, t: str) -> str:
    run_id = await drv.create(t, "slow", input={"log": ["p"], "delay": 0})
    assert (await drv.client.runs.get(t, run_id))["status"] == "pending"
    return str(run_id)


def connected(drv: Any, path_end: str) -> asyncio.Event:
    """Set once the response to a request whose path ends with `path_end` has arrived."""
    answered = asyncio.Event()

    async def on_response(response: httpx.Response) -> None:
        if response.request.url.path.endswith(path_end):
            answered.set()

    drv.http.event_hooks["response"].append(on_response)
    return answered


async def parts_of(stream: Any) -> list[tuple[str, Any]]:
    return [(p.event, p.data) async for p in stream]


async def test_stream_of_a_run_that_starts_at_once_begins_with_metadata(drv: Any) -> None:
    t = await drv.thread()
    parts = await parts_of(drv.client.runs.stream(t, "slow", input={"delay": 0}))
    event, data = parts[0]
    assert event == "metadata" and data["attempt"] == 1
    runs = await drv.client.runs.list(t)
    assert data["run_id"] == runs[0]["run_id"]
    assert [e for e, _ in parts[1:]] == ["values"] * 4


async def test_join_stream_of_a_pending_run_gets_metadata_when_it_starts(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.busy(t, delay=5)
    pending = await pending_run(drv, t)
    joined = connected(drv, f"/runs/{pending}/stream")
    reading = asyncio.ensure_future(parts_of(drv.client.runs.join_stream(t, pending)))
    await asyncio.wait_for(joined.wait(), drv.DEADLINE)
    await drv.client.runs.cancel(t, first)  # the pending run starts now
    parts = await asyncio.wait_for(reading, drv.DEADLINE)
    assert parts[0] == ("metadata", {"run_id": pending, "attempt": 1})
    assert {e for e, _ in parts[1:]} == {"values"}
    assert parts[-1][1]["log"] == ["p", "a", "b", "c"]


async def test_join_stream_of_a_running_run_has_no_metadata(drv: Any) -> None:
    t = await drv.thread()
    running = await drv.create(t, "slow", input={"delay": 0.5})
    await drv.wait_run(t, running, "running")
    parts = await parts_of(drv.client.runs.join_stream(t, running))
    assert "metadata" not in {e for e, _ in parts}


async def test_stream_of_a_run_cancelled_while_pending_sends_nothing(drv: Any) -> None:
    t = await drv.thread()
    await drv.busy(t, delay=5)
    reading = asyncio.ensure_future(parts_of(drv.client.runs.stream(t, "slow", input={"delay": 0})))
    target = await drv.until(lambda: _the_pending(drv, t), "the streamed run, pending")
    await drv.client.runs.cancel(t, target)
    assert await asyncio.wait_for(reading, drv.DEADLINE) == []
    assert (await drv.client.runs.get(t, target))["status"] == "interrupted"


async def test_streams_of_a_pending_run_whose_thread_is_deleted_end_with_an_error(
    drv: Any,
) -> None:
    t = await drv.thread()
    await drv.busy(t, delay=5)
    streamed = asyncio.ensure_future(
        parts_of(drv.client.runs.stream(t, "slow", input={"delay": 0}))
    )
    target = await drv.until(lambda: _the_pending(drv, t), "the streamed run, pending")
    joined_at = connected(drv, f"/runs/{target}/stream")
    joined = asyncio.ensure_future(parts_of(drv.client.runs.join_stream(t, target)))
    await asyncio.wait_for(joined_at.wait(), drv.DEADLINE)
    await drv.client.threads.delete(t)
    assert await asyncio.wait_for(streamed, drv.DEADLINE) == [("error", RUN_NOT_FOUND)]
    assert await asyncio.wait_for(joined, drv.DEADLINE) == [("error", RUN_NOT_FOUND)]


async def test_stream_of_a_running_run_whose_thread_is_deleted(drv: Any) -> None:
    t = await drv.thread()
    reading = asyncio.ensure_future(parts_of(drv.client.runs.stream(t, "slow", input={"delay": 5})))
    running = await drv.until(lambda: _the_running(drv, t), "the streamed run, running")
    await drv.client.threads.delete(t)
    parts = await asyncio.wait_for(reading, drv.DEADLINE)
    assert parts[0] == ("metadata", {"run_id": running, "attempt": 1})
    assert parts[-1] == ("error", RUN_NOT_FOUND)
    assert {e for e, _ in parts[1:-1]} <= {"values"}


async def _the_pending(drv: Any, t: str) -> str | None:
    runs = await drv.client.runs.list(t, status="pending")
    return str(runs[0]["run_id"]) if runs else None


async def _the_running(drv: Any, t: str) -> str | None:
    runs = await drv.client.runs.list(t, status="running")
    return str(runs[0]["run_id"]) if runs else None
