"""A ReAct agent as users write one: a model node, a tool node, and an edge that loops.

The model is langchain_core's `GenericFakeChatModel`, scripted by `next_reply` so that
the agent behaves like a real one without a network: asked about a city, it calls the
`get_weather` tool; given the tool's answer, it replies with it. Swap in a real chat
model (`ChatAnthropic(...).bind_tools(TOOLS)`) and nothing else changes.

`examples/test_weather_agent.py` double-texts it at every step boundary under every
strategy, through nbruns's pytest plugin; `notebooks/testing-your-agent.ipynb` does
the same in a notebook.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph
from langgraph.prebuilt import ToolNode, tools_condition

__all__ = ["TOOLS", "build_agent", "get_weather", "next_reply"]

SLOW_TOOL_S = 30.0  # a slow weather service: virtual time skips it, real time would not


@tool
async def get_weather(city: str) -> str:
    """The weather in a city."""
    await asyncio.sleep(SLOW_TOOL_S)
    return f"It's always sunny in {city}."


TOOLS = [get_weather]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _city(text: str) -> str:
    found = re.findall(r"\b(?:in|for|about)\s+([A-Za-z][A-Za-z ]*?)\s*[?.!]*$", text.strip())
    return found[-1] if found else text.strip().rstrip("?.!")


def next_reply(messages: list[AnyMessage]) -> AIMessage:
    """What the scripted model answers: a tool call for the latest question, or the
    answer once the tool has spoken after it."""
    last_human = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    answered = [m for m in messages[last_human:] if isinstance(m, ToolMessage)]
    if answered:
        return AIMessage(content=str(answered[-1].content))
    city = _city(str(messages[last_human].content))
    call = {"name": "get_weather", "args": {"city": city}, "id": f"call_{len(messages)}"}
    return AIMessage(content="", tool_calls=[call])


async def call_model(state: State) -> dict[str, list[AnyMessage]]:
    model = GenericFakeChatModel(messages=iter([next_reply(state["messages"])]))
    return {"messages": [await model.ainvoke(state["messages"])]}


def build_agent() -> CompiledStateGraph[State, None, State, State]:
    """The agent, compiled without a checkpointer: the server brings its own."""
    builder = StateGraph(State)
    builder.add_node("agent", call_model)
    builder.add_node("tools", ToolNode(TOOLS))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile()
