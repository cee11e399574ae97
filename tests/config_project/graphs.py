"""Graphs for the langgraph.json tests: plain, factories of every kind, and one reading env."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import StateGraph
from langgraph_sdk.runtime import ServerRuntime

# at import: fails unless the project's .env was loaded before this module
GREETING = os.environ["NBRUNS_PROJECT_GREETING"]

CALLS: list[str] = []  # which factory was called, in order
CONTEXTS: list[str] = []  # the async context manager's enter/exit, in order


class State(TypedDict, total=False):
    text: str


def _graph(say: str, name: str = "LangGraph") -> Any:
    builder = StateGraph(State)
    builder.add_node("say", lambda state: {"text": f"{state.get('text', '')}{say}"})
    builder.add_edge("__start__", "say")
    return builder.compile(name=name)


echo = _graph("")
greeter = _graph(f" / {GREETING}")


def make_graph(config: RunnableConfig) -> Any:
    """A factory: the graph depends on the run's config."""
    CALLS.append("made")
    suffix = config["configurable"].get("suffix", "(no suffix)")
    return _graph(f" {suffix}")


async def make_graph_async(config: RunnableConfig) -> Any:
    CALLS.append("made_async")
    return _graph(f" async {config['configurable'].get('suffix', '')}")


@contextlib.asynccontextmanager
async def graph_in_context(config: RunnableConfig) -> AsyncIterator[Any]:
    CALLS.append("made_in_context")
    CONTEXTS.append("enter")
    try:
        yield _graph(f" entered {len(CONTEXTS)}")
    finally:
        CONTEXTS.append("exit")


def make_graph_with_runtime(runtime: ServerRuntime) -> Any:
    CALLS.append("made_with_runtime")
    run = runtime.execution_runtime
    context = run.context if run is not None else None
    return _graph(f" {runtime.access_context} {context}")
