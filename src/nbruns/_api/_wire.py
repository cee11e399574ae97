"""Records and LangGraph snapshots as the JSON the reference server sends."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core._lifecycle import public_status, thread_status
from .._core._records import AssistantRecord, RunRecord, ThreadRecord, TimelineEvent
from .._core._store import MemoryStore
from .._engine import _serde

__all__ = [
    "assistant_json",
    "empty_state_json",
    "run_json",
    "state_json",
    "thread_json",
    "timeline_json",
]

_iso = _serde.iso


def assistant_json(a: AssistantRecord) -> dict[str, Any]:
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


def thread_json(store: MemoryStore, t: ThreadRecord) -> dict[str, Any]:
    runs = store.status_runs(t.thread_id)
    status = thread_status(runs, t.head)  # from the runs already in hand

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


def run_json(r: RunRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "thread_id": r.thread_id,
        "assistant_id": r.assistant_id,
        "created_at": _iso(r.created_at),
        "updated_at": _iso(r.updated_at),
        "status": public_status(r),
        "metadata": r.metadata,
        "kwargs": r.kwargs,
        "multitask_strategy": r.multitask_strategy,
        "cancel_reason": r.cancel_reason,
        # nbruns additions: when it really started and ended, and who replaced it
        "started_at": _iso(r.started_at),
        "ended_at": _iso(r.ended_at),
        "superseded_by": r.superseded_by,
    }


def _checkpoint_json(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    c = config.get("configurable", {})
    out = {
        "thread_id": c.get("thread_id"),
        "checkpoint_ns": c.get("checkpoint_ns", ""),
        "checkpoint_id": c.get("checkpoint_id"),
    }
    if c.get("checkpoint_map"):
        out["checkpoint_map"] = c["checkpoint_map"]
    return out


def _task_json(task: Any) -> dict[str, Any]:
    state = task.state
    if state is not None and hasattr(state, "values"):
        state = state_json(state)
    elif state is not None:
        state = {"checkpoint": _checkpoint_json(state)}
    return {
        "id": task.id,
        "name": task.name,
        "path": list(task.path),
        "error": None if task.error is None else f"{type(task.error).__name__}({task.error})",
        "interrupts": list(task.interrupts),
        "checkpoint": None if state is None else state.get("checkpoint"),
        "state": state,
        "result": task.result,
    }


def state_json(snapshot: Any) -> dict[str, Any]:
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
        "interrupts": list(snapshot.interrupts),
        "checkpoint_id": checkpoint and checkpoint["checkpoint_id"],
        "parent_checkpoint_id": parent and parent["checkpoint_id"],
    }


def empty_state_json() -> dict[str, Any]:
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


def timeline_json(e: TimelineEvent) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": _iso(e.at),
        "thread_id": e.thread_id,
        "run_id": e.run_id,
        "kind": e.kind,
        **{k: v for k, v in e.detail.items() if v is not None},
    }
