"""A failing run keeps its traceback (GET /nbruns/runs) and is logged once on `nbruns`.

Real graphs whose node raises, run through the official SDK client in process. What
the SDK reads of the failure (join, wait and stream bodies) stays exactly the
reference's `{"error", "message"}`; only nbruns's own listing and the log carry the
traceback. Interrupted and rolled-back runs are stopped, not failed: never logged.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

import nbruns
from nbruns._engine._failures import TRACEBACK_KEPT
from tests.helpers import Gates, wait_for_status


class State(TypedDict, total=False):
    how: str
    answer: str


def _detonate(how: str) -> None:
    # a frame of the user's own, below the node: the traceback must show it
    if how == "huge":
        raise ValueError("x" * (3 * TRACEBACK_KEPT) + " the end")
    raise ValueError("node exploded")


def boom_graph(gates: Gates) -> Any:
    async def explode(state: State) -> State:
        how = state.get("how", "raise")
        if how == "hold":
            await gates["held"].passage()
            return {"answer": "held, then done"}
        if how == "sleep":
            await asyncio.sleep(3600)
        _detonate(how)
        return {"answer": "never"}

    builder = StateGraph(State)
    builder.add_node("explode", explode)
    builder.add_edge(START, "explode")
    builder.add_edge("explode", END)
    return builder.compile()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            self.records.append(record)


def failure_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("nbruns.")
    ]


async def listed(client: Any, thread_id: str) -> dict[str, dict[str, Any]]:
    runs = await client.http.get("/nbruns/runs", params={"thread_id": thread_id})
    return {r["run_id"]: r for r in runs}


async def test_a_failing_run_keeps_its_traceback_and_is_logged_once(
    gates: Gates, caplog: pytest.LogCaptureFixture
) -> None:
    # what a user configures: the one "nbruns" logger; module loggers are its children
    on_nbruns = Collect()
    logging.getLogger("nbruns").addHandler(on_nbruns)
    server = nbruns.Server({"boom": boom_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.create(tid, "boom", input={"how": "raise"})
        joined = await client.runs.join(tid, run["run_id"])
        # the SDK's view is the reference's, unchanged: no traceback there
        assert joined == {"__error__": {"error": "ValueError", "message": "node exploded"}}
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "error"

        shown = (await listed(client, tid))[run["run_id"]]
        assert shown["status"] == "error"
        error = shown["error"]
        assert (error["error"], error["message"]) == ("ValueError", "node exploded")
        assert error["traceback"].startswith("Traceback (most recent call last):")
        assert "in explode" in error["traceback"]
        assert "in _detonate" in error["traceback"]
        # the error's line, then the note LangGraph adds naming the task
        assert "\nValueError: node exploded\nDuring task with name 'explode'" in error["traceback"]

        # a run that did not fail says so
        fine = await client.runs.create(tid, "boom", input={"how": "hold"})
        gates["held"].open()
        await client.runs.join(tid, fine["run_id"])
        assert (await listed(client, tid))[fine["run_id"]]["error"] is None
        await client.aclose()
    finally:
        await server.aclose()
        logging.getLogger("nbruns").removeHandler(on_nbruns)

    logged = failure_records(caplog)
    assert len(logged) == 1, [r.getMessage() for r in logged]
    record = logged[0]
    assert record.getMessage() == (
        f"run {run['run_id']} on thread {tid} (graph 'boom') failed: ValueError: node exploded"
    )
    assert on_nbruns.records == [record]
    assert record.exc_info is not None and isinstance(record.exc_info[1], ValueError)
    assert "in _detonate" in caplog.text  # the formatted record carries the traceback


async def test_stopped_runs_are_not_failures(
    gates: Gates, caplog: pytest.LogCaptureFixture
) -> None:
    server = nbruns.Server({"boom": boom_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        first = await client.runs.create(tid, "boom", input={"how": "hold"})
        await wait_for_status(client, tid, first["run_id"], "running")
        second = await client.runs.create(
            tid, "boom", input={"how": "hold"}, multitask_strategy="interrupt"
        )
        third = await client.runs.create(
            tid, "boom", input={"how": "hold"}, multitask_strategy="rollback"
        )
        gates["held"].open()
        await client.runs.join(tid, third["run_id"])
        runs = await listed(client, tid)
        assert [runs[r["run_id"]]["status"] for r in (first, second, third)] == [
            "interrupted",
            "rolled_back",
            "success",
        ]
        assert all(r["error"] is None for r in runs.values())
        await client.aclose()
    finally:
        await server.aclose()
    assert failure_records(caplog) == []


async def test_a_huge_traceback_keeps_its_end(gates: Gates) -> None:
    server = nbruns.Server({"boom": boom_graph(gates)})
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.wait(tid, "boom", input={"how": "huge"}, raise_error=False)
        assert run["__error__"]["message"].endswith(" the end")  # the SDK's: whole
        shown = next(iter((await listed(client, tid)).values()))
        traceback = shown["error"]["traceback"]
        assert len(traceback) <= TRACEBACK_KEPT
        assert traceback.startswith("[earlier lines cut]\n")
        assert " the end\nDuring task with name 'explode'" in traceback
        await client.aclose()
    finally:
        await server.aclose()


async def test_a_timeout_names_the_limit(gates: Gates, caplog: pytest.LogCaptureFixture) -> None:
    # the deadline is the feature here, not an ordering
    server = nbruns.Server({"boom": boom_graph(gates)}, run_timeout=0.05)
    try:
        client = server.client()
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.create(tid, "boom", input={"how": "sleep"})
        joined = await client.runs.join(tid, run["run_id"])
        assert joined == {"__error__": {"error": "TimeoutError", "message": ""}}
        shown = (await listed(client, tid))[run["run_id"]]
        assert shown["status"] == "timeout"
        assert shown["error"]["error"] == "TimeoutError"
        assert shown["error"]["message"] == (
            "the run took longer than the server's run timeout of 0.05 s"
        )
        assert "in explode" in shown["error"]["traceback"]
        await client.aclose()
    finally:
        await server.aclose()
    [record] = failure_records(caplog)
    assert record.getMessage() == (
        f"run {run['run_id']} on thread {tid} (graph 'boom') timed out: TimeoutError: "
        "the run took longer than the server's run timeout of 0.05 s"
    )


async def test_the_traceback_survives_a_restart(tmp_path: Path, gates: Gates) -> None:
    path = tmp_path / "db.sqlite"
    first = nbruns.Server({"boom": boom_graph(gates)}, path=path)
    try:
        client = first.client()
        tid = (await client.threads.create())["thread_id"]
        run = await client.runs.wait(tid, "boom", input={"how": "raise"}, raise_error=False)
        before = await listed(client, tid)
        await client.aclose()
    finally:
        await first.aclose()
    [run_id] = before
    assert "in _detonate" in before[run_id]["error"]["traceback"]
    assert run["__error__"] == {"error": "ValueError", "message": "node exploded"}

    second = nbruns.Server({"boom": boom_graph(gates)}, path=path)
    try:
        client = second.client()
        after = await listed(client, tid)
        await client.aclose()
    finally:
        await second.aclose()
    assert after[run_id]["error"] == before[run_id]["error"]
