"""A run's lifecycle as one transition table, and the thread status derived from it.

    pending ──▶ running ──▶ success | error | timeout
       │           │
       │           └──▶ stopping ──▶ interrupted | rolled_back
       ├──▶ interrupted | rolled_back        (cancelled before it started)
       ├──▶ timeout                          (waited past its policy's pending_ttl_s)
       └──▶ merged ──▶ success | error | timeout | interrupted | rolled_back
                       (its input went into a carrier run: it ends as the carrier ends)

No other transitions happen: a finished run never changes again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from ._errors import InvalidTransition
from ._records import Head, RunPhase, RunRecord
from ._types import RunStatus, ThreadStatus

__all__ = [
    "ACTIVE",
    "HOLDING",
    "INFLIGHT",
    "TRANSITIONS",
    "public_status",
    "thread_status",
    "transition",
]

TRANSITIONS: Mapping[RunPhase, frozenset[RunPhase]] = {
    "pending": frozenset({"running", "interrupted", "rolled_back", "timeout", "merged"}),
    "running": frozenset({"success", "error", "timeout", "stopping"}),
    "stopping": frozenset({"interrupted", "rolled_back"}),
    "merged": frozenset({"success", "error", "timeout", "interrupted", "rolled_back"}),
    "success": frozenset(),
    "error": frozenset(),
    "timeout": frozenset(),
    "interrupted": frozenset(),
    "rolled_back": frozenset(),
}

INFLIGHT: frozenset[RunPhase] = frozenset({"pending", "running"})
"""Runs a multitask strategy acts on."""
ACTIVE: frozenset[RunPhase] = INFLIGHT | {"stopping", "merged"}
"""Runs that still hold (or wait for) their thread, or ride on a run that does."""
HOLDING: frozenset[RunPhase] = frozenset({"running", "stopping"})
"""Runs whose task has the thread: the next run starts only once none is left."""

_WHY_NOT: Mapping[RunPhase, str] = {
    "pending": "a pending run can only start, be cancelled, time out or be merged",
    "running": "a running run can only finish or start stopping",
    "stopping": "a stopping run can only end as interrupted or rolled back",
    "merged": "a merged run can only end as its carrier run ends",
    "success": "it already finished with success; finished runs never change",
    "error": "it already finished with error; finished runs never change",
    "timeout": "it already finished with timeout; finished runs never change",
    "interrupted": "it was already interrupted; finished runs never change",
    "rolled_back": "it was rolled back and deleted",
}

_PUBLIC: Mapping[RunPhase, RunStatus | None] = {
    "pending": "pending",
    "running": "running",
    "stopping": "interrupted",
    "merged": "running",
    "success": "success",
    "error": "error",
    "timeout": "timeout",
    "interrupted": "interrupted",
    "rolled_back": None,
}


def transition(run: RunRecord, to: RunPhase, *, at: float, **changes: Any) -> RunRecord:
    """Return `run` moved to phase `to`, or raise `InvalidTransition`."""
    if to not in TRANSITIONS[run.phase]:
        raise InvalidTransition(
            f"run {run.run_id} cannot move from {run.phase} to {to}: {_WHY_NOT[run.phase]}"
        )
    return dataclasses.replace(run, phase=to, updated_at=at, **changes)


def public_status(run: RunRecord) -> RunStatus | None:
    """The status a client sees; None for a run that a rollback deleted."""
    status = _PUBLIC[run.phase]
    # a stopping rollback is already gone as far as clients are concerned
    if run.phase == "stopping" and run.cancel_action == "rollback":
        return None
    return status


def thread_status(
    runs: Iterable[RunRecord], head: Head, *, state_updated_at: float | None = None
) -> ThreadStatus:
    """Derive a thread's status from its runs and its last checkpoint.

    Busy while any run holds the thread, including one still stopping: a
    successor would wait for it. Otherwise the last run to finish decides
    `error`, unless the state changed after it ended (`state_updated_at`: an
    update, a rollback of a later run), as on the reference; then a last
    checkpoint with tasks left to do reads `interrupted`.
    """
    last_finished: RunRecord | None = None
    for run in runs:
        if run.phase in ACTIVE:
            return "busy"
        if run.ended_seq is not None and (
            last_finished is None or run.ended_seq > (last_finished.ended_seq or 0)
        ):
            last_finished = run
    if (
        last_finished is not None
        and last_finished.phase == "error"
        and (
            state_updated_at is None
            or last_finished.ended_at is None
            or last_finished.ended_at >= state_updated_at
        )
    ):
        return "error"
    if head.next:
        return "interrupted"
    return "idle"
