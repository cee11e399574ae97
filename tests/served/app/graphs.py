"""Graphs for the served-mode tests (`nbruns serve --config tests/served/app/langgraph.json`).

`reply`: one async node appending one AI message to `messages`.
`slow`: one async node that sleeps `input["sleep"]` seconds (default an hour) and then
appends one AI message; it is cancelled by the tests (interrupt, rollback, shutdown).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    sleep: NotRequired[float]


async def reply(state: State) -> dict[str, Any]:
    return {"messages": [AIMessage(content="ok")]}


async def wait(state: State) -> dict[str, Any]:
    await asyncio.sleep(state.get("sleep", 3600.0))
    return {"messages": [AIMessage(content="slept")]}


def _one_node(name: str, fn: Any) -> Any:
    builder = StateGraph(State)
    builder.add_node(name, fn)
    builder.add_edge(START, name)
    builder.add_edge(name, END)
    return builder.compile()


reply_graph = _one_node("reply", reply)
slow_graph = _one_node("wait", wait)
