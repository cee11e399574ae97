"""Letting a new run in: check it, choose its strategy and policy, decide, insert.

`Admissions.create` is `Executor.create_run`: synchronous (no awaits) on the server's
loop, so a run's decision and its insertion are atomic. What refuses a run (a closed
server, an unknown assistant or thread, a bad policy, a failing choose hook) raises
in `admit`, before anything changes; a batch admits every item before creating any.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Collection, MutableMapping
from typing import NamedTuple

from .._core._errors import BadRequest, Conflict, NotFound
from .._core._policy import Policy
from .._core._records import AssistantRecord, RunRecord
from .._core._store import MemoryStore
from .._core._strategies import Enqueue, Gather, Reject, Steer, Supersede, decide
from .._core._types import CancelSource, NbrunsStrategy
from ._assistants import Assistants
from ._merging import Merging
from ._policies import Policies
from ._runspec import RunSpec, run_kwargs
from ._runstream import RunStream
from ._stops import Stops
from ._threads import Threads
from ._threadstream import ThreadFeeds

__all__ = ["Admission", "Admissions"]


class Admission(NamedTuple):
    """A run `Admissions.admit` let in: its assistant, strategy and policy."""

    assistant: AssistantRecord
    strategy: NbrunsStrategy
    policy: Policy


class Admissions:
    """Creates runs for the executor, over its store and parts.

    `schedule(thread_id)` is the executor's: start the thread's next run if it may;
    `closed()` says whether the server refuses new runs.
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        clock: Callable[[], float],
        assistants: Assistants,
        threads: Threads,
        policies: Policies,
        merging: Merging,
        stops: Stops,
        streams: MutableMapping[str, RunStream],
        thread_feeds: ThreadFeeds,
        schedule: Callable[[str], None],
        closed: Callable[[], bool],
    ) -> None:
        self.store = store
        self.clock = clock
        self.assistants = assistants
        self.threads = threads
        self.policies = policies
        self._merging = merging
        self._stops = stops
        self._streams = streams
        self.thread_feeds = thread_feeds
        self._schedule = schedule
        self._closed = closed

    def create(
        self,
        thread_id: str | None,
        spec: RunSpec,
        *,
        stream_modes: Collection[str] | None = None,
        admitted: Admission | None = None,
    ) -> tuple[RunRecord, AsyncIterator[tuple[int, str, bytes]] | None]:
        """Decide and insert a run, atomically (no awaits). With `stream_modes`, also
        return a reader registered before the run can publish anything. `admitted`:
        what `admit` answered for it (a batch admits every item first)."""
        assistant, strategy, policy = admitted or self.admit(thread_id, spec)
        thread = self.threads.for_run(thread_id, spec, assistant)
        tid = thread.thread_id
        run_id = str(uuid.uuid4())
        now = self.clock()
        decision = decide(strategy, self.store.inflight(tid), run_id, policy)
        if isinstance(decision, Reject):
            self.store.record("rejected", tid, None, at=now, strategy=strategy)
            raise Conflict(decision.detail)
        run = RunRecord(
            run_id=run_id,
            thread_id=tid,
            assistant_id=assistant.assistant_id,
            graph_id=assistant.graph_id,
            seq=self.store.next_seq(),
            created_at=now,
            updated_at=now,
            scheduled_at=now + spec.after_seconds,
            phase="pending",
            multitask_strategy=strategy,
            metadata=dict(spec.metadata),
            kwargs=self.policies.with_policy(run_kwargs(run_id, spec, assistant, thread), policy),
            steer_into=decision.into if isinstance(decision, Steer) else None,
        )
        self.store.insert_run(run)
        self._merging.note_policy(run, policy)
        if thread.graph_id != assistant.graph_id:
            self.store.replace_thread(tid, graph_id=assistant.graph_id, updated_at=now)
        self.store.record(
            "created",
            tid,
            run_id,
            at=now,
            strategy=strategy,
            after_seconds=spec.after_seconds,
        )
        stream = self._streams[run_id] = RunStream(
            run_id, resumable=spec.stream_resumable, modes=spec.stream_mode
        )
        self.thread_feeds.run_created(tid, stream)
        reader = stream.reader(stream_modes) if stream_modes is not None else None
        if isinstance(decision, Supersede):
            for old_id in decision.run_ids:
                old = self.store.runs[old_id]
                self._stops.stop(
                    old, decision.action, decision.reason, "superseded", superseded_by=run_id
                )
        else:
            self._end_waiting(decision, run_id)
        self._schedule(tid)
        self.policies.arm(run_id)  # pending_ttl_s, if it is still waiting
        return run, reader

    def _end_waiting(self, decision: Enqueue | Steer | Gather, run_id: str) -> None:
        """The waiting runs a new one replaces (latest) or pushes out of a full queue
        (max_pending, drop_oldest) end as interrupted, saying why."""
        replaced = decision.replace if isinstance(decision, Enqueue) else ()
        ending: list[tuple[str, CancelSource]] = [(i, "replaced") for i in replaced]
        ending += [(i, "dropped") for i in decision.drop]
        for old_id, source in ending:
            old = self.store.runs.get(old_id)
            if old is not None and old.phase == "pending":
                tid, at = old.thread_id, self.clock()
                if source == "replaced":
                    self.store.record("replaced", tid, old_id, at=at, by=run_id)
                else:
                    self.store.record("dropped", tid, old_id, at=at, reason=decision.reason)
                self._stops.stop(old, "interrupt", decision.reason, source, superseded_by=run_id)

    def admit(self, thread_id: str | None, spec: RunSpec) -> Admission:
        """Check a run and resolve its strategy and policy (the choose hook asked once),
        before anything changes: what refuses it raises here, and nothing is created."""
        assistant = self.check(thread_id, spec)
        strategy, policy = self.policies.resolve(thread_id, spec, assistant)
        return Admission(assistant, strategy, policy)

    def check(self, thread_id: str | None, spec: RunSpec) -> AssistantRecord:
        """Raise what `create` would raise before it changes anything."""
        if self._closed():
            raise Conflict("The nbruns server is closed; create a new one.")
        assistant = self.assistants.for_run(spec.assistant_id)
        self.policies.check_call(spec)  # a bad metadata["multitask"]: 422
        if spec.command and spec.command.get("resume") is not None and thread_id is None:
            raise BadRequest("You must provide a thread_id when resuming.")
        if (
            thread_id is not None
            and thread_id not in self.store.threads
            and spec.if_not_exists != "create"
        ):
            raise NotFound("Thread or assistant not found.")
        return assistant
