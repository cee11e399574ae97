"""Graphs for the assistant conformance tests: schemas, subgraphs and versions.

- ``typed_state``: a state declared with ``typing.TypedDict``, which pydantic cannot
  describe on Python < 3.12 (its input and output schemas read as null there);
- ``io_schemas``: distinct input, output and context schemas; its one node answers
  with the run's context, so a test can see which assistant version a run used;
- ``nested``: ``child`` (a subgraph holding the subgraph ``inner``) then ``other``.
"""

from __future__ import annotations

import operator
import typing
from typing import Annotated, Any

from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict


class PlainState(typing.TypedDict, total=False):  # typing, not typing_extensions: the point
    log: Annotated[list[str], operator.add]
    topic: str


def _log(state: Any) -> dict[str, Any]:
    return {"log": ["x"]}


_typed = StateGraph(PlainState)
_typed.add_node("x", _log)
_typed.add_edge(START, "x")
typed_state = _typed.compile()


class IOState(TypedDict, total=False):
    question: str
    answer: str
    scratch: list[str]


class Question(TypedDict):
    question: str


class Answer(TypedDict):
    answer: str


class Settings(TypedDict, total=False):
    model: str


def _answer(state: IOState, runtime: Runtime[Settings]) -> dict[str, Any]:
    model = (runtime.context or {}).get("model", "none")
    return {"answer": f"{model}:{state['question']}", "scratch": ["s"]}


_io = StateGraph(IOState, input_schema=Question, output_schema=Answer, context_schema=Settings)
_io.add_node("answer", _answer)
_io.add_edge(START, "answer")
io_schemas = _io.compile()


class Inner(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    depth: int


def _leaf(state: Inner) -> dict[str, Any]:
    return {"log": ["leaf"]}


_leaf_graph = StateGraph(Inner)
_leaf_graph.add_node("leaf", _leaf)
_leaf_graph.add_edge(START, "leaf")

_child = StateGraph(Inner)
_child.add_node("inner", _leaf_graph.compile())
_child.add_edge(START, "inner")

_nested = StateGraph(Inner)
_nested.add_node("child", _child.compile())
_nested.add_node("other", _leaf)
_nested.add_edge(START, "child")
_nested.add_edge("child", "other")
nested = _nested.compile()
