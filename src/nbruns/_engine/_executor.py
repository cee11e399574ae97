"""The executor: carries out the core's decisions on an asyncio loop.

It owns every task it starts (one per started run, plus finalizers), runs one
run per thread at a time in FIFO order, and starts the next run the moment a
thread is free: no polling. A cancelled run is awaited, including any blocking
node still running in a worker thread, before its successor's first step.

Each started run's task goes through the states of `_run_task.TaskState`.
Assistants and threads are composed in (`Assistants`, `Threads`), over the same
store, graphs and checkpointer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any, Literal

from .._core._errors import BadRequest, Conflict, InvalidInput, NotFound
from .._core._lifecycle import ACTIVE, INFLIGHT, public_status, transition
from .._core._records import AssistantRecord, Head, RunPhase, RunRecord, ThreadRecord
from .._core._store import MemoryStore
from .._core._strategies import Reject, Supersede, decide
from .._core._types import CANCEL_ACTIONS, CancelAction, CancelSource
from .._persistence._checkpoints import NbrunsMemorySaver, NbrunsSaver
from . import _serde
from ._assistants import Assistants
from ._drive import drive, error_body
from ._graphs import GraphRegistry
from ._pool import TrackingPool, current_run
from ._run_task import RunTask, TaskState
from ._runspec import RunSpec, assistant_id_for_graph, is_uuid, run_kwargs
from ._runstream import RunStream
from ._threads import Threads

__all__ = ["LOOP_TEARDOWN", "NO_RUN_BODY", "Executor", "RunSpec"]

NO_RUN_BODY = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}
"""What join answers for a run deleted (rolled back) while it was being waited on."""

logger = logging.getLogger(__name__)

# a task still running this long after a cancel gets cancelled again, a bounded number of times
_RECANCEL_AFTER = 0.2
_MAX_RECANCELS = 50

# Only the loop's teardown cancels a run task without the executor having asked
# (asyncio.run returning, a LoopThread draining leftovers): the reason all its runs get.
LOOP_TEARDOWN = "the event loop running the nbruns server is shutting down"


def _stopped_from_outside(
    run: RunRecord, now: float, reason: str, source: CancelSource
) -> RunRecord:
    """A running run whose task ended without the executor stopping it."""
    return transition(
        run,
        "stopping",
        at=now,
        cancel_action="interrupt",
        cancel_reason=reason,
        cancel_source=source,
    )


def _cancel_action(action: str) -> CancelAction:
    # the API hands over the query parameter it checked; a caller that did not is told
    if action == "interrupt":
        return "interrupt"
    if action == "rollback":
        return "rollback"
    raise InvalidInput(f"Invalid cancel action {action!r}: use one of {CANCEL_ACTIONS}")


class Executor:
    """Runs, threads and assistants on one event loop, over a `MemoryStore`."""

    def __init__(
        self,
        *,
        store: MemoryStore | None = None,
        saver: NbrunsSaver | None = None,
        clock: Callable[[], float] = time.time,
        run_timeout: float | None = None,
    ) -> None:
        self._store = store or MemoryStore()
        self.saver: NbrunsSaver = saver or NbrunsMemorySaver()
        self.graphs = GraphRegistry(self.saver)
        self.clock = clock
        self.run_timeout = run_timeout
        self._run_tasks: dict[str, RunTask] = {}  # run id -> its task, until released
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: dict[str, RunStream] = {}
        # run id -> future of (join body, last values the run produced)
        self._done: dict[str, asyncio.Future[tuple[Any, Any]]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pool: TrackingPool | None = None
        self._pool_owned = False
        self._closed = False
        self._compose()

    @property
    def store(self) -> MemoryStore:
        return self._store

    @store.setter
    def store(self, store: MemoryStore) -> None:
        """Swap the store (served mode opens its durable one after the executor exists)."""
        self._store = store
        self._compose()

    def _compose(self) -> None:
        """Build the parts that share the store, graphs and checkpointer (again, after a swap)."""
        self.assistants = Assistants(self._store, self.graphs, clock=self.clock)
        self.threads = Threads(
            self._store,
            self.graphs,
            self.saver,
            clock=self.clock,
            stop_runs=self._stop_all,
            wake_joiners=self._wake_joiners,
        )
        # the names the API layer has always called on the executor
        self.resolve_assistant = self.assistants.resolve
        self.create_assistant = self.assistants.create
        self.update_assistant = self.assistants.update
        self.create_thread = self.threads.create
        self.update_thread = self.threads.update
        self.delete_thread = self.threads.delete
        self.copy_thread = self.threads.copy
        self.get_state = self.threads.get_state
        self.get_history = self.threads.get_history
        self.update_state = self.threads.update_state

    # -- setup ---------------------------------------------------------------

    def install_pool(self, loop: asyncio.AbstractEventLoop, *, owned: bool = True) -> None:
        """Make the tracking pool the loop's default executor.

        On a loop nbruns does not own (`owned=False`, a server on the caller's loop)
        the pool goes in only if the loop has no default executor yet, and stays the
        loop's when the server closes. Without it, a sync node that ignores its
        cancellation may still be running when the run's successor starts.
        """
        if not owned and getattr(loop, "_default_executor", None) is not None:
            return
        self._pool = TrackingPool()
        self._pool_owned = owned
        loop.set_default_executor(self._pool)

    def use_saver(self, saver: NbrunsSaver) -> None:
        """Swap the checkpointer; only before any graph is registered (served mode opens
        its SQLite saver on uvicorn's loop, after the app exists)."""
        if self.graphs.ids():
            raise RuntimeError("use_saver must be called before graphs are registered")
        self.saver = saver
        self.graphs = GraphRegistry(saver)
        self._compose()

    def register_graphs(self, graphs: Mapping[str, Any]) -> None:
        for graph_id in self.graphs.register(graphs):
            if assistant_id_for_graph(graph_id) not in self.store.assistants:
                # (a durable store remembers it from an earlier process)
                self.assistants.put_system(graph_id)

    async def recover(self) -> None:
        """After a restart on a durable store: settle runs the old process left behind.

        Pending runs stay pending and start now. Runs that were running come back
        as `error` with a reason saying the process stopped; runs that were stopping
        end as they were asked to (a rollback deletes the run and its checkpoints).
        """
        now = self.clock()
        for run in list(self.store.runs.values()):
            if run.phase == "running":
                error = {
                    "error": "ProcessStopped",
                    "message": "the nbruns process stopped while this run was running; "
                    "its completed steps are kept in the thread's checkpoints",
                }
                self._end_run(
                    run, "error", now, error=error, result=_serde.dumps({"__error__": error})
                )
            elif run.phase == "stopping" and run.cancel_action == "rollback":
                await self.saver.adelete_for_runs([run.run_id], thread_id=run.thread_id)
                self._drop_rolled_back(run, now)
            elif run.phase == "stopping":
                self._end_run(run, "interrupted", now)
        for thread in list(self.store.threads.values()):
            if thread.graph_id is not None and thread.graph_id in self.graphs:
                graph = self.graphs.get(thread.graph_id)
                await self.threads.refresh_head_safely(thread.thread_id, graph)
            self._schedule(thread.thread_id)

    # -- runs: creating ------------------------------------------------------

    def create_run(
        self,
        thread_id: str | None,
        spec: RunSpec,
        *,
        stream_modes: Collection[str] | None = None,
    ) -> tuple[RunRecord, AsyncIterator[tuple[int, str, bytes]] | None]:
        """Decide and insert a run, atomically (no awaits). With `stream_modes`, also
        return a reader registered before the run can publish anything."""
        assistant = self.check_run(thread_id, spec)
        thread = self._thread_for_run(thread_id, spec, assistant)
        tid = thread.thread_id
        run_id = str(uuid.uuid4())
        now = self.clock()
        decision = decide(spec.multitask_strategy, self.store.inflight(tid), run_id)
        if isinstance(decision, Reject):
            self.store.record("rejected", tid, None, at=now, strategy=spec.multitask_strategy)
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
            multitask_strategy=spec.multitask_strategy,
            metadata=dict(spec.metadata),
            kwargs=run_kwargs(run_id, spec, assistant, thread),
        )
        self.store.insert_run(run)
        if thread.graph_id != assistant.graph_id:
            self.store.replace_thread(tid, graph_id=assistant.graph_id, updated_at=now)
        self.store.record(
            "created",
            tid,
            run_id,
            at=now,
            strategy=spec.multitask_strategy,
            after_seconds=spec.after_seconds,
        )
        stream = self._streams[run_id] = RunStream(run_id, resumable=spec.stream_resumable)
        reader = stream.reader(stream_modes) if stream_modes is not None else None
        if isinstance(decision, Supersede):
            for old_id in decision.run_ids:
                old = self.store.runs[old_id]
                self._cancel(
                    old, decision.action, decision.reason, "superseded", superseded_by=run_id
                )
        self._schedule(tid)
        return run, reader

    def check_run(self, thread_id: str | None, spec: RunSpec) -> AssistantRecord:
        """Raise what `create_run` would raise before it changes anything."""
        if self._closed:
            raise Conflict("The nbruns server is closed; create a new one.")
        assistant = self._assistant_for_run(spec.assistant_id, thread_id)
        if spec.command and spec.command.get("resume") is not None and thread_id is None:
            raise BadRequest("You must provide a thread_id when resuming.")
        if (
            thread_id is not None
            and thread_id not in self.store.threads
            and spec.if_not_exists != "create"
        ):
            raise NotFound("Thread or assistant not found.")
        return assistant

    def _assistant_for_run(self, assistant_id: str, thread_id: str | None) -> AssistantRecord:
        try:
            return self.assistants.resolve(assistant_id)
        except NotFound:
            if not is_uuid(assistant_id):
                graphs = ", ".join(repr(g) for g in self.graphs.ids())
                raise InvalidInput(
                    f"Invalid assistant: {assistant_id!r}. Must be either an assistant UUID "
                    f"or one of the registered graph ids: {graphs}"
                ) from None
            raise NotFound("Thread or assistant not found.") from None

    def _thread_for_run(
        self, thread_id: str | None, spec: RunSpec, assistant: AssistantRecord
    ) -> ThreadRecord:
        if thread_id is None:
            return self.threads.create(graph_id=assistant.graph_id, temporary=True)
        existing = self.store.threads.get(thread_id)
        if existing is not None:
            if existing.graph_id is None:
                return self.store.replace_thread(
                    thread_id,
                    graph_id=assistant.graph_id,
                    metadata={
                        **existing.metadata,
                        "graph_id": assistant.graph_id,
                        "assistant_id": assistant.assistant_id,
                    },
                )
            return existing
        if spec.if_not_exists == "create":
            return self.threads.create(thread_id=thread_id, graph_id=assistant.graph_id)
        raise NotFound("Thread or assistant not found.")

    # -- runs: cancelling ----------------------------------------------------

    def cancel(self, thread_id: str, run_id: str, action: str) -> RunRecord:
        """Cancel one run for a client; `action` is a `CancelAction`."""
        stop = _cancel_action(action)
        try:
            run = self.store.get_run(thread_id, run_id)
        except NotFound:
            raise NotFound("No runs found to cancel.") from None
        if run.phase not in INFLIGHT:
            raise NotFound(
                "No matching runs to cancel. Please verify the thread ID and run IDs are "
                "correct, and the runs haven't been deleted or completed. (Run "
                f"{run_id} already finished with status {public_status(run)}.)"
            )
        self._cancel(run, stop, f"cancelled by client (action={action})", "client")
        return self.store.runs.get(run_id, run)

    def cancel_many(
        self,
        *,
        thread_id: str | None = None,
        run_ids: Collection[str] | None = None,
        status: str | None = None,
        action: str = "interrupt",
    ) -> int:
        """Cancel runs for a client, by ids or by status; `action` is a `CancelAction`."""
        stop = _cancel_action(action)
        if run_ids is not None:
            if thread_id is None:
                raise InvalidInput("run_ids needs thread_id: pass both, or pass status alone.")
            targets = [self.store.get_run(thread_id, r) for r in run_ids]
        else:
            wanted = INFLIGHT if status in (None, "all") else {status}
            inflight = self.store.inflight(thread_id) if thread_id else self.store.all_inflight()
            targets = [r for r in inflight if r.phase in wanted]
        count = 0
        for run in targets:
            current = self.store.runs.get(run.run_id)
            if current is not None and current.phase in INFLIGHT:
                self._cancel(current, stop, f"cancelled by client (action={action})", "client")
                count += 1
        return count

    def _cancel(
        self,
        run: RunRecord,
        action: CancelAction,
        reason: str,
        source: CancelSource,
        *,
        superseded_by: str | None = None,
    ) -> None:
        """Cancel a pending or running run now; a running one finishes stopping in its task."""
        now = self.clock()
        kind = "superseded" if superseded_by else "cancelled"
        self.store.record(
            kind, run.thread_id, run.run_id, at=now, action=action, by=superseded_by, reason=reason
        )
        if run.phase == "pending":
            self._finish_pending(run, action, reason, source, superseded_by, now)
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
        if run_task.request_stop(reason, at=now) and run_task.task is not None:
            run_task.task.cancel(reason)
            self._watch_stop(run_task, reason, attempt=1)

    def _watch_stop(self, run_task: RunTask, reason: str, attempt: int) -> None:
        """Cancel again until the task stops: a node may swallow one cancellation (as
        `asyncio.wait_for` can on Python 3.11). Never while nbruns itself cleans up."""

        def check() -> None:
            task = run_task.task
            if task is None or task.done() or run_task.state is TaskState.RELEASED:
                return
            if run_task.state is not TaskState.CLEANING_UP:
                task.cancel(reason)
            if attempt < _MAX_RECANCELS:
                self._watch_stop(run_task, reason, attempt + 1)

        asyncio.get_running_loop().call_later(_RECANCEL_AFTER, check)

    def _finish_pending(
        self,
        run: RunRecord,
        action: CancelAction,
        reason: str,
        source: CancelSource,
        superseded_by: str | None,
        now: float,
    ) -> None:
        if action == "rollback":
            self._drop_rolled_back(run, now)
        else:
            self._end_run(
                run,
                "interrupted",
                now,
                cancel_action=action,
                cancel_reason=reason,
                cancel_source=source,
                superseded_by=superseded_by,
                result=self.store.get_thread(run.thread_id).head.values,
            )
        self._close_stream(run.run_id)
        self._wake_joiners(run.run_id)
        self._schedule(run.thread_id)

    async def _stop_all(
        self, runs: list[RunRecord], action: CancelAction, reason: str, source: CancelSource
    ) -> None:
        tasks = []
        for run in runs:
            current = self.store.runs.get(run.run_id)
            if current is not None and current.phase in INFLIGHT:
                self._cancel(current, action, reason, source)
            run_task = self._run_tasks.get(run.run_id)
            if run_task is not None and run_task.task is not None:
                tasks.append(run_task.task)
        if tasks:
            await asyncio.wait(tasks)

    # -- runs: scheduling and executing --------------------------------------

    def _schedule(self, thread_id: str) -> None:
        """Start the thread's next pending run if the thread is free and the run is due."""
        if self._closed or self.store.holds_thread(thread_id):
            return
        run = self.store.next_pending(thread_id)
        if run is None:
            return
        now = self.clock()
        if run.scheduled_at > now:
            timer = self._timers.pop(thread_id, None)
            if timer is not None:
                timer.cancel()
            loop = asyncio.get_running_loop()
            self._timers[thread_id] = loop.call_later(
                run.scheduled_at - now, self._on_timer, thread_id
            )
            return
        started = self.store.replace_run(transition(run, "running", at=now, started_at=now))
        run_task = self._run_tasks[run.run_id] = RunTask(run.run_id, thread_id)
        self.store.record("started", thread_id, run.run_id, at=now)
        task = asyncio.get_running_loop().create_task(
            self._execute(run_task, started), name=f"nbruns-run-{run.run_id}"
        )
        run_task.task = task
        self._own(task)
        task.add_done_callback(lambda t: self._after_task(run_task, t))

    def _on_timer(self, thread_id: str) -> None:
        self._timers.pop(thread_id, None)
        self._schedule(thread_id)

    def _own(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _after_task(self, run_task: RunTask, task: asyncio.Task[Any]) -> None:
        # Only a task cancelled from outside before its first step (the loop being torn
        # down without aclose) or ended by a BaseException from its node (Ctrl-C landing
        # in a node of a server on the caller's loop) gets here unreleased; still never
        # leave a run running. Only the teardown stops the whole executor.
        if run_task.state is TaskState.RELEASED:
            return
        if run_task.state is not TaskState.CLEANING_UP:
            run_task.advance(TaskState.CLEANING_UP)
        exc = None if task.cancelled() else task.exception()  # retrieved: asyncio is quiet
        source: CancelSource
        if exc is None:
            reason, source = LOOP_TEARDOWN, "shutdown"
            self.stop_all(reason)
        else:
            reason, source = f"stopped: its task raised {type(exc).__name__}", "crashed"
            logger.warning("run %s ended by %r", run_task.run_id, exc, exc_info=exc)
        run = self.store.runs.get(run_task.run_id)
        if run is not None and run.phase in ("running", "stopping"):
            now = self.clock()
            if run.phase == "running":
                run = _stopped_from_outside(run, now, reason, source)
            self.store.replace_run(
                transition(
                    run,
                    "interrupted" if run.cancel_action != "rollback" else "rolled_back",
                    at=now,
                    ended_at=now,
                    ended_seq=self.store.next_seq(),
                )
            )
        self._release(run_task)

    async def _execute(self, run_task: RunTask, run: RunRecord) -> None:
        current_run.set(run.run_id)
        if run_task.stopping:  # stopped before its body began
            await self._clean_up(run_task)
            return
        run_task.advance(TaskState.DRIVING)
        try:
            run_task.mark = await self.saver.amark(run.thread_id, run.kwargs.get("checkpoint_id"))
        except asyncio.CancelledError:
            await self._clean_up(run_task)
            raise
        graph = self.graphs.get(run.graph_id)
        stream = self._streams.get(run.run_id)
        try:
            await drive(
                graph,
                run,
                stream,
                progress=run_task.progress,
                control=run_task.control,
                on_step=lambda nodes: self.store.record(
                    "step", run.thread_id, run.run_id, at=self.clock(), nodes=nodes
                ),
                time_limit=self.run_timeout,
            )
        except asyncio.CancelledError:
            await self._clean_up(run_task)
            raise
        except Exception as exc:  # GraphDrained too: the drain a stop asked for
            if run_task.stopping:
                await self._clean_up(run_task)
                return
            error = error_body(exc)
            if stream is not None:
                stream.publish("error", "error", error)
            if isinstance(exc, TimeoutError):
                timed_out = run_task.progress.timed_out  # else a node's own TimeoutError
                await self._finalize(
                    run_task,
                    graph,
                    "timeout",
                    error=error,
                    source="run_timeout" if timed_out else None,
                )
            else:
                await self._finalize(run_task, graph, "error", error=error)
        else:
            if run_task.stopping:
                await self._clean_up(run_task)
            else:
                await self._finalize(run_task, graph, "success")

    async def _finalize(
        self,
        run_task: RunTask,
        graph: Any,
        status: Literal["success", "error", "timeout"],
        *,
        error: Mapping[str, Any] | None = None,
        source: CancelSource | None = None,
    ) -> None:
        """Record how a run that ended by itself ended, then release its thread."""
        thread_id, run_id = run_task.thread_id, run_task.run_id
        run = self.store.runs[run_id]
        progress = run_task.progress
        values = progress.values if status == "success" else None
        clean = values is not None and not progress.paused
        head = Head()
        if clean and thread_id in self.store.threads:
            # a run that ended without pausing left nothing to do: its last values are
            # the head, so skip reloading the checkpoint it just wrote
            head = Head(values=_serde.dumps_state(values))
            self.store.set_head(thread_id, head, at=self.clock())
        elif thread_id in self.store.threads:
            head = await self.threads.refresh_head_safely(thread_id, graph)
        body: bytes | None
        if status != "success":
            body = _serde.dumps({"__error__": dict(error or {})})
        elif progress.interrupts:
            merged = dict(values) if isinstance(values, Mapping) else {}
            body = _serde.dumps_state({**merged, "__interrupt__": progress.interrupts})
        elif clean:
            body = head.values
        else:
            body = _serde.dumps_state(values) if values is not None else head.values
        self._end_run(run, status, self.clock(), error=error, result=body, cancel_source=source)
        self._release(run_task)
        if run.kwargs.get("temporary") and run.kwargs.get("on_completion", "delete") == "delete":
            await self.threads.delete(thread_id)

    async def _clean_up(self, run_task: RunTask) -> None:
        """End a stopped run as its stop asked (keep its steps, or delete them and it)."""
        if run_task.state is TaskState.RELEASED:
            return
        run_task.advance(TaskState.CLEANING_UP)
        run_id, thread_id = run_task.run_id, run_task.thread_id
        await self._wait_for_blocking_nodes(run_id)
        run = self.store.runs.get(run_id)
        if run is not None and run.phase == "running":
            # cancelled from outside the executor (loop teardown): keep what it did
            run = self.store.replace_run(
                _stopped_from_outside(run, self.clock(), LOOP_TEARDOWN, "shutdown")
            )
            self.stop_all(LOOP_TEARDOWN)
        action = run.cancel_action if run is not None else "rollback"
        graph = self.graphs.get(run.graph_id) if run is not None else None
        if action == "rollback" and thread_id in self.store.threads:
            await self.saver.adelete_for_runs([run_id], thread_id=thread_id)
            # a resume wrote onto the checkpoint the run started from
            await self.saver.arestore_writes(thread_id, run_task.mark)
        elif run_task.stop_requested_at is not None and thread_id in self.store.threads:
            # keep the steps completed before the interrupt, not any a node that
            # ignored the cancellation went on to finish
            await self.saver.atrim_run(thread_id, run_id, run_task.stop_requested_at)
        head = self.store.threads[thread_id].head if thread_id in self.store.threads else Head()
        if graph is not None and thread_id in self.store.threads:
            head = await self.threads.refresh_head_safely(thread_id, graph)
        now = self.clock()
        if run is not None:
            if action == "rollback":
                self._drop_rolled_back(run, now)
            else:
                self._end_run(run, "interrupted", now, result=head.values)
        self._release(run_task)

    def _end_run(self, run: RunRecord, phase: RunPhase, now: float, **changes: Any) -> None:
        """Finish `run` in `phase` (what clients will read) and log it on the timeline."""
        ended_seq = self.store.next_seq()
        self.store.replace_run(
            transition(run, phase, at=now, ended_at=now, ended_seq=ended_seq, **changes)
        )
        self.store.record("finished", run.thread_id, run.run_id, at=now, status=phase)

    def _drop_rolled_back(self, run: RunRecord, now: float) -> None:
        """A rollback deletes its run: 404 from now on, and join answers like the reference."""
        self.store.forget_run(run.run_id, rolled_back=True)
        self.store.record("rolled_back", run.thread_id, run.run_id, at=now)

    async def _wait_for_blocking_nodes(self, run_id: str) -> None:
        jobs = self._pool.jobs.pop(run_id, []) if self._pool is not None else []
        running = [asyncio.wrap_future(j) for j in jobs if not j.done()]
        if running:
            await asyncio.wait(running)

    def _release(self, run_task: RunTask) -> None:
        """The run's record is final: free its thread for the next run."""
        run_task.advance(TaskState.RELEASED)
        self._run_tasks.pop(run_task.run_id, None)
        if self._pool is not None:
            self._pool.jobs.pop(run_task.run_id, None)
        self._close_stream(run_task.run_id)
        self._wake_joiners(run_task.run_id, run_task.progress.values)
        if run_task.thread_id in self.store.threads:
            self._schedule(run_task.thread_id)

    def _close_stream(self, run_id: str) -> None:
        stream = self._streams.pop(run_id, None)
        if stream is not None:
            stream.close()

    def _wake_joiners(self, run_id: str, last_values: Any = None) -> None:
        waiter = self._done.pop(run_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result((self._join_body(run_id), last_values))

    def _join_body(self, run_id: str) -> Any:
        run = self.store.find_run(run_id)
        if run is None or public_status(run) is None:
            return NO_RUN_BODY
        return run.result if run.result is not None else {}

    # -- runs: waiting and reading -------------------------------------------

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
        return await asyncio.shield(self.outcome_future(run_id))

    def outcome_future(self, run_id: str) -> asyncio.Future[tuple[Any, Any]]:
        """A future of `outcome`, shared by every waiter; never cancel it, wait on it."""
        run = self.store.find_run(run_id)
        if run is None or run.phase not in ACTIVE:
            done = asyncio.get_running_loop().create_future()
            done.set_result((self._join_body(run_id), None))
            return done
        waiter = self._done.get(run_id)
        if waiter is None:
            waiter = self._done[run_id] = asyncio.get_running_loop().create_future()
        return waiter

    def reader(
        self, thread_id: str, run_id: str, modes: Collection[str] | None, after: int | None
    ) -> AsyncIterator[tuple[int, str, bytes]] | None:
        """A reader of a live run's events, or None once the run has finished."""
        self.store.get_run(thread_id, run_id)
        stream = self._streams.get(run_id)
        return None if stream is None else stream.reader(modes, after=after)

    # -- shutdown ------------------------------------------------------------

    async def aclose(self, reason: str = "the nbruns server shut down") -> None:
        """Interrupt every run with `reason`, await every task, then refuse new runs."""
        self.stop_all(reason)
        while self._tasks:
            await asyncio.wait(list(self._tasks))
        if self._pool is not None and self._pool_owned:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def stop_all(self, reason: str) -> None:
        """Refuse new runs, end pending ones and stop running ones with `reason`, start
        nothing more. `aclose` then awaits them; on its own this is what a loop being
        torn down gets (it cancels the run tasks itself). Repeating it changes nothing."""
        self._closed = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for run in list(self.store.runs.values()):
            run_task = self._run_tasks.get(run.run_id)
            if run.phase not in INFLIGHT or (
                run_task is not None and run_task.state is TaskState.CLEANING_UP
            ):
                continue  # a run cleaning up now must not be cancelled mid-cleanup
            # Say so on its stream: a stream that just closes sends the SDK off to
            # reconnect to a server that is going away.
            stream = self._streams.get(run.run_id)
            if stream is not None:
                stream.publish("error", "error", {"error": "ServerShutdown", "message": reason})
            self._cancel(run, "interrupt", reason, "shutdown")
