"""A module on a local dependency's path, named in langgraph.json as `project_lib:graph`."""

from __future__ import annotations

from typing import Any, TypedDict

from langgraph.graph import StateGraph


class State(TypedDict, total=False):
    text: str


def _say(state: State) -> dict[str, Any]:
    return {"text": state.get("text", "") + " from lib"}


graph = StateGraph(State).add_node("say", _say).add_edge("__start__", "say")  # uncompiled
