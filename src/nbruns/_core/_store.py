"""The in-memory store: assistants, threads, runs and the timeline, with sync methods.

Only the executor's event loop calls it, so it needs no locks. Checkpoints are
not here: they live in the LangGraph checkpointer; a thread caches its last
checkpoint's values and next tasks as `head`.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import Conflict, NotFound
from ._lifecycle import ACTIVE, HOLDING, INFLIGHT, public_status, thread_status
from ._records import AssistantRecord, Head, RunRecord, ThreadRecord, TimelineEvent
from ._types import ThreadStatus

__all__ = ["ROLLED_BACK_KEPT", "MemoryStore", "matches"]

ROLLED_BACK_KEPT = 1000
"""How many rolled-back runs' final records a store keeps for its own listing (oldest
dropped first): a rollback deletes its run, so these are kept only for people to see."""


def matches(actual: Any, wanted: Mapping[str, Any]) -> bool:
    """True when every key of `wanted` is in `actual` with an equal (or sub-matching) value."""
    if not isinstance(actual, Mapping):
        return False
    for key, value in wanted.items():
        if key not in actual:
            return False
        if isinstance(value, Mapping) and isinstance(actual[key], Mapping):
            if not matches(actual[key], value):
                return False
        elif actual[key] != value:
            return False
    return True


def _decode(data: bytes | None) -> Any:
    return None if data is None else json.loads(data)


def _page(items: list[Any], limit: int, offset: int) -> list[Any]:
    return items[offset : offset + limit]


class MemoryStore:
    def __init__(self) -> None:
        # assistant_id -> record
        self.assistants: dict[str, AssistantRecord] = {}
        # assistant_id -> version -> that version as it was saved (its updated_at is
        # when the version was made); the record above is the one runs use
        self.assistant_versions: dict[str, dict[int, AssistantRecord]] = {}
        # thread_id -> record
        self.threads: dict[str, ThreadRecord] = {}
        # run_id -> record (rolled-back runs stay until their task exits, hidden)
        self.runs: dict[str, RunRecord] = {}
        # thread_id -> run ids in creation order
        self.thread_runs: dict[str, list[str]] = {}
        # run ids deleted by rollback, so join can answer like the reference
        self.rolled_back: dict[str, str] = {}  # run_id -> thread_id
        # run_id -> the final record of a run a rollback deleted, oldest first: for
        # nbruns's own listing (GET /nbruns/runs) only, never in `runs`; bounded
        self.rolled_back_runs: dict[str, RunRecord] = {}
        self.rolled_back_limit = ROLLED_BACK_KEPT
        # threads whose runs are being stopped because the thread is being deleted: their
        # runs are deleted with it, not rolled back (join answers differ)
        self.deleting: set[str] = set()
        # thread_id -> events in order
        self.timelines: dict[str, list[TimelineEvent]] = {}
        self._seq = 0
        # Indexes, so that deciding and scheduling a run costs the same on a thread
        # with 10,000 finished runs as on a fresh one:
        # thread_id -> ids of its runs in an ACTIVE phase, oldest first
        self._active: dict[str, dict[str, None]] = {}
        # thread_id -> ids of its active runs that have started (running or stopping):
        # who holds the thread, asked at every scheduling step
        self._holding: dict[str, dict[str, None]] = {}
        # thread_id -> id of its run that ended last (it decides an `error` status)
        self._last_ended: dict[str, str] = {}
        # thread_id -> heap of (scheduled_at, seq, run_id) of runs that were pending;
        # entries of runs that have left `pending` are dropped when they reach the top
        self._queues: dict[str, list[tuple[float, int, str]]] = {}

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    # -- assistants --------------------------------------------------------

    def put_assistant(self, record: AssistantRecord) -> AssistantRecord:
        self.assistants[record.assistant_id] = record
        return record

    def get_assistant(self, assistant_id: str) -> AssistantRecord:
        try:
            return self.assistants[assistant_id]
        except KeyError:
            raise NotFound(f"Assistant {assistant_id} not found.") from None

    def delete_assistant(self, assistant_id: str) -> None:
        self.get_assistant(assistant_id)
        del self.assistants[assistant_id]
        self.assistant_versions.pop(assistant_id, None)

    def put_assistant_version(self, record: AssistantRecord) -> AssistantRecord:
        """Keep `record` as version `record.version` of its assistant."""
        self.assistant_versions.setdefault(record.assistant_id, {})[record.version] = record
        return record

    def get_assistant_version(self, assistant_id: str, version: int) -> AssistantRecord:
        try:
            return self.assistant_versions[assistant_id][version]
        except KeyError:
            raise NotFound(f"Version {version} not found for assistant {assistant_id}") from None

    def latest_assistant_version(self, assistant_id: str) -> int:
        """The highest version number saved (0 for none): the next update adds one."""
        return max(self.assistant_versions.get(assistant_id, {}), default=0)

    def search_assistant_versions(
        self,
        assistant_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[AssistantRecord]:
        """The assistant's versions, newest first, as the reference lists them."""
        found = [
            v
            for _, v in sorted(self.assistant_versions.get(assistant_id, {}).items(), reverse=True)
            if not metadata or matches(v.metadata, metadata)
        ]
        return _page(found, limit, offset)

    def search_assistants(
        self,
        *,
        graph_id: str | None = None,
        name: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        where: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> list[AssistantRecord]:
        """`where` is a predicate on metadata (an auth handler's filter)."""
        found = [
            a
            for a in self.assistants.values()
            if (where is None or where(a.metadata))
            and (graph_id is None or a.graph_id == graph_id)
            and (name is None or name.lower() in a.name.lower())
            and (not metadata or matches(a.metadata, metadata))
        ]
        found.sort(key=lambda a: getattr(a, sort_by), reverse=sort_order == "desc")
        return _page(found, limit, offset)

    # -- threads -----------------------------------------------------------

    def create_thread(self, record: ThreadRecord, *, if_exists: str = "raise") -> ThreadRecord:
        existing = self.threads.get(record.thread_id)
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise Conflict(f"Thread {record.thread_id} already exists.")
        self.threads[record.thread_id] = record
        self.thread_runs[record.thread_id] = []
        self.timelines[record.thread_id] = []
        return record

    def get_thread(self, thread_id: str) -> ThreadRecord:
        try:
            return self.threads[thread_id]
        except KeyError:
            raise NotFound(f"Thread {thread_id} not found.") from None

    def replace_thread(self, thread_id: str, **changes: Any) -> ThreadRecord:
        record = dataclasses.replace(self.get_thread(thread_id), **changes)
        self.threads[thread_id] = record
        return record

    def delete_thread(self, thread_id: str) -> list[RunRecord]:
        """Forget a thread, its runs and its timeline; return the runs it had."""
        self.get_thread(thread_id)
        runs = [self.runs.pop(run_id) for run_id in self.thread_runs.pop(thread_id, [])]
        self.rolled_back = {r: t for r, t in self.rolled_back.items() if t != thread_id}
        self.rolled_back_runs = {
            r: run for r, run in self.rolled_back_runs.items() if run.thread_id != thread_id
        }
        self.deleting.discard(thread_id)
        del self.threads[thread_id]
        self.timelines.pop(thread_id, None)
        self._active.pop(thread_id, None)
        self._holding.pop(thread_id, None)
        self._last_ended.pop(thread_id, None)
        self._queues.pop(thread_id, None)
        return runs

    def thread_status(self, thread_id: str) -> ThreadStatus:
        thread = self.get_thread(thread_id)
        return thread_status(
            self.status_runs(thread_id), thread.head, state_updated_at=thread.state_updated_at
        )

    def search_threads(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        ids: Iterable[str] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str = "created_at",
        sort_order: str = "desc",
        where: Callable[[Mapping[str, Any]], bool] | None = None,
    ) -> list[ThreadRecord]:
        """`where` is a predicate on metadata (an auth handler's filter)."""
        wanted_ids = set(ids) if ids is not None else None
        found = [
            t
            for t in self.threads.values()
            if not t.temporary
            and (where is None or where(t.metadata))
            and (wanted_ids is None or t.thread_id in wanted_ids)
            and (not metadata or matches(t.metadata, metadata))
            and (not values or matches(_decode(t.head.values), values))
            and (status is None or self.thread_status(t.thread_id) == status)
        ]
        key: Callable[[ThreadRecord], Any]
        if sort_by == "status":
            key = lambda t: self.thread_status(t.thread_id)  # noqa: E731
        else:
            key = lambda t: getattr(t, sort_by)  # noqa: E731
        found.sort(key=key, reverse=sort_order == "desc")
        return _page(found, limit, offset)

    def set_head(self, thread_id: str, head: Head, *, at: float) -> None:
        if thread_id in self.threads:
            self.replace_thread(thread_id, head=head, updated_at=at, state_updated_at=at)

    # -- runs --------------------------------------------------------------

    def insert_run(self, run: RunRecord) -> RunRecord:
        self.get_thread(run.thread_id)
        self._add_run(run)
        return run

    def _add_run(self, run: RunRecord) -> None:
        self.runs[run.run_id] = run
        self.thread_runs[run.thread_id].append(run.run_id)
        if run.phase == "pending":
            entry = (run.scheduled_at, run.seq, run.run_id)
            heapq.heappush(self._queues.setdefault(run.thread_id, []), entry)
        self._index(run)

    def _index(self, run: RunRecord) -> None:
        active = self._active.setdefault(run.thread_id, {})
        holding = self._holding.setdefault(run.thread_id, {})
        if run.phase in ACTIVE:
            active[run.run_id] = None
        else:
            active.pop(run.run_id, None)
        if run.phase in HOLDING:
            holding[run.run_id] = None
        else:
            holding.pop(run.run_id, None)
        if run.ended_seq is not None:
            last = self.runs.get(self._last_ended.get(run.thread_id, ""))
            if last is None or (last.ended_seq or 0) <= run.ended_seq:
                self._last_ended[run.thread_id] = run.run_id

    def replace_run(self, run: RunRecord) -> RunRecord:
        if run.run_id not in self.runs:
            raise NotFound(f"Run {run.run_id} not found.")
        self.runs[run.run_id] = run
        self._index(run)
        return run

    def forget_run(self, run_id: str, *, rolled_back: bool = False) -> None:
        run = self.runs.pop(run_id, None)
        if run is None:
            return
        if rolled_back:
            self.rolled_back[run_id] = run.thread_id
        if run.thread_id in self.thread_runs:
            self.thread_runs[run.thread_id].remove(run_id)
        self._active.get(run.thread_id, {}).pop(run_id, None)
        self._holding.get(run.thread_id, {}).pop(run_id, None)
        if self._last_ended.get(run.thread_id) == run_id:
            # rare (a deleted run): find the new last one the slow way
            del self._last_ended[run.thread_id]
            for other in self.runs_of(run.thread_id):
                self._index(other)

    def keep_rolled_back(self, final: RunRecord) -> list[str]:
        """Keep the final record of a run a rollback deleted (`forget_run` forgot the run);
        return the ids of the oldest ones dropped to stay within `rolled_back_limit`."""
        self.rolled_back_runs[final.run_id] = final
        dropped: list[str] = []
        while len(self.rolled_back_runs) > self.rolled_back_limit:
            oldest = next(iter(self.rolled_back_runs))
            del self.rolled_back_runs[oldest]
            dropped.append(oldest)
        return dropped

    def listed_runs(self, thread_id: str | None = None) -> list[RunRecord]:
        """Every run nbruns's own listing shows, in created order: the runs clients see,
        the ones a rollback is deleting, and the rolled-back records kept."""
        # the runs clients cannot see are exactly the ones a rollback is deleting
        shown = list(self.runs.values()) if thread_id is None else self.runs_of(thread_id)
        kept = self.rolled_back_runs.values()
        shown.extend(r for r in kept if thread_id is None or r.thread_id == thread_id)
        return sorted(shown, key=lambda r: r.seq)

    def was_rolled_back(self, thread_id: str, run_id: str) -> bool:
        run = self.runs.get(run_id)
        hidden = run is not None and run.thread_id == thread_id and public_status(run) is None
        return hidden or self.rolled_back.get(run_id) == thread_id

    def find_run(self, run_id: str) -> RunRecord | None:
        """The record even if clients can no longer see it (a rollback in progress)."""
        return self.runs.get(run_id)

    def get_run(self, thread_id: str, run_id: str) -> RunRecord:
        """A run as clients see it: hidden once a rollback deleted it."""
        run = self.runs.get(run_id)
        if run is None or run.thread_id != thread_id or public_status(run) is None:
            raise NotFound(f"Run {run_id} not found.")
        return run

    def runs_of(self, thread_id: str) -> list[RunRecord]:
        return [self.runs[run_id] for run_id in self.thread_runs.get(thread_id, ())]

    def active_runs(self, thread_id: str) -> list[RunRecord]:
        """The thread's runs that hold or wait for it, oldest first."""
        return [self.runs[run_id] for run_id in self._active.get(thread_id, ())]

    def status_runs(self, thread_id: str) -> list[RunRecord]:
        """The runs a thread's status depends on: the active ones and the last to end."""
        runs = self.active_runs(thread_id)
        last = self.runs.get(self._last_ended.get(thread_id, ""))
        return runs if last is None else [*runs, last]

    def inflight(self, thread_id: str) -> list[RunRecord]:
        return [r for r in self.active_runs(thread_id) if r.phase in INFLIGHT]

    def all_inflight(self) -> list[RunRecord]:
        """Every thread's in-flight runs, oldest first."""
        runs = [r for tid in self._active for r in self.inflight(tid)]
        return sorted(runs, key=lambda r: r.seq)

    def holds_thread(self, thread_id: str) -> bool:
        """Whether a started run (running, or stopping) still holds the thread: the one
        record of it; the executor starts the next run only once this is False."""
        return bool(self._holding.get(thread_id))

    def next_pending(self, thread_id: str) -> RunRecord | None:
        """The pending run that goes next: earliest scheduled, then first created."""
        queue = self._queues.get(thread_id)
        while queue:
            run = self.runs.get(queue[0][2])
            if run is not None and run.phase == "pending":
                return run
            heapq.heappop(queue)
        return None

    def list_runs(
        self, thread_id: str, *, limit: int = 10, offset: int = 0, status: str | None = None
    ) -> list[RunRecord]:
        """Newest first, as the reference orders them: by when each run was due to start
        (`after_seconds` moves a run ahead of runs created after it), then by creation."""
        self.get_thread(thread_id)
        visible = [
            r
            for r in self.runs_of(thread_id)
            if (shown := public_status(r)) is not None and (status is None or shown == status)
        ]
        visible.sort(key=lambda r: (r.scheduled_at, r.seq), reverse=True)
        return _page(visible, limit, offset)

    # -- timeline ----------------------------------------------------------

    def record(
        self, kind: str, thread_id: str, run_id: str | None, *, at: float, **detail: Any
    ) -> None:
        events = self.timelines.get(thread_id)
        if events is not None:
            events.append(TimelineEvent(self.next_seq(), at, thread_id, run_id, kind, detail))

    def timeline(self, thread_id: str | None = None) -> list[TimelineEvent]:
        if thread_id is not None:
            self.get_thread(thread_id)
            return list(self.timelines.get(thread_id, ()))
        merged = [e for events in self.timelines.values() for e in events]
        merged.sort(key=lambda e: e.seq)
        return merged
