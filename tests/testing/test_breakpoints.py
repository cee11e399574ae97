"""Breakpoints (`nbruns.testing.pause`) on a graph that knows nothing of them: a -> b -> c.

Each test runs in process and against `nbruns serve` (`testing_client`). Every wait is
on a breakpoint or a run's end, never on time.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

import nbruns
from nbruns.testing import Breakpoint, Hit, assert_runs, pause, wait_idle


async def _thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


async def _run(client: Any, tid: str, tag: str, **kwargs: Any) -> str:
    run = await client.runs.create(tid, "chain", input={"tag": tag, "log": [f"{tag}:in"]}, **kwargs)
    return str(run["run_id"])


async def _log(client: Any, tid: str) -> list[str]:
    return list((await client.threads.get_state(tid))["values"].get("log", []))


@pytest.mark.parametrize(
    ("where", "boundary", "log"),
    [
        ({"before": "a"}, ((), ("a",)), ["x:in"]),
        ({"before": "c"}, (("b",), ("c",)), ["x:in", "x:a", "x:b"]),
        ({"after": "a"}, (("a",), ("b",)), ["x:in", "x:a"]),
        ({"after": "c"}, (("c",), ()), ["x:in", "x:a", "x:b", "x:c"]),
        ({"times": 1}, ((), ("a",)), ["x:in"]),  # neither: before="*", caught once
    ],
)
async def test_a_run_is_held_at_the_boundary_named_with_its_steps_checkpointed(
    testing_client: Any, where: dict[str, str], boundary: tuple[Any, Any], log: list[str]
) -> None:
    client = testing_client
    tid = await _thread(client)
    async with await pause(client, tid, **where) as bp:
        run_id = await _run(client, tid, "x")
        hit = await bp.reached(timeout=10)
        assert hit == Hit(run_id, tid, boundary[0], boundary[1], hit.since)
        assert bp.held == (hit,) and str(hit).startswith(f"run {run_id} held ")
        assert (await client.runs.get(tid, run_id))["status"] == "running"
        assert await _log(client, tid) == log
        assert bp.hits == 1
        await bp.release()
        await client.runs.join(tid, run_id)
    assert (await client.runs.get(tid, run_id))["status"] == "success"
    assert bp.removed and await client.http.get("/nbruns/holds", params={"thread_id": tid}) == []


async def test_any_node_catches_every_boundary_and_counts_its_hits(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    bp = await pause(client, tid, before="*")
    run_id = await _run(client, tid, "x")
    seen = []
    for _ in range(3):
        hit = await bp.reached(timeout=10)
        seen.append(hit.before)
        await bp.release()  # returns once the run left: reached() waits for the next
    await client.runs.join(tid, run_id)
    assert seen == [("a",), ("b",), ("c",)]
    assert (bp.hits, (await bp.refresh()).hits, bp.armed) == (3, 3, True)
    await bp.remove()
    await bp.remove()  # twice: nothing happens
    assert repr(bp).endswith("3 hits, removed>") and "before any node" in repr(bp)


async def test_times_disarms_after_that_many_catches(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    bp = await pause(client, tid, after="b", times=1)
    assert repr(bp) == f"<Breakpoint {bp.id[:8]} after 'b' on thread {tid[:8]}: 0/1 hits, armed>"
    first = await _run(client, tid, "first")
    assert (await bp.reached(timeout=10)).after == ("b",)
    assert (bp.hits, bp.armed) == (1, False)
    await bp.release()
    await client.runs.join(tid, first)
    second = await _run(client, tid, "second")
    await client.runs.join(tid, second)  # not caught: the breakpoint is disarmed
    assert (await bp.refresh()).hits == 1
    with pytest.raises(TimeoutError, match="caught 1 so far, and is disarmed"):
        await bp.reached(timeout=0)


async def test_a_breakpoint_set_while_a_run_goes_catches_it_further_on(
    testing_client: Any,
) -> None:
    client = testing_client
    tid = await _thread(client)
    first_stop = await pause(client, tid, before="a", times=1)
    run_id = await _run(client, tid, "x")
    await first_stop.reached(timeout=10)
    later = await pause(client, tid, before="c")  # the run is going (held before a)
    await first_stop.release()
    hit = await later.reached(timeout=10)
    assert (hit.run_id, hit.before) == (run_id, ("c",))
    assert await _log(client, tid) == ["x:in", "x:a", "x:b"]
    await later.remove()  # removing lets it go on
    await client.runs.join(tid, run_id)
    assert await _log(client, tid) == ["x:in", "x:a", "x:b", "x:c"]


async def test_new_runs_only_leaves_the_run_already_going_alone(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    early = await pause(client, tid, before="a", times=1)
    first = await _run(client, tid, "first")
    await early.reached(timeout=10)
    fresh = await pause(client, tid, before="b", new_runs_only=True, times=1)
    await early.release()
    await client.runs.join(tid, first)
    assert (await fresh.refresh()).hits == 0
    second = await _run(client, tid, "second")
    assert (await fresh.reached(timeout=10)).run_id == second
    await fresh.remove()
    await client.runs.join(tid, second)


async def test_reached_times_out_naming_the_breakpoint_and_its_hits(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    async with await pause(client, tid, before="b") as bp:
        with pytest.raises(TimeoutError) as err:
            await bp.reached(timeout=0)
    assert str(err.value) == (
        f"<Breakpoint {bp.id[:8]} before 'b' on thread {tid[:8]}: 0 hits, armed> was not "
        f"reached within 0 s: no run of thread {tid} was held before 'b' (it caught 0 so far)"
    )


async def test_a_node_no_graph_has_is_refused_listing_the_nodes(testing_client: Any) -> None:
    client = testing_client
    tid = await _thread(client)
    with pytest.raises(UnprocessableEntityError) as err:
        await pause(client, tid, before="tool")
    message = str(err.value)
    assert message.startswith("Invalid hold: no graph has a node 'tool' ('before'); the ")
    assert "chain: a, b, c" in message and message.endswith("; or use '*' for any node")
    assert await client.http.get("/nbruns/holds", params={"thread_id": tid}) == []


async def test_a_thread_that_does_not_exist_is_not_found(testing_client: Any) -> None:
    with pytest.raises(NotFoundError):
        await pause(testing_client, "00000000-0000-4000-8000-000000000000", before="a")


def test_the_sync_client_is_refused_naming_get_client() -> None:
    client = nbruns.get_sync_client(graphs={})
    with pytest.raises(TypeError, match=r"takes the async langgraph_sdk client \(nbruns.get_"):
        pause(client, "t", before="a").send(None)


# -- a held run answers cancels and every strategy as a run busy in that step would ------


async def _held(client: Any) -> tuple[str, str, Breakpoint]:
    tid = await _thread(client)
    bp = await pause(client, tid, before="b", times=1)
    first = await _run(client, tid, "first")
    await bp.reached(timeout=10)
    return tid, first, bp


async def test_interrupt_stops_the_held_run_keeping_its_finished_steps(
    testing_client: Any,
) -> None:
    client = testing_client
    tid, first, _ = await _held(client)
    second = await _run(client, tid, "second", multitask_strategy="interrupt")
    await wait_idle(client, tid, timeout=10)
    assert await _log(client, tid) == [
        "first:in",
        "first:a",
        "second:in",
        "second:a",
        "second:b",
        "second:c",
    ]
    assert_runs(
        await nbruns.runs_frame(client, tid),
        [
            {"run_id": first, "status": "interrupted", "superseded_by": 1},
            {"run_id": second, "status": "success", "multitask_strategy": "interrupt"},
        ],
    )


async def test_rollback_deletes_the_held_run_and_its_steps(testing_client: Any) -> None:
    client = testing_client
    tid, first, _ = await _held(client)
    second = await _run(client, tid, "second", multitask_strategy="rollback")
    await wait_idle(client, tid, timeout=10)
    assert await _log(client, tid) == ["second:in", "second:a", "second:b", "second:c"]
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, first)
    assert_runs(
        await nbruns.runs_frame(client, tid),
        [
            {"status": "rolled_back", "superseded_by": 1},
            {"run_id": second, "status": "success", "multitask_strategy": "rollback"},
        ],
    )


async def test_reject_refuses_while_a_run_is_held(testing_client: Any) -> None:
    client = testing_client
    tid, first, bp = await _held(client)
    with pytest.raises(ConflictError):
        await _run(client, tid, "second", multitask_strategy="reject")
    await bp.release()
    await wait_idle(client, tid, timeout=10)
    assert_runs(await nbruns.runs_frame(client, tid), [{"run_id": first, "status": "success"}])


async def test_enqueue_waits_for_the_held_run(testing_client: Any) -> None:
    client = testing_client
    tid, first, bp = await _held(client)
    second = await _run(client, tid, "second", multitask_strategy="enqueue")
    assert (await client.runs.get(tid, second))["status"] == "pending"
    await bp.release()
    await wait_idle(client, tid, timeout=10)
    assert (await _log(client, tid))[4:] == ["second:in", "second:a", "second:b", "second:c"]
    assert_runs(
        await nbruns.runs_frame(client, tid),
        [
            {"run_id": first, "status": "success"},
            {"run_id": second, "status": "success", "multitask_strategy": "enqueue"},
        ],
    )


async def test_cancel_ends_the_held_run_and_frees_the_breakpoint(testing_client: Any) -> None:
    client = testing_client
    tid, first, bp = await _held(client)
    await client.runs.cancel(tid, first, wait=True)
    assert (await client.runs.get(tid, first))["status"] == "interrupted"
    assert (await bp.refresh()).held == ()
    await bp.remove()


async def test_a_deleted_threads_breakpoint_removes_quietly(testing_client: Any) -> None:
    client = testing_client
    tid, _, bp = await _held(client)
    await client.threads.delete(tid)  # stops the run, and its holds go with it
    with pytest.raises(httpx.HTTPStatusError):
        await bp.refresh()
    await bp.remove()
    assert bp.removed
