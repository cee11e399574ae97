"""What a started run's task does: drive its graph, then record how the run ended.

The executor starts one task per started run and composes a `RunBody` to run it:

- `execute` is the task. It marks where the run starts and drives its graph, then
  records the run's end in `TaskState.CLEANING_UP`, where nothing cancels the task:
  - a run that ended by itself (success, error, timeout) is finalized: its
    thread's head is refreshed and its result written;
  - a stopped run (interrupt, rollback) is cleaned up: blocking nodes are awaited,
    its checkpoints trimmed or deleted, and it ends as the stop asked. So does a
    run whose stop landed while its own end was being recorded: the stop had been
    accepted, and clients were told.
- `after_task` is the task's done callback. A task that ends unreleased was torn
  down with its event loop (then the whole executor stops) or crashed.

Either way the executor's `release` then frees the run's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from langgraph.types import Command

from .._core._lifecycle import transition
from .._core._records import Head, RunPhase, RunRecord
from .._core._store import MemoryStore
from .._core._types import CancelSource
from .._persistence._checkpoints import NbrunsSaver
from . import _serde
from ._drive import FROM_RUN, drive, error_body
from ._failures import failure_body, log_failure
from ._graphs import GraphRegistry
from ._holds import Holds, StepWatch
from ._pool import current_run
from ._run_policy import run_limit
from ._run_task import RunTask, TaskState
from ._runstream import RunStream
from ._steer import SteerNow, steer_hook
from ._threads import Threads

if TYPE_CHECKING:
    from ._rolled_back import RolledBack

__all__ = ["LOOP_TEARDOWN", "RunBody", "drop_rolled_back", "end_run"]

logger = logging.getLogger(__name__)

# Only the loop's teardown cancels a run task without the executor having asked
# (asyncio.run returning, a LoopThread draining leftovers): the reason all its runs get.
LOOP_TEARDOWN = "the event loop running the nbruns server is shutting down"

Ending = Literal["success", "error", "timeout"]
"""How a run that was not stopped ended."""


def end_run(
    store: MemoryStore, run: RunRecord, phase: RunPhase, now: float, **changes: Any
) -> None:
    """Finish `run` in `phase` (what clients will read) and log it on the timeline."""
    ended_seq = store.next_seq()
    store.replace_run(transition(run, phase, at=now, ended_at=now, ended_seq=ended_seq, **changes))
    store.record("finished", run.thread_id, run.run_id, at=now, status=phase)


def drop_rolled_back(store: MemoryStore, run: RunRecord, now: float, **changes: Any) -> None:
    """A rollback deletes its run: 404 from now on, and join answers like the reference.
    Its final record (`changes`: why it was stopped, for a pending run) is kept apart,
    for nbruns's own listing."""
    final = transition(run, "rolled_back", at=now, ended_at=now, **changes)
    store.forget_run(run.run_id, rolled_back=True)
    if run.thread_id in store.threads:  # not once its thread is deleted
        store.keep_rolled_back(final)
    store.record("rolled_back", run.thread_id, run.run_id, at=now)


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


def _output_of(graph: Any, values: Any) -> Any:
    """What the graph answers for these values: only its output schema's keys when it
    declares one (the `values` stream carries the whole state), as `ainvoke` and the
    reference's `runs.wait` do. The same object when nothing is left out."""
    output = getattr(graph, "output_channels", None)
    if not isinstance(values, Mapping) or not isinstance(output, list):
        return values
    if set(output) >= set(values):
        return values
    return {key: values[key] for key in output if key in values}


class RunBody:
    """Drives started runs' graphs and records how each ended, over the executor's parts.

    What it needs of the executor is handed in: the live streams by run id, how to
    free a run's thread once its record is final (`release`), how to stop
    everything when the loop is torn down (`stop_all`), and the blocking jobs a
    run's sync nodes still have in the thread pool (`blocking_jobs`, taken).
    """

    # where a rollback keeps the run's checkpoints before deleting them (the executor's)
    rolled_back: RolledBack | None = None

    def __init__(
        self,
        store: MemoryStore,
        graphs: GraphRegistry,
        saver: NbrunsSaver,
        threads: Threads,
        *,
        streams: Mapping[str, RunStream],
        clock: Callable[[], float],
        run_timeout: float | None,
        release: Callable[[RunTask], None],
        stop_all: Callable[[str], None],
        blocking_jobs: Callable[[str], list[concurrent.futures.Future[Any]]],
        holds: Holds,
        deliver_steer: Callable[[str, str, tuple[str, ...], tuple[str, ...]], Any] | None = None,
    ) -> None:
        self.store = store
        self.graphs = graphs
        self.saver = saver
        self.threads = threads
        self.streams = streams
        self.clock = clock
        self.run_timeout = run_timeout
        self._release = release
        self._stop_all = stop_all
        self._blocking_jobs = blocking_jobs
        self.holds = holds
        # merge the runs steering into a run; their inputs combined (`Merging.deliver`)
        self._deliver_steer = deliver_steer

    async def execute(self, run_task: RunTask, run: RunRecord) -> None:
        """The run's task: drive the graph, then record how the run ended."""
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
        stream = self.streams.get(run.run_id)
        ending: Ending = "success"
        error: Mapping[str, Any] | None = None
        failed: Exception | None = None
        source: CancelSource | None = None
        steps = StepWatch(self.holds, run.thread_id, run.run_id)
        if self._deliver_steer is not None:
            steps.at_boundary = steer_hook(self.store, run.thread_id, run.run_id, run_task.progress)
        graph_input: Any = FROM_RUN
        began = self.clock()
        try:
            while True:  # once, plus once more for each steer delivered
                limit = run_limit(run, self.run_timeout).seconds  # its policy's, or ours
                if limit is not None:
                    limit = max(limit - (self.clock() - began), 0.0)
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
                        time_limit=limit,
                        steps=steps,
                        graph_input=graph_input,
                    )
                    break
                except SteerNow as steer:
                    graph_input = await self._steer(run, steer)
                    steps.resume()
        except asyncio.CancelledError:
            await self._clean_up(run_task)
            raise
        except Exception as exc:  # GraphDrained too: the drain a stop asked for
            if not run_task.stopping:
                error, failed = error_body(exc), exc
                if stream is not None:
                    stream.publish("error", "error", error)
                # only the server's own time limit is a `timeout`, as on the reference;
                # a node's own TimeoutError is an error like any other
                if isinstance(exc, TimeoutError) and run_task.progress.timed_out:
                    ending, source = "timeout", "run_timeout"
                else:
                    ending = "error"
        if run_task.stopping:
            await self._clean_up(run_task)
            return
        # The graph ended by itself. From here on nothing cancels the task: a stop
        # that lands while its end is recorded is only noted, and `_finalize` acts on it.
        run_task.advance(TaskState.CLEANING_UP)
        await self._finalize(run_task, graph, ending, error=error, failed=failed, source=source)

    async def _steer(self, run: RunRecord, steer: SteerNow) -> Any:
        """At a safe boundary the graph was left at: merge the runs steered into this one,
        once its finished steps are saved; what to drive it on with."""
        assert self._deliver_steer is not None
        await self.saver.settled(run.thread_id)
        boundary = steer.boundary
        update = self._deliver_steer(run.run_id, run.thread_id, boundary.after, boundary.before)
        return None if update is None else Command(update=update)

    async def _finalize(
        self,
        run_task: RunTask,
        graph: Any,
        ending: Ending,
        *,
        error: Mapping[str, Any] | None,
        failed: Exception | None,
        source: CancelSource | None,
    ) -> None:
        """Record how a run that ended by itself ended, then release its thread.

        A stop that lands while the head is refreshed was accepted (the record reads
        `stopping`, as its client was told): the run then ends as the stop asked.
        """
        thread_id, run_id = run_task.thread_id, run_task.run_id
        progress = run_task.progress
        values = progress.values if ending == "success" else None
        clean = values is not None and not progress.paused
        head = Head()
        if clean and thread_id in self.store.threads:
            # a run that ended without pausing left nothing to do: its last values are
            # the head, so skip reloading the checkpoint it just wrote
            head = Head(values=_serde.dumps_state(values))
            self.store.set_head(thread_id, head, at=self.clock())
        elif thread_id in self.store.threads:
            head = await self.threads.refresh_head_safely(thread_id, graph)
        run = self.store.runs[run_id]
        if run.phase == "stopping":  # a stop landed during the refresh
            await self._clean_up(run_task)
            return
        body: bytes | None
        if ending != "success":
            body = _serde.dumps({"__error__": dict(error or {})})
        elif progress.interrupts:
            # paused before any values chunk (an interrupt in the first node): the
            # checkpoint's values, as the reference answers them beside `__interrupt__`
            if values is None and head.values is not None:
                values = _serde.loads(head.values)
            merged = dict(values) if isinstance(values, Mapping) else {}
            body = _serde.dumps_state({**merged, "__interrupt__": progress.interrupts})
        elif clean:
            output = _output_of(graph, values)
            body = head.values if output is values else _serde.dumps_state(output)
        else:
            body = _serde.dumps_state(values) if values is not None else head.values
        now = self.clock()
        # a timeout says whose limit it was: the run's policy's or the server's
        why = run_limit(run, self.run_timeout).reason if ending == "timeout" else None
        failure = None if failed is None else failure_body(failed, timed_out=why)
        changes = {
            "error": error,
            "result": body,
            "cancel_source": source,
            "cancel_reason": why,
            "failure": failure,
        }
        end_run(self.store, run, ending, now, **changes)
        if failed is not None and failure is not None:
            log_failure(self.store.runs.get(run_id, run), failure, failed)
        self._release(run_task)
        if run.kwargs.get("temporary") and run.kwargs.get("on_completion", "delete") == "delete":
            await self.threads.delete(thread_id)

    async def _clean_up(self, run_task: RunTask) -> None:
        """End a stopped run as its stop asked (keep its steps, or delete them and it)."""
        if run_task.state is TaskState.RELEASED:
            return
        if run_task.state is not TaskState.CLEANING_UP:
            run_task.advance(TaskState.CLEANING_UP)
        run_id, thread_id = run_task.run_id, run_task.thread_id
        await self._wait_for_blocking_nodes(run_id)
        run = self.store.runs.get(run_id)
        if run is not None and run.phase == "running":
            # cancelled from outside the executor (loop teardown): keep what it did
            run = self.store.replace_run(
                _stopped_from_outside(run, self.clock(), LOOP_TEARDOWN, "shutdown")
            )
            self._stop_all(LOOP_TEARDOWN)
        action = run.cancel_action if run is not None else "rollback"
        graph = self.graphs.get(run.graph_id) if run is not None else None
        if action == "rollback" and thread_id in self.store.threads:
            if self.rolled_back is not None and run is not None:
                await self.rolled_back.keep(run, graph)
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
                drop_rolled_back(self.store, run, now)
            else:
                end_run(self.store, run, "interrupted", now, result=head.values)
        self._release(run_task)

    async def _wait_for_blocking_nodes(self, run_id: str) -> None:
        running = [asyncio.wrap_future(j) for j in self._blocking_jobs(run_id) if not j.done()]
        if running:
            await asyncio.wait(running)

    def after_task(self, run_task: RunTask, task: asyncio.Task[Any]) -> None:
        """The run task's done callback: never leave a run running, whatever ended it.

        Only a task cancelled from outside before its first step or while it cleans up
        (the loop being torn down without aclose: the executor never cancels a task
        cleaning up) or ended by a BaseException from its node (Ctrl-C landing in a
        node of a server on the caller's loop) gets here unreleased. Only the
        teardown stops the whole executor.
        """
        if run_task.state is TaskState.RELEASED:
            return
        if run_task.state is not TaskState.CLEANING_UP:
            run_task.advance(TaskState.CLEANING_UP)
        exc = None if task.cancelled() else task.exception()  # retrieved: asyncio is quiet
        source: CancelSource
        if exc is None:
            reason, source = LOOP_TEARDOWN, "shutdown"
            self._stop_all(reason)
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
