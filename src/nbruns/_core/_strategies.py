"""Multitask strategies as pure decisions. The executor carries them out.

LangGraph's four (reject, interrupt, rollback, enqueue) and nbruns's four:

- steer: delivered into the running run at its next safe step boundary;
- collect: held while the thread is busy, then started with the others held, as one;
- debounce: held until the thread has been quiet for a while, then as collect;
- latest: at most one waiting run; a new one replaces it.

A thread's policy (`_policy.Policy`) adds a cap on waiting runs (`max_pending`,
with its `overflow` rule); the engine applies its time limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ._policy import Policy
from ._records import RunRecord
from ._types import CancelAction, NbrunsStrategy

__all__ = [
    "REJECT_DETAIL",
    "Decision",
    "Enqueue",
    "Gather",
    "Reject",
    "Steer",
    "Supersede",
    "decide",
]

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
    """Insert the run as pending; it starts once the runs in `behind` are done.

    `replace`: pending runs the new one replaces (latest); `drop`: the oldest pending
    runs a full queue drops (max_pending with overflow drop_oldest). Both end as
    interrupted, with `reason`.
    """

    behind: tuple[str, ...]
    replace: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Supersede:
    """Cancel `run_ids` with `action`, then insert the run; it starts once they have stopped."""

    action: CancelAction
    run_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Steer:
    """Insert the run as pending, to be delivered into running run `into` at its next
    safe step boundary; if `into` ends first, it runs as queued behind `behind`."""

    into: str
    behind: tuple[str, ...]
    drop: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Gather:
    """Insert the run as pending and held (collect, debounce): when it may start, the
    held runs waiting together start as one, the oldest carrying them."""

    kind: Literal["collect", "debounce"]
    behind: tuple[str, ...]
    drop: tuple[str, ...] = ()
    reason: str = ""


Decision = Reject | Enqueue | Supersede | Steer | Gather


def _overflow(
    pending: Sequence[RunRecord], new_run_id: str, policy: Policy
) -> Reject | tuple[tuple[str, ...], str]:
    """What a full queue means for one more waiting run: a rejection, or the runs to drop."""
    cap = policy.max_pending
    if cap is None or len(pending) < cap:
        return (), ""
    if policy.overflow_rule == "reject_newest":
        return Reject(
            f"Thread already has {len(pending)} runs waiting, the most its multitask policy "
            f"allows (max_pending={cap}, overflow=reject_newest). Wait for one to start, or "
            "raise max_pending, or use overflow=drop_oldest."
        )
    oldest = tuple(r.run_id for r in pending[: len(pending) - cap + 1])
    reason = (
        f"dropped for run {new_run_id}: the thread's multitask policy allows {cap} waiting "
        "runs (max_pending, overflow=drop_oldest)"
    )
    return oldest, reason


def decide(
    strategy: NbrunsStrategy,
    inflight: Sequence[RunRecord],
    new_run_id: str,
    policy: Policy | None = None,
) -> Decision:
    """Decide what a new run does, given the thread's pending and running runs.

    With nothing in flight every strategy just starts, but debounce, which waits for
    quiet. Otherwise: reject refuses, interrupt and rollback supersede all of them
    (pending ones too, as the reference server does); the others wait, steer to be
    delivered into the running run, collect and debounce to be merged, latest in
    place of the waiting one, enqueue in FIFO order, each within the policy's cap.
    """
    policy = policy or Policy()
    ids = tuple(run.run_id for run in inflight)
    if not ids:
        if strategy == "debounce":
            return Gather("debounce", behind=())
        return Enqueue(behind=())
    if strategy == "reject":
        return Reject(REJECT_DETAIL)
    if strategy in ("interrupt", "rollback"):
        return Supersede(
            action=strategy,
            run_ids=ids,
            reason=f"superseded by run {new_run_id} (multitask_strategy={strategy})",
        )
    running = tuple(r.run_id for r in inflight if r.phase == "running")
    pending = [r for r in inflight if r.phase == "pending"]
    if strategy == "latest":
        return Enqueue(
            behind=running,
            replace=tuple(r.run_id for r in pending),
            reason=f"replaced by run {new_run_id} (multitask_strategy=latest)",
        )
    full = _overflow(pending, new_run_id, policy)
    if isinstance(full, Reject):
        return full
    drop, reason = full
    behind = tuple(i for i in ids if i not in drop)
    if strategy == "steer" and running:
        return Steer(into=running[0], behind=behind, drop=drop, reason=reason)
    if strategy in ("collect", "debounce"):
        return Gather(strategy, behind=behind, drop=drop, reason=reason)
    return Enqueue(behind=behind, drop=drop, reason=reason)
