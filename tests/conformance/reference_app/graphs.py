"""Probe graphs served by the reference ``langgraph dev`` server.

Written for nbruns' conformance probes. Everything is offline: no model,
no API key. Each graph is deliberately tiny so that timings are driven only
by the ``delay`` input key.
"""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.types import interrupt
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    log: Annotated[list[str], operator.add]
    delay: float
    answer: Any


def _step(name: str):
    async def node(state: State) -> dict:
        delay = float(state.get("delay") or 0)
        if delay:
            await asyncio.sleep(delay)
        # A custom stream event, so that stream_mode="custom" has something to show.
        get_stream_writer()({"node": name})
        return {"log": [name]}

    node.__name__ = name
    return node


def _chain(*names: str):
    builder = StateGraph(State)
    for name in names:
        builder.add_node(name, _step(name))
    builder.add_edge(START, names[0])
    for left, right in itertools.pairwise(names):
        builder.add_edge(left, right)
    builder.add_edge(names[-1], END)
    return builder.compile()


# slow: a -> b -> c, each sleeping `delay` seconds (async) before logging its name.
slow = _chain("a", "b", "c")

# hitl: a -> b, meant to be run with interrupt_before=["b"].
hitl = _chain("a", "b")


async def _boom(state: State) -> dict:
    raise ValueError("boom")


_fail = StateGraph(State)
_fail.add_node("boom", _boom)
_fail.add_edge(START, "boom")
_fail.add_edge("boom", END)
fail = _fail.compile()


async def _ask(state: State) -> dict:
    answer = interrupt({"question": "ok?"})
    return {"answer": answer, "log": ["ask"]}


_dyn = StateGraph(State)
_dyn.add_node("ask", _ask)
_dyn.add_edge(START, "ask")
_dyn.add_edge("ask", END)
dyn = _dyn.compile()


def _sleepy(state: State) -> dict:
    time.sleep(float(state.get("delay") or 0))
    return {"log": ["sleepy"]}


_blocking = StateGraph(State)
_blocking.add_node("sleepy", _sleepy)
_blocking.add_edge(START, "sleepy")
_blocking.add_edge("sleepy", END)
blocking = _blocking.compile()


# chat: one node that streams a reply from a fake chat model, so that
# stream_mode="messages-tuple" has token chunks to show. No network, no key.
async def _reply(state: State) -> dict:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    model = GenericFakeChatModel(messages=iter([AIMessage(content="hello there")]))
    reply = await model.ainvoke(state.get("messages") or [])
    return {"messages": [reply], "log": ["reply"]}


_chat = StateGraph(State)
_chat.add_node("reply", _reply)
_chat.add_edge(START, "reply")
_chat.add_edge("reply", END)
chat = _chat.compile()
