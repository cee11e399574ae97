"""Thread behaviours that must match the reference (issue #12, item 5): status after a
failed run, a node's own TimeoutError, update_state on a thread that never ran, the
metadata of a thread a run created, what a node reads of its config, task errors read
back from checkpoints; and where nbruns keeps its own behaviour on purpose."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk.errors import BadRequestError


async def _failed_thread(drv: Any) -> str:
    t = await drv.thread()
    await drv.client.runs.wait(t, "fail", input={}, raise_error=False)
    thread = await drv.wait_thread(t, "error")
    assert thread["error"] == {"error": "ValueError", "message": "boom"}
    return t


async def test_task_error_read_back_from_a_checkpoint(drv: Any) -> None:
    t = await _failed_thread(drv)
    history = await drv.client.threads.get_history(t, limit=10)
    [failed] = [s for s in history if s["next"] == ["boom"]]
    [task] = failed["tasks"]
    assert (task["name"], task["error"]) == ("boom", "ValueError('boom')")
    at = await drv.client.threads.get_state(t, checkpoint_id=failed["checkpoint"]["checkpoint_id"])
    assert at["tasks"][0]["error"] == "ValueError('boom')"
    assert (await drv.client.threads.get_state(t))["tasks"][0]["error"] == "ValueError('boom')"


async def test_error_clears_when_update_state_changes_the_state(drv: Any) -> None:
    t = await _failed_thread(drv)
    await drv.client.threads.update_state(t, {"log": ["fixed"]})
    thread = await drv.client.threads.get(t)
    # re-derived from the new checkpoint: the failed node is still to do
    assert thread["status"] == "interrupted"
    assert thread["values"]["log"] == ["fixed"]
    assert (await drv.client.threads.get_state(t))["next"] == ["boom"]
    assert [x["status"] for x in await drv.client.threads.search(ids=[t])] == ["interrupted"]


async def test_error_clears_when_the_next_run_is_rolled_back(drv: Any) -> None:
    t = await _failed_thread(drv)  # then a run that would fail too, rolled back first
    run_id = await drv.create(t, "fail", input={"delay": 5.0})
    await drv.wait_run(t, run_id, "running")
    await drv.client.runs.cancel(t, run_id, wait=True, action="rollback")
    thread = await drv.wait_thread(t, "idle", "interrupted", "error")
    state = await drv.client.threads.get_state(t)
    assert (state["next"], thread["values"]["log"]) == (["boom"], [])  # the failed run's
    # no longer `error` on either. A deliberate difference: the reference reads `idle`
    # here, though it reads `interrupted` for the same checkpoint after update_state
    # (above); nbruns derives `interrupted` from the failed node still to do, both times.
    assert thread["status"] == ("idle" if drv.is_reference else "interrupted")


async def test_a_nodes_own_timeout_error_is_an_error(drv: Any) -> None:
    t = await drv.thread()
    run_id = await drv.create(t, "timeouts", input={})
    await drv.client.runs.join(t, run_id)
    run = await drv.wait_run(t, run_id, "error", "timeout", "success")
    assert run["status"] == "error"
    thread = await drv.wait_thread(t, "error")
    assert thread["error"] == {"error": "TimeoutError", "message": "the node's own time limit"}


async def test_update_state_on_a_thread_that_never_ran(drv: Any) -> None:
    t = await drv.thread()
    with pytest.raises(BadRequestError) as err:
        await drv.client.threads.update_state(t, {"log": ["x"]})
    detail = err.value.response.json()["detail"]
    assert isinstance(detail, str) and t in detail
    state = await drv.client.threads.get_state(t)
    assert (state["values"], state["checkpoint"]) == ({}, None)  # nothing changed


async def test_thread_created_by_a_run_names_its_graph_and_assistant(
    drv: Any, new_uuid: Any
) -> None:
    assistant = await drv.client.assistants.create("slow")
    t = drv.track(new_uuid())
    run = await drv.client.runs.create(
        t, assistant["assistant_id"], input={}, if_not_exists="create"
    )
    await drv.client.runs.join(t, run["run_id"])
    expected = {"graph_id": "slow", "assistant_id": assistant["assistant_id"]}
    assert (await drv.wait_thread(t, "idle"))["metadata"] == expected
    copy = await drv.client.threads.copy(t)
    drv.track(copy["thread_id"])
    assert copy["metadata"] == expected


async def test_nodes_read_the_run_in_their_config(drv: Any) -> None:
    t = await drv.thread()
    run = await drv.client.runs.create(
        t, "readconfig", input={}, config={"configurable": {"mine": 1}}, metadata={"m": 2}
    )
    out = await drv.client.runs.join(t, run["run_id"])
    ids = {
        "run_id": run["run_id"],
        "thread_id": t,
        "graph_id": "readconfig",
        "assistant_id": run["assistant_id"],
    }
    configurable, metadata = out["answer"]["configurable"], out["answer"]["metadata"]
    assert {k: configurable.get(k) for k in [*ids, "mine"]} == {**ids, "mine": 1}
    assert {k: metadata.get(k) for k in [*ids, "m"]} == {**ids, "m": 2}
    assert (metadata["langgraph_node"], metadata["langgraph_step"]) == ("read", 1)


async def test_copy_of_a_thread_paused_at_an_interrupt(drv: Any) -> None:
    """A deliberate difference: nbruns's copy reads as its source does at once; the
    reference's reads idle with no values until a run ends on it."""
    t = await drv.thread()
    await drv.client.runs.wait(t, "dyn", input={})
    source = await drv.wait_thread(t, "interrupted")
    copy = await drv.client.threads.copy(t)
    drv.track(copy["thread_id"])
    read = await drv.client.threads.get(copy["thread_id"])
    if drv.is_reference:
        assert (read["status"], read.get("values")) == ("idle", None)
    else:
        assert (read["status"], read["values"]) == ("interrupted", source["values"])
        assert list(read["interrupts"].values()) == list(source["interrupts"].values())
    # the checkpoints were copied on both: the copy's state is the source's
    state = await drv.client.threads.get_state(copy["thread_id"])
    assert (state["next"], state["values"]) == (["ask"], source["values"])
    out = await drv.client.runs.wait(copy["thread_id"], "dyn", command={"resume": "yes"})
    assert out["answer"] == "yes"
    assert (await drv.wait_thread(copy["thread_id"], "idle"))["values"]["answer"] == "yes"


async def test_a_method_not_served_on_an_existing_path(drv: Any) -> None:
    """A deliberate difference: 404 naming the method and what is served, not 405."""
    t = await drv.thread()
    resp = await drv.http.delete(f"/threads/{t}/history")
    if drv.is_reference:
        assert resp.status_code == 405
    else:
        assert resp.status_code == 404
        assert resp.json()["detail"] == (
            f"nbruns does not serve DELETE /threads/{t}/history (it serves GET, POST there)"
        )
    assert (await drv.client.threads.get(t))["thread_id"] == t  # the connection still serves


async def test_update_state_on_a_thread_created_with_a_graph_id(drv: Any) -> None:
    # the SDK sends threads.create(graph_id=...) as metadata: that names the thread's graph
    t = await drv.thread(graph_id="slow")
    await drv.client.threads.update_state(t, {"log": ["x"]})
    state = await drv.client.threads.get_state(t)
    assert state["values"]["log"] == ["x"]
    assert (await drv.client.threads.get(t))["values"]["log"] == ["x"]
