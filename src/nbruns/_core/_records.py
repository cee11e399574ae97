"""Frozen records kept by the store. Changing one means replacing it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ._types import CancelAction, CancelSource, NbrunsStrategy

__all__ = [
    "AssistantRecord",
    "Head",
    "RunPhase",
    "RunRecord",
    "ThreadRecord",
    "TimelineEvent",
]

RunPhase = Literal[
    "pending",
    "running",
    "stopping",
    "merged",
    "success",
    "error",
    "timeout",
    "interrupted",
    "rolled_back",
]
"""A run's lifecycle position, one step finer than the public `RunStatus`.

- stopping: cancel was requested and its task has not exited yet. It reads as
  `interrupted` (or as deleted, for a rollback) but still holds its thread, so a
  successor never runs beside it.
- merged: its input went into another run, its carrier (`merged_into`: steer, collect,
  debounce). It never executes on its own: it reads as its carrier does, and ends
  when its carrier ends, as its carrier ends.
- rolled_back: deleted by a rollback; once its task exits the store keeps only its
  final record, apart from the runs (`MemoryStore.rolled_back_runs`), for nbruns's
  own listing: every SDK endpoint answers 404 for it.
"""


@dataclass(frozen=True, slots=True)
class Head:
    """What the thread's last checkpoint says, cached so status needs no checkpointer."""

    # the values as JSON bytes (kept encoded: cheap to send, invisible to the GC);
    # None until the thread has a checkpoint, as the reference shows
    values: bytes | None = None
    next: tuple[str, ...] = ()
    interrupts: Mapping[str, Any] = field(default_factory=dict)
    checkpoint_id: str | None = None


@dataclass(frozen=True, slots=True)
class AssistantRecord:
    assistant_id: str
    graph_id: str
    created_at: float
    updated_at: float
    config: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    description: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class ThreadRecord:
    thread_id: str
    created_at: float
    updated_at: float
    state_updated_at: float
    metadata: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    head: Head = field(default_factory=Head)
    graph_id: str | None = None
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class RunRecord:
    run_id: str
    thread_id: str
    assistant_id: str
    graph_id: str
    seq: int
    created_at: float
    updated_at: float
    scheduled_at: float
    phase: RunPhase
    multitask_strategy: NbrunsStrategy
    metadata: Mapping[str, Any] = field(default_factory=dict)
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    ended_at: float | None = None
    ended_seq: int | None = None
    cancel_action: CancelAction | None = None
    cancel_reason: str | None = None  # in words, for people
    cancel_source: CancelSource | None = None  # the same, for programs
    superseded_by: str | None = None
    error: Mapping[str, Any] | None = None  # what the SDK reads: {"error", "message"}
    result: bytes | None = None  # join's body, as JSON bytes
    # an `error` or `timeout` run's account for people (GET /nbruns/runs and the log):
    # {"error", "message", "traceback"}; the SDK never sees it
    failure: Mapping[str, str] | None = None
    # a steer run still pending: the running run it waits to be delivered into
    steer_into: str | None = None
    # a merged run: the run that carries its input (steer, collect, debounce)
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One thing that happened on a thread, for views: see `TIMELINE_KINDS`."""

    seq: int
    at: float
    thread_id: str
    run_id: str | None
    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)
