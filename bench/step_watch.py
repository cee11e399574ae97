"""What watching step boundaries (for holds) costs a run that no hold catches.

    python -m bench.step_watch [--runs N] [--rounds N]

Holds need to see each step's start, so every run's graph streams LangGraph's
`tasks` events too (`_engine/_drive.py`). This measures create+join on one thread
of a three-node graph, through the SDK client on `loop="current"`, with the events
as shipped ("watched") and with them taken out ("unwatched", the code before holds),
in alternating rounds on the same server, and prints the medians and their ratio.
No hold is set: this is the cost every run pays for the feature.
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import time
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

import nbruns
import nbruns._engine._drive as drive_module

_WATCHED = drive_module._graph_modes


def _unwatched(requested: list[str]) -> list[str]:
    return [m for m in _WATCHED(requested) if m != "tasks"]


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def _graph() -> Any:
    def node(name: str) -> Any:
        async def step(state: Log) -> dict[str, Any]:
            return {"log": [name]}

        return step

    builder = StateGraph(Log)
    for name in "abc":
        builder.add_node(name, node(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


async def _round(client: Any, runs: int) -> float:
    """Median ms of create+join, each on a fresh thread (so state does not grow)."""
    took = []
    for _ in range(runs):
        tid = (await client.threads.create())["thread_id"]
        began = time.perf_counter()
        run = await client.runs.create(tid, "chain", input={"log": []})
        await client.runs.join(tid, run["run_id"])
        took.append((time.perf_counter() - began) * 1000)
        await client.threads.delete(tid)
    return statistics.median(took)


async def main(runs: int, rounds: int) -> None:
    server = nbruns.Server(graphs={"chain": _graph()}, loop="current")
    client = server.client()
    watched, unwatched = [], []
    try:
        await _round(client, 20)  # warm up
        for _ in range(rounds):
            drive_module._graph_modes = _unwatched
            unwatched.append(await _round(client, runs))
            drive_module._graph_modes = _WATCHED
            watched.append(await _round(client, runs))
    finally:
        drive_module._graph_modes = _WATCHED
        await client.aclose()
        await server.aclose()
    w, u = statistics.median(watched), statistics.median(unwatched)
    print(f"create+join of a 3-node graph, median of {rounds} rounds x {runs} runs")
    print(f"  unwatched (no tasks events) {u:8.3f} ms   rounds: {[round(x, 3) for x in unwatched]}")
    print(f"  watched   (as shipped)      {w:8.3f} ms   rounds: {[round(x, 3) for x in watched]}")
    print(f"  ratio watched/unwatched     {w / u:8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.rounds))
