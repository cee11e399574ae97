"""Small fast graphs whose nodes append `"<tag>:<node>"` to a log: a -> b, a -> b -> c and
a -> (b, c). They know nothing of holds or gates, as a user's graph would not; tests
hold them at step boundaries with breakpoints.

    from tests.log_graphs import chain, fan_out, three_nodes
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Annotated, Any

from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

__all__ = ["Log", "chain", "fan_out", "log_node", "three_nodes"]


class Log(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str


def log_node(name: str) -> Any:
    async def node(state: Log) -> dict[str, Any]:
        return {"log": [f"{state.get('tag', '')}:{name}"]}

    return node


def _line(names: Sequence[str]) -> Any:
    builder = StateGraph(Log)
    for name in names:
        builder.add_node(name, log_node(name))
    for first, then in zip([START, *names], [*names, END], strict=True):
        builder.add_edge(first, then)
    return builder.compile()


def chain() -> Any:
    """a -> b: two fast nodes."""
    return _line("ab")


def three_nodes() -> Any:
    """a -> b -> c."""
    return _line("abc")


def fan_out() -> Any:
    """a -> (b, c): one step runs two nodes."""
    builder = StateGraph(Log)
    for name in "abc":
        builder.add_node(name, log_node(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("a", "c")
    builder.add_edge("b", END)
    builder.add_edge("c", END)
    return builder.compile()
