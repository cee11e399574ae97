"""Driving a graph's stream for one run: what the run keeps, and what readers see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langgraph.runtime import RunControl
from langgraph.types import Command

from .._core._records import RunRecord
from ._events import EVENTS, astream_with_events
from ._holds import StepWatch
from ._runstream import RunStream

__all__ = ["FROM_RUN", "Progress", "drive", "error_body"]

FROM_RUN: Any = object()
"""`drive`'s default input: the run's own (its input, or its command)."""


@dataclass(slots=True)
class Progress:
    """What a run has produced so far; the executor keeps it, so it outlives a cancel."""

    values: Any = None  # the last values chunk (never an interrupt's)
    interrupts: list[Any] = field(default_factory=list)  # each one once, in order
    paused: bool = False  # a breakpoint or interrupt(): the thread has next tasks
    timed_out: bool = False  # the server's run timeout cut it short


async def drive(
    graph: Any,
    run: RunRecord,
    stream: RunStream | None,
    *,
    progress: Progress,
    control: RunControl,
    on_step: Callable[[list[str]], None],
    time_limit: float | None,
    steps: StepWatch | None = None,
    graph_input: Any = FROM_RUN,
) -> Progress:
    """Execute the run's graph; publish events; return the last values and interrupts.

    A drain requested on `control` ends the graph at its next step boundary with
    `langgraph.errors.GraphDrained`, which this lets through. `steps` sees the run's
    step boundaries (and keeps it at a hold). A `graph_input` given drives the run again
    from its thread's latest checkpoint (steer: `Command(update=...)`).
    """
    kwargs = run.kwargs
    # its own stream modes, and those of the runs merged into it (their streams follow)
    requested = kwargs["stream_mode"] if stream is None else stream.modes(kwargs["stream_mode"])
    modes = _graph_modes(requested)
    subgraphs = bool(kwargs.get("subgraphs"))
    config = kwargs["config"]
    if graph_input is FROM_RUN:
        graph_input = kwargs.get("input")
        if kwargs.get("command"):
            graph_input = Command(**kwargs["command"])
    elif "checkpoint_id" in config.get("configurable", {}):
        # driven again: on from where it got to, not from where it started
        configurable = {k: v for k, v in config["configurable"].items() if k != "checkpoint_id"}
        config = {**config, "configurable": configurable}
    extra: dict[str, Any] = {}
    if kwargs.get("context") is not None:
        extra["context"] = kwargs["context"]
    if kwargs.get("durability") is not None:
        extra["durability"] = kwargs["durability"]
    extra.update(
        stream_mode=modes,
        subgraphs=subgraphs,
        interrupt_before=kwargs.get("interrupt_before"),
        interrupt_after=kwargs.get("interrupt_after"),
        control=control,
    )
    parts: Any  # an async generator either way
    if EVENTS in kwargs["stream_mode"]:
        parts = astream_with_events(
            graph, graph_input, config, run_id=run.run_id, stream=stream, **extra
        )
    else:
        parts = graph.astream(graph_input, config, **extra)
    deadline = asyncio.timeout(time_limit)
    try:
        # aclosing: leaving early must finish the graph's own cleanup (and its checkpoint
        # writes) now, not whenever the generator happens to be garbage-collected
        async with deadline, contextlib.aclosing(parts):
            await _consume(parts, progress, stream, requested, subgraphs, on_step, steps)
            if steps is not None:
                await steps.ended()
    finally:
        progress.timed_out = deadline.expired()
    return progress


async def _consume(
    parts: Any,
    progress: Progress,
    stream: RunStream | None,
    requested: list[str],
    subgraphs: bool,
    on_step: Callable[[list[str]], None],
    steps: StepWatch | None,
) -> None:
    seen_interrupts: set[str] = set()
    message_ids: dict[str, Any] = {}
    async for part in parts:
        ns, mode, chunk = part if subgraphs else ((), *part)
        if not ns:
            if mode == "values":
                if not (isinstance(chunk, dict) and "__interrupt__" in chunk):
                    progress.values = chunk
            elif mode == "updates" and isinstance(chunk, dict):
                # interrupts come in both values and updates chunks: take them once
                if "__interrupt__" in chunk:
                    progress.paused = True  # a breakpoint or interrupt(): next is set
                for item in chunk.get("__interrupt__", ()):
                    key = getattr(item, "id", None) or repr(item)
                    if key not in seen_interrupts:
                        seen_interrupts.add(key)
                        progress.interrupts.append(item)
                nodes = [n for n in chunk if n != "__interrupt__"]
                if nodes:
                    on_step(nodes)
            elif mode == "tasks" and steps is not None:
                await steps.task_event(chunk)
        if stream is not None and stream.wanted:
            _publish(stream, requested, ns, mode, chunk, message_ids)


_MODE_FOR_GRAPH = {"messages-tuple": "messages"}


def _graph_modes(requested: list[str]) -> list[str]:
    # values feeds join's body, updates the timeline and tasks the step boundaries
    # (holds), whatever the client asked
    modes = {"values", "updates", "tasks"}
    # "events" is no graph mode: astream_events produces those (see _events.py)
    modes.update(_MODE_FOR_GRAPH.get(m, m) for m in requested if m != EVENTS)
    return sorted(modes)


def _publish(
    stream: RunStream,
    requested: list[str],
    ns: tuple[str, ...],
    mode: str,
    chunk: Any,
    partials: dict[str, Any],
) -> None:
    suffix = "|" + "|".join(ns) if ns else ""
    if mode == "messages":
        message, metadata = chunk
        if "messages-tuple" in requested:
            stream.publish("messages-tuple", "messages" + suffix, [message, metadata])
        if "messages" in requested:
            msg_id = getattr(message, "id", None) or ""
            if msg_id not in partials:
                stream.publish(
                    "messages", "messages/metadata" + suffix, {msg_id: {"metadata": metadata}}
                )
            if type(message).__name__.endswith("Chunk"):
                # partial events carry the message accumulated so far, not the delta
                so_far = partials.get(msg_id)
                partials[msg_id] = message if so_far is None else so_far + message
                stream.publish("messages", "messages/partial" + suffix, [partials[msg_id]])
            else:
                partials[msg_id] = message
                stream.publish("messages", "messages/complete" + suffix, [message])
        return
    if mode in requested:
        stream.publish(mode, mode + suffix, chunk)


def error_body(exc: BaseException) -> dict[str, str]:
    """What the SDK reads of a failed run (join, wait and stream bodies), as the reference."""
    return {"error": type(exc).__name__, "message": str(exc)}
