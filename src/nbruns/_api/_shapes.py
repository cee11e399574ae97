"""The JSON shapes nbruns answers with, as `TypedDict`s.

They are the return types of the builders in `_wire`, so mypy checks every key
those send, and `_openapi` derives the document's response schemas from them
with pydantic: a shape is written once. A docstring here becomes the schema's
description, so write it for API users. Keys are required when `_wire` always
sends them; clients must still accept keys they do not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field, WithJsonSchema
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from .._core._types import CancelSource, MultitaskStrategy, RunStatus, ThreadStatus

__all__ = [
    "Assistant",
    "AssistantSchemas",
    "Checkpoint",
    "Count",
    "Error",
    "Graph",
    "Info",
    "InfoFlags",
    "Ok",
    "Run",
    "RunOutput",
    "StateUpdated",
    "StreamEvent",
    "Subgraph",
    "Task",
    "TaskCheckpoint",
    "Thread",
    "ThreadState",
    "TimelineEvent",
]

JsonObject = Mapping[str, Any]
Uuid = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]


class Error(TypedDict):
    """Every error answer: a sentence saying what was wrong and what is allowed."""

    detail: str


class Ok(TypedDict):
    ok: Literal[True]


class InfoFlags(TypedDict):
    assistants: bool
    crons: bool
    langsmith: bool


class Info(TypedDict):
    version: str
    langgraph_py_version: str
    flags: InfoFlags
    nbruns: bool
    graphs: list[str]


class Assistant(TypedDict):
    assistant_id: str
    graph_id: str
    config: JsonObject
    context: JsonObject
    metadata: JsonObject
    name: str
    description: str | None
    version: int
    created_at: str
    updated_at: str


class AssistantSchemas(TypedDict):
    graph_id: str
    input_schema: Any
    output_schema: Any
    state_schema: Any
    config_schema: Any
    context_schema: Any


class Graph(TypedDict):
    nodes: list[JsonObject]
    edges: list[JsonObject]


class Subgraph(TypedDict):
    graph_id: str


class Thread(TypedDict):
    thread_id: str
    created_at: str
    updated_at: str
    state_updated_at: str
    metadata: JsonObject
    config: JsonObject
    status: ThreadStatus
    values: Any  # the state's values, sent as they were encoded; null before any checkpoint
    interrupts: JsonObject
    error: JsonObject | None


class Checkpoint(TypedDict):
    thread_id: str | None
    checkpoint_ns: str
    checkpoint_id: str | None
    checkpoint_map: NotRequired[JsonObject]


class TaskCheckpoint(TypedDict):
    """A subgraph task's state when only its checkpoint is known."""

    checkpoint: Checkpoint | None


class Task(TypedDict):
    id: str
    name: str
    path: list[Any]
    error: str | None
    interrupts: list[Any]
    checkpoint: Checkpoint | None
    state: ThreadState | TaskCheckpoint | None
    result: Any


class ThreadState(TypedDict):
    """A thread's state at one checkpoint; all empty for a thread with no checkpoint."""

    values: Any
    next: list[str]
    tasks: list[Task]
    metadata: JsonObject | None
    created_at: str | None
    checkpoint: Checkpoint | None
    parent_checkpoint: Checkpoint | None
    interrupts: list[Any]
    checkpoint_id: str | None
    parent_checkpoint_id: str | None


class StateUpdated(TypedDict):
    checkpoint: Checkpoint
    configurable: Checkpoint
    checkpoint_id: str


class Run(TypedDict):
    run_id: Uuid
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: RunStatus
    metadata: JsonObject
    kwargs: JsonObject
    multitask_strategy: MultitaskStrategy
    cancel_reason: str | None
    # nbruns additions: why it was stopped (machine-readable), when it really started
    # and ended, and who replaced it
    cancel_source: CancelSource | None
    started_at: str | None
    ended_at: str | None
    superseded_by: str | None


class TimelineEvent(TypedDict):
    """One lifecycle event; its kind's details (strategy, status, ...) ride as extra keys."""

    seq: int
    at: str
    thread_id: str
    run_id: str | None
    kind: str


class StreamEvent(TypedDict):
    """One server-sent event (OpenAPI 3.1 has no stream schema: this schema describes each
    event, as OpenAPI 3.2's itemSchema does)"""

    event: Annotated[
        str,
        Field(
            description="metadata, a stream mode (values, updates, messages, custom, ...; "
            "with `|namespace` for subgraphs), error, or end"
        ),
    ]
    data: Annotated[str, Field(json_schema_extra={"contentMediaType": "application/json"})]
    id: NotRequired[Annotated[str, Field(description="The event id, for resumable streams")]]


RunOutput = Annotated[
    Any,
    Field(
        description="The run's final values; a failed run's is "
        '{"__error__": {"error": ..., "message": ...}}; {} when it was rolled back'
    ),
]
Count = Annotated[int, Field(ge=0)]
