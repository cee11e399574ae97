"""Holds: a thread's runs kept at a step boundary, for any graph, through the SDK client.

The graphs here are fast and know nothing of holds: every wait is on a hold the test
set (`wait_held`) or on a run's status, never on time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError

import nbruns
from nbruns.views._holds import (
    create_hold,
    delete_hold,
    get_hold,
    list_holds,
    release_hold,
    wait_held,
)
from tests.helpers import wait_for_status, wait_until
from tests.log_graphs import chain, fan_out


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    server = nbruns.Server(graphs={"chain": chain(), "fan": fan_out()})
    c = server.client()
    yield c
    await c.aclose()
    await server.aclose()


async def _thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


def _input(tag: str) -> dict[str, Any]:
    return {"log": [f"{tag}:in"], "tag": tag}


async def test_a_run_held_before_its_first_step_has_its_input_checkpointed(client: Any) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, times=1, new_runs_only=True)
    assert (hold["before"], hold["after"], hold["armed"]) == ("*", None, True)
    run = await client.runs.create(tid, "chain", input=_input("x"))
    held = await wait_held(client, hold["hold_id"], timeout=10)
    assert held["held"][0]["run_id"] == run["run_id"]
    assert (held["held"][0]["after"], held["held"][0]["before"]) == ([], ["a"])
    assert (held["hits"], held["armed"]) == (1, False)
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "running"
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == ["x:in"] and state["next"] == ["a"]
    await release_hold(client, hold["hold_id"])
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    kinds = [
        e["kind"] for e in await client.http.get("/nbruns/timeline", params={"thread_id": tid})
    ]
    assert kinds.index("held") < kinds.index("released") < kinds.index("finished")


async def test_a_run_held_before_a_node_has_the_steps_before_it_checkpointed(client: Any) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, before="b")
    run = await client.runs.create(tid, "chain", input=_input("x"))
    held = (await wait_held(client, hold["hold_id"], timeout=10))["held"][0]
    assert (held["after"], held["before"]) == (["a"], ["b"])
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == ["x:in", "x:a"] and state["next"] == ["b"]
    runs = await client.http.get("/nbruns/runs", params={"thread_id": tid})
    assert runs[0]["held"]["hold_id"] == hold["hold_id"]
    await release_hold(client, hold["hold_id"])
    assert (await client.runs.join(tid, run["run_id"]))["log"] == ["x:in", "x:a", "x:b"]
    assert (await get_hold(client, hold["hold_id"]))["hits"] == 1  # still armed: times=None


async def test_after_the_last_node_holds_the_run_before_it_ends(client: Any) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, after="b")
    run = await client.runs.create(tid, "chain", input=_input("x"))
    held = (await wait_held(client, hold["hold_id"], timeout=10))["held"][0]
    assert (held["after"], held["before"]) == (["b"], [])
    assert (await client.threads.get_state(tid))["values"]["log"][-1] == "x:b"
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "running"
    await delete_hold(client, hold["hold_id"])  # deleting releases too
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    assert await list_holds(client, tid) == []


@pytest.mark.parametrize(("where", "hits"), [({"before": "*"}, 2), ({"after": "*"}, 2)])
async def test_any_node_holds_at_every_boundary_it_names(
    client: Any, where: dict[str, str], hits: int
) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, **where)
    run = await client.runs.create(tid, "chain", input=_input("x"))
    seen = []
    for _ in range(hits):
        held = (await wait_held(client, hold["hold_id"], timeout=10))["held"][0]
        seen.append((held["after"], held["before"]))
        await release_hold(client, hold["hold_id"])
        await wait_for_hit_released(client, hold["hold_id"], len(seen))
    await client.runs.join(tid, run["run_id"])
    expected = {
        "before": [([], ["a"]), (["a"], ["b"])],
        "after": [(["a"], ["b"]), (["b"], [])],
    }
    assert seen == expected[next(iter(where))]
    assert (await get_hold(client, hold["hold_id"]))["hits"] == hits


async def wait_for_hit_released(client: Any, hold_id: str, hits: int) -> None:
    """Until the run released after catch number `hits` went on: nothing is held, or it
    was caught again."""

    async def done() -> bool:
        hold = await get_hold(client, hold_id)
        return hold["hits"] > hits or not hold["held"]

    await wait_until(done, f"hold {hold_id} released after {hits} catches")


async def test_a_node_of_a_parallel_step_is_found_among_its_starts(client: Any) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, before="c")
    run = await client.runs.create(tid, "fan", input=_input("x"))
    held = (await wait_held(client, hold["hold_id"], timeout=10))["held"][0]
    assert held["after"] == ["a"] and "c" in held["before"]
    assert (await client.threads.get_state(tid))["values"]["log"] == ["x:in", "x:a"]
    await release_hold(client, hold["hold_id"])
    assert sorted((await client.runs.join(tid, run["run_id"]))["log"]) == sorted(
        ["x:in", "x:a", "x:b", "x:c"]
    )


# -- every strategy treats a held run as a busy one ---------------------------------------


async def _held_first(client: Any, before: str = "b") -> tuple[str, dict[str, Any], str]:
    tid = await _thread(client)
    hold = await create_hold(client, tid, before=before, times=1)
    first = await client.runs.create(tid, "chain", input=_input("first"))
    await wait_held(client, hold["hold_id"], timeout=10)
    return tid, first, hold["hold_id"]


async def test_interrupt_stops_a_held_run_keeping_its_finished_steps(client: Any) -> None:
    tid, first, _ = await _held_first(client)
    second = await client.runs.create(
        tid, "chain", input=_input("second"), multitask_strategy="interrupt"
    )
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    log = (await client.runs.join(tid, second["run_id"]))["log"]
    assert log == ["first:in", "first:a", "second:in", "second:a", "second:b"]


async def test_rollback_deletes_a_held_run_and_its_steps(client: Any) -> None:
    tid, first, _ = await _held_first(client)
    second = await client.runs.create(
        tid, "chain", input=_input("second"), multitask_strategy="rollback"
    )
    assert (await client.runs.join(tid, second["run_id"]))["log"] == [
        "second:in",
        "second:a",
        "second:b",
    ]
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, first["run_id"])


async def test_reject_refuses_while_a_run_is_held(client: Any) -> None:
    tid, first, hold_id = await _held_first(client)
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "chain", input=_input("second"), multitask_strategy="reject")
    await release_hold(client, hold_id)
    assert (await client.runs.join(tid, first["run_id"]))["log"][-1] == "first:b"


async def test_enqueue_waits_for_the_held_run(client: Any) -> None:
    tid, first, hold_id = await _held_first(client)
    second = await client.runs.create(
        tid, "chain", input=_input("second"), multitask_strategy="enqueue"
    )
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "pending"
    await release_hold(client, hold_id)
    log = (await client.runs.join(tid, second["run_id"]))["log"]
    assert log == ["first:in", "first:a", "first:b", "second:in", "second:a", "second:b"]
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "success"


async def test_cancel_and_thread_delete_end_a_held_run(client: Any) -> None:
    tid, first, hold_id = await _held_first(client)
    await client.runs.cancel(tid, first["run_id"], wait=True)
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert (await get_hold(client, hold_id))["held"] == []
    tid2, _, hold2 = await _held_first(client)
    await client.threads.delete(tid2)
    with pytest.raises(httpx.HTTPStatusError) as err:
        await get_hold(client, hold2)
    assert err.value.response.status_code == 404


async def test_new_runs_only_leaves_the_running_run_alone(client: Any) -> None:
    tid = await _thread(client)
    early = await create_hold(client, tid, before="b", times=1)
    first = await client.runs.create(tid, "chain", input=_input("first"))
    await wait_held(client, early["hold_id"], timeout=10)
    later = await create_hold(client, tid, before="*", new_runs_only=True, times=1)
    await release_hold(client, early["hold_id"])
    await client.runs.join(tid, first["run_id"])
    assert (await get_hold(client, later["hold_id"]))["hits"] == 0
    second = await client.runs.create(tid, "chain", input=_input("second"))
    assert (await wait_held(client, later["hold_id"], timeout=10))["held"][0]["run_id"] == (
        second["run_id"]
    )
    await release_hold(client, later["hold_id"])
    await wait_for_status(client, tid, second["run_id"], "success")


# -- bad requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"before": "nope"}, 422, "no graph has a node 'nope'"),
        ({"before": "a", "after": "b"}, 422, "not both"),
        ({"times": 0}, 422, "'times' must be 1 or more"),
        ({"thread_id": "not-a-uuid"}, 422, "Invalid thread ID"),
        ({"thread_id": "00000000-0000-4000-8000-000000000000"}, 404, "not found"),
        ({"times": "x"}, 422, "times"),
    ],
)
async def test_a_bad_hold_is_refused_naming_what_is_wrong(
    client: Any, body: dict[str, Any], status: int, words: str
) -> None:
    tid = await _thread(client)
    with pytest.raises(httpx.HTTPStatusError) as err:
        await client.http.post("/nbruns/holds", json={"thread_id": tid, **body})
    assert err.value.response.status_code == status
    assert words in err.value.response.json()["detail"]
    assert await list_holds(client, tid) == []  # nothing was armed


async def test_an_unknown_node_lists_the_nodes_the_graphs_have(client: Any) -> None:
    tid = await _thread(client)
    with pytest.raises(httpx.HTTPStatusError) as err:
        await create_hold(client, tid, before="tool")
    detail = err.value.response.json()["detail"]
    assert "chain: a, b" in detail and "fan: a, b, c" in detail


async def test_wait_held_times_out_naming_the_hold(client: Any) -> None:
    tid = await _thread(client)
    hold = await create_hold(client, tid, before="b")
    with pytest.raises(TimeoutError, match=hold["hold_id"]):
        await wait_held(client, hold["hold_id"], timeout=0)


async def test_a_durable_server_has_the_held_runs_steps_in_its_file(tmp_path: Path) -> None:
    server = nbruns.Server(graphs={"chain": chain()}, path=tmp_path / "held.sqlite")
    client = server.client()
    try:
        tid, first, hold_id = await _held_first(client)
        state = await client.threads.get_state(tid)
        assert state["values"]["log"] == ["first:in", "first:a"] and state["next"] == ["b"]
        await release_hold(client, hold_id)
        assert (await client.runs.join(tid, first["run_id"]))["log"][-1] == "first:b"
    finally:
        await client.aclose()
        await server.aclose()
