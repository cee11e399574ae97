"""The executor: carries out the core's decisions on an asyncio loop.

It owns every task it starts (one per started run), runs one run per thread at
a time in FIFO order, and starts the next run the moment a thread is free: no
polling. A cancelled run is awaited, including any blocking node still running
in a worker thread, before its successor's first step.

It decides, schedules and releases runs; the rest is composed in, over the same
store, graphs and checkpointer, each part in a module of its own:

- `Assistants` and `Threads`: the assistant and thread operations;
- `RunBody`: what each started run's task does, through the states of
  `_run_task.TaskState` (drive the graph, then record how the run ended);
- `Stops`: stopping runs early (cancel, supersede, delete a thread, shut down);
- `Outcomes`: waiting for runs (join);
- `Admissions`: creating runs (`create_run`, `admit`, `check_run`): check, decide,
  insert.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any

from langgraph.store.base import BaseStore

from .._core._lifecycle import INFLIGHT, transition
from .._core._records import RunRecord
from .._core._store import MemoryStore
from .._persistence._checkpoints import NbrunsMemorySaver, NbrunsSaver
from .._persistence._kvstore import open_kvstore
from . import _serde
from ._admission import Admission, Admissions
from ._assistants import Assistants
from ._crons import Crons
from ._graphs import GraphRegistry
from ._holds import Holds
from ._merging import GATHERED, Merging
from ._outcomes import NO_RUN_BODY, RUN_GONE_BODY, Outcomes
from ._policies import Choose, Policies, checked_hook
from ._pool import TrackingPool
from ._rolled_back import DEFAULT_KEEP_ROLLED_BACK_S, RolledBack
from ._run_body import LOOP_TEARDOWN, RunBody, drop_rolled_back, end_run
from ._run_task import RunTask, TaskState
from ._runspec import RunSpec, assistant_id_for_graph
from ._runstream import RunStream
from ._stops import Stops
from ._threads import Threads
from ._threadstream import ThreadFeeds

__all__ = ["LOOP_TEARDOWN", "NO_RUN_BODY", "Admission", "Executor", "RunSpec"]


class Executor:
    """Runs, threads and assistants on one event loop, over a `MemoryStore`."""

    def __init__(
        self,
        *,
        store: MemoryStore | None = None,
        saver: NbrunsSaver | None = None,
        kvstore: BaseStore | None = None,
        clock: Callable[[], float] = time.time,
        run_timeout: float | None = None,
        keep_rolled_back_s: float = DEFAULT_KEEP_ROLLED_BACK_S,
        choose: Choose | None = None,
    ) -> None:
        self._store = store or MemoryStore()
        self.saver: NbrunsSaver = saver or NbrunsMemorySaver()
        # the long-term memory store (LangGraph's BaseStore), handed to every graph
        self.kvstore: BaseStore = kvstore if kvstore is not None else open_kvstore().store
        self.graphs = GraphRegistry(self.saver, self.kvstore)
        self.clock = clock
        self.run_timeout = run_timeout
        # how long a rolled-back run's checkpoints stay restorable (`_rolled_back`)
        self.keep_rolled_back_s = keep_rolled_back_s
        self._run_tasks: dict[str, RunTask] = {}  # run id -> its task, until released
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: dict[str, RunStream] = {}
        self.thread_feeds = ThreadFeeds(self._streams)  # GET /threads/{id}/stream readers
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._pool: TrackingPool | None = None
        self._pool_owned = False
        self._closed = False
        self._choose = checked_hook(choose)  # the server's choose hook (see `_policies`)
        # crons fire through `create_run`, so each firing obeys its multitask strategy
        self.crons = Crons(
            clock=lambda: self.clock(),
            create_run=lambda thread_id, spec: self.create_run(thread_id, spec)[0],
            resolve_assistant=lambda assistant_id: self.assistants.resolve(assistant_id),
            thread_exists=lambda thread_id: thread_id in self.store.threads,
        )
        self._compose()

    @property
    def store(self) -> MemoryStore:
        return self._store

    @property
    def choose(self) -> Choose | None:
        """The server's `choose(new_input, thread)` hook: a new run's strategy when
        neither its call nor its policy names one."""
        return self._choose

    @choose.setter
    def choose(self, hook: Choose | None) -> None:
        self._choose = self.policies.choose = checked_hook(hook)

    def _compose(self) -> None:
        """Build the parts that share the store, graphs and checkpointer (again, after a swap)."""
        self._outcomes = Outcomes(self._store)
        self._merging = Merging(self._store, clock=self.clock, streams=self._streams)
        self._stops = Stops(
            self._store,
            self.saver,
            run_tasks=self._run_tasks,
            clock=self.clock,
            pending_ended=self._pending_ended,
        )
        self.policies = Policies(
            self._store,
            clock=self.clock,
            streams=self._streams,
            pending_ended=self._pending_ended,
            choose=self._choose,
        )
        self.assistants = Assistants(self._store, self.graphs, clock=self.clock)
        self.holds = Holds(
            self._store,
            clock=self.clock,
            settle=self.saver.settled,
            nodes_by_graph=self.graphs.node_names,
        )
        self.threads = Threads(
            self._store,
            self.graphs,
            self.saver,
            clock=self.clock,
            stop_runs=self._stops.stop_and_wait,
            wake_joiners=self._outcomes.wake,
        )
        self._body = RunBody(
            self._store,
            self.graphs,
            self.saver,
            self.threads,
            streams=self._streams,
            clock=self.clock,
            run_timeout=self.run_timeout,
            release=self._release,
            stop_all=self.stop_all,
            blocking_jobs=self._take_jobs,
            holds=self.holds,
            deliver_steer=self._merging.deliver,
        )
        self.rolled_back = RolledBack(
            self._store,
            self.graphs,
            self.saver,
            self.threads,
            clock=self.clock,
            keep_s=lambda: self.keep_rolled_back_s,
        )
        self._body.rolled_back = self.rolled_back
        self._admissions = Admissions(
            self._store,
            clock=self.clock,
            assistants=self.assistants,
            threads=self.threads,
            policies=self.policies,
            merging=self._merging,
            stops=self._stops,
            streams=self._streams,
            thread_feeds=self.thread_feeds,
            schedule=self._schedule,
            closed=lambda: self._closed,
        )
        # runs are created (and checked first) by `_admission`
        self.create_run = self._admissions.create
        self.admit = self._admissions.admit
        self.check_run = self._admissions.check
        # the names the API layer has always called on the executor
        self.resolve_assistant = self.assistants.resolve
        self.create_assistant = self.assistants.create
        self.update_assistant = self.assistants.update
        self.create_thread = self.threads.create
        self.update_thread = self.threads.update
        self.delete_thread = self._delete_thread
        self.copy_thread = self.threads.copy
        self.get_state = self.threads.get_state
        self.get_history = self.threads.get_history
        self.update_state = self.threads.update_state
        self.cancel = self._stops.cancel
        self.cancel_many = self._stops.cancel_many
        self.join = self._outcomes.join
        self.outcome = self._outcomes.outcome
        self.outcome_future = self._outcomes.future

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

    def use_storage(
        self, store: MemoryStore, saver: NbrunsSaver, kvstore: BaseStore | None = None
    ) -> None:
        """Swap the store and checkpointer (and the graphs' long-term memory store, if
        given) together, before any graph is registered: a durable engine opens its
        SQLite file on the loop that runs it, after the app exists. The parts that share
        them are built once more, with both."""
        if self.graphs.ids():
            raise RuntimeError("use_storage must be called before graphs are registered")
        self._store, self.saver = store, saver
        if kvstore is not None:
            self.kvstore = kvstore
        self.graphs = GraphRegistry(saver, self.kvstore)
        self._compose()

    def register_graphs(self, graphs: Mapping[str, Any]) -> None:
        for graph_id in self.graphs.register(graphs):
            if assistant_id_for_graph(graph_id) not in self.store.assistants:
                # (a durable store remembers it from an earlier process)
                self.assistants.put_system(graph_id)

    async def recover(self) -> None:
        """After a restart on a durable store: settle runs the old process left behind.

        Pending runs stay pending and start now, unless their policy's `pending_ttl_s`
        ran out while the server was down (they end `timeout`, as they would have);
        the others' TTL timers are armed again. Runs that were running come back
        as `error` with a reason saying the process stopped; runs that were stopping
        end as they were asked to (a rollback deletes the run and its checkpoints).
        Only the threads of runs settled here change (as when a run ends): every
        other thread reads as it did before the restart, timestamps included.
        """
        now = self.clock()
        settled: set[str] = set()  # threads whose runs end here
        for run in list(self.store.runs.values()):
            if run.phase in ("running", "stopping"):
                settled.add(run.thread_id)
            if run.phase == "running":
                error = {
                    "error": "ProcessStopped",
                    "message": "the nbruns process stopped while this run was running; "
                    "its completed steps are kept in the thread's checkpoints",
                }
                end_run(
                    self.store,
                    run,
                    "error",
                    now,
                    error=error,
                    result=_serde.dumps({"__error__": error}),
                )
            elif run.phase == "stopping" and run.cancel_action == "rollback":
                graph = self.graphs.get(run.graph_id) if run.graph_id in self.graphs else None
                await self.rolled_back.keep(run, graph)
                await self.saver.adelete_for_runs([run.run_id], thread_id=run.thread_id)
                drop_rolled_back(self.store, run, now)
            elif run.phase == "stopping":
                end_run(self.store, run, "interrupted", now)
        for carrier_id, thread_id in self._merging.carriers_ended():
            self._merging.follow(carrier_id, thread_id)  # merged runs end as theirs did
        for thread in list(self.store.threads.values()):
            if thread.graph_id is not None and thread.graph_id in self.graphs:
                graph = self.graphs.get(thread.graph_id)
                stamp = thread.thread_id in settled  # else only the cache is rebuilt
                await self.threads.refresh_head_safely(thread.thread_id, graph, stamp=stamp)
            for run in self.store.active_runs(thread.thread_id):
                self.policies.rearm(run.run_id)  # pending_ttl_s: ran out while down, or later
            self._schedule(thread.thread_id)
        await self.rolled_back.sweep()  # branches that expired while it was down

    async def _delete_thread(self, thread_id: str) -> None:
        """Delete a thread with its crons (first: none may fire while its runs stop)."""
        self.store.get_thread(thread_id)
        self.crons.forget_thread(thread_id)
        await self.threads.delete(thread_id)
        self.holds.forget_thread(thread_id)

    # -- runs: scheduling and releasing --------------------------------------

    def _schedule(self, thread_id: str) -> None:
        """Start the thread's next pending run if the thread is free and the run is due."""
        if self._closed or self.store.holds_thread(thread_id):
            return
        run = self.store.next_pending(thread_id)
        if run is None:
            return
        now = self.clock()
        if run.scheduled_at > now:
            self._start_later(thread_id, run.scheduled_at - now)
            return
        if run.multitask_strategy in GATHERED:
            # collect, debounce: the held runs start as one, once debounce's window ends
            due = self._merging.due(run, now)
            if due > now:
                self._start_later(thread_id, due - now)
                return
            run = self._merging.gather(run, now)
        else:
            run = self._merging.unsteer(run)  # its target ended first: it runs as queued
        started = self.store.replace_run(transition(run, "running", at=now, started_at=now))
        run_task = self._run_tasks[run.run_id] = RunTask(run.run_id, thread_id)
        self.store.record("started", thread_id, run.run_id, at=now)
        self.policies.forget(run.run_id)  # started: its pending_ttl_s no longer applies
        self.thread_feeds.run_started(thread_id, run.run_id)
        stream = self._streams.get(run.run_id)
        if stream is not None:
            stream.started()  # its `metadata` event: sent when a run starts, not created
        task = asyncio.get_running_loop().create_task(
            self._body.execute(run_task, started), name=f"nbruns-run-{run.run_id}"
        )
        run_task.task = task
        self._own(task)
        task.add_done_callback(lambda t: self._body.after_task(run_task, t))

    def _start_later(self, thread_id: str, delay: float) -> None:
        """Schedule the thread again in `delay` s (one timer per thread: the latest)."""
        timer = self._timers.pop(thread_id, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()
        self._timers[thread_id] = loop.call_later(delay, self._on_timer, thread_id)

    def _on_timer(self, thread_id: str) -> None:
        self._timers.pop(thread_id, None)
        self._schedule(thread_id)

    def _own(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _take_jobs(self, run_id: str) -> list[concurrent.futures.Future[Any]]:
        """The thread-pool jobs the run's sync nodes submitted (forgotten here)."""
        return self._pool.jobs.pop(run_id, []) if self._pool is not None else []

    def _release(self, run_task: RunTask) -> None:
        """The run's record is final: free its thread for the next run."""
        run_task.advance(TaskState.RELEASED)
        self._run_tasks.pop(run_task.run_id, None)
        if self._pool is not None:
            self._pool.jobs.pop(run_task.run_id, None)
        self._close_stream(run_task.run_id, run_task.thread_id)
        self._outcomes.wake(run_task.run_id, run_task.progress.values)
        # its merged runs end as it did, before the thread's next run can start
        for merged_id in self._merging.follow(run_task.run_id, run_task.thread_id):
            self._close_stream(merged_id, run_task.thread_id)
            self._outcomes.wake(merged_id, run_task.progress.values)
        if run_task.thread_id in self.store.threads:
            self._schedule(run_task.thread_id)

    def _pending_ended(self, run: RunRecord) -> None:
        """A pending run was stopped before it started: its thread may go on."""
        self.policies.forget(run.run_id)
        self._merging.forget(run.run_id)
        self._close_stream(run.run_id, run.thread_id)
        self._outcomes.wake(run.run_id)
        self._schedule(run.thread_id)

    def _close_stream(self, run_id: str, thread_id: str) -> None:
        stream = self._streams.pop(run_id, None)
        if stream is not None:
            # deleted with its thread: like LangGraph's server, say the run is gone
            gone = thread_id in self.store.deleting
            stream.close(RUN_GONE_BODY["__error__"] if gone else None)

    # -- runs: reading -------------------------------------------------------

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
        self.crons.stop()
        self.policies.close()
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
            self._stops.stop(run, "interrupt", reason, "shutdown")
