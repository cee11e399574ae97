"""Graphs for nbruns.testing's tests, in process and under `nbruns serve`: fast, and
knowing nothing of breakpoints (every wait in the tests is on a breakpoint)."""

from __future__ import annotations

import itertools
import operator
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str


def _node(name: str) -> Any:
    async def node(state: Log) -> dict[str, Any]:
        return {"log": [f"{state.get('tag', '')}:{name}"]}

    return node


def _chain(*names: str) -> Any:
    builder = StateGraph(Log)
    for name in names:
        builder.add_node(name, _node(name))
    builder.add_edge(START, names[0])
    for left, right in itertools.pairwise(names):
        builder.add_edge(left, right)
    builder.add_edge(names[-1], END)
    return builder.compile()


# chain: a -> b -> c, three fast nodes
chain = _chain("a", "b", "c")
