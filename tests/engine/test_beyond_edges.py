"""The edges of #14's merged runs and policies, through the SDK client.

- a merged run's own stream carries its carrier's events from the merge on, in the
  stream modes the merged run asked for, and ends when the carrier ends;
- a merged run's status is exactly its carrier's (also while the carrier is stopping);
- `runs.cancel_many` naming a merged run answers as `runs.cancel` on it does;
- `pending_ttl_s` still expires pending runs after a durable restart;
- `/runs/batch` creates nothing when the choose hook refuses any item.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, NotRequired

import pytest
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph_sdk.errors import ConflictError, UnprocessableEntityError
from typing_extensions import TypedDict

import nbruns
from tests.engine.merging_graphs import ask, chat, humans, react
from tests.helpers import Gates, wait_for_status, wait_until


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    gate: NotRequired[str]


def blocking_chat(gates: Gates) -> Any:
    """One *sync* node: a stop cannot cut it short, so its run stays `stopping`."""

    def reply(state: State) -> dict[str, Any]:
        gates[state.get("gate", "")].passage_sync()
        return {"messages": [AIMessage(content="saw:" + ",".join(humans(state["messages"])))]}

    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile()


@pytest.fixture
async def client(gates: Gates) -> AsyncIterator[Any]:
    graphs = {"react": react(gates), "chat": chat(gates), "blocking": blocking_chat(gates)}
    server = nbruns.Server(graphs=graphs)
    c = server.client()
    yield c
    gates.open_all()
    await c.aclose()
    await server.aclose()


async def _collect(parts: AsyncIterator[Any]) -> list[tuple[str, Any]]:
    return [(part.event, part.data) for part in [p async for p in parts]]


async def _run_count(client: Any, tid: str, count: int) -> None:
    async def probe() -> bool:
        return len(await client.runs.list(tid)) >= count

    await wait_until(probe, f"{count} runs on the thread")


# -- 1. a merged run's own stream -------------------------------------------------------


async def test_a_steered_runs_stream_reads_the_answer_that_includes_it(
    client: Any, gates: Gates
) -> None:
    tid = str((await client.threads.create())["thread_id"])
    r = str((await client.runs.create(tid, "react", input=ask("q1", gate="g")))["run_id"])
    await gates["g/model1"].reached()
    # S streams values and updates; its carrier R was created streaming values only
    reading = asyncio.create_task(
        _collect(
            client.runs.stream(
                tid,
                "react",
                input=ask("more"),
                multitask_strategy="steer",
                stream_mode=["values", "updates"],
            )
        )
    )
    await _run_count(client, tid, 2)
    s = next(x["run_id"] for x in await client.runs.list(tid) if x["run_id"] != r)
    for name in ("model1", "tools", "model2"):
        gates[f"g/{name}"].open()
    events = await asyncio.wait_for(reading, 10)  # it ends: with its carrier
    final = await client.runs.join(tid, r)
    assert events[0] == ("metadata", {"run_id": s, "attempt": 1})
    kinds = {kind for kind, _ in events}
    assert {"values", "updates"} <= kinds  # its own modes, though R asked only values
    last_values = [data for kind, data in events if kind == "values"][-1]
    assert last_values == final  # the answer that includes its message
    assert [m["content"] for m in final["messages"] if m["type"] == "ai"][-1] == "saw:q1,more"
    updated = [next(iter(data)) for kind, data in events if kind == "updates"]
    assert updated[-1] == "model"  # R's steps after the merge, as updates
    assert (await client.runs.get(tid, s))["status"] == "success"


async def test_a_collected_runs_stream_and_join_stream_end_with_the_carrier(
    client: Any, gates: Gates
) -> None:
    tid = str((await client.threads.create())["thread_id"])
    first = await client.runs.create(tid, "chat", input=ask("r0", gate="a"))
    await gates["a/reply1"].reached()
    carrier = await client.runs.create(
        tid, "chat", input=ask("c1", gate="b"), multitask_strategy="collect"
    )
    streamed = asyncio.create_task(
        _collect(
            client.runs.stream(
                tid,
                "chat",
                input=ask("c2", gate="b"),
                multitask_strategy="collect",
                stream_mode="updates",
            )
        )
    )
    await _run_count(client, tid, 3)
    merged = next(
        x["run_id"]
        for x in await client.runs.list(tid)
        if x["run_id"] not in (first["run_id"], carrier["run_id"])
    )
    # a later join_stream on the merged run (all its modes) follows the carrier too
    joined = asyncio.create_task(_collect(client.runs.join_stream(tid, merged)))
    gates["a/reply1"].open()
    await gates["b/reply2"].reached()
    assert (await client.runs.get(tid, merged))["status"] == "running"
    gates["b/reply2"].open()
    streamed_events = await asyncio.wait_for(streamed, 10)
    joined_events = await asyncio.wait_for(joined, 10)
    final = await client.runs.join(tid, carrier["run_id"])
    assert [m["content"] for m in final["messages"] if m["type"] == "ai"] == [
        "saw:r0",
        "saw:r0,c1,c2",
    ]
    assert streamed_events[0] == ("metadata", {"run_id": merged, "attempt": 1})
    updates = [data for kind, data in streamed_events if kind == "updates"]
    assert updates and updates[-1]["reply"]["messages"][-1]["content"] == "saw:r0,c1,c2"
    assert {kind for kind, _ in streamed_events} == {"metadata", "updates"}  # its modes only
    # join_stream without modes: the merged run's own modes (updates), from the carrier
    assert [kind for kind, _ in joined_events if kind != "metadata"] == ["updates"]


# -- 2. a merged run's status is its carrier's ------------------------------------------


async def _collected_pair(client: Any, gates: Gates) -> tuple[str, str, str, str]:
    """A thread whose first run ended and whose collect carrier holds in a sync node,
    with one run merged into it: (thread, first, carrier, merged)."""
    tid = str((await client.threads.create())["thread_id"])
    first = str((await client.runs.create(tid, "blocking", input=ask("r0", gate="a")))["run_id"])
    await wait_for_status(client, tid, first, "running")
    ids = [
        str(
            (
                await client.runs.create(
                    tid, "blocking", input=ask(text, gate="b"), multitask_strategy="collect"
                )
            )["run_id"]
        )
        for text in ("c1", "c2")
    ]
    gates["a"].open()
    await gates["b"].reached()
    await wait_for_status(client, tid, ids[1], "running")
    return tid, first, ids[0], ids[1]


async def test_a_merged_run_reads_as_its_stopping_carrier(client: Any, gates: Gates) -> None:
    tid, _, carrier, merged = await _collected_pair(client, gates)
    assert (await client.runs.get(tid, merged))["merged_into"] == carrier
    await client.runs.cancel(tid, carrier)  # its sync node keeps it stopping
    assert (await client.runs.get(tid, carrier))["status"] == "interrupted"
    assert (await client.runs.get(tid, merged))["status"] == "interrupted"
    listed = {x["run_id"]: x["status"] for x in await client.runs.list(tid)}
    assert listed[merged] == listed[carrier] == "interrupted"
    nbruns_listed = await client.http.get("/nbruns/runs", params={"thread_id": tid})
    assert {x["run_id"]: x["status"] for x in nbruns_listed}[merged] == "interrupted"
    gates["b"].open()
    await client.runs.join(tid, carrier)
    assert (await client.runs.get(tid, merged))["status"] == "interrupted"


# -- 3. cancel_many naming a merged run -------------------------------------------------


async def test_cancel_many_naming_only_a_merged_run_names_its_carrier(
    client: Any, gates: Gates
) -> None:
    tid, first, carrier, merged = await _collected_pair(client, gates)
    for ids in ([merged], [merged, first]):  # alone, or with nothing else to cancel
        with pytest.raises(ConflictError) as refused:
            await client.runs.cancel_many(thread_id=tid, run_ids=ids)
        assert carrier in str(refused.value) and merged in str(refused.value)
    assert (await client.runs.get(tid, carrier))["status"] == "running"  # nothing changed
    # mixed with a run it can cancel: that one is cancelled, the merged one skipped
    await client.runs.cancel_many(thread_id=tid, run_ids=[merged, carrier])
    assert (await client.runs.get(tid, carrier))["status"] == "interrupted"
    gates["b"].open()
    await client.runs.join(tid, carrier)
    after = await client.runs.get(tid, merged)
    assert after["status"] == "interrupted"
    assert carrier in after["cancel_reason"]  # it ended as its carrier did


# -- 4. pending_ttl_s after a durable restart --------------------------------------------


async def _pending_with_ttl(path: Path, ttl: float) -> tuple[str, str, float]:
    """A durable server with a run that waits (after_seconds) under a TTL, copied to
    `path` as a killed process would leave it: (thread, run, created_at)."""
    live = path.with_name("live.sqlite")
    server = nbruns.Server(path=live)
    try:
        client = server.client()
        tid = str((await client.threads.create())["thread_id"])
        run = await client.runs.create(
            tid,
            "agent",
            input=ask("later"),
            after_seconds=3600,
            metadata=nbruns.Policy(pending_ttl_s=ttl).as_metadata(),
        )
        created = time.time()
        with sqlite3.connect(live) as source, sqlite3.connect(path) as copy:
            source.backup(copy)  # the file as it is now, the run pending
        await client.aclose()
    finally:
        await server.aclose()  # (ends the run in the live file, not in the copy)
    return tid, str(run["run_id"]), created


async def test_a_ttl_that_ran_out_while_down_ends_the_run_at_recovery(tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite"
    tid, run_id, created = await _pending_with_ttl(path, ttl=0.2)
    # the deadline passes while no server has the file open (a wait for a time, not an order)
    await asyncio.sleep(max(0.0, created + 0.3 - time.time()))
    server = nbruns.Server(path=path)
    try:
        client = server.client()
        run = await client.runs.get(tid, run_id)  # no wait: ended as the server opened
        assert run["status"] == "timeout"
        assert run["cancel_source"] == "pending_ttl"
        assert "pending_ttl_s" in run["cancel_reason"]
        await client.aclose()
    finally:
        await server.aclose()


async def test_a_ttl_armed_before_a_restart_still_expires(tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite"
    tid, run_id, _ = await _pending_with_ttl(path, ttl=1.5)
    server = nbruns.Server(path=path)
    try:
        client = server.client()
        # pending (for an hour, by after_seconds) until its TTL, then timeout
        await wait_for_status(client, tid, run_id, "timeout")
        run = await client.runs.get(tid, run_id)
        assert run["cancel_source"] == "pending_ttl"
        assert run["started_at"] is None  # it never ran
        await client.aclose()
    finally:
        await server.aclose()


# -- 5. /runs/batch is all or nothing when the choose hook refuses an item ---------------


def _picky(new_input: Any, thread: dict[str, Any]) -> str | None:
    text = json.dumps(new_input)
    if "refuse" in text:
        raise ValueError("cannot decide")
    return "enqueue"


async def test_a_batch_whose_third_item_the_hook_refuses_creates_nothing() -> None:
    server = nbruns.Server(choose=_picky)
    try:
        client = server.client()
        before = await client.http.get("/nbruns/runs")
        items = [{"assistant_id": "agent", "input": ask(t)} for t in ("a", "b", "refuse", "d")]
        with pytest.raises(UnprocessableEntityError) as refused:
            await client.runs.create_batch(items)
        assert "choose hook" in str(refused.value) and "ValueError" in str(refused.value)
        assert await client.http.get("/nbruns/runs") == before  # not a, not b
        assert await client.threads.search() == []
        made = await client.runs.create_batch([items[0], items[1]])
        assert [r["status"] for r in made] == ["pending", "pending"]
        await client.aclose()
    finally:
        await server.aclose()
