"""Waiting for runs: what join answers, once a run has stopped.

Every waiter on a run shares one future, resolved by `wake` when the run's record
is final (or when the run is forgotten: a rollback, a thread deleted).
"""

from __future__ import annotations

import asyncio
from typing import Any

from .._core._lifecycle import ACTIVE, public_status
from .._core._store import MemoryStore

__all__ = ["NO_RUN_BODY", "Outcomes"]

NO_RUN_BODY = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
"""What join answers for a run deleted (rolled back) while it was being waited on."""


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
            done.set_result((self._body(run_id), None))
            return done
        waiter = self._futures.get(run_id)
        if waiter is None:
            waiter = self._futures[run_id] = asyncio.get_running_loop().create_future()
        return waiter

    def wake(self, run_id: str, last_values: Any = None) -> None:
        """The run's record is final, or gone: answer everyone waiting on it."""
        waiter = self._futures.pop(run_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((self._body(run_id), last_values))

    def _body(self, run_id: str) -> Any:
        run = self.store.find_run(run_id)
        if run is None or public_status(run) is None:
            return NO_RUN_BODY
        return run.result if run.result is not None else {}
