"""A restart with `path=` gives back every thread as it was, timestamps included.

A thread's `head` is a cache of its last checkpoint, rebuilt on start; rebuilding
it is not a change to the thread, so `updated_at` and `state_updated_at` must read
exactly as before the restart, for threads that ran nothing, ran to the end,
failed, paused, were interrupted, or had their state or metadata updated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict

import nbruns
from tests.helpers import Gates, wait_for_status


class State(TypedDict, total=False):
    ending: str
    answer: str


def graph(gates: Gates) -> Any:
    async def node(state: State) -> State:
        ending = state.get("ending", "success")
        if ending == "error":
            raise ValueError("the node failed")
        if ending == "paused":
            return {"answer": interrupt("a question")}
        if ending == "held":
            await gates["held"].passage()
        return {"answer": "done"}

    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile()


async def make_threads(client: Any) -> dict[str, str]:
    """One thread per way a thread can have been left; name -> thread id."""
    tids: dict[str, str] = {}
    for name in ("fresh", "renamed", "success", "error", "paused", "interrupted", "updated"):
        tids[name] = (await client.threads.create(metadata={"name": name}))["thread_id"]
    await client.threads.update(tids["renamed"], metadata={"name": "renamed again"})
    for name in ("success", "error", "paused", "updated"):
        await client.runs.wait(tids[name], "g", input={"ending": name}, raise_error=False)
    await client.threads.update_state(tids["updated"], {"answer": "edited"})
    held = await client.runs.create(tids["interrupted"], "g", input={"ending": "held"})
    await wait_for_status(client, tids["interrupted"], held["run_id"], "running")
    await client.runs.cancel(tids["interrupted"], held["run_id"], action="interrupt")
    await client.runs.join(tids["interrupted"], held["run_id"])
    return tids


async def test_a_restart_keeps_every_thread_as_it_was(tmp_path: Path, gates: Gates) -> None:
    path = tmp_path / "db.sqlite"
    first = nbruns.Server({"g": graph(gates)}, path=path)
    try:
        client = first.client()
        tids = await make_threads(client)
        before = {name: await client.threads.get(tid) for name, tid in tids.items()}
        await client.aclose()
    finally:
        gates.open_all()
        await first.aclose()

    second = nbruns.Server({"g": graph(gates)}, path=path)
    try:
        client = second.client()
        after = {name: await client.threads.get(tid) for name, tid in tids.items()}
        await client.aclose()
    finally:
        await second.aclose()

    changed = {
        name: {
            k: (v, after[name].get(k)) for k, v in before[name].items() if after[name].get(k) != v
        }
        for name in tids
    }
    assert not any(changed.values()), f"thread fields changed by the restart: {changed}"
    # the threads did change before the restart: the timestamps were not all left alone
    assert before["success"]["updated_at"] != before["success"]["created_at"]
    assert before["updated"]["state_updated_at"] != before["updated"]["created_at"]
