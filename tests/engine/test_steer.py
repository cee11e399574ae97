"""steer: a new run delivered into the running run at its next safe step boundary.

A ReAct-shaped graph (model -> tools -> model) whose every node waits at a gate the
test opens; holds catch a run at the boundary before its first node. Orders come
from gates, holds and statuses, never from time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError

import nbruns
from nbruns.views._holds import create_hold, release_hold, wait_held
from tests.engine.merging_graphs import ask, humans, react, valid_sequence
from tests.helpers import Gates


@pytest.fixture
async def client(gates: Gates) -> AsyncIterator[Any]:
    server = nbruns.Server(graphs={"react": react(gates)})
    c = server.client()
    yield c
    gates.open_all()
    await c.aclose()
    await server.aclose()


async def _status(client: Any, tid: str, run_id: str) -> str:
    return str((await client.runs.get(tid, run_id))["status"])


async def _timeline(client: Any, tid: str) -> list[dict[str, Any]]:
    return list(await client.http.get("/nbruns/timeline", params={"thread_id": tid}))


def _answers(values: dict[str, Any]) -> list[str]:
    return [m["content"] for m in values["messages"] if m["type"] == "ai"]


async def _valid_history(client: Any, tid: str) -> None:
    """No checkpoint has a message a chat model rejects (a human between a tool call
    and its result)."""
    history = await client.threads.get_history(tid, limit=100)
    assert history
    for state in history:
        messages = (state["values"] or {}).get("messages", [])
        assert valid_sequence(messages), [(m["type"], m.get("content")) for m in messages]


async def _start(client: Any) -> tuple[str, str]:
    tid = str((await client.threads.create())["thread_id"])
    run = await client.runs.create(tid, "react", input=ask("q1", gate="g"))
    return tid, str(run["run_id"])


async def _steer(client: Any, tid: str, text: str = "more") -> str:
    run = await client.runs.create(tid, "react", input=ask(text), multitask_strategy="steer")
    return str(run["run_id"])


async def test_steer_while_tool_calls_are_open_waits_for_their_results(
    client: Any, gates: Gates
) -> None:
    tid, r = await _start(client)
    await gates["g/model1"].reached()
    s = await _steer(client, tid)
    assert await _status(client, tid, s) == "pending"
    gates["g/model1"].open()  # it asks for a tool: the boundary before tools is unsafe
    await gates["g/tools"].reached()
    assert await _status(client, tid, s) == "pending"
    gates["g/tools"].open()  # results in: delivered before the next model call
    await gates["g/model2"].reached()
    assert await _status(client, tid, s) == "running"
    assert await _status(client, tid, r) == "running"
    with pytest.raises(ConflictError) as refused:
        await client.runs.cancel(tid, s)
    assert r in str(refused.value)  # names the carrier to cancel instead
    gates["g/model2"].open()
    final = await client.runs.join(tid, r)
    assert humans(final["messages"]) == ["q1", "more"]
    assert _answers(final) == ["saw:q1", "saw:q1,more"]  # the next model call saw it
    assert [m["type"] for m in final["messages"]] == ["human", "ai", "tool", "human", "ai"]
    assert await client.runs.join(tid, s) == final
    assert await _status(client, tid, s) == "success"
    events = await _timeline(client, tid)
    merged = [e for e in events if e["kind"] == "merged"]
    assert [(e["run_id"], e["into"], e["how"]) for e in merged] == [(s, r, "steer")]
    delivered = [e for e in events if e["kind"] == "steer_delivered"]
    assert [(e["runs"], e["after"], e["before"]) for e in delivered] == [
        ([s], ["tools"], ["model"])
    ]
    assert delivered[0]["run_id"] == r
    assert not [e for e in events if e["kind"] == "started" and e["run_id"] == s]
    await _valid_history(client, tid)


async def test_steer_while_tools_run_reaches_the_final_model_call(
    client: Any, gates: Gates
) -> None:
    tid, r = await _start(client)
    gates["g/model1"].open()
    await gates["g/tools"].reached()
    s = await _steer(client, tid)
    assert await _status(client, tid, s) == "pending"
    gates["g/tools"].open()
    gates["g/model2"].open()
    joined = await client.runs.join(tid, s)
    assert _answers(joined) == ["saw:q1", "saw:q1,more"]
    assert joined == await client.runs.join(tid, r)
    assert await _status(client, tid, s) == "success"
    await _valid_history(client, tid)


async def test_steer_before_the_first_model_call(client: Any, gates: Gates) -> None:
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, before="model", times=1)
    r = str((await client.runs.create(tid, "react", input=ask("q1", gate="g")))["run_id"])
    await wait_held(client, hold["hold_id"], timeout=10)
    s = await _steer(client, tid)
    assert await _status(client, tid, s) == "pending"
    for name in ("model1", "tools", "model2"):
        gates[f"g/{name}"].open()
    await release_hold(client, hold["hold_id"])
    final = await client.runs.join(tid, r)
    assert _answers(final) == ["saw:q1,more", "saw:q1,more"]  # the first call saw it
    assert await client.runs.join(tid, s) == final
    delivered = [e for e in await _timeline(client, tid) if e["kind"] == "steer_delivered"]
    assert [(e["after"], e["before"]) for e in delivered] == [([], ["model"])]
    await _valid_history(client, tid)


async def test_a_run_ending_before_a_safe_boundary_leaves_the_steer_queued(
    client: Any, gates: Gates
) -> None:
    tid, r = await _start(client)
    gates["g/model1"].open()
    gates["g/tools"].open()
    await gates["g/model2"].reached()  # the last step: no boundary comes after it
    s = await _steer(client, tid)
    gates["g/model2"].open()
    final = await client.runs.join(tid, r)
    assert humans(final["messages"]) == ["q1"]
    await gates["g/model3"].reached()  # s runs on its own, after r
    assert await _status(client, tid, s) == "running"
    gates["g/model3"].open()
    own = await client.runs.join(tid, s)
    assert _answers(own)[-1] == "saw:q1,more"
    assert await _status(client, tid, s) == "success"
    events = await _timeline(client, tid)
    assert not [e for e in events if e["kind"] in ("merged", "steer_delivered")]
    assert [e["run_id"] for e in events if e["kind"] == "started"] == [r, s]
    listed = await client.http.get("/nbruns/runs", params={"thread_id": tid})
    assert {x["run_id"]: x.get("steer_into") for x in listed}.get(s) is None
    await _valid_history(client, tid)


async def test_steer_with_nothing_running_simply_runs(client: Any, gates: Gates) -> None:
    tid = str((await client.threads.create())["thread_id"])
    for name in ("model1", "tools", "model2"):
        gates[f"g/{name}"].open()
    run = await client.runs.create(
        tid, "react", input=ask("q1", gate="g"), multitask_strategy="steer"
    )
    final = await client.runs.join(tid, run["run_id"])
    assert _answers(final) == ["saw:q1", "saw:q1"]
    assert await _status(client, tid, run["run_id"]) == "success"


async def test_merged_runs_end_as_their_carrier_is_interrupted(client: Any, gates: Gates) -> None:
    tid, r = await _start(client)
    gates["g/model1"].open()
    await gates["g/tools"].reached()
    s = await _steer(client, tid)
    gates["g/tools"].open()
    await gates["g/model2"].reached()
    assert await _status(client, tid, s) == "running"
    await client.runs.cancel(tid, r)
    # (while the carrier is still stopping, its merged run reads running)
    joined = await client.runs.join(tid, s)
    assert await _status(client, tid, s) == "interrupted"
    assert await _status(client, tid, r) == "interrupted"
    assert joined == await client.runs.join(tid, r)
    listed = await client.http.get("/nbruns/runs", params={"thread_id": tid})
    sources = {x["run_id"]: x["cancel_source"] for x in listed}
    assert sources[s] == sources[r] == "client"
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"  # its model call is left to do, not busy


async def _merged_steer(client: Any, gates: Gates) -> tuple[str, str, str]:
    """A run r at its final model call, with s merged into it."""
    tid, r = await _start(client)
    gates["g/model1"].open()
    await gates["g/tools"].reached()
    s = await _steer(client, tid)
    gates["g/tools"].open()
    await gates["g/model2"].reached()
    assert await _status(client, tid, s) == "running"
    return tid, r, s


async def test_merged_runs_go_with_a_carrier_rolled_back(client: Any, gates: Gates) -> None:
    tid, r, s = await _merged_steer(client, gates)
    waiting = asyncio.create_task(client.runs.join(tid, s))
    for name in ("model1", "tools", "model2"):
        gates[f"n/{name}"].open()
    new = await client.runs.create(
        tid, "react", input=ask("instead", gate="n"), multitask_strategy="rollback"
    )
    final = await client.runs.join(tid, new["run_id"])
    assert humans(final["messages"]) == ["instead"]
    await waiting  # answered, not left hanging
    for gone in (r, s):
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, gone)
    assert humans((await client.threads.get_state(tid))["values"]["messages"]) == ["instead"]


async def test_merged_runs_go_with_their_thread(client: Any, gates: Gates) -> None:
    tid, r, s = await _merged_steer(client, gates)
    waiting = [asyncio.create_task(client.runs.join(tid, i)) for i in (r, s)]
    await client.threads.delete(tid)
    carrier, merged = await asyncio.gather(*waiting)
    assert merged == carrier  # answered as the carrier's waiters are: the run is gone
    with pytest.raises(NotFoundError):
        await client.threads.get(tid)


async def test_the_carriers_stream_goes_on_across_a_delivery(client: Any, gates: Gates) -> None:
    tid = str((await client.threads.create())["thread_id"])
    chunks: list[Any] = []

    async def read() -> None:
        async for part in client.runs.stream(
            tid, "react", input=ask("q1", gate="g"), stream_mode="values"
        ):
            chunks.append(part)

    reading = asyncio.create_task(read())
    await gates["g/model1"].reached()
    s = await _steer(client, tid)
    for name in ("model1", "tools", "model2"):
        gates[f"g/{name}"].open()
    await reading
    assert await _status(client, tid, s) == "success"
    events = [c.event for c in chunks]
    assert "error" not in events and events[0] == "metadata"
    values = [c.data for c in chunks if c.event == "values"]
    assert humans(values[-1]["messages"]) == ["q1", "more"]
    assert _answers(values[-1]) == ["saw:q1", "saw:q1,more"]
