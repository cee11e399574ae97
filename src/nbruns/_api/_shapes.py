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

from .._core._types import CancelSource, NbrunsStrategy, RunStatus, ThreadStatus

__all__ = [
    "Assistant",
    "AssistantSchemas",
    "AssistantVersion",
    "Checkpoint",
    "Count",
    "Cron",
    "Error",
    "Graph",
    "HeldRunJson",
    "Hold",
    "Info",
    "InfoFlags",
    "ListedRun",
    "Ok",
    "PruneResult",
    "RolledBackRun",
    "Run",
    "RunFailure",
    "RunOutput",
    "StateUpdated",
    "StoreItem",
    "StoreItems",
    "StoreNamespaces",
    "StoreSearchItem",
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
    store: NotRequired[bool]  # nbruns only: the store endpoints are served


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
    """A subgraph's schemas, each null when it cannot be made."""

    input_schema: Any
    output_schema: Any
    state_schema: Any
    config_schema: Any
    context_schema: Any


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
    """Where the subgraph a task runs keeps its checkpoints (its config's `configurable`)."""

    thread_id: str
    checkpoint_ns: str
    checkpoint_id: NotRequired[str]
    checkpoint_map: NotRequired[JsonObject]


class Task(TypedDict):
    id: str
    name: str
    path: list[Any]
    error: str | None
    interrupts: list[Any]
    checkpoint: TaskCheckpoint | None  # for a task that runs a subgraph
    state: ThreadState | None  # that subgraph's state, when subgraphs are asked for
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
    multitask_strategy: NbrunsStrategy
    cancel_reason: str | None
    # nbruns additions: why it was stopped (machine-readable), when it really started
    # and ended, who replaced it, and the run that carries its input (steer, collect,
    # debounce: it never runs on its own)
    cancel_source: CancelSource | None
    started_at: str | None
    ended_at: str | None
    superseded_by: str | None
    merged_into: str | None


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


class AssistantVersion(TypedDict):
    """One saved version of an assistant; `created_at` is when that version was made."""

    assistant_id: str
    version: int
    graph_id: str
    config: JsonObject
    context: JsonObject
    metadata: JsonObject
    name: str
    description: str | None
    created_at: str


class Cron(TypedDict):
    """A cron: a run request fired on a schedule (`select` may leave keys out)."""

    cron_id: NotRequired[Uuid]
    assistant_id: NotRequired[Uuid]
    thread_id: NotRequired[Uuid | None]
    user_id: NotRequired[str | None]
    end_time: NotRequired[str | None]
    schedule: NotRequired[str]
    timezone: NotRequired[str | None]
    payload: NotRequired[JsonObject]
    next_run_date: NotRequired[str | None]
    metadata: NotRequired[JsonObject]
    on_run_completed: NotRequired[Literal["delete", "keep"] | None]
    enabled: NotRequired[bool]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]


class StoreItem(TypedDict):
    """An item of the store: a JSON object under a namespace and a key."""

    namespace: list[str]
    key: str
    value: JsonObject
    created_at: str
    updated_at: str


class StoreSearchItem(StoreItem):
    """An item found by a search; `score` is its relevance to a query (null without one)."""

    score: float | None


class StoreItems(TypedDict):
    items: list[StoreSearchItem]


class StoreNamespaces(TypedDict):
    namespaces: list[list[str]]


class PruneResult(TypedDict):
    """POST /threads/prune: how many of the given threads were deleted."""

    pruned_count: int


class HeldRunJson(TypedDict):
    """A run waiting at a hold: the boundary it waits at, and since when."""

    hold_id: NotRequired[str]  # in /nbruns/runs, which hold it waits at
    run_id: str
    after: list[str]
    before: list[str]
    since: str


class Hold(TypedDict):
    """nbruns only: a hold that keeps runs of a thread at a step boundary."""

    hold_id: str
    thread_id: str
    before: str | None
    after: str | None
    times: int | None
    new_runs_only: bool
    hits: int
    armed: bool
    held: list[HeldRunJson]
    created_at: str


class RunFailure(TypedDict):
    """nbruns only: why a run ended `error` or `timeout`, for people. `error` and
    `message` are what the SDK reads (for a `timeout`, the message names the server's
    limit); `traceback` is the node's, formatted (its last 20,000 characters), null when
    none was kept (a run that was running when the process stopped)."""

    error: str
    message: str
    traceback: str | None


class ListedRun(TypedDict):
    """nbruns only (GET /nbruns/runs): a run with the reference's fields and nbruns's,
    and how it failed. Runs a rollback deleted are listed too, as `rolled_back`,
    though every LangGraph endpoint answers 404 for them."""

    run_id: Uuid
    thread_id: str
    assistant_id: str
    created_at: str
    updated_at: str
    status: RunStatus | Literal["rolled_back"]
    metadata: JsonObject
    kwargs: JsonObject
    multitask_strategy: NbrunsStrategy
    cancel_reason: str | None
    cancel_source: CancelSource | None
    started_at: str | None
    ended_at: str | None
    superseded_by: str | None
    merged_into: str | None
    error: RunFailure | None
    held: HeldRunJson | None  # where it waits, while a hold keeps it (/nbruns/holds)
    # told to stop and still cleaning up: its status already reads as it will end
    stopping: bool


class RolledBackRun(TypedDict):
    """nbruns only (GET /nbruns/threads/{thread_id}/rolled_back): a rolled-back run whose
    checkpoints are kept as a hidden branch, restorable until `expires_at`."""

    run_id: Uuid
    rolled_back_at: str
    superseded_by: str | None
    cancel_reason: str | None
    checkpoints: int  # how many checkpoints (root namespace) the run had written
    values: Any  # the state it had got to: its last checkpoint's values
    expires_at: str
