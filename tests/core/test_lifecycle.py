"""The run lifecycle table, public statuses and derived thread status (pure, no loop)."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from nbruns._core._errors import InvalidTransition
from nbruns._core._lifecycle import (
    ACTIVE,
    HOLDING,
    INFLIGHT,
    TRANSITIONS,
    public_status,
    thread_status,
    transition,
)
from nbruns._core._records import Head, RunPhase, RunRecord

PHASES: tuple[RunPhase, ...] = get_args(RunPhase)

EXPECTED_TABLE = {
    "pending": {"running", "interrupted", "rolled_back", "timeout", "merged"},
    "running": {"success", "error", "timeout", "stopping"},
    "stopping": {"interrupted", "rolled_back"},
    "merged": {"success", "error", "timeout", "interrupted", "rolled_back"},
    "success": set(),
    "error": set(),
    "timeout": set(),
    "interrupted": set(),
    "rolled_back": set(),
}


def run(phase: RunPhase = "pending", run_id: str = "r1", **extra: Any) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        thread_id="t1",
        assistant_id="a1",
        graph_id="g",
        seq=1,
        created_at=100.0,
        updated_at=100.0,
        scheduled_at=100.0,
        phase=phase,
        multitask_strategy="enqueue",
        **extra,
    )


ALLOWED = [(src, dst) for src in PHASES for dst in sorted(TRANSITIONS[src])]
FORBIDDEN = [(src, dst) for src in PHASES for dst in PHASES if dst not in TRANSITIONS[src]]


def test_table_is_the_documented_one() -> None:
    assert set(TRANSITIONS) == set(PHASES)
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED_TABLE
    assert INFLIGHT == {"pending", "running"}
    assert ACTIVE == {"pending", "running", "stopping", "merged"}
    assert HOLDING == {"running", "stopping"}


@pytest.mark.parametrize(("src", "dst"), ALLOWED, ids=[f"{s}->{d}" for s, d in ALLOWED])
def test_allowed_transition(src: RunPhase, dst: RunPhase) -> None:
    before = run(src)
    after = transition(before, dst, at=123.5, cancel_reason="why")
    assert after.phase == dst
    assert after.updated_at == 123.5
    assert after.cancel_reason == "why"
    assert after.run_id == before.run_id
    assert before.phase == src  # records are immutable: the old one is untouched


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN, ids=[f"{s}->{d}" for s, d in FORBIDDEN])
def test_forbidden_transition_raises(src: RunPhase, dst: RunPhase) -> None:
    with pytest.raises(InvalidTransition) as info:
        transition(run(src, run_id="run-xyz"), dst, at=1.0)
    message = str(info.value)
    assert f"from {src} to {dst}" in message
    assert "run-xyz" in message
    assert info.value.detail == message


def test_finished_runs_never_change() -> None:
    for phase in ("success", "error", "timeout", "interrupted", "rolled_back"):
        with pytest.raises(InvalidTransition, match=r"never change|deleted"):
            transition(run(phase), "running", at=1.0)


@pytest.mark.parametrize(
    ("phase", "extra", "expected"),
    [
        pytest.param("pending", {}, "pending", id="pending"),
        pytest.param("running", {}, "running", id="running"),
        pytest.param(
            "stopping", {"cancel_action": "interrupt"}, "interrupted", id="stopping-interrupt"
        ),
        pytest.param("stopping", {"cancel_action": "rollback"}, None, id="stopping-rollback"),
        pytest.param("success", {}, "success", id="success"),
        pytest.param("error", {}, "error", id="error"),
        pytest.param("timeout", {}, "timeout", id="timeout"),
        pytest.param("interrupted", {}, "interrupted", id="interrupted"),
        pytest.param("rolled_back", {"cancel_action": "rollback"}, None, id="rolled_back"),
    ],
)
def test_public_status(phase: RunPhase, extra: dict[str, Any], expected: str | None) -> None:
    assert public_status(run(phase, **extra)) == expected


def finished(phase: RunPhase, ended_seq: int, run_id: str) -> RunRecord:
    return run(phase, run_id=run_id, ended_seq=ended_seq, ended_at=float(ended_seq))


HEAD_IDLE = Head(values=b'{"x": 1}', next=())
HEAD_NEXT = Head(values=b'{"x": 1}', next=("b",))


@pytest.mark.parametrize(
    ("runs", "head", "expected"),
    [
        pytest.param([], Head(), "idle", id="no-runs-idle"),
        pytest.param([], HEAD_NEXT, "interrupted", id="no-runs-but-next"),
        pytest.param([run("pending")], HEAD_IDLE, "busy", id="pending-busy"),
        pytest.param([run("running")], HEAD_IDLE, "busy", id="running-busy"),
        pytest.param(
            [finished("success", 5, "old"), run("stopping", run_id="s", cancel_action="interrupt")],
            HEAD_IDLE,
            "busy",
            id="stopping-holds-thread",
        ),
        pytest.param(
            [run("stopping", run_id="s", cancel_action="rollback")],
            HEAD_IDLE,
            "busy",
            id="stopping-rollback-holds-thread",
        ),
        pytest.param(
            [finished("error", 3, "e"), run("running", run_id="r")],
            HEAD_IDLE,
            "busy",
            id="busy-beats-error",
        ),
        pytest.param([finished("error", 3, "e")], HEAD_IDLE, "error", id="error"),
        pytest.param([finished("error", 3, "e")], HEAD_NEXT, "error", id="error-beats-next"),
        pytest.param(
            [finished("error", 3, "e"), finished("success", 4, "ok")],
            HEAD_IDLE,
            "idle",
            id="later-success-clears-error",
        ),
        pytest.param(
            # creation order differs from finishing order: ended_seq decides
            [finished("success", 4, "ok"), finished("error", 3, "e")],
            HEAD_IDLE,
            "idle",
            id="later-success-clears-error-any-order",
        ),
        pytest.param(
            [finished("success", 3, "ok"), finished("error", 4, "e")],
            HEAD_IDLE,
            "error",
            id="later-error-wins",
        ),
        pytest.param(
            [finished("error", 3, "e"), finished("interrupted", 4, "i")],
            HEAD_NEXT,
            "interrupted",
            id="later-cancel-clears-error",
        ),
        pytest.param([finished("success", 1, "ok")], HEAD_NEXT, "interrupted", id="breakpoint"),
        pytest.param(
            [finished("interrupted", 1, "i")], HEAD_IDLE, "idle", id="interrupted-run-idle"
        ),
        pytest.param([finished("success", 1, "ok")], HEAD_IDLE, "idle", id="success-idle"),
    ],
)
def test_thread_status(runs: list[RunRecord], head: Head, expected: str) -> None:
    assert thread_status(runs, head) == expected
