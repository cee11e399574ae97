"""Stopping runs early: a client's cancel, a superseding run, a deleted thread, a shutdown.

A pending run ends at once (interrupted, or deleted by a rollback). A running one
is marked `stopping`, which is what clients read from then on; its graph is asked
to drain at its next step boundary and its task is cancelled, again and again,
until it ends. The task's own cleanup (`RunBody`) then ends the run as the stop
asked. A task already cleaning up is never cancelled: the stop is only noted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from .._core._errors import Conflict, InvalidInput, NotFound
from .._core._lifecycle import INFLIGHT, public_status, transition
from .._core._records import RunRecord
from .._core._store import MemoryStore
from .._core._types import CANCEL_ACTIONS, CancelAction, CancelSource
from .._persistence._checkpoints import NbrunsSaver
from . import _serde
from ._outcomes import thread_body
from ._run_body import drop_rolled_back, end_run
from ._run_task import RunTask, TaskState

__all__ = ["Stops"]

# a task still running this long after a cancel gets cancelled again, a bounded number of times
_RECANCEL_AFTER = 0.2
_MAX_RECANCELS = 50

_NOTHING_TO_CANCEL = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct, "
    "and the runs haven't been deleted or completed."
)


def _cancel_action(action: str) -> CancelAction:
    # the API hands over the query parameter it checked; a caller that did not is told
    if action == "interrupt":
        return "interrupt"
    if action == "rollback":
        return "rollback"
    raise InvalidInput(f"Invalid cancel action {action!r}: use one of {CANCEL_ACTIONS}")


def _merged_conflict(merged: list[RunRecord]) -> Conflict:
    """409 for cancelling merged runs: they end as their carriers end (which to cancel)."""
    if len(merged) == 1:
        run = merged[0]
        return Conflict(
            f"Run {run.run_id} was merged into run {run.merged_into} and ends as that run "
            f"ends; cancel run {run.merged_into} instead."
        )
    runs = ", ".join(r.run_id for r in merged)
    carriers = ", ".join(dict.fromkeys(str(r.merged_into) for r in merged))
    return Conflict(
        f"Runs {runs} were merged into other runs and end as those end; "
        f"cancel run(s) {carriers} instead."
    )


def _as_json(body: Any) -> bytes:
    return body if isinstance(body, bytes) else _serde.dumps(body)


class Stops:
    """Stops pending and running runs, over a store, the checkpointer and the run tasks.

    `pending_ended` is the executor's: a pending run just ended, so close its stream,
    answer its waiters and start its thread's next run.
    """

    def __init__(
        self,
        store: MemoryStore,
        saver: NbrunsSaver,
        *,
        run_tasks: Mapping[str, RunTask],
        clock: Callable[[], float],
        pending_ended: Callable[[RunRecord], None],
    ) -> None:
        self.store = store
        self.saver = saver
        self.clock = clock
        self._run_tasks = run_tasks
        self._pending_ended = pending_ended

    def cancel(self, thread_id: str, run_id: str, action: str) -> RunRecord:
        """Cancel one run for a client; `action` is a `CancelAction`."""
        stop = _cancel_action(action)
        try:
            run = self.store.get_run(thread_id, run_id)
        except NotFound:
            raise NotFound("No runs found to cancel.") from None
        if run.phase == "merged":
            # its input is in another run: stopping it alone means nothing
            raise _merged_conflict([run])
        if run.phase not in INFLIGHT:
            raise NotFound(
                f"{_NOTHING_TO_CANCEL} (Run {run_id} already finished with status "
                f"{public_status(run)}.)"
            )
        self.stop(run, stop, f"cancelled by client (action={action})", "client")
        return self.store.runs.get(run_id, run)

    def cancel_many(
        self,
        *,
        thread_id: str | None = None,
        run_ids: Collection[str] | None = None,
        status: str | None = None,
        action: str = "interrupt",
        threads: Collection[str] | None = None,
    ) -> int:
        """Cancel runs for a client, by ids (with their thread) or by status, as the
        reference selects them: ids that name no run are skipped; 404 when nothing
        matched, or when nothing that matched is still pending or running. `threads`
        (the ones the caller may touch) narrows a cancel by status."""
        stop = _cancel_action(action)
        targets = self._cancel_targets(thread_id, run_ids, status)
        if threads is not None:
            targets = [r for r in targets if r.thread_id in threads]
        if not targets:
            raise NotFound("No runs found to cancel.")
        cancelable = [r for r in targets if r.phase in INFLIGHT]
        if not cancelable:
            merged = [r for r in targets if r.phase == "merged"]
            if merged:  # named by id, and nothing else to cancel: as `cancel` on it
                raise _merged_conflict(merged)
            raise NotFound(_NOTHING_TO_CANCEL)
        for run in cancelable:
            current = self.store.runs.get(run.run_id)
            # an earlier stop in this loop may have ended it (a pending run's successor)
            if current is not None and current.phase in INFLIGHT:
                self.stop(current, stop, f"cancelled by client (action={action})", "client")
        return len(cancelable)

    def _cancel_targets(
        self, thread_id: str | None, run_ids: Collection[str] | None, status: str | None
    ) -> list[RunRecord]:
        """The visible runs a bulk cancel names, whatever their status."""
        if status is not None:
            if thread_id is not None or run_ids is not None:
                raise InvalidInput(
                    "Invalid cancel request: status cancels runs on every thread; "
                    "pass status alone, or thread_id with run_ids"
                )
            wanted = INFLIGHT if status == "all" else {status}
            return [r for r in self.store.all_inflight() if r.phase in wanted]
        if thread_id is None or run_ids is None:
            raise InvalidInput("Invalid cancel request: pass status, or both thread_id and run_ids")
        found = (self.store.runs.get(r) for r in dict.fromkeys(run_ids))
        return [
            r
            for r in found
            if r is not None and r.thread_id == thread_id and public_status(r) is not None
        ]

    async def stop_and_wait(
        self, runs: list[RunRecord], action: CancelAction, reason: str, source: CancelSource
    ) -> None:
        """Stop those of `runs` still in flight, and return once every one's task ended.

        Only a thread delete calls this: its runs are deleted with it, which their
        waiters are told (`Outcomes`), unlike runs a rollback deleted."""
        tasks = []
        self.store.deleting.update(run.thread_id for run in runs)
        for run in runs:
            current = self.store.runs.get(run.run_id)
            if current is not None and current.phase in INFLIGHT:
                self.stop(current, action, reason, source)
            run_task = self._run_tasks.get(run.run_id)
            if run_task is not None and run_task.task is not None:
                tasks.append(run_task.task)
        if tasks:
            await asyncio.wait(tasks)

    def stop(
        self,
        run: RunRecord,
        action: CancelAction,
        reason: str,
        source: CancelSource,
        *,
        superseded_by: str | None = None,
    ) -> None:
        """Stop a pending or running run now; a running one finishes stopping in its task."""
        now = self.clock()
        kind = "superseded" if superseded_by else "cancelled"
        self.store.record(
            kind, run.thread_id, run.run_id, at=now, action=action, by=superseded_by, reason=reason
        )
        if run.phase == "pending":
            self._end_pending(run, action, reason, source, superseded_by, now)
            return
        run_task = self._run_tasks[run.run_id]
        self.store.replace_run(
            transition(
                run,
                "stopping",
                at=now,
                cancel_action=action,
                cancel_reason=reason,
                cancel_source=source,
                superseded_by=superseded_by,
            )
        )
        if action == "rollback" and run_task.stop_requested_at is None:
            self.saver.fence(run.run_id)  # nothing it writes from now on is kept
        # wall time, not the engine's clock: the trim compares it with checkpoint ids
        # (LangGraph's uuid6 carry wall time), which virtual time does not move
        if run_task.request_stop(reason, at=time.time()) and run_task.task is not None:
            run_task.task.cancel(reason)
            self._watch(run_task, reason, attempt=1)

    def _watch(self, run_task: RunTask, reason: str, attempt: int) -> None:
        """Cancel again until the task stops: a node may swallow one cancellation (as
        `asyncio.wait_for` can on Python 3.11). Never while nbruns itself cleans up."""

        def check() -> None:
            task = run_task.task
            if task is None or task.done() or run_task.state is TaskState.RELEASED:
                return
            if run_task.state is not TaskState.CLEANING_UP:
                task.cancel(reason)
            if attempt < _MAX_RECANCELS:
                self._watch(run_task, reason, attempt + 1)

        asyncio.get_running_loop().call_later(_RECANCEL_AFTER, check)

    def _end_pending(
        self,
        run: RunRecord,
        action: CancelAction,
        reason: str,
        source: CancelSource,
        superseded_by: str | None,
        now: float,
    ) -> None:
        if action == "rollback":
            drop_rolled_back(
                self.store,
                run,
                now,
                cancel_action=action,
                cancel_reason=reason,
                cancel_source=source,
                superseded_by=superseded_by,
            )
        else:
            end_run(
                self.store,
                run,
                "interrupted",
                now,
                cancel_action=action,
                cancel_reason=reason,
                cancel_source=source,
                superseded_by=superseded_by,
                result=_as_json(thread_body(self.store, run.thread_id)),
            )
        self._pending_ended(run)
