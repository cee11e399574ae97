"""Breakpoints and `wait_idle` under the virtual clock (`Server(clock="virtual")`): the
joins `wait_idle` makes are what let virtual time move, so a run that starts after 600 s
and sleeps 30 s in a node ends well within `wait_idle`'s (wall-clock) timeout."""

from __future__ import annotations

import asyncio
import operator
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

import nbruns
from nbruns.testing import RunsStillGoing, assert_runs, pause, wait_idle


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


async def think(state: Log) -> dict[str, Any]:
    await asyncio.sleep(30)  # virtual seconds
    return {"log": ["think"]}


async def answer(state: Log) -> dict[str, Any]:
    return {"log": ["answer"]}


def _graph() -> Any:
    builder = StateGraph(Log)
    builder.add_node("think", think)
    builder.add_node("answer", answer)
    builder.add_edge(START, "think")
    builder.add_edge("think", "answer")
    builder.add_edge("answer", END)
    return builder.compile()


@pytest.fixture
async def client() -> AsyncIterator[Any]:
    server = nbruns.Server(graphs={"slow": _graph()}, clock="virtual")
    c = server.client()
    yield c
    await c.aclose()
    await server.aclose()


async def test_a_held_run_and_a_queued_one_end_in_virtual_time(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    bp = await pause(client, tid, before="answer", times=1)
    first = await client.runs.create(tid, "slow", input={"log": ["in"]}, after_seconds=600)
    assert (await bp.reached(timeout=10)).run_id == first["run_id"]
    second = await client.runs.create(tid, "slow", input={}, multitask_strategy="enqueue")
    with pytest.raises(RunsStillGoing, match="held before 'answer': release the breakpoint"):
        await wait_idle(client, tid, timeout=0.2)  # held: no clock moves it on
    await bp.release()
    await wait_idle(client, tid, timeout=10)  # 30 more virtual seconds, twice over
    assert_runs(
        await nbruns.runs_frame(client, tid),
        [
            {"run_id": first["run_id"], "status": "success"},
            {"run_id": second["run_id"], "status": "success"},
        ],
    )
    log = (await client.threads.get_state(tid))["values"]["log"]
    assert log == ["in", "think", "answer", "think", "answer"]
