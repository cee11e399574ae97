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
from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.store.base import BaseStore
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
    delay = float(state.get("delay") or 0)
    if delay:  # to be stopped before it fails
        await asyncio.sleep(delay)
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


# -- subgraphs (issue #12 item 2): state reads of graphs that run a subgraph --------------
class SubState(TypedDict, total=False):
    """The subgraph's own steps: kept apart from the parent's `log`, which a subgraph
    sharing it would hand back whole, to be added to the parent's again."""

    steps: Annotated[list[str], operator.add]
    delay: float
    answer: Any


def _sub_step(name: str):
    async def node(state: SubState) -> dict:
        delay = float(state.get("delay") or 0)
        if delay:
            await asyncio.sleep(delay)
        return {"steps": [name]}

    node.__name__ = name
    return node


async def _sub_ask(state: SubState) -> dict:
    return {"answer": interrupt({"question": "ok?"}), "steps": ["ask"]}


def _subgraph(*names: str, ask: bool = False):
    builder = StateGraph(SubState)
    for name in names:
        builder.add_node(name, _sub_step(name))
    if ask:
        builder.add_node("ask", _sub_ask)
    steps = [*names, "ask"] if ask else list(names)
    builder.add_edge(START, steps[0])
    for left, right in itertools.pairwise(steps):
        builder.add_edge(left, right)
    builder.add_edge(steps[-1], END)
    return builder.compile()


def _with_subgraph(subgraph: Any):
    builder = StateGraph(State)
    builder.add_node("outer", _step("outer"))
    builder.add_node("agent", subgraph)
    builder.add_node("done", _step("done"))
    builder.add_edge(START, "outer")
    builder.add_edge("outer", "agent")
    builder.add_edge("agent", "done")
    builder.add_edge("done", END)
    return builder.compile()


# subhitl: outer -> agent (a subgraph: inner -> ask, which calls interrupt()) -> done: the
# multi-agent human-in-the-loop pattern, paused inside the subgraph.
subhitl = _with_subgraph(_subgraph("inner", ask=True))

# subslow: outer -> agent (a subgraph: x -> y) -> done, each node sleeping `delay` s, to
# double-text while a run is inside the subgraph.
subslow = _with_subgraph(_subgraph("x", "y"))


async def _times_out(state: State) -> dict:
    raise TimeoutError("the node's own time limit")


_timeouts = StateGraph(State)
_timeouts.add_node("waits", _times_out)
_timeouts.add_edge(START, "waits")
_timeouts.add_edge("waits", END)
timeouts = _timeouts.compile()


# readconfig: answers what a node reads of its config (configurable and metadata), keeping
# only the plain values a server puts there (not LangGraph's own `__pregel_*` keys).
def _plain(mapping: Any) -> dict:
    return {
        k: v
        for k, v in dict(mapping or {}).items()
        if not k.startswith("__") and isinstance(v, (str, int, float, bool, type(None)))
    }


async def _read_config(state: State, config: RunnableConfig) -> dict:
    return {
        "answer": {
            "configurable": _plain(config.get("configurable")),
            "metadata": _plain(config.get("metadata")),
        }
    }


_config = StateGraph(State)
_config.add_node("read", _read_config)
_config.add_edge(START, "read")
_config.add_edge("read", END)
readconfig = _config.compile()


# tool: agent (an AI message asking for a tool call; no model) -> tools (LangGraph's
# ToolNode runs `add`), so that stream_mode="events" shows on_tool_start / on_tool_end.
def _add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def _call_tool(state: State) -> dict:
    from langchain_core.messages import AIMessage

    call = {"name": "_add", "args": {"a": 1, "b": 2}, "id": "call-1", "type": "tool_call"}
    return {"messages": [AIMessage(content="", tool_calls=[call], id="ai-1")]}


def _tool_graph():
    from langchain_core.tools import tool
    from langgraph.prebuilt import ToolNode

    builder = StateGraph(State)
    builder.add_node("agent", _call_tool)
    builder.add_node("tools", ToolNode([tool(_add)]))
    builder.add_edge(START, "agent")
    builder.add_edge("agent", "tools")
    builder.add_edge("tools", END)
    return builder.compile()


tool = _tool_graph()


# -- "said": a graph factory (langgraph.json), called with each run's config ----------


class Said(TypedDict, total=False):
    text: str


def make_said(config: RunnableConfig) -> Any:
    """A graph factory: what the graph says depends on the run's configurable."""
    suffix = config["configurable"].get("suffix", "(none)")

    def say(state: Said) -> dict[str, Any]:
        return {"text": f"{state.get('text', '')} {suffix}"}

    return StateGraph(Said).add_node("say", say).add_edge(START, "say").compile()


# -- "memory": a node that takes the server's store (long-term memory across threads) --


class Memory(TypedDict, total=False):
    user: str
    remember: str
    memories: list[str]


async def _remember(state: Memory, *, store: BaseStore) -> dict[str, Any]:
    namespace = ("memories", state.get("user") or "anon")
    if state.get("remember"):
        await store.aput(namespace, state["remember"], {"text": state["remember"]})
    found = await store.asearch(namespace)
    return {"memories": sorted(item.value["text"] for item in found)}


memory = StateGraph(Memory).add_node("remember", _remember).add_edge(START, "remember").compile()
