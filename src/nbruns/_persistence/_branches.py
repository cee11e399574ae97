"""Rolled-back runs' checkpoints kept as hidden branches, in the saver that wrote them.

A rollback deletes a run's checkpoints (`delete_for_runs`). Just before, nbruns can
copy them, with their pending writes (and, in memory, the channel blobs they name),
to a *hidden thread id* of the same saver: `hidden_thread_id(thread_id, run_id)`.
That id is not a UUID, so no SDK call can name it (the API refuses any other thread
id), and nothing lists thread ids from the saver: the thread's state, history and
every endpoint read exactly as when the checkpoints are simply deleted. The copy is
byte for byte (the same checkpoint ids, parents and metadata), so LangGraph reads it
back as it read the original, and a durable server keeps it in the same SQLite file
for free. Dropping a branch is `adelete_thread` of its hidden id.

`BranchTable` is the branches' index in that file (`nbruns_rolled_back_branches`, one
JSON body per run); in memory the engine's own dict is the index. `restored_checkpoint`
builds the checkpoint a restore writes on top of a thread's head: the branch's last
checkpoint with fresh ids and versions.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base.id import uuid6

from ._checkpoints import NbrunsMemorySaver, NbrunsSaver, NbrunsSqliteSaver

__all__ = [
    "BranchTable",
    "acopy_run",
    "hidden_thread_id",
    "restored_checkpoint",
]

_PREFIX = "nbruns-rolled-back"


def hidden_thread_id(thread_id: str, run_id: str) -> str:
    """The saver-side thread id of a rolled-back run's branch (never a UUID)."""
    return f"{_PREFIX}:{thread_id}:{run_id}"


async def acopy_run(saver: NbrunsSaver, thread_id: str, run_id: str, target: str) -> list[str]:
    """Copy every checkpoint `run_id` wrote in `thread_id` (all namespaces), with its
    pending writes, to the thread id `target`; return the copied root checkpoint ids,
    oldest first (none: the run wrote no checkpoint)."""
    if isinstance(saver, NbrunsMemorySaver):
        return _copy_in_memory(saver, thread_id, run_id, target)
    return await _copy_in_sqlite(saver, thread_id, run_id, target)


def _copy_in_memory(
    saver: NbrunsMemorySaver, thread_id: str, run_id: str, target: str
) -> list[str]:
    roots: list[str] = []
    for ns, checkpoints in list(saver.storage.get(thread_id, {}).items()):
        for checkpoint_id, saved in list(checkpoints.items()):
            serialized, metadata, _ = saved
            if saver.serde.loads_typed(metadata).get("run_id") != run_id:
                continue
            saver.storage[target][ns][checkpoint_id] = saved
            writes = saver.writes.get((thread_id, ns, checkpoint_id))
            if writes:
                saver.writes[(target, ns, checkpoint_id)] = dict(writes)
            versions = saver.serde.loads_typed(serialized)["channel_versions"]
            for channel, version in versions.items():
                blob = saver.blobs.get((thread_id, ns, channel, version))
                if blob is not None:
                    saver.blobs[(target, ns, channel, version)] = blob
            if not ns:
                roots.append(checkpoint_id)
    return sorted(roots)


_OF_RUN = "thread_id = ? AND json_extract(CAST(metadata AS TEXT), '$.run_id') = ?"


async def _copy_in_sqlite(
    saver: NbrunsSqliteSaver, thread_id: str, run_id: str, target: str
) -> list[str]:
    await saver.setup()
    async with saver.lock:
        # writes first: they are found through the run's checkpoints, still in place
        await saver._run(
            "INSERT OR REPLACE INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, "
            "task_path, idx, channel, type, value) SELECT ?, checkpoint_ns, checkpoint_id, "
            "task_id, task_path, idx, channel, type, value FROM writes WHERE thread_id = ? AND "
            "(checkpoint_ns, checkpoint_id) IN (SELECT checkpoint_ns, checkpoint_id FROM "
            f"checkpoints WHERE {_OF_RUN})",
            (target, thread_id, thread_id, run_id),
        )
        await saver._run(
            "INSERT OR REPLACE INTO checkpoints (thread_id, checkpoint_ns, checkpoint_id, "
            "parent_checkpoint_id, type, checkpoint, metadata) SELECT ?, checkpoint_ns, "
            "checkpoint_id, parent_checkpoint_id, type, checkpoint, metadata FROM checkpoints "
            f"WHERE {_OF_RUN}",
            (target, thread_id, run_id),
        )
        rows = await saver._rows(
            "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id",
            (target,),
        )
        await saver.conn.commit()
    return [row[0] for row in rows]


class BranchTable:
    """The branches' index in a durable server's SQLite file (run id -> JSON body);
    for a memory saver every method does nothing: the engine's dict is the index."""

    def __init__(self, saver: NbrunsSaver) -> None:
        self._saver = saver if isinstance(saver, NbrunsSqliteSaver) else None
        self._ready = False

    async def _setup(self) -> NbrunsSqliteSaver | None:
        saver = self._saver
        if saver is not None and not self._ready:
            await saver.setup()
            async with saver.lock:
                await saver._run(
                    "CREATE TABLE IF NOT EXISTS nbruns_rolled_back_branches ("
                    "run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, body TEXT NOT NULL)",
                    (),
                )
                await saver.conn.commit()
            self._ready = True
        return saver

    async def load(self) -> list[dict[str, Any]]:
        saver = await self._setup()
        if saver is None:
            return []
        async with saver.lock:
            rows = await saver._rows(
                "SELECT body FROM nbruns_rolled_back_branches ORDER BY rowid", ()
            )
        return [json.loads(body) for (body,) in rows]

    async def put(self, run_id: str, thread_id: str, body: Mapping[str, Any]) -> None:
        saver = await self._setup()
        if saver is None:
            return
        async with saver.lock:
            await saver._run(
                "INSERT OR REPLACE INTO nbruns_rolled_back_branches VALUES (?, ?, ?)",
                (run_id, thread_id, json.dumps(body)),
            )
            await saver.conn.commit()

    async def delete(self, run_id: str) -> None:
        saver = await self._setup()
        if saver is None:
            return
        async with saver.lock:
            await saver._run("DELETE FROM nbruns_rolled_back_branches WHERE run_id = ?", (run_id,))
            await saver.conn.commit()


def _number(version: Any) -> int:
    """A channel version's counter: LangGraph's savers write `"<counter>.<random>"`."""
    return version if isinstance(version, int) else int(str(version).split(".")[0])


def restored_checkpoint(
    branch: Mapping[str, Any],
    head: Mapping[str, Any] | None,
    next_version: Callable[[Any, None], Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The checkpoint that puts `branch` back on top of `head`, and its channel versions.

    Its channel values are the branch's, exactly (channels the branch never wrote stay
    empty). Every channel gets a version newer than both the branch's and the head's,
    and each node has seen the new version exactly where it had seen the branch's, so
    the restored state has the branch's next tasks too. A new id (time-ordered, so it is
    the thread's newest) and time. Pending writes are not carried over.
    """
    old = branch["channel_versions"]
    head_versions = head["channel_versions"] if head is not None else {}
    versions: dict[str, Any] = {}
    for channel, version in old.items():
        theirs = head_versions.get(channel)
        newest = version if theirs is None or _number(version) >= _number(theirs) else theirs
        versions[channel] = next_version(newest, None)
    seen = {
        node: {
            ch: versions[ch] if ch in old and v == old[ch] else v for ch, v in by_channel.items()
        }
        for node, by_channel in branch["versions_seen"].items()
    }
    checkpoint = {
        **branch,
        "id": str(uuid6(clock_seq=-1)),
        "ts": datetime.datetime.now(datetime.UTC).isoformat(),
        "channel_values": dict(branch["channel_values"]),
        "channel_versions": versions,
        "versions_seen": seen,
    }
    return checkpoint, dict(versions)
