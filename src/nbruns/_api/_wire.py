"""Records and LangGraph snapshots as the JSON the reference server sends.

Each builder returns a shape from `_shapes`, the same type the OpenAPI
document's response schemas are derived from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib import metadata as _metadata
from typing import Any, cast

from langgraph.types import StateSnapshot

from .._core._lifecycle import public_status, thread_status
from .._core._records import AssistantRecord, RunRecord, ThreadRecord, TimelineEvent
from .._core._store import MemoryStore
from .._core._types import RunStatus
from .._engine import _serde
from .._engine._threads import interrupt_json
from ._shapes import (
    Assistant,
    AssistantVersion,
    Checkpoint,
    Info,
    Run,
    StateUpdated,
    Task,
    Thread,
    ThreadState,
)
from ._shapes import TimelineEvent as TimelineEventJson

__all__ = [
    "assistant_json",
    "assistant_version_json",
    "dist_version",
    "empty_state_json",
    "info_json",
    "run_json",
    "run_status",
    "state_json",
    "state_updated_json",
    "thread_json",
    "timeline_json",
]

# `iso` answers None only when given None: a timestamp always reads as a string
_iso = cast("Callable[[float], str]", _serde.iso)
_iso_or_none = _serde.iso


@functools.cache
def dist_version(dist: str) -> str:
    """An installed distribution's version ("unknown" if absent); fixed for the process."""
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return "unknown"


def info_json(graph_ids: list[str]) -> Info:
    return {
        "version": dist_version("nbruns"),
        "langgraph_py_version": dist_version("langgraph"),
        "flags": {"assistants": True, "crons": False, "langsmith": False, "store": True},
        "nbruns": True,
        "graphs": graph_ids,
    }


def assistant_version_json(a: AssistantRecord) -> AssistantVersion:
    # a saved version's updated_at is when it was made
    return {
        "assistant_id": a.assistant_id,
        "version": a.version,
        "graph_id": a.graph_id,
        "config": a.config,
        "context": a.context,
        "metadata": a.metadata,
        "name": a.name,
        "description": a.description,
        "created_at": _iso(a.updated_at),
    }


def assistant_json(a: AssistantRecord) -> Assistant:
    return {
        "assistant_id": a.assistant_id,
        "graph_id": a.graph_id,
        "config": a.config,
        "context": a.context,
        "metadata": a.metadata,
        "name": a.name,
        "description": a.description,
        "version": a.version,
        "created_at": _iso(a.created_at),
        "updated_at": _iso(a.updated_at),
    }


def thread_json(store: MemoryStore, t: ThreadRecord) -> Thread:
    runs = store.status_runs(t.thread_id)
    # from the runs already in hand
    status = thread_status(runs, t.head, state_updated_at=t.state_updated_at)

    error = None
    if status == "error":
        last = max((r for r in runs if r.ended_seq), key=lambda r: r.ended_seq or 0)
        error = last.error
    return {
        "thread_id": t.thread_id,
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
        "state_updated_at": _iso(t.state_updated_at),
        "metadata": t.metadata,
        "config": t.config,
        "status": status,
        "values": None if t.head.values is None else _serde.raw(t.head.values),
        "interrupts": t.head.interrupts,
        "error": error,
    }


def run_status(r: RunRecord, store: MemoryStore | None = None) -> RunStatus | None:
    """The status a client sees; a merged run reads exactly as its carrier does (a
    carrier being rolled back reads `interrupted` here). Only merged runs pay the look-up."""
    if r.phase == "merged" and store is not None and r.merged_into is not None:
        carrier = store.runs.get(r.merged_into)
        if carrier is not None:
            return public_status(carrier) or "interrupted"
    return public_status(r)


def run_json(r: RunRecord, store: MemoryStore | None = None) -> Run:
    """A run as the SDK reads it; with the `store`, a merged run's status is its carrier's."""
    return {
        "run_id": r.run_id,
        "thread_id": r.thread_id,
        "assistant_id": r.assistant_id,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
        # never None here: the store hands out no run that a rollback deleted
        "status": cast("RunStatus", run_status(r, store)),
        "metadata": r.metadata,
        "kwargs": r.kwargs,
        "multitask_strategy": r.multitask_strategy,
        "cancel_reason": r.cancel_reason,
        "cancel_source": r.cancel_source,
        "started_at": _iso_or_none(r.started_at),
        "ended_at": _iso_or_none(r.ended_at),
        "superseded_by": r.superseded_by,
        "merged_into": r.merged_into,
    }


def _checkpoint_json(config: Mapping[str, Any] | None) -> Checkpoint | None:
    if not config:
        return None
    c = config.get("configurable", {})
    out: Checkpoint = {
        "thread_id": c.get("thread_id"),
        "checkpoint_ns": c.get("checkpoint_ns", ""),
        "checkpoint_id": c.get("checkpoint_id"),
    }
    if c.get("checkpoint_map"):
        out["checkpoint_map"] = c["checkpoint_map"]
    return out


def _task_json(task: Any) -> Task:
    # A task that runs a subgraph carries the subgraph's state: a snapshot when
    # subgraphs were asked for, else only its config (a dict, which has `.values` too)
    nested = task.state if isinstance(task.state, StateSnapshot) else None
    config = task.state if isinstance(task.state, Mapping) else None
    return {
        "id": task.id,
        "name": task.name,
        "path": list(task.path),
        "error": _task_error(task.error),
        "interrupts": [interrupt_json(i) for i in task.interrupts],
        "checkpoint": None if config is None else config.get("configurable"),
        "state": None if nested is None else state_json(nested),
        "result": task.result,
    }


def _task_error(error: Any) -> str | None:
    """A failed task's error as the reference shows it: `ValueError('boom')`.

    Read back from a checkpoint it is already that text; a live exception reads the same.
    """
    if error is None or isinstance(error, str):
        return error
    return repr(error)


def state_json(snapshot: Any) -> ThreadState:
    if not (snapshot.config or {}).get("configurable", {}).get("checkpoint_id"):
        # no checkpoint (never run, or its only run rolled back): the reference's empty state
        return empty_state_json()
    checkpoint = _checkpoint_json(snapshot.config)
    parent = _checkpoint_json(snapshot.parent_config)
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "tasks": [_task_json(t) for t in snapshot.tasks],
        "metadata": snapshot.metadata,
        "created_at": snapshot.created_at,
        "checkpoint": checkpoint,
        "parent_checkpoint": parent,
        "interrupts": [interrupt_json(i) for i in snapshot.interrupts],
        "checkpoint_id": None if checkpoint is None else checkpoint["checkpoint_id"],
        "parent_checkpoint_id": None if parent is None else parent["checkpoint_id"],
    }


def empty_state_json() -> ThreadState:
    """The state of a thread that has no checkpoint yet."""
    return {
        "values": {},
        "next": [],
        "tasks": [],
        "metadata": None,
        "created_at": None,
        "checkpoint": None,
        "parent_checkpoint": None,
        "interrupts": [],
        "checkpoint_id": None,
        "parent_checkpoint_id": None,
    }


def state_updated_json(configurable: Mapping[str, Any]) -> StateUpdated:
    """The answer to a state update: the new checkpoint, under the names SDKs read."""
    checkpoint: Checkpoint = {
        "thread_id": configurable["thread_id"],
        "checkpoint_ns": configurable.get("checkpoint_ns", ""),
        "checkpoint_id": configurable["checkpoint_id"],
    }
    return {
        "checkpoint": checkpoint,
        "configurable": checkpoint,
        "checkpoint_id": configurable["checkpoint_id"],
    }


def timeline_json(e: TimelineEvent) -> TimelineEventJson:
    event: TimelineEventJson = {
        "seq": e.seq,
        "at": _iso(e.at),
        "thread_id": e.thread_id,
        "run_id": e.run_id,
        "kind": e.kind,
    }
    # a TypedDict cannot name keys that vary by kind: the details join as extra keys
    details = {k: v for k, v in e.detail.items() if v is not None}
    return cast("TimelineEventJson", {**event, **details})
