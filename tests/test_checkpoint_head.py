"""`NbrunsMemorySaver.head_id` remembers a thread's newest checkpoint between runs; it
must agree with a scan of the history after every kind of change to it."""

from __future__ import annotations

import asyncio
from typing import Any

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

from nbruns._persistence._checkpoints import NbrunsMemorySaver


class Count(TypedDict, total=False):
    n: int


def add_one(state: Count) -> Count:
    return {"n": state.get("n", 0) + 1}


def newest_by_scan(saver: NbrunsMemorySaver, thread_id: str) -> str | None:
    checkpoints = saver.storage.get(thread_id, {}).get("", {})
    return max(checkpoints) if checkpoints else None


def test_head_id_agrees_with_a_scan_after_every_change() -> None:
    saver = NbrunsMemorySaver()
    graph = StateGraph(Count).add_node("add", add_one).add_edge(START, "add").compile(saver)

    def run(thread_id: str, run_id: str) -> Any:
        config = {"configurable": {"thread_id": thread_id}, "metadata": {"run_id": run_id}}
        return graph.invoke({"n": 0}, config)

    def check(thread_id: str = "t") -> None:
        assert saver.head_id(thread_id) == newest_by_scan(saver, thread_id)

    check()  # no history yet: None
    for i in range(3):
        run("t", f"r{i}")
        check()
        check()  # asked twice: the remembered answer
    mark = saver.mark("t")
    run("t", "doomed")
    check()
    saver.delete_for_runs(["doomed"], thread_id="t")  # a rollback deletes the newest ones
    saver.restore_writes("t", mark)
    assert saver.head_id("t") == mark.checkpoint_id
    check()
    run("t", "after-rollback")
    check()
    saver.copy_thread("t", "copy")
    check("copy")
    run("copy", "on-the-copy")
    check("copy")
    check()
    saver.delete_thread("t")
    check()
    run("t", "fresh")
    check()
    run("t", "trimmed")
    check()
    before = saver.head_id("t")
    assert asyncio.run(saver.atrim_run("t", "trimmed", since=0.0)) > 0  # an interrupt's trim
    assert saver.head_id("t") != before
    check()
