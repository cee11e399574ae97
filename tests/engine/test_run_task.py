"""`RunTask`: the executor's per-run state, one transition table, and stop requests."""

from __future__ import annotations

import itertools
import re

import pytest

from nbruns._core._errors import InvalidTransition
from nbruns._engine import _run_task
from nbruns._engine._run_task import TRANSITIONS, RunTask, TaskState

S = TaskState
LEGAL = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets, key=list(S).index)]
ILLEGAL = [(a, b) for a, b in itertools.product(S, S) if b not in TRANSITIONS[a]]
WHY_NOT = {
    S.SCHEDULED: "a scheduled task can only begin, be stopped or be cleaned up",
    S.DRIVING: "a driving task can only stop or be cleaned up",
    S.STOPPING: "a stopping task can only be cleaned up",
    S.CLEANING_UP: "a task being cleaned up can only be released",
    S.RELEASED: "it was already released; a released task never changes",
}


def task_in(state: TaskState) -> RunTask:
    return RunTask("r1", "t1", state=state)


def test_the_table_is_the_documented_one() -> None:
    assert {a: set(b) for a, b in TRANSITIONS.items()} == {
        S.SCHEDULED: {S.DRIVING, S.STOPPING, S.CLEANING_UP},
        S.DRIVING: {S.STOPPING, S.CLEANING_UP},
        S.STOPPING: {S.CLEANING_UP},
        S.CLEANING_UP: {S.RELEASED},
        S.RELEASED: set(),
    }
    # and the module docstring draws the same table, one line per state that moves
    drawn = {
        S(line.split("──▶")[0].strip()): {S(t.strip()) for t in line.split("──▶")[1].split("|")}
        for line in (_run_task.__doc__ or "").splitlines()
        if "──▶" in line
    }
    assert drawn == {a: set(b) for a, b in TRANSITIONS.items() if b}


@pytest.mark.parametrize(("src", "dst"), LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_every_legal_move(src: TaskState, dst: TaskState) -> None:
    task = task_in(src)
    task.advance(dst)
    assert task.state is dst


@pytest.mark.parametrize(("src", "dst"), ILLEGAL, ids=[f"{a.value}->{b.value}" for a, b in ILLEGAL])
def test_every_illegal_move_raises_and_says_why(src: TaskState, dst: TaskState) -> None:
    task = task_in(src)
    message = f"the task of run r1 cannot move from {src.value} to {dst.value}: {WHY_NOT[src]}"
    with pytest.raises(InvalidTransition, match=f"^{re.escape(message)}$"):
        task.advance(dst)
    assert task.state is src  # unchanged


def test_a_stop_before_the_body_begins_is_only_noted() -> None:
    task = task_in(S.SCHEDULED)
    assert task.request_stop("superseded", at=5.0) is False  # nothing to cancel yet
    assert task.state is S.STOPPING and task.stopping
    assert task.stop_requested_at == 5.0
    assert task.control.drain_requested and task.control.drain_reason == "superseded"


def test_a_stop_of_a_begun_task_asks_for_a_cancel_once() -> None:
    task = task_in(S.DRIVING)
    assert task.request_stop("first", at=5.0) is True
    assert task.state is S.STOPPING
    assert task.request_stop("second", at=6.0) is False  # only the first one counts
    assert task.stop_requested_at == 5.0 and task.control.drain_reason == "first"


def test_a_stop_during_cleanup_is_noted_but_cancels_nothing() -> None:
    task = task_in(S.CLEANING_UP)
    assert task.request_stop("late", at=7.0) is False
    assert task.state is S.CLEANING_UP  # its cleanup reads the facts instead
    assert task.stop_requested_at == 7.0


def test_repr_names_the_state() -> None:
    assert repr(task_in(S.CLEANING_UP)) == "<RunTask r1 cleaning_up>"
