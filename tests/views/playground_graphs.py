"""Small real graphs for the Playground tests: fast, failing, streaming, and one-string-key.

None of them sleeps: a test keeps a run busy with a hold (or a gate) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from tests.helpers import Gate

__all__ = ["ANSWER", "failing_graph", "fast_graph", "streaming_graph", "topic_graph"]

ANSWER = "the answer grows one word at a time"


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def fast_graph() -> Any:
    """think -> answer, no waiting: the answer echoes the last message."""

    def think(state: Chat) -> dict[str, Any]:
        return {}

    def answer(state: Chat) -> dict[str, Any]:
        return {"messages": [AIMessage(content=f"echo: {state['messages'][-1].content}")]}

    builder = StateGraph(Chat)
    builder.add_node("think", think)
    builder.add_node("answer", answer)
    builder.add_edge(START, "think")
    builder.add_edge("think", "answer")
    builder.add_edge("answer", END)
    return builder.compile(name="mine")


def failing_graph() -> Any:
    """prepare -> explode, which raises ValueError("node exploded")."""

    def prepare(state: Chat) -> dict[str, Any]:
        return {}

    def explode(state: Chat) -> dict[str, Any]:
        raise ValueError("node exploded")

    builder = StateGraph(Chat)
    builder.add_node("prepare", prepare)
    builder.add_node("explode", explode)
    builder.add_edge(START, "prepare")
    builder.add_edge("prepare", "explode")
    builder.add_edge("explode", END)
    return builder.compile(name="boom")


def streaming_graph(gate: Callable[[], Gate] | None = None) -> Any:
    """model (a fake chat model streaming ANSWER word by word) -> finish (waits on `gate()`)."""

    async def model(state: Chat) -> dict[str, Any]:
        llm = GenericFakeChatModel(messages=iter([AIMessage(content=ANSWER)]))
        return {"messages": [await llm.ainvoke(state["messages"])]}

    async def finish(state: Chat) -> dict[str, Any]:
        if gate is not None:
            await gate().passage()
        return {}

    builder = StateGraph(Chat)
    builder.add_node("model", model)
    builder.add_node("finish", finish)
    builder.add_edge(START, "model")
    builder.add_edge("model", "finish")
    builder.add_edge("finish", END)
    return builder.compile(name="words")


class TopicIn(TypedDict):
    topic: str


class Topic(TypedDict, total=False):
    topic: str
    result: str


def topic_graph() -> Any:
    """An input with one string key, `topic`; the result repeats it."""

    def write(state: Topic) -> dict[str, Any]:
        return {"result": f"about {state['topic']}"}

    builder = StateGraph(Topic, input_schema=TopicIn)
    builder.add_node("write", write)
    builder.add_edge(START, "write")
    builder.add_edge("write", END)
    return builder.compile(name="topic")
