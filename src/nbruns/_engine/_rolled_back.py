"""Rollback you can undo: a rolled-back run's checkpoints kept as a hidden branch.

A rollback deletes its run's checkpoints, as LangGraph's server does. For
`keep_rolled_back_s` seconds (a server option; 0 keeps nothing, the reference's
behaviour) nbruns first copies them, byte for byte, to a hidden thread id of the same
checkpointer (`_persistence/_branches.py`): copying within the saver is exact (the
same checkpoints, read back by LangGraph as it read them), needs no format of
nbruns's own, and in a durable server lands in the same SQLite file by itself. The id
is no UUID, so no SDK call reaches it: the thread's state, history and every
LangGraph endpoint read exactly as when nothing is kept.

- `keep` (called by a rollback, before the delete) copies the branch and notes what
  the run had got to: its last checkpoint's values, as `threads.get_state` showed them;
- `of_thread` gives a thread's kept branches, newest first;
- `restore` writes the branch's last checkpoint on top of the thread's head as a new
  checkpoint, through the graph's checkpointer (history keeps everything), and
  refreshes the thread's cached head as an update does. A branch stays restorable
  until it expires.

Expired branches (and those of deleted threads) are dropped when branches are next
read or kept, and at start-up: no timers.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from langgraph.channels import DeltaChannel

from .._core._errors import Conflict, NotFound
from .._core._records import RunRecord
from .._core._store import MemoryStore
from .._persistence._branches import (
    BranchTable,
    acopy_run,
    hidden_thread_id,
    restored_checkpoint,
)
from .._persistence._checkpoints import NbrunsSaver
from . import _serde
from ._graphs import GraphRegistry
from ._runspec import thread_config
from ._threads import Threads

__all__ = ["DEFAULT_KEEP_ROLLED_BACK_S", "Branch", "RolledBack", "check_keep_rolled_back_s"]

logger = logging.getLogger(__name__)

DEFAULT_KEEP_ROLLED_BACK_S = 3600.0


def check_keep_rolled_back_s(value: Any) -> float:
    """The option as a float; ValueError naming it and what is allowed otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(
            f"keep_rolled_back_s={value!r}: expected a number of seconds >= 0 (how long a "
            "rolled-back run's checkpoints stay restorable; 0 deletes them at once, as "
            "LangGraph's server does)"
        )
    if value == float("inf"):
        raise ValueError(f"keep_rolled_back_s={value!r}: expected a finite number of seconds")
    return float(value)


@dataclasses.dataclass(frozen=True, slots=True)
class Branch:
    """A rolled-back run's kept checkpoints: where they are and what the run had got to."""

    run_id: str
    thread_id: str
    rolled_back_at: float
    expires_at: float
    superseded_by: str | None
    cancel_reason: str | None
    checkpoints: int  # root checkpoints the run wrote (the thread's history would show)
    last_checkpoint_id: str
    values: bytes  # JSON of its last checkpoint's values

    @property
    def hidden_thread_id(self) -> str:
        return hidden_thread_id(self.thread_id, self.run_id)

    def as_body(self) -> dict[str, Any]:
        body = dataclasses.asdict(self)
        body["values"] = self.values.decode()
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Branch:
        return cls(**{**body, "values": str(body["values"]).encode()})


def _has_delta_channels(graph: Any) -> bool:
    channels = getattr(graph, "channels", None) or {}
    return any(isinstance(ch, DeltaChannel) for ch in channels.values())


class RolledBack:
    """The kept branches of one server, over its store, graphs and checkpointer."""

    def __init__(
        self,
        store: MemoryStore,
        graphs: GraphRegistry,
        saver: NbrunsSaver,
        threads: Threads,
        *,
        clock: Callable[[], float],
        keep_s: Callable[[], float] = lambda: DEFAULT_KEEP_ROLLED_BACK_S,
    ) -> None:
        self.store = store
        self.graphs = graphs
        self.saver = saver
        self.threads = threads
        self.clock = clock
        self._keep_s = keep_s  # read at each rollback: the server's option may change
        self._table = BranchTable(saver)
        self._branches: dict[str, Branch] | None = None  # run id -> branch, once loaded

    async def _loaded(self) -> dict[str, Branch]:
        if self._branches is None:
            loaded = {}
            for body in await self._table.load():
                branch = Branch.from_body(body)
                loaded[branch.run_id] = branch
            self._branches = loaded
        return self._branches

    async def sweep(self) -> None:
        """Drop the branches that expired or whose thread is gone."""
        branches = await self._loaded()
        now = self.clock()
        for branch in list(branches.values()):
            if branch.expires_at <= now or branch.thread_id not in self.store.threads:
                await self._drop(branch)

    async def _drop(self, branch: Branch) -> None:
        (await self._loaded()).pop(branch.run_id, None)
        await self.saver.adelete_thread(branch.hidden_thread_id)
        await self._table.delete(branch.run_id)

    async def keep(self, run: RunRecord, graph: Any) -> None:
        """Keep `run`'s checkpoints as a branch before a rollback deletes them. Never
        raises: the rollback goes on whatever happens here (a failure is logged)."""
        tid = run.thread_id
        keep_s = self._keep_s()
        if keep_s <= 0 or graph is None or tid not in self.store.threads:
            return
        if tid in self.store.deleting:  # the thread goes too: nothing to restore onto
            return
        hidden = hidden_thread_id(tid, run.run_id)
        try:
            await self.sweep()
            copied = await acopy_run(self.saver, tid, run.run_id, hidden)
            if not copied:  # it wrote nothing: there is nothing to take back
                await self.saver.adelete_thread(hidden)
                return
            # read while the thread's earlier checkpoints are all there, as get_state did
            snapshot = await graph.aget_state(thread_config(tid, copied[-1]))
            now = self.clock()
            branch = Branch(
                run_id=run.run_id,
                thread_id=tid,
                rolled_back_at=now,
                expires_at=now + keep_s,
                superseded_by=run.superseded_by,
                cancel_reason=run.cancel_reason,
                checkpoints=len(copied),
                last_checkpoint_id=copied[-1],
                values=_serde.dumps_state(snapshot.values),
            )
            await self._table.put(branch.run_id, tid, branch.as_body())
            (await self._loaded())[branch.run_id] = branch
        except Exception:
            logger.warning(
                "could not keep rolled-back run %s's checkpoints", run.run_id, exc_info=True
            )

    async def of_thread(self, thread_id: str) -> list[Branch]:
        """The thread's kept branches, newest first (404 for an unknown thread)."""
        self.store.get_thread(thread_id)
        await self.sweep()
        mine = [b for b in (await self._loaded()).values() if b.thread_id == thread_id]
        return sorted(mine, key=lambda b: b.rolled_back_at, reverse=True)

    async def restore(self, thread_id: str, run_id: str) -> Any:
        """Put the thread's state back to where `run_id` had got to, as a new checkpoint
        on its head; the thread's state (a `StateSnapshot`) after."""
        thread = self.store.get_thread(thread_id)
        await self.sweep()
        branch = (await self._loaded()).get(run_id)
        if branch is None or branch.thread_id != thread_id:
            raise NotFound(
                f"Thread {thread_id} has no rolled-back run {run_id} kept: it was not rolled "
                f"back on this thread, wrote no checkpoint, or expired (branches are kept "
                f"{self._keep_s():g} s); GET /nbruns/threads/{thread_id}/rolled_back lists them."
            )
        if self.store.active_runs(thread_id):
            raise Conflict(
                f"Thread {thread_id} has in-flight runs; restore run {run_id} once they "
                "finish (join them) or cancel them."
            )
        gid = thread.graph_id
        graph = self.graphs.get(gid) if gid is not None and gid in self.graphs else None
        if graph is None:
            raise Conflict(f"Thread {thread_id}'s graph is not registered on this server.")
        if _has_delta_channels(graph):
            raise Conflict(
                f"Thread {thread_id}'s graph keeps state in DeltaChannel channels (beta), whose "
                "values live across checkpoints: nbruns cannot restore them exactly."
            )
        source = await self.saver.aget_tuple(
            thread_config(branch.hidden_thread_id, branch.last_checkpoint_id)  # type: ignore[arg-type]
        )
        if source is None:  # its checkpoints went missing: forget it
            await self._drop(branch)
            raise NotFound(f"Rolled-back run {run_id}'s checkpoints are gone.")
        head = await self.saver.aget_tuple(thread_config(thread_id))  # type: ignore[arg-type]
        checkpoint, versions = restored_checkpoint(
            source.checkpoint,
            None if head is None else head.checkpoint,
            self.saver.get_next_version,
        )
        step = -1 if head is None else int(head.metadata.get("step", -1))
        metadata = {"source": "update", "step": step + 1, "parents": {}, "restored_run": run_id}
        parent = thread_config(
            thread_id, None if head is None else head.config["configurable"]["checkpoint_id"]
        )
        saved = await self.saver.aput(parent, checkpoint, metadata, versions)
        await self.threads.refresh_head(thread_id, graph)
        checkpoint_id = saved["configurable"]["checkpoint_id"]
        self.store.record(
            "restored", thread_id, run_id, at=self.clock(), checkpoint_id=checkpoint_id
        )
        return await self.threads.get_state(thread_id)
