"""Steer: where a running run takes in the runs steered into it.

A steer run S waits (pending, `steer_into=R`) for R's next *safe* step boundary: the
step in flight has finished, the next has not begun, and the thread's messages end in
no AI tool call still waiting for its result (a chat model would refuse that
sequence). There `SteerNow` leaves R's stream (the finished steps are checkpointed),
and R's task drives the graph again with S's input as `Command(update=...)`, so R's
next node sees it, applied through the graph's reducers as an input would be.

A run held at a boundary (`_holds.py`) takes the steers that came while it was held at
that boundary, once released, if it is safe: `StepWatch` waits at the hold first, then
asks `steer_hook`. The run's end is no steer boundary: a steer still waiting then runs
on its own, queued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .._core._holds import Boundary
from .._core._store import MemoryStore
from ._drive import Progress

__all__ = ["SteerNow", "combine_inputs", "is_safe", "steer_hook", "steering_into"]


class SteerNow(Exception):  # a signal, not an error
    """Raised at a safe step boundary of a run that has steer runs waiting for it."""

    def __init__(self, boundary: Boundary) -> None:
        super().__init__(f"steer at {boundary}")
        self.boundary = boundary


def _field(message: Any, key: str) -> Any:
    if isinstance(message, Mapping):
        return message.get(key)
    return getattr(message, key, None)


def _kind(message: Any) -> str | None:
    kind = _field(message, "type") or _field(message, "role")
    return kind if isinstance(kind, str) else None


def is_safe(values: Any) -> bool:
    """Whether a message could be added now: every AI tool call has its ToolMessage."""
    messages = values.get("messages") if isinstance(values, Mapping) else None
    if not isinstance(messages, Sequence) or isinstance(messages, str | bytes):
        return True
    asked: set[str] = set()
    answered: set[str] = set()
    for message in messages:
        kind = _kind(message)
        if kind in ("ai", "assistant"):
            for call in _field(message, "tool_calls") or ():
                call_id = _field(call, "id")
                if isinstance(call_id, str):
                    asked.add(call_id)
        elif kind == "tool":
            call_id = _field(message, "tool_call_id")
            if isinstance(call_id, str):
                answered.add(call_id)
    return asked <= answered


def _is_message_list(key: str, value: Any) -> bool:
    if not isinstance(value, list):
        return False
    return key == "messages" or (bool(value) and all(_kind(m) for m in value))


def combine_inputs(inputs: Sequence[Any]) -> Any:
    """Inputs in arrival order as one: message lists concatenated, other keys last-wins;
    if any input is not an object, the last one."""
    if not inputs:
        return None
    if not all(isinstance(i, Mapping) for i in inputs):
        return inputs[-1]
    combined: dict[str, Any] = {}
    for one in inputs:
        for key, value in one.items():
            held = combined.get(key)
            if _is_message_list(key, value) and isinstance(held, list):
                combined[key] = [*held, *value]
            else:
                combined[key] = list(value) if isinstance(value, list) else value
    return combined


def steering_into(store: MemoryStore, thread_id: str, run_id: str) -> list[str]:
    """The pending runs waiting to be steered into `run_id`, oldest first."""
    return [
        r.run_id
        for r in store.active_runs(thread_id)
        if r.phase == "pending" and r.steer_into == run_id
    ]


def steer_hook(
    store: MemoryStore, thread_id: str, run_id: str, progress: Progress
) -> Callable[[Boundary], Awaitable[None]]:
    """What a run's `StepWatch` awaits at each step boundary: raise `SteerNow` when steer
    runs wait for it and the boundary is safe. Costs one index walk otherwise."""

    async def at_boundary(boundary: Boundary) -> None:
        if steering_into(store, thread_id, run_id) and is_safe(progress.values):
            raise SteerNow(boundary)

    return at_boundary
