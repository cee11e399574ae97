"""Graphs for the merging tests (steer, collect, debounce), each node held at a gate.

`react(gates)`: model -> tools -> model, a ReAct-shaped loop with a deterministic fake
model: it asks for a tool while the thread has no tool result yet, and answers once it
has one. Every AI message says which human messages the model saw ("saw:a,b"), so a
test reads what each model call was given. The input's `gate` names the gates: the
k-th model call waits at `<gate>/model<k>`, the tools node at `<gate>/tools`.

`chat(gates)`: one node, `reply`, answering every human message it sees; the k-th call
waits at `<gate>/reply<k>`.

`valid_sequence(messages)` says whether a chat model would accept the messages: every
AI tool call is answered by ToolMessages right after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from tests.helpers import Gates

__all__ = ["ask", "chat", "humans", "react", "saw", "valid_sequence"]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    gate: NotRequired[str]


def _kind(message: Any) -> str:
    return str(message.get("type") if isinstance(message, dict) else message.type)


def ask(text: str, gate: str | None = None) -> dict[str, Any]:
    """A run's input: one user message, and the gate its nodes wait at (if any)."""
    body: dict[str, Any] = {"messages": [{"role": "user", "content": text}]}
    if gate is not None:
        body["gate"] = gate
    return body


def humans(messages: Sequence[Any]) -> list[str]:
    """The human messages' contents, in order."""
    return [
        str(m["content"] if isinstance(m, dict) else m.content)
        for m in messages
        if _kind(m) == "human"
    ]


def saw(messages: Sequence[Any]) -> str:
    return "saw:" + ",".join(humans(messages))


def react(gates: Gates) -> Any:
    async def model(state: State) -> dict[str, Any]:
        calls = sum(1 for m in state["messages"] if _kind(m) == "ai")
        await gates[f"{state.get('gate', '')}/model{calls + 1}"].passage()
        messages = state["messages"]
        if any(_kind(m) == "tool" for m in messages):
            return {"messages": [AIMessage(content=saw(messages))]}
        call = {"name": "lookup", "args": {"q": "x"}, "id": f"call{calls + 1}"}
        return {"messages": [AIMessage(content=saw(messages), tool_calls=[call])]}

    async def tools(state: State) -> dict[str, Any]:
        await gates[f"{state.get('gate', '')}/tools"].passage()
        last = state["messages"][-1]
        return {
            "messages": [
                ToolMessage(content="found", tool_call_id=c["id"])
                for c in getattr(last, "tool_calls", [])
            ]
        }

    def route(state: State) -> str:
        last = state["messages"][-1]
        return "tools" if getattr(last, "tool_calls", None) else END

    builder = StateGraph(State)
    builder.add_node("model", model)
    builder.add_node("tools", tools)
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", route, ["tools", END])
    builder.add_edge("tools", "model")
    return builder.compile()


def chat(gates: Gates) -> Any:
    async def reply(state: State) -> dict[str, Any]:
        calls = sum(1 for m in state["messages"] if _kind(m) == "ai")
        await gates[f"{state.get('gate', '')}/reply{calls + 1}"].passage()
        return {"messages": [AIMessage(content=saw(state["messages"]))]}

    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile()


def valid_sequence(messages: Sequence[Any]) -> bool:
    """No message between an AI tool call and its ToolMessages."""
    waiting: set[str] = set()
    for message in messages:
        kind = _kind(message)
        if waiting and kind != "tool":
            return False
        if kind == "tool":
            call_id = message["tool_call_id"] if isinstance(message, dict) else message.tool_call_id
            waiting.discard(call_id)
        calls = (message.get("tool_calls") if isinstance(message, dict) else None) or getattr(
            message, "tool_calls", None
        )
        if kind == "ai" and calls:
            waiting = {c["id"] for c in calls}
    return True
