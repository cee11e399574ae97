"""Multitask strategies as pure decisions. The executor carries them out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._records import RunRecord
from ._types import CancelAction, MultitaskStrategy

__all__ = ["REJECT_DETAIL", "Decision", "Enqueue", "Reject", "Supersede", "decide"]

REJECT_DETAIL = (
    "Thread is already running a task. Wait for it to finish or choose a different "
    "multitask strategy."
)


@dataclass(frozen=True, slots=True)
class Reject:
    """Insert nothing; answer 409 with `detail`."""

    detail: str


@dataclass(frozen=True, slots=True)
class Enqueue:
    """Insert the run as pending; it starts once the runs in `behind` are done."""

    behind: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Supersede:
    """Cancel `run_ids` with `action`, then insert the run; it starts once they have stopped."""

    action: CancelAction
    run_ids: tuple[str, ...]
    reason: str


Decision = Reject | Enqueue | Supersede


def decide(strategy: MultitaskStrategy, inflight: Sequence[RunRecord], new_run_id: str) -> Decision:
    """Decide what a new run does, given the thread's pending and running runs.

    With nothing in flight every strategy just starts. Otherwise: reject refuses,
    interrupt and rollback supersede all of them (pending ones too, as the
    reference server does), enqueue waits behind them in FIFO order.
    """
    ids = tuple(run.run_id for run in inflight)
    if not ids:
        return Enqueue(behind=())
    if strategy == "reject":
        return Reject(REJECT_DETAIL)
    if strategy in ("interrupt", "rollback"):
        return Supersede(
            action=strategy,
            run_ids=ids,
            reason=f"superseded by run {new_run_id} (multitask_strategy={strategy})",
        )
    return Enqueue(behind=ids)
