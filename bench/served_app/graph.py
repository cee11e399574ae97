"""Graphs served by both servers in `bench/served.py` (nbruns serve and langgraph dev).

`bench`: one async node that appends one AI message to `messages`.
`busy`: one async node that sleeps for an hour (it is interrupted by the benchmark).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


async def reply(state: State) -> dict[str, Any]:
    return {"messages": [AIMessage(content="ok")]}


async def wait_forever(state: State) -> dict[str, Any]:
    await asyncio.sleep(3600)  # interrupted by the benchmark's next run
    return {"messages": [AIMessage(content="never")]}


def _one_node(name: str, fn: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node(name, fn)
    builder.add_edge(START, name)
    builder.add_edge(name, END)
    return builder.compile()


graph = _one_node("reply", reply)
busy = _one_node("wait", wait_forever)
