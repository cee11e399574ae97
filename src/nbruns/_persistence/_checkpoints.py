"""Rollback, copy and trim on top of LangGraph's checkpointers (in-memory and SQLite).

`BaseCheckpointSaver` declares `delete_for_runs(run_ids)` (the rollback primitive),
`copy_thread(source_thread_id, target_thread_id)` and `prune(thread_ids, *, strategy)`,
with `a`-prefixed async twins, but LangGraph's own savers do not implement them yet.
nbruns's savers override the first two with the upstream names and shapes, so each
can go once its upstream saver has it:

- `delete_for_runs(run_ids, *, thread_id=None)`: the upstream signature plus an
  optional `thread_id`, which keeps a rollback from scanning every thread;
- `copy_thread(source_thread_id, target_thread_id)`: exactly upstream's.

The rest has no upstream counterpart and stays nbruns's own: `mark` (where a run
starts), `restore_writes` (what a rolled-back resume wrote onto that start),
`atrim_run` (an interrupt keeps only the steps finished before it: not `prune`,
which keeps the latest checkpoint or none) and `fence` (late writes of a rolled-back
run are dropped).

The in-memory saver keeps, per thread and namespace, checkpoints keyed by id,
pending writes keyed by checkpoint, and channel blobs keyed by version; the
SQLite saver keeps checkpoints (values inline) and writes. Rollback keeps all
of them consistent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

__all__ = ["Mark", "NbrunsMemorySaver", "NbrunsSaver", "NbrunsSqliteSaver", "created_at"]

# 100-ns intervals between the UUID epoch (1582-10-15) and the Unix epoch
_UUID_EPOCH_OFFSET = 0x01B21DD213814000


def created_at(checkpoint_id: str) -> float:
    """When a checkpoint was created (Unix seconds): LangGraph ids are time-ordered uuid6."""
    value = uuid.UUID(checkpoint_id).int
    ticks = ((value >> 96) << 28) | (((value >> 80) & 0xFFFF) << 12) | ((value >> 64) & 0x0FFF)
    return (ticks - _UUID_EPOCH_OFFSET) / 1e7


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a run started: the checkpoint it continued from and the writes on it then."""

    checkpoint_id: str | None
    write_keys: frozenset[tuple[str, int]]


class _Fence:
    """Drops checkpoints and writes of rolled-back runs that arrive late: LangGraph saves
    some in background tasks, which may finish after the rollback deleted the rest.

    It also counts those background saves per thread, so `settled` can wait for them:
    a run held between steps has its finished steps written before anyone is told.
    """

    fenced: set[str]
    _saving: dict[str, int]
    _saved: asyncio.Condition | None = None

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        thread_id = config["configurable"]["thread_id"]
        saving = self._saving
        saving[thread_id] = saving.get(thread_id, 0) + 1
        try:
            return await super().aput(config, checkpoint, metadata, new_versions)  # type: ignore[misc]
        finally:
            saving[thread_id] -= 1
            if not saving[thread_id]:
                del saving[thread_id]
                if self._saved is not None:
                    async with self._saved:
                        self._saved.notify_all()

    async def settled(self, thread_id: str) -> None:
        """Return once no checkpoint of the thread is being saved in the background."""
        if self._saved is None:
            self._saved = asyncio.Condition()
        saving = self._saving
        while True:
            await asyncio.sleep(0)  # a save LangGraph just scheduled starts now
            if thread_id not in saving:
                return
            async with self._saved:
                await self._saved.wait_for(lambda: thread_id not in saving)

    def fence(self, run_id: str) -> None:
        self.fenced.add(run_id)

    def _is_fenced(self, config: Any, metadata: Any = None) -> bool:
        if not self.fenced:
            return False
        run_id = (config.get("metadata") or {}).get("run_id") or (metadata or {}).get("run_id")
        return run_id in self.fenced

    @staticmethod
    def _unsaved(config: Any, checkpoint: Any) -> Any:
        conf = config["configurable"]
        return {
            "configurable": {
                "thread_id": conf["thread_id"],
                "checkpoint_ns": conf.get("checkpoint_ns", ""),
                "checkpoint_id": checkpoint["id"],
            }
        }


class NbrunsMemorySaver(_Fence, InMemorySaver):
    """InMemorySaver that can delete a run's checkpoints (rollback) and copy a thread."""

    def __init__(self) -> None:
        super().__init__()
        self.fenced = set()
        self._saving = {}  # thread id -> checkpoints being saved in the background
        # thread id -> (newest root checkpoint id, how many root checkpoints it was
        # newest of): spares a scan of the thread's whole history at each run start
        self._heads: dict[str, tuple[str, int]] = {}

    def put(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self._is_fenced(config, metadata):
            return self._unsaved(config, checkpoint)
        saved = super().put(config, checkpoint, metadata, new_versions)
        conf = config["configurable"]
        if not conf.get("checkpoint_ns"):
            self._note_put(conf["thread_id"], checkpoint["id"])
        return saved

    def _note_put(self, thread_id: str, checkpoint_id: str) -> None:
        checkpoints = self.storage[thread_id][""]
        before = self._remembered_head(thread_id, checkpoints, len(checkpoints) - 1)
        if before is not None:
            self._heads[thread_id] = (max(before, checkpoint_id), len(checkpoints))
        else:  # something else changed the history too: find the head afresh when asked
            self._heads.pop(thread_id, None)

    def _remembered_head(self, thread_id: str, checkpoints: Any, count: int) -> str | None:
        """The remembered head, if it was the newest of `count` checkpoints and still is
        one (a rollback, trim or delete removes checkpoints and so invalidates it)."""
        head, of = self._heads.get(thread_id, ("", -1))
        return head if of == count and head in checkpoints else None

    def put_writes(self, config: Any, writes: Any, task_id: str, task_path: str = "") -> None:
        if not self._is_fenced(config):
            super().put_writes(config, writes, task_id, task_path)

    def head_id(self, thread_id: str) -> str | None:
        checkpoints = self.storage.get(thread_id, {}).get("", {})
        if not checkpoints:
            return None
        head = self._remembered_head(thread_id, checkpoints, len(checkpoints))
        if head is None:
            # ids are time-ordered uuid6, so the newest is the largest (as InMemorySaver
            # assumes)
            head = max(checkpoints)
            self._heads[thread_id] = (head, len(checkpoints))
        return head

    def mark(self, thread_id: str, checkpoint_id: str | None = None) -> Mark:
        start = checkpoint_id or self.head_id(thread_id)
        if start is None:
            return Mark(None, frozenset())
        writes = self.writes.get((thread_id, "", start), {})
        return Mark(start, frozenset(writes))

    def delete_for_runs(self, run_ids: Sequence[str], *, thread_id: str | None = None) -> None:
        """Delete every checkpoint the runs wrote, with its pending writes (a rollback).

        Upstream's signature plus `thread_id`: look in that thread only. Without it every
        thread is searched, a copy of the thread included (a copy keeps the run ids).
        """
        doomed = set(run_ids)
        for tid in [thread_id] if thread_id is not None else list(self.storage):
            namespaces = self.storage.get(tid, {})
            for ns in list(namespaces):
                checkpoints = namespaces[ns]
                for checkpoint_id, (_, metadata, _) in list(checkpoints.items()):
                    if self.serde.loads_typed(metadata).get("run_id") in doomed:
                        del checkpoints[checkpoint_id]
                        self.writes.pop((tid, ns, checkpoint_id), None)
                if not checkpoints:
                    del namespaces[ns]
            self._drop_unreferenced_blobs(tid)

    def restore_writes(self, thread_id: str, mark: Mark) -> None:
        """Put the writes on the checkpoint `mark` names back as they were when it was
        taken: a resume (`Command`) writes onto the checkpoint its run started from,
        which `delete_for_runs` keeps (an earlier run wrote it)."""
        if mark.checkpoint_id is None:
            return
        key = (thread_id, "", mark.checkpoint_id)
        writes = self.writes.get(key)
        if writes is not None:
            for write_key in [k for k in writes if k not in mark.write_keys]:
                del writes[write_key]
            if not writes:
                del self.writes[key]

    def _drop_unreferenced_blobs(self, thread_id: str) -> None:
        referenced: set[tuple[str, str, str, str | int | float]] = set()
        for ns, checkpoints in self.storage.get(thread_id, {}).items():
            for serialized, _, _ in checkpoints.values():
                versions = self.serde.loads_typed(serialized)["channel_versions"]
                referenced.update((thread_id, ns, ch, v) for ch, v in versions.items())
        for key in [k for k in self.blobs if k[0] == thread_id and k not in referenced]:
            del self.blobs[key]

    async def amark(self, thread_id: str, checkpoint_id: str | None = None) -> Mark:
        return self.mark(thread_id, checkpoint_id)

    async def adelete_for_runs(
        self, run_ids: Sequence[str], *, thread_id: str | None = None
    ) -> None:
        self.delete_for_runs(run_ids, thread_id=thread_id)

    async def arestore_writes(self, thread_id: str, mark: Mark) -> None:
        self.restore_writes(thread_id, mark)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        self.copy_thread(source_thread_id, target_thread_id)

    async def atrim_run(self, thread_id: str, run_id: str, since: float) -> int:
        """Delete the checkpoints `run_id` created after `since` (an interrupt's time)."""
        deleted = 0
        for ns, checkpoints in self.storage.get(thread_id, {}).items():
            for checkpoint_id, (_, metadata, _) in list(checkpoints.items()):
                if created_at(checkpoint_id) <= since:
                    continue
                if self.serde.loads_typed(metadata).get("run_id") == run_id:
                    del checkpoints[checkpoint_id]
                    self.writes.pop((thread_id, ns, checkpoint_id), None)
                    deleted += 1
        if deleted:
            self._drop_unreferenced_blobs(thread_id)
        return deleted

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint, write and blob of one thread to a new thread id."""
        for ns, checkpoints in self.storage.get(source_thread_id, {}).items():
            self.storage[target_thread_id][ns] = dict(checkpoints)
        for (thread_id, ns, checkpoint_id), writes in list(self.writes.items()):
            if thread_id == source_thread_id:
                self.writes[(target_thread_id, ns, checkpoint_id)] = dict(writes)
        for (thread_id, ns, channel, version), blob in list(self.blobs.items()):
            if thread_id == source_thread_id:
                self.blobs[(target_thread_id, ns, channel, version)] = blob


class NbrunsSqliteSaver(_Fence, AsyncSqliteSaver):
    """AsyncSqliteSaver that can delete a run's checkpoints (rollback) and copy a thread,
    in SQL."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self.fenced = set()
        self._saving = {}  # thread id -> checkpoints being saved in the background

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        if self._is_fenced(config, metadata):
            return self._unsaved(config, checkpoint)
        saved = await super().aput(config, checkpoint, metadata, new_versions)
        if self._is_fenced(config, metadata):
            # fenced while this write waited for the connection: take it back
            await self._delete_checkpoint(saved["configurable"])
        return saved

    async def aput_writes(
        self, config: Any, writes: Any, task_id: str, task_path: str = ""
    ) -> None:
        if self._is_fenced(config):
            return
        await super().aput_writes(config, writes, task_id, task_path)
        if self._is_fenced(config):
            conf = config["configurable"]
            async with self.lock:
                await self._run(
                    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = ? AND "
                    "checkpoint_id = ? AND task_id = ?",
                    (
                        conf["thread_id"],
                        conf.get("checkpoint_ns", ""),
                        conf["checkpoint_id"],
                        task_id,
                    ),
                )
                await self.conn.commit()

    async def _delete_checkpoint(self, conf: Any) -> None:
        key = (conf["thread_id"], conf.get("checkpoint_ns", ""), conf["checkpoint_id"])
        async with self.lock:
            for table in ("writes", "checkpoints"):
                await self._run(
                    f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? "
                    "AND checkpoint_id = ?",
                    key,
                )
            await self.conn.commit()

    # Every statement runs to completion and its cursor is closed: a cursor left open keeps
    # a WAL read snapshot, and the connection's next write then fails with "database is
    # locked" as soon as another connection (the store's) has written.
    async def _rows(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        return list(await self.conn.execute_fetchall(sql, params))

    async def _run(self, sql: str, params: tuple[Any, ...]) -> int:
        async with self.conn.execute(sql, params) as cursor:
            return int(cursor.rowcount)

    async def amark(self, thread_id: str, checkpoint_id: str | None = None) -> Mark:
        await self.setup()
        async with self.lock:
            if checkpoint_id is None:
                rows = await self._rows(
                    "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND "
                    "checkpoint_ns = '' ORDER BY checkpoint_id DESC LIMIT 1",
                    (thread_id,),
                )
                if not rows:
                    return Mark(None, frozenset())
                checkpoint_id = rows[0][0]
            rows = await self._rows(
                "SELECT task_id, idx FROM writes WHERE thread_id = ? AND checkpoint_ns = '' "
                "AND checkpoint_id = ?",
                (thread_id, checkpoint_id),
            )
            keys = frozenset((task_id, idx) for task_id, idx in rows)
        return Mark(checkpoint_id, keys)

    async def adelete_for_runs(
        self, run_ids: Sequence[str], *, thread_id: str | None = None
    ) -> None:
        """See `NbrunsMemorySaver.delete_for_runs`."""
        await self.setup()
        placeholders = ", ".join("?" * len(run_ids))
        where = f"json_extract(CAST(metadata AS TEXT), '$.run_id') IN ({placeholders})"
        params: tuple[str, ...] = tuple(run_ids)
        if thread_id is not None:
            where, params = f"thread_id = ? AND {where}", (thread_id, *params)
        async with self.lock:
            await self._run(
                "DELETE FROM writes WHERE (thread_id, checkpoint_ns, checkpoint_id) IN "
                f"(SELECT thread_id, checkpoint_ns, checkpoint_id FROM checkpoints WHERE {where})",
                params,
            )
            await self._run(f"DELETE FROM checkpoints WHERE {where}", params)
            await self.conn.commit()

    async def arestore_writes(self, thread_id: str, mark: Mark) -> None:
        """See `NbrunsMemorySaver.restore_writes`."""
        if mark.checkpoint_id is None:
            return
        await self.setup()
        async with self.lock:
            rows = await self._rows(
                "SELECT task_id, idx FROM writes WHERE thread_id = ? AND checkpoint_ns = '' "
                "AND checkpoint_id = ?",
                (thread_id, mark.checkpoint_id),
            )
            for task_id, idx in rows:
                if (task_id, idx) not in mark.write_keys:
                    await self._run(
                        "DELETE FROM writes WHERE thread_id = ? AND checkpoint_ns = '' AND "
                        "checkpoint_id = ? AND task_id = ? AND idx = ?",
                        (thread_id, mark.checkpoint_id, task_id, idx),
                    )
            await self.conn.commit()

    async def atrim_run(self, thread_id: str, run_id: str, since: float) -> int:
        """Delete the checkpoints `run_id` created after `since` (an interrupt's time)."""
        await self.setup()
        async with self.lock:
            rows = await self._rows(
                "SELECT checkpoint_ns, checkpoint_id FROM checkpoints WHERE thread_id = ? AND "
                "json_extract(CAST(metadata AS TEXT), '$.run_id') = ?",
                (thread_id, run_id),
            )
            late = [(ns, cid) for ns, cid in rows if created_at(cid) > since]
            for ns, cid in late:
                for table in ("writes", "checkpoints"):
                    await self._run(
                        f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? "
                        "AND checkpoint_id = ?",
                        (thread_id, ns, cid),
                    )
            await self.conn.commit()
        return len(late)

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        await self.setup()
        async with self.lock:
            await self._run(
                "INSERT INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
                "parent_checkpoint_id, type, checkpoint, metadata) SELECT ?, checkpoint_ns, "
                "checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints "
                "WHERE thread_id = ?",
                (target_thread_id, source_thread_id),
            )
            await self._run(
                "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, "
                "idx, channel, type, value) SELECT ?, checkpoint_ns, checkpoint_id, task_id, "
                "task_path, idx, channel, type, value FROM writes WHERE thread_id = ?",
                (target_thread_id, source_thread_id),
            )
            await self.conn.commit()


NbrunsSaver: TypeAlias = NbrunsMemorySaver | NbrunsSqliteSaver
"""Either checkpointer the executor runs graphs with."""
