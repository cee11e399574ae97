"""`decide`: the four multitask strategies as pure decisions."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns._core._records import RunPhase, RunRecord
from nbruns._core._strategies import REJECT_DETAIL, Enqueue, Reject, Supersede, decide

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
