"""`decide`: the eight multitask strategies and the queue cap as pure decisions."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns._core._policy import Policy
from nbruns._core._records import RunPhase, RunRecord
from nbruns._core._strategies import (
    REJECT_DETAIL,
    Enqueue,
    Gather,
    Reject,
    Steer,
    Supersede,
    decide,
)

STRATEGIES = ("reject", "interrupt", "rollback", "enqueue")


def run(run_id: str, phase: RunPhase, seq: int) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        thread_id="t1",
        assistant_id="a1",
        graph_id="g",
        seq=seq,
        created_at=float(seq),
        updated_at=float(seq),
        scheduled_at=float(seq),
        phase=phase,
        multitask_strategy="enqueue",
    )


SITUATIONS = {
    "nothing": [],
    "pending-only": [run("p1", "pending", 1)],
    "running+pending": [run("r1", "running", 1), run("p2", "pending", 2), run("p3", "pending", 3)],
}


def expected(strategy: str, situation: str) -> Any:
    ids = tuple(r.run_id for r in SITUATIONS[situation])
    if not ids:
        return Enqueue(behind=())
    if strategy == "reject":
        return Reject(REJECT_DETAIL)
    if strategy == "enqueue":
        return Enqueue(behind=ids)
    return Supersede(
        action=strategy,  # type: ignore[arg-type]
        run_ids=ids,
        reason=f"superseded by run NEW (multitask_strategy={strategy})",
    )


@pytest.mark.parametrize("situation", list(SITUATIONS))
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_decide(strategy: str, situation: str) -> None:
    decision = decide(strategy, SITUATIONS[situation], "NEW")  # type: ignore[arg-type]
    assert decision == expected(strategy, situation)


def test_reject_detail_is_the_reference_text() -> None:
    assert REJECT_DETAIL == (
        "Thread is already running a task. Wait for it to finish or choose a different "
        "multitask strategy."
    )


def test_decide_keeps_creation_order_and_does_not_mutate() -> None:
    inflight = list(SITUATIONS["running+pending"])
    before = list(inflight)
    decision = decide("enqueue", inflight, "NEW")
    assert decision == Enqueue(behind=("r1", "p2", "p3"))
    assert inflight == before


# -- nbruns's four -------------------------------------------------------------------


def test_steer_goes_into_the_running_run_and_waits_behind_the_rest() -> None:
    decision = decide("steer", SITUATIONS["running+pending"], "NEW")
    assert decision == Steer(into="r1", behind=("r1", "p2", "p3"))


@pytest.mark.parametrize("situation", ["nothing", "pending-only"])
def test_steer_with_nothing_running_is_an_ordinary_run(situation: str) -> None:
    ids = tuple(r.run_id for r in SITUATIONS[situation])
    assert decide("steer", SITUATIONS[situation], "NEW") == Enqueue(behind=ids)


@pytest.mark.parametrize("kind", ["collect", "debounce"])
def test_collect_and_debounce_gather_behind_the_busy_thread(kind: str) -> None:
    decision = decide(kind, SITUATIONS["running+pending"], "NEW")  # type: ignore[arg-type]
    assert decision == Gather(kind, behind=("r1", "p2", "p3"))  # type: ignore[arg-type]


def test_collect_on_a_free_thread_starts_at_once_but_debounce_waits_for_quiet() -> None:
    assert decide("collect", [], "NEW") == Enqueue(behind=())
    assert decide("debounce", [], "NEW") == Gather("debounce", behind=())


def test_latest_replaces_every_waiting_run_and_leaves_the_running_one() -> None:
    decision = decide("latest", SITUATIONS["running+pending"], "NEW")
    assert isinstance(decision, Enqueue)
    assert decision.behind == ("r1",)
    assert decision.replace == ("p2", "p3")
    assert "NEW" in decision.reason


def test_a_full_queue_rejects_the_newest_by_default() -> None:
    decision = decide("enqueue", SITUATIONS["running+pending"], "NEW", Policy(max_pending=2))
    assert isinstance(decision, Reject)
    assert "max_pending=2" in decision.detail


def test_a_full_queue_drops_the_oldest_waiting_run_when_asked() -> None:
    policy = Policy(max_pending=2, overflow="drop_oldest")
    decision = decide("enqueue", SITUATIONS["running+pending"], "NEW", policy)
    assert isinstance(decision, Enqueue)
    assert (decision.behind, decision.drop) == (("r1", "p3"), ("p2",))
    assert "NEW" in decision.reason and "max_pending" in decision.reason


def test_a_queue_below_its_cap_takes_one_more() -> None:
    decision = decide("enqueue", SITUATIONS["running+pending"], "NEW", Policy(max_pending=3))
    assert decision == Enqueue(behind=("r1", "p2", "p3"))
