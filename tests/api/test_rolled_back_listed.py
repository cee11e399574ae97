"""Rolled-back runs are listed as rolled back on GET /nbruns/runs, and nowhere else.

A rollback deletes its run as the reference does (every SDK endpoint answers 404),
but nbruns keeps its final record apart (bounded) so people can see where their
message went: status `rolled_back`, when it ended, who replaced it and why. Deleting
the thread forgets them; with `path=` they survive a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns._core._records import RunRecord
from nbruns._core._store import ROLLED_BACK_KEPT, MemoryStore
from tests.helpers import Gates, wait_for_status


class State(TypedDict, total=False):
    gate: str
    answer: str


def gated_graph(gates: Gates) -> Any:
    async def node(state: State) -> State:
        if gate := state.get("gate"):
            await gates[gate].passage()
        return {"answer": "done"}

    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile()


async def listed(client: Any, thread_id: str | None = None) -> list[dict[str, Any]]:
    params = {} if thread_id is None else {"thread_id": thread_id}
    return await client.http.get("/nbruns/runs", params=params)  # type: ignore[no-any-return]


async def superseded_by_rollback(client: Any, gates: Gates) -> tuple[str, list[str]]:
    """A thread with a running run and a pending one, both rolled back by a third:
    its id and the three run ids in created order."""
    tid = (await client.threads.create())["thread_id"]
    running = await client.runs.create(tid, "g", input={"gate": "first"})
    await wait_for_status(client, tid, running["run_id"], "running")
    pending = await client.runs.create(tid, "g", input={})
    newest = await client.runs.create(tid, "g", input={}, multitask_strategy="rollback")
    await client.runs.join(tid, newest["run_id"])
    return tid, [running["run_id"], pending["run_id"], newest["run_id"]]


async def test_rolled_back_runs_are_listed_and_the_sdk_404s_them(gates: Gates) -> None:
    server = nbruns.Server({"g": gated_graph(gates)})
    try:
        client = server.client()
        tid, (running, pending, newest) = await superseded_by_rollback(client, gates)
        runs = await listed(client, tid)
        assert [(r["run_id"], r["status"]) for r in runs] == [
            (running, "rolled_back"),
            (pending, "rolled_back"),
            (newest, "success"),
        ]
        for gone in runs[:2]:
            assert gone["superseded_by"] == newest
            assert gone["cancel_source"] == "superseded"
            assert gone["cancel_reason"]  # in words
            assert gone["ended_at"] is not None
            assert gone["error"] is None
        assert runs[0]["started_at"] is not None and runs[1]["started_at"] is None
        # the SDK's endpoints still answer as the reference: deleted
        for gone_id in (running, pending):
            with pytest.raises(NotFoundError):
                await client.runs.get(tid, gone_id)
        assert [r["run_id"] for r in await client.runs.list(tid)] == [newest]
        # the whole-server listing has them too
        assert {running, pending} <= {r["run_id"] for r in await listed(client)}

        # a client's own rollback, of a running run
        held = await client.runs.create(tid, "g", input={"gate": "second"})
        await wait_for_status(client, tid, held["run_id"], "running")
        await client.runs.cancel(tid, held["run_id"], action="rollback", wait=True)
        [cancelled] = [r for r in await listed(client, tid) if r["run_id"] == held["run_id"]]
        assert (cancelled["status"], cancelled["cancel_source"]) == ("rolled_back", "client")
        assert cancelled["superseded_by"] is None
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, held["run_id"])

        # deleting the thread forgets them
        await client.threads.delete(tid)
        assert not {running, pending, held["run_id"]} & {r["run_id"] for r in await listed(client)}
        await client.aclose()
    finally:
        gates.open_all()
        await server.aclose()


async def test_rolled_back_runs_survive_a_restart(tmp_path: Path, gates: Gates) -> None:
    path = tmp_path / "db.sqlite"
    first = nbruns.Server({"g": gated_graph(gates)}, path=path)
    try:
        client = first.client()
        tid, ids = await superseded_by_rollback(client, gates)
        gone_tid, _ = await superseded_by_rollback(client, gates)
        await client.threads.delete(gone_tid)
        before = await listed(client)
        await client.aclose()
    finally:
        gates.open_all()
        await first.aclose()
    assert [r["run_id"] for r in before] == ids

    second = nbruns.Server({"g": gated_graph(gates)}, path=path)
    try:
        client = second.client()
        assert await listed(client) == before
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, ids[0])
        await client.aclose()
    finally:
        await second.aclose()


def test_the_store_keeps_the_last_rolled_back_records() -> None:
    store = MemoryStore()
    assert store.rolled_back_limit == ROLLED_BACK_KEPT == 1000
    store.rolled_back_limit = 2

    def final(run_id: str, seq: int) -> RunRecord:
        return RunRecord(
            run_id=run_id,
            thread_id="t1",
            assistant_id="a",
            graph_id="g",
            seq=seq,
            created_at=1.0,
            updated_at=1.0,
            scheduled_at=1.0,
            phase="rolled_back",
            multitask_strategy="rollback",
        )

    assert store.keep_rolled_back(final("r1", 1)) == []
    assert store.keep_rolled_back(final("r2", 2)) == []
    assert store.keep_rolled_back(final("r3", 3)) == ["r1"]  # the oldest goes
    assert list(store.rolled_back_runs) == ["r2", "r3"]
