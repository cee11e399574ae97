"""Waiting for runs: what join answers, once a run has stopped.

Every waiter on a run shares one future, resolved by `wake` when the run's record
is final (or when the run is forgotten: a rollback, a thread deleted).

What a join answers depends on when it came, as on the reference:
- a waiter that was there when the run ended gets the run's own body (its last
  values, `__interrupt__`, or `__error__`);
- a join that comes once the run has ended gets its thread's body as the thread
  reads now (a later run's values, say): the reference joins by listening to the
  run's events, finds none, and falls back to the thread;
- a run deleted with its thread answers `RUN_GONE_BODY` (404 Run not found), and one
  a rollback deleted `NO_RUN_BODY` (the same words; a waiter gets the last values
  the run produced instead, see `_api/_streams.final_body`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._core._lifecycle import ACTIVE, public_status
from .._core._records import RunRecord
from .._core._store import MemoryStore

__all__ = ["NO_RUN_BODY", "RUN_GONE_BODY", "Outcomes", "thread_body"]

NO_RUN_BODY = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
"""What join answers for a run deleted (rolled back) while it was being waited on."""

RUN_GONE_BODY = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
"""What join answers for a run deleted with its thread: equal to `NO_RUN_BODY` but a
different object, so a waiter gets it as it is (not the run's last values)."""


def thread_body(store: MemoryStore, thread_id: str) -> Any:
    """The body a join of an ended run answers: the thread as it reads now.

    `__error__` for a thread in `error`, `__interrupt__` for one paused by interrupts,
    else its values (`{}` when it has none), as the reference's fallback does.
    """
    thread = store.threads.get(thread_id)
    if thread is None:
        return RUN_GONE_BODY
    status = store.thread_status(thread_id)
    if status == "error":
        ended = [r for r in store.status_runs(thread_id) if r.ended_seq is not None]
        last = max(ended, key=lambda r: r.ended_seq or 0, default=None)
        if last is not None and last.error is not None:
            return {"__error__": dict(last.error)}
    if status == "interrupted":
        interrupts = [
            item
            for items in thread.head.interrupts.values()
            if isinstance(items, list)
            for item in items
        ]
        if interrupts:
            return {"__interrupt__": interrupts}
    values = thread.head.values
    return values if values not in (None, b"null", b"{}") else {}


class Outcomes:
    """The runs being waited on, one shared future each, over a store."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        # run id -> future of (join body, last values the run produced)
        self._futures: dict[str, asyncio.Future[tuple[Any, Any]]] = {}

    async def join(self, thread_id: str, run_id: str) -> Any:
        """The run's final body once it has finished; 200-style bodies, as the reference.

        A run deleted by a rollback answers with `NO_RUN_BODY`, like the reference.
        """
        if self.store.was_rolled_back(thread_id, run_id):
            return NO_RUN_BODY
        self.store.get_run(thread_id, run_id)
        body, _ = await self.outcome(run_id)
        return body

    async def outcome(self, run_id: str) -> tuple[Any, Any]:
        """(join body, last values produced) once the run has stopped, visible or not."""
        # shield: one waiter giving up must not cancel the others' shared future
        return await asyncio.shield(self.future(run_id))

    def future(self, run_id: str) -> asyncio.Future[tuple[Any, Any]]:
        """A future of `outcome`, shared by every waiter; never cancel it, wait on it."""
        run = self.store.find_run(run_id)
        if run is None or run.phase not in ACTIVE:
            done = asyncio.get_running_loop().create_future()
            ended = None if run is None else thread_body(self.store, run.thread_id)
            done.set_result((self._body(run_id, run, ended), None))
            return done
        waiter = self._futures.get(run_id)
        if waiter is None:
            waiter = self._futures[run_id] = asyncio.get_running_loop().create_future()
        return waiter

    def wake(self, run_id: str, last_values: Any = None) -> None:
        """The run's record is final, or gone: answer everyone waiting on it."""
        waiter = self._futures.pop(run_id, None)
        if waiter is not None and not waiter.done():
            run = self.store.find_run(run_id)
            own = None if run is None else run.result
            waiter.set_result((self._body(run_id, run, own), last_values))

    def _body(self, run_id: str, run: RunRecord | None, body: Any) -> Any:
        if run is None or public_status(run) is None:
            # a rollback keeps its run id in `rolled_back`; a thread delete forgets it
            thread_id = run.thread_id if run is not None else self.store.rolled_back.get(run_id)
            if thread_id is None or thread_id in self.store.deleting:
                return RUN_GONE_BODY
            return NO_RUN_BODY
        return body if body is not None else {}
