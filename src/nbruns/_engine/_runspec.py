"""A validated run request and the LangGraph config a run is executed with."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._core._records import AssistantRecord, ThreadRecord
from .._core._types import IfNotExists, NbrunsStrategy, OnCompletion

__all__ = ["RunSpec", "assistant_id_for_graph", "is_uuid", "run_kwargs", "thread_config"]

# Wherever an assistant id is expected a graph id works too, through the system
# assistant each graph gets; this namespace makes those ids stable across restarts.
_GRAPH_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def assistant_id_for_graph(graph_id: str) -> str:
    return str(uuid.uuid5(_GRAPH_NAMESPACE, graph_id))


@dataclass(frozen=True, slots=True)
class RunSpec:
    """A validated request for a run (the API layer builds it)."""

    assistant_id: str
    input: Any = None
    command: Mapping[str, Any] | None = None
    stream_mode: tuple[str, ...] = ("values",)
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    context: Mapping[str, Any] | None = None
    checkpoint_id: str | None = None
    interrupt_before: Any = None
    interrupt_after: Any = None
    # None: not given; the run's policy, the choose hook or "enqueue" decides (_policies)
    multitask_strategy: NbrunsStrategy | None = None
    if_not_exists: IfNotExists = "reject"
    on_completion: OnCompletion = "delete"
    after_seconds: float = 0.0
    durability: str | None = None
    feedback_keys: Any = None


def thread_config(
    thread_id: str, checkpoint_id: str | None = None, checkpoint_ns: str = ""
) -> dict[str, Any]:
    """The config that reads a thread's checkpoints (a subgraph's, given its namespace)."""
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": checkpoint_ns}
    if checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def run_kwargs(
    run_id: str, spec: RunSpec, assistant: AssistantRecord, thread: ThreadRecord
) -> dict[str, Any]:
    base = dict(assistant.config)
    user = dict(spec.config)
    configurable = {
        **base.get("configurable", {}),
        **user.get("configurable", {}),
        "thread_id": thread.thread_id,
        "checkpoint_ns": "",
        "run_id": run_id,  # nodes read it here on the reference
        "graph_id": assistant.graph_id,
        "assistant_id": assistant.assistant_id,
    }
    if spec.checkpoint_id:
        configurable["checkpoint_id"] = spec.checkpoint_id
    # checkpoints inherit config metadata: run_id in it is what rollback deletes by
    metadata = {
        **base.get("metadata", {}),
        **user.get("metadata", {}),
        **spec.metadata,
        "run_id": run_id,
        "thread_id": thread.thread_id,
        "graph_id": assistant.graph_id,
        "assistant_id": assistant.assistant_id,
    }
    config = {**base, **user, "configurable": configurable, "metadata": metadata}
    context = spec.context if spec.context is not None else (assistant.context or None)
    return {
        "input": spec.input,
        "command": dict(spec.command) if spec.command else None,
        "config": config,
        "context": context,
        "stream_mode": list(spec.stream_mode),
        "interrupt_before": spec.interrupt_before,
        "interrupt_after": spec.interrupt_after,
        "webhook": None,
        "feedback_keys": spec.feedback_keys,
        "temporary": thread.temporary,
        "on_completion": spec.on_completion,
        "subgraphs": spec.stream_subgraphs,
        "resumable": spec.stream_resumable,
        "checkpoint_id": spec.checkpoint_id,
        "durability": spec.durability,
    }
