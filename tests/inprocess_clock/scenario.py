"""The issue's scenario, at any scale: `after_seconds` and a sleeping node, then a double-text.

A thread's first run waits `600 * scale` s (`after_seconds`) and its node sleeps
`30 * scale` s; then a second run sleeps an hour and is interrupted while it does by a
third (interrupt, sleeping `300 * scale` s), with a fourth (`30 * scale` s) enqueued
behind it. The graph is built for a scale, so its state and events are the same at
every scale: a real-time run scaled down and a virtual-time run full size compare as
they are. `bench/virtual_clock.py` times it.
"""

from __future__ import annotations

import asyncio
import datetime
import operator
import time
from dataclasses import dataclass
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from tests.helpers import wait_for_status

__all__ = ["Outcome", "double_text", "sleeper_graph"]

STREAM_MODES = ["values", "updates"]


class Nap(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    word: str
    naps: float  # how long the node sleeps, in units of `scale` seconds


def sleeper_graph(scale: float) -> Any:
    """Two steps: `wait` sleeps `naps * scale` s, `say` notes the word."""

    async def wait(state: Nap) -> Nap:
        await asyncio.sleep(state.get("naps", 0) * scale)
        return {"log": [f"{state['word']} waited"]}

    async def say(state: Nap) -> Nap:
        return {"log": [f"{state['word']} said"]}

    return (
        StateGraph(Nap)
        .add_node("wait", wait)
        .add_node("say", say)
        .add_edge(START, "wait")
        .add_edge("wait", "say")
        .add_edge("say", END)
        .compile()
    )


@dataclass(frozen=True)
class Outcome:
    statuses: list[str]  # first, second, third, fourth
    values: dict[str, Any]  # the thread's final state
    events: list[list[tuple[str, Any]]]  # the third's and fourth's streams, without ids
    wall_s: float
    virtual_s: float  # from the first run's creation to the last one's end, as recorded


def _without_ids(event: Any) -> tuple[str, Any]:
    return (event.event, None if event.event == "metadata" else event.data)


def _seconds(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp).timestamp()


async def double_text(client: Any, graph_id: str, scale: float) -> Outcome:
    """Play the scenario on a new thread of `graph_id` (a `sleeper_graph(scale)`)."""
    began = time.monotonic()
    tid = (await client.threads.create())["thread_id"]

    async def create(word: str, naps: float, **options: Any) -> str:
        run = await client.runs.create(
            tid,
            graph_id,
            input={"word": word, "naps": naps},
            stream_mode=STREAM_MODES,
            stream_resumable=True,
            **options,
        )
        return str(run["run_id"])

    first = await create("first", 30, after_seconds=600 * scale)
    await client.runs.join(tid, first)
    second = await create("second", 3600)
    await wait_for_status(client, tid, second, "running")
    third = await create("third", 300, multitask_strategy="interrupt")
    fourth = await create("fourth", 30, multitask_strategy="enqueue")

    async def events_of(run_id: str) -> list[tuple[str, Any]]:
        stream = client.runs.join_stream(tid, run_id, last_event_id="0")
        return [_without_ids(event) async for event in stream]

    # both followed from now: a stream joined after its run ended would be empty
    events = list(await asyncio.gather(events_of(third), events_of(fourth)))
    runs = [await client.runs.get(tid, run_id) for run_id in (first, second, third, fourth)]
    state = await client.threads.get_state(tid)
    return Outcome(
        statuses=[run["status"] for run in runs],
        values=state["values"],
        events=events,
        wall_s=time.monotonic() - began,
        virtual_s=_seconds(runs[-1]["updated_at"]) - _seconds(runs[0]["created_at"]),
    )
