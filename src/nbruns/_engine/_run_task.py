"""What the executor holds for a started run: its task, and the task's state.

A run's record has its own lifecycle (`_core/_lifecycle.py`, what clients see);
this is the executor's side of it, from the moment the run's task is created to
the moment its thread is free again (`TaskState` says what each state means):

    scheduled   ──▶ driving | stopping | cleaning_up
    driving     ──▶ stopping | cleaning_up
    stopping    ──▶ cleaning_up
    cleaning_up ──▶ released

No other transitions happen: a released task never changes again.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from langgraph.runtime import RunControl

from .._core._errors import InvalidTransition
from .._persistence._checkpoints import Mark
from ._drive import Progress

__all__ = ["TRANSITIONS", "RunTask", "TaskState"]


class TaskState(enum.Enum):
    """Where a run's task is.

    - scheduled: the task exists but its body has not begun. Cancelling it now would
      skip nbruns's cleanup, so a stop is only noted; the body acts on it first thing.
    - driving: the body has begun: marking where the run starts, driving its graph.
    - stopping: an interrupt or rollback was asked for. The graph drains at its next
      step boundary, and a begun task is cancelled, again and again, until it ends.
    - cleaning_up: the graph is done, by itself or stopped, and nbruns records how the
      run ended: refreshing the thread's head and, for a stopped run, waiting for
      blocking nodes and deleting or trimming checkpoints. Nothing may cancel it: a
      stop that lands now is only noted, and a run that ended by itself then ends as
      the stop asked. Only the event loop's teardown cancels a task cleaning up.
    - released: the run's record is final and its thread is free for the next run.
    """

    SCHEDULED = "scheduled"
    DRIVING = "driving"
    STOPPING = "stopping"
    CLEANING_UP = "cleaning_up"
    RELEASED = "released"


TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    TaskState.SCHEDULED: frozenset(
        # cleaning_up: the loop cancelled the task before its body began
        {TaskState.DRIVING, TaskState.STOPPING, TaskState.CLEANING_UP}
    ),
    TaskState.DRIVING: frozenset(
        # cleaning_up: its graph ended by itself, or it was cancelled from outside (loop
        # teardown) or ended by a BaseException: every end is recorded while cleaning up
        {TaskState.STOPPING, TaskState.CLEANING_UP}
    ),
    TaskState.STOPPING: frozenset({TaskState.CLEANING_UP}),
    TaskState.CLEANING_UP: frozenset({TaskState.RELEASED}),
    TaskState.RELEASED: frozenset(),
}

_WHY_NOT: Mapping[TaskState, str] = {
    TaskState.SCHEDULED: "a scheduled task can only begin, be stopped or be cleaned up",
    TaskState.DRIVING: "a driving task can only stop or be cleaned up",
    TaskState.STOPPING: "a stopping task can only be cleaned up",
    TaskState.CLEANING_UP: "a task being cleaned up can only be released",
    TaskState.RELEASED: "it was already released; a released task never changes",
}


@dataclass(slots=True)
class RunTask:
    """A started run's task, its state, and the facts its cleanup needs."""

    run_id: str
    thread_id: str
    state: TaskState = TaskState.SCHEDULED
    task: asyncio.Task[None] | None = None
    # where the run started (taken when its body begins, before any step)
    mark: Mark = field(default_factory=lambda: Mark(None, frozenset()))
    # what the run produced so far: join's last values, even after a cancel
    progress: Progress = field(default_factory=Progress)
    # LangGraph's cooperative stop: the graph drains at its next step boundary
    control: RunControl = field(default_factory=RunControl)
    # when the stop was asked for: an interrupt keeps only the steps finished before
    stop_requested_at: float | None = None

    def advance(self, to: TaskState) -> None:
        """Move to state `to`, or raise `InvalidTransition`."""
        if to not in TRANSITIONS[self.state]:
            raise InvalidTransition(
                f"the task of run {self.run_id} cannot move from {self.state.value} to "
                f"{to.value}: {_WHY_NOT[self.state]}"
            )
        self.state = to

    @property
    def stopping(self) -> bool:
        """Whether a stop was asked for and the task is still to act on it."""
        return self.state is TaskState.STOPPING

    def request_stop(self, reason: str, *, at: float) -> bool:
        """Note a stop; True when the task must now be cancelled (its body has begun).

        Only the first request counts. A scheduled task is left alone (its body sees
        the stop first thing), and so is one cleaning up: its cleanup reads the facts.
        """
        if self.stop_requested_at is not None:
            return False
        self.stop_requested_at = at
        self.control.request_drain(reason)
        if self.state not in (TaskState.SCHEDULED, TaskState.DRIVING):
            return False
        begun = self.state is TaskState.DRIVING
        self.advance(TaskState.STOPPING)
        return begun

    def __repr__(self) -> str:
        return f"<RunTask {self.run_id} {self.state.value}>"
