"""A thread reads `error` only until its state changes after the failed run (issue #12,
item 5): the reference re-derives the status from the new checkpoint."""

from __future__ import annotations

import pytest

from nbruns._core._lifecycle import thread_status
from nbruns._core._records import Head, RunRecord


def failed(ended_at: float) -> RunRecord:
    return RunRecord(
        run_id="r1",
        thread_id="t1",
        assistant_id="a1",
        graph_id="g",
        seq=1,
        created_at=0.0,
        updated_at=ended_at,
        scheduled_at=0.0,
        phase="error",
        multitask_strategy="enqueue",
        ended_at=ended_at,
        ended_seq=2,
    )


@pytest.mark.parametrize(
    ("state_updated_at", "head", "expected"),
    [
        pytest.param(None, Head(), "error", id="no-state-time"),
        pytest.param(9.0, Head(next=("boom",)), "error", id="state-written-by-the-run"),
        pytest.param(10.0, Head(next=("boom",)), "error", id="state-written-as-it-ended"),
        pytest.param(11.0, Head(next=("boom",)), "interrupted", id="updated-after-tasks-left"),
        pytest.param(11.0, Head(), "idle", id="updated-after-nothing-left"),
    ],
)
def test_error_lasts_until_the_state_changes(
    state_updated_at: float | None, head: Head, expected: str
) -> None:
    assert thread_status([failed(10.0)], head, state_updated_at=state_updated_at) == expected
