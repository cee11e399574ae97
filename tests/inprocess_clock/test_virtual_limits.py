"""What virtual time waits for in real time, and the engine's timers that follow it.

A blocking sync node runs in a worker thread the clock cannot see into: while it
blocks, time does not skip (`refused["executor"]`). The policy timers (run timeouts,
pending TTLs, debounce windows) are loop timers and skip like a sleep. A wait whose
timeout a user gave (a hold's `/wait?timeout=`) counts wall seconds.
"""

from __future__ import annotations

import asyncio
import operator
import socket
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

import nbruns
from tests.helpers import Gates, wait_for_status, wait_until
from tests.inprocess_clock.scenario import sleeper_graph


class Blocked(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def blocking_graph(gates: Gates) -> Any:
    def block(state: Blocked) -> Blocked:  # sync: LangGraph runs it in a worker thread
        gates["sync"].passage_sync()
        return {"log": ["unblocked"]}

    return StateGraph(Blocked).add_node("block", block).add_edge(START, "block").compile()


class Fetched(TypedDict, total=False):
    port: int
    reply: str


async def fetch(state: Fetched) -> Fetched:  # real network I/O on the server's loop
    reader, writer = await asyncio.open_connection("127.0.0.1", state["port"])
    try:
        return {"reply": (await reader.read(100)).decode()}
    finally:
        writer.close()


@pytest.fixture
async def server(gates: Gates) -> AsyncIterator[nbruns.Server]:
    graphs = {
        "sleeper": sleeper_graph(1.0),
        "blocking": blocking_graph(gates),
        "fetch": StateGraph(Fetched).add_node(fetch).add_edge(START, "fetch").compile(),
    }
    started = nbruns.Server(graphs, clock="virtual")
    yield started
    gates.open_all()
    await started.aclose()


def policy(**options: Any) -> dict[str, Any]:
    return nbruns.Policy(**options).as_metadata()


async def new_thread(client: Any) -> str:
    return str((await client.threads.create())["thread_id"])


async def test_a_blocking_sync_node_is_waited_for_in_real_time(
    server: nbruns.Server, gates: Gates
) -> None:
    client = server.client()
    clock = server.virtual_clock
    assert clock is not None
    blocked_tid, later_tid = await new_thread(client), await new_thread(client)
    blocked = await client.runs.create(blocked_tid, "blocking", input={})
    await gates["sync"].reached()
    later = await client.runs.create(
        later_tid, "sleeper", input={"word": "later", "naps": 0}, after_seconds=100
    )
    refused = clock.refused["executor"]

    async def refused_again() -> bool:  # each call wakes the loop, which then idles
        await client.runs.get(later_tid, later["run_id"])
        return clock.refused["executor"] > refused

    await wait_until(refused_again, "the clock to refuse a skip for the executor")
    # a join waits on the server, yet 100 s cannot pass while the node blocks
    join = asyncio.ensure_future(client.runs.join(later_tid, later["run_id"]))
    await wait_until(refused_again, "the clock to refuse again while a join waits")
    assert (await client.runs.get(later_tid, later["run_id"]))["status"] == "pending"
    assert clock.skipped_s < 100 and not join.done()
    gates["sync"].open()
    result: Any = await join
    assert result["log"] == ["later waited", "later said"]
    assert (await client.runs.join(blocked_tid, blocked["run_id"]))["log"] == ["unblocked"]  # type: ignore[index]


async def test_a_nodes_network_io_is_waited_for_in_real_time(
    server: nbruns.Server, gates: Gates
) -> None:
    """While a node's socket is open on the loop, a join cannot make 100 s pass."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def answer_when_open() -> None:
        conn, _ = listener.accept()
        with conn:
            gates["reply"].passage_sync()
            conn.sendall(b"pong")

    answering = threading.Thread(target=answer_when_open, daemon=True)
    answering.start()
    client = server.client()
    clock = server.virtual_clock
    assert clock is not None
    io_tid, later_tid = await new_thread(client), await new_thread(client)
    fetching = await client.runs.create(io_tid, "fetch", input={"port": port})
    await gates["reply"].reached()
    later = await client.runs.create(
        later_tid, "sleeper", input={"word": "later", "naps": 0}, after_seconds=100
    )
    join = asyncio.ensure_future(client.runs.join(later_tid, later["run_id"]))
    refused = clock.refused["io"]

    async def refused_again() -> bool:
        await client.runs.get(later_tid, later["run_id"])
        return clock.refused["io"] > refused

    await wait_until(refused_again, "the clock to refuse a skip for the open socket")
    assert (await client.runs.get(later_tid, later["run_id"]))["status"] == "pending"
    assert clock.skipped_s < 100 and not join.done()
    gates["reply"].open()
    assert (await client.runs.join(io_tid, fetching["run_id"]))["reply"] == "pong"  # type: ignore[index]
    result: Any = await join
    assert result["log"] == ["later waited", "later said"]
    answering.join()
    listener.close()


async def test_a_run_timeout_follows_virtual_time(server: nbruns.Server) -> None:
    client = server.client()
    tid = await new_thread(client)
    began = time.monotonic()
    run = await client.runs.create(
        tid, "sleeper", input={"word": "slow", "naps": 600}, metadata=policy(run_timeout_s=300)
    )
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "timeout"
    assert time.monotonic() - began < 10  # 300 virtual seconds, not 300 real ones
    assert server.virtual_clock is not None and 290 <= server.virtual_clock.skipped_s < 600


async def test_a_pending_ttl_follows_virtual_time(server: nbruns.Server) -> None:
    client = server.client()
    tid = await new_thread(client)
    busy = await client.runs.create(tid, "sleeper", input={"word": "busy", "naps": 600})
    await wait_for_status(client, tid, busy["run_id"], "running")
    waiting = await client.runs.create(
        tid,
        "sleeper",
        input={"word": "late", "naps": 0},
        multitask_strategy="enqueue",
        metadata=policy(pending_ttl_s=60),
    )
    await client.runs.join(tid, waiting["run_id"])
    assert (await client.runs.get(tid, waiting["run_id"]))["status"] == "timeout"
    # it expired at 60 virtual seconds, while the first still slept
    assert (await client.runs.get(tid, busy["run_id"]))["status"] == "running"
    result: Any = await client.runs.join(tid, busy["run_id"])
    assert result["log"] == ["busy waited", "busy said"]


async def test_a_debounce_window_follows_virtual_time(server: nbruns.Server) -> None:
    client = server.client()
    tid = await new_thread(client)
    run = await client.runs.create(
        tid,
        "sleeper",
        input={"word": "hi", "naps": 0},
        multitask_strategy="debounce",  # type: ignore[arg-type]
        metadata=policy(quiet_s=120, max_wait_s=600),
    )
    result: Any = await client.runs.join(tid, run["run_id"])
    assert result["log"] == ["hi waited", "hi said"]
    assert server.virtual_clock is not None and server.virtual_clock.skipped_s >= 110


async def test_a_holds_wait_counts_wall_seconds(server: nbruns.Server) -> None:
    """Its 30 s timeout would expire first in virtual time, before the 600 s node ends."""
    client = server.client()
    tid = await new_thread(client)
    hold = await client.http.post("/nbruns/holds", json={"thread_id": tid, "before": "say"})
    run = await client.runs.create(tid, "sleeper", input={"word": "held", "naps": 600})
    waited = await client.http.get(f"/nbruns/holds/{hold['hold_id']}/wait", params={"timeout": 30})
    assert [h["run_id"] for h in waited["held"]] == [run["run_id"]]
    assert server.virtual_clock is not None and server.virtual_clock.skipped_s >= 590
    await client.http.delete(f"/nbruns/holds/{hold['hold_id']}")
    result: Any = await client.runs.join(tid, run["run_id"])
    assert result["log"] == ["held waited", "held said"]


async def test_a_holds_wait_with_nothing_to_catch_times_out(server: nbruns.Server) -> None:
    client = server.client()
    tid = await new_thread(client)
    hold = await client.http.post("/nbruns/holds", json={"thread_id": tid, "after": "say"})
    waited = await client.http.get(
        f"/nbruns/holds/{hold['hold_id']}/wait", params={"timeout": 0.05}
    )
    assert waited["held"] == [] and waited["hits"] == 0


def stubborn_graph(gates: Gates) -> Any:
    async def stubborn(state: Blocked) -> Blocked:
        await gates["stubborn"].passage()  # open already: it only says "asleep from now"
        try:
            await asyncio.sleep(600)
        except asyncio.CancelledError:
            pass  # ignores its cancellation, and finishes its step after the interrupt
        return {"log": ["stubborn"]}

    return StateGraph(Blocked).add_node(stubborn).add_edge(START, "stubborn").compile()


async def test_an_interrupt_trims_the_step_finished_after_it(
    server: nbruns.Server, gates: Gates
) -> None:
    """Checkpoint ids carry wall time: the trim compares them with the stop's wall time,
    not the engine's clock, which has skipped ahead."""
    server.register({"stubborn": stubborn_graph(gates)})
    gates["stubborn"].open()
    client = server.client()
    await client.runs.wait(None, "sleeper", input={"word": "skip", "naps": 600})
    tid = await new_thread(client)
    first = await client.runs.create(tid, "stubborn", input={})
    await gates["stubborn"].reached()
    successor = await client.runs.create(
        tid, "sleeper", input={"word": "next", "naps": 0}, multitask_strategy="interrupt"
    )
    result: Any = await client.runs.join(tid, successor["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert result["log"] == ["next waited", "next said"]  # not "stubborn"
