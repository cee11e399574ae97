"""A stateful property test of runs, threads and the multitask strategies.

A hypothesis state machine drives an in-process nbruns server (one per example)
through the official sync SDK client, over 2-3 threads and a gated graph: each run
has 2-3 steps; step i of run "rK" waits on the gate "rK:i", which only the machine
opens, then appends "rK:i" to the `log` channel (a run may also be told to raise at
one step). Rules: create a run with each strategy (sometimes with after_seconds),
open the next gate of a thread's running run (or of every thread's), cancel a
pending/running run (interrupt or rollback, wait or not), join a run (opening the
gates of it and of every run ahead of it), delete a thread (a fresh one replaces
it), update a thread's state.

Nothing here sleeps to assume an order. After every rule the machine polls the
server (bounded) until it has settled: every running run waits at its next gate
with its last step's checkpoint visible, every run that can end by itself has
ended, every cancelled run has finished stopping, and no pending run waits on a
free thread (one not yet due is waited for too, so that examples replay alike).
Then it checks every thread against its model. The invariants, named in every
assertion message:

[one-running]     at most one run per thread runs at a time (API statuses, and the
                  timeline: no run starts before the previous one ended)
[fifo]            runs start in (created_at + after_seconds, creation) order
[free-thread]     a due pending run never waits while its thread is free
[thread-status]   busy iff a run is pending/running; else error if the last run to
                  finish failed and the state has not changed since (update_state, a
                  rollback), else interrupted iff get_state has `next`, else idle
[run-status]      every run has the status the model expects (rolled back: gone)
[log]             the log holds exactly the steps whose gates were opened and whose
                  checkpoints were observed (an interrupt keeps exactly those)
[history]         a run leaves the history it started from untouched and adds only its
                  own checkpoints: input + start + one per completed step
[rollback]        a rollback leaves state and history identical to the snapshot taken
                  when the rolled-back run started, and none of its checkpoints
[reject] [update-state] [delete] [join] [cancel]   the answers of those calls
[teardown]        everything joined: no run pending/running, no task left on the
                  server's loop, none in the executor after close

NBRUNS_HYPOTHESIS_EXAMPLES sets the examples (default 500), NBRUNS_HYPOTHESIS_STEPS
the rules per example (default 20). Run with -s to see what the examples exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import operator
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import BadRequestError, ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns

EXAMPLES = int(os.environ.get("NBRUNS_HYPOTHESIS_EXAMPLES", "500"))
STEPS_PER_EXAMPLE = int(os.environ.get("NBRUNS_HYPOTHESIS_STEPS", "20"))
SETTLE = 5.0  # bound on waiting for the server to settle; never used to order anything
POLL = 0.002
CLOSE_WAIT = 15.0
GATE_TIMEOUT = 300.0  # a node never waits forever, even if the machine dies
NO_RUN_BODY = {"__error__": {"error": "HTTPException", "message": "404: Run not found"}}


# -- gates -----------------------------------------------------------------------------


class Gate:
    """A one-shot gate opened from the test thread, awaited by a node on the server loop.

    Waiting is a plain `await` of a future woken by `call_soon_threadsafe`, so a step
    resumes at once. Not `asyncio.wait_for`: on Python 3.11 it swallows a cancellation
    that arrives as the future completes, and the run would go on past its cancel
    (test_faults.py's tests of a node swallowing a cancel cover what nbruns does then)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._open = False
        self._reached = threading.Event()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def open(self) -> None:
        with self._lock:
            self._open = True
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(_wake, future)

    @property
    def reached(self) -> bool:
        return self._reached.is_set()

    async def passage(self) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._open:
                self._waiters.append((loop, future))
        self._reached.set()
        if not self._open:
            timer = loop.call_later(GATE_TIMEOUT, _expire, future, self.name)
            try:
                await future
            finally:
                timer.cancel()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _expire(future: asyncio.Future[None], name: str) -> None:
    if not future.done():
        future.set_exception(TimeoutError(f"gate {name!r} never opened"))


class Board:
    """The gates of one example, by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, Gate] = {}
        self._all_open = False

    def __getitem__(self, name: str) -> Gate:
        with self._lock:
            gate = self._gates.get(name)
            if gate is None:
                gate = self._gates[name] = Gate(name)
                if self._all_open:
                    gate.open()
            return gate

    def open_all(self) -> None:
        """Open every gate, and every gate made from now on."""
        with self._lock:
            self._all_open = True
            gates = list(self._gates.values())
        for gate in gates:
            gate.open()


_BOARDS: dict[str, Board] = {}
_BOARDS_LOCK = threading.Lock()


def _board(example: str) -> Board:
    with _BOARDS_LOCK:
        return _BOARDS[example]


# -- the graph -------------------------------------------------------------------------


class StepState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    ex: str  # the example whose board holds the gates
    tag: str  # the run's tag: step i logs "<tag>:<i>"
    steps: int  # 2 or 3
    fail: int  # the step that raises once its gate opens; -1 for none


def _step(i: int) -> Any:
    async def node(state: StepState) -> dict[str, Any]:
        tag = state["tag"]
        await _board(state["ex"])[f"{tag}:{i}"].passage()
        if state.get("fail") == i:
            raise RuntimeError(f"{tag} fails at step {i}")
        return {"log": [f"{tag}:{i}"]}

    return node


def _build_graph() -> Any:
    builder = StateGraph(StepState)
    for i in range(3):
        builder.add_node(f"s{i}", _step(i))
    builder.add_edge(START, "s0")
    builder.add_edge("s0", "s1")
    builder.add_conditional_edges("s1", lambda s: "s2" if s.get("steps") == 3 else END, ["s2", END])
    builder.add_edge("s2", END)
    return builder.compile()


GRAPH = _build_graph()


# -- the model -------------------------------------------------------------------------

ACTIVE = ("pending", "running")


@dataclass(eq=False)
class RunM:
    run_id: str
    tag: str
    thread: ThreadM
    steps: int
    fail: int  # -1: none
    strategy: str
    after: float
    scheduled: float  # created_at + after_seconds (the server's clock)
    seq: int  # creation order within the example
    # pending | running | cancelling | success | error | interrupted | rolled_back | deleted
    outcome: str = "pending"
    cancel_action: str | None = None
    opened: int = 0  # gates opened while held: the steps it completed, observed
    free: bool = False  # it will end by itself (last or failing gate open, or freed by join)
    started: bool = False
    at_gate: bool = False  # observed held at a gate: its checkpoints so far are known
    base: list[str] | None = None  # the thread's log when it started
    final_log: list[str] | None = None
    snapshot: list[Any] | None = None  # history (keys) when it started

    @property
    def parked(self) -> bool:
        """Pending, not due before the example ends: it only ends by a cancel (or delete)."""
        return self.after >= PARKED

    def step_names(self, n: int) -> list[str]:
        return [f"{self.tag}:{i}" for i in range(n)]

    def __repr__(self) -> str:
        after = f" after {self.after}s" if self.after else ""
        fail = f" failing at {self.fail}" if self.fail >= 0 else ""
        return f"run {self.tag} ({self.strategy}{after}, {self.steps} steps{fail}, {self.outcome})"


@dataclass(eq=False)
class ThreadM:
    tid: str
    name: str
    runs: list[RunM] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # the log once no run holds the thread
    ended: list[RunM] = field(default_factory=list)  # runs in the order they finished
    expected_next: list[str] | None = field(default_factory=list)  # None: not predicted
    quiet: list[Any] | None = field(default_factory=list)  # history at the last settle, if free
    processed: int = 0  # timeline events already applied to the model
    has_graph: bool = False
    # the state changed (update_state, a started run rolled back) since a run last ended
    changed: bool = False
    holder: RunM | None = None
    deleted: bool = False

    def active(self) -> list[RunM]:
        return [r for r in self.runs if r.outcome in ACTIVE]

    def __repr__(self) -> str:
        return f"thread {self.name}"


def _key(h: dict[str, Any]) -> tuple[Any, ...]:
    """What must not change in a checkpoint: ids, values, next."""
    return (h["checkpoint_id"], h["parent_checkpoint_id"], h["values"], h["next"])


def _run_of(h: dict[str, Any]) -> str | None:
    return (h.get("metadata") or {}).get("run_id")


def _ts(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass
class Seen:
    """One poll of a thread (a quick one leaves out the runs and the history)."""

    thread: dict[str, Any]
    timeline: list[dict[str, Any]]
    state: dict[str, Any]
    runs: list[dict[str, Any]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    def comparable(self) -> Any:
        return (self.thread["status"], self.timeline, self.state)


# -- the machine -----------------------------------------------------------------------

_EVENT_FIELDS = ("seq", "at", "thread_id", "run_id", "kind")
_EXAMPLE_IDS = iter(range(10**9))
STATS: Counter[str] = Counter()  # what the examples exercised, printed with -s
_T = st.integers(0, 2)  # a thread, modulo the live ones
PARKED = 30.0  # after_seconds of a run that stays pending for the whole example
_AFTERS = st.sampled_from([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05, 0.1, 0.2, PARKED])
_STEPS = st.integers(2, 3)
_FAILS = st.sampled_from([None, None, None, None, None, 0, 1, 2])  # the step that raises


class RunsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ex = f"e{next(_EXAMPLE_IDS)}"
        self.board = Board()
        with _BOARDS_LOCK:
            _BOARDS[self.ex] = self.board
        self.server = nbruns.Server(graphs={"steps": GRAPH})
        self.c: Any = self.server.sync_client()  # untyped: the SDK's TypedDicts get in the way
        self.threads: list[ThreadM] = []
        self.n_runs = 0
        self.n_updates = 0
        self.n_threads = 0
        self.broken = False  # a rule or check raised: teardown only cleans up

    # -- helpers ---------------------------------------------------------------

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run a rule; if it raises, teardown only cleans up (that failure is the one)."""
        self.broken = True
        STATS[f"rule {name}"] += 1
        yield
        self.broken = False

    def new_thread(self) -> ThreadM:
        tid = self.c.threads.create()["thread_id"]
        thread = ThreadM(tid, f"T{self.n_threads}")
        self.n_threads += 1
        self.threads.append(thread)
        return thread

    def run_by_id(self, thread: ThreadM, run_id: str | None) -> RunM:
        for run in thread.runs:
            if run.run_id == run_id:
                return run
        raise AssertionError(f"[run-status] {thread} has a run {run_id} the model never created")

    def free(self, run: RunM) -> None:
        """Open every gate left: the run will end by itself (success, or error at `fail`)."""
        for i in range(run.opened, run.steps):
            self.board[f"{run.tag}:{i}"].open()
        run.free = True

    def peek(self, thread: ThreadM) -> Seen:
        tid = thread.tid
        return Seen(
            thread=self.c.threads.get(tid),
            timeline=self.c.http.get("/nbruns/timeline", params={"thread_id": tid}),
            state=self.c.threads.get_state(tid),
        )

    def fetch(self, thread: ThreadM) -> Seen:
        seen = self.peek(thread)
        seen.runs = self.c.http.get("/nbruns/runs", params={"thread_id": thread.tid})
        seen.history = self.c.threads.get_history(thread.tid, limit=1000)
        return seen

    # -- settling: wait (bounded) for the server to reach a quiescent state -------

    def settle(self, focus: list[ThreadM] | None = None) -> None:
        """Poll until the server is settled, then check every thread against the model.

        Only the threads a rule touched (`focus`) can be moving: after a settle, nothing
        happens on a thread until a rule acts on it. So those are polled (quickly) until
        two polls in a row are settled and equal; then every thread is fetched in full,
        and if any turns out not to be settled after all, all of them are polled."""
        deadline = time.monotonic() + SETTLE
        threads = self.threads if focus is None else focus
        while True:
            self.wait_settled(threads, deadline)
            seen = [self.fetch(t) for t in self.threads]
            for thread, s in zip(self.threads, seen, strict=True):
                self.check_safety(thread, s)
            if not any(self.unsettled(t, s) for t, s in zip(self.threads, seen, strict=True)):
                break
            threads = self.threads
        for thread, s in zip(self.threads, seen, strict=True):
            self.absorb(thread, s)

    def wait_settled(self, threads: list[ThreadM], deadline: float) -> None:
        previous: list[Any] | None = None
        while True:
            seen = [self.peek(t) for t in threads]
            why = next(
                (w for t, s in zip(threads, seen, strict=True) if (w := self.unsettled(t, s))),
                None,
            )
            now = [s.comparable() for s in seen]
            if why is None and previous == now:
                return
            previous = now if why is None else None
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"never settled within {SETTLE}s: {why or 'state kept changing'}\n"
                    + self.diagnose(threads, seen)
                )
            time.sleep(POLL)

    def diagnose(self, threads: list[ThreadM], seen: list[Seen]) -> str:
        """The timelines and the executor's bookkeeping, for a failure message."""
        lines = []
        for thread, s in zip(threads, seen, strict=True):
            tags = {r.run_id: r.tag for r in thread.runs}
            lines.append(f"{thread} ({s.thread['status']}):")
            for e in s.timeline:
                extra = {k: v for k, v in e.items() if k not in _EVENT_FIELDS}
                who = tags.get(e["run_id"], e["run_id"])
                lines.append(f"  {e['seq']} {e['at'][17:]} {who} {e['kind']} {extra}")
        bookkeeping = self.server.loop_thread.run(_bookkeeping(self.server.executor))
        lines.append(f"executor: {bookkeeping}")
        lines.append(f"now: {datetime.fromtimestamp(time.time()).isoformat()}")
        return "\n".join(lines)

    def check_safety(self, thread: ThreadM, s: Seen) -> None:
        running = [r["run_id"] for r in s.runs if r["status"] == "running"]
        assert len(running) <= 1, f"[one-running] {thread} has {len(running)} running runs"

    def unsettled(self, thread: ThreadM, s: Seen) -> str | None:
        ended = {e["run_id"] for e in s.timeline if e["kind"] in ("finished", "rolled_back")}
        started = [e["run_id"] for e in s.timeline if e["kind"] == "started"]
        for run in thread.runs:
            if run.outcome == "cancelling" and run.run_id not in ended:
                return f"[cancel] {run} on {thread} never finished stopping"
            if run.free and run.outcome in ACTIVE and run.run_id not in ended:
                return f"[run-status] {run} on {thread} has every gate open but never finished"
        holder_id = next((r for r in reversed(started) if r not in ended), None)
        if holder_id is not None:
            holder = self.run_by_id(thread, holder_id)
            if not self.board[f"{holder.tag}:{holder.opened}"].reached:
                return f"[log] {holder} on {thread} never reached step {holder.opened}"
            head = s.state if s.state.get("checkpoint_id") else None
            if head is None or _run_of(head) != holder_id or head["next"] != [f"s{holder.opened}"]:
                return (
                    f"[log] the checkpoint before step {holder.opened} of {holder} on {thread} "
                    f"never became visible (head: {head and (head['values'], head['next'])})"
                )
            return None
        now = time.time()
        waiting = [
            r
            for r in thread.runs
            if r.outcome in ACTIVE
            and not r.parked
            and r.run_id not in ended
            and r.run_id not in started
        ]
        for run in waiting:
            if run.scheduled <= now:
                return f"[free-thread] {run} is due but still pending while {thread} is free"
        if waiting:
            # not due yet: wait for it anyway, so that whether it started before the next
            # rule is not a matter of timing (hypothesis needs examples to replay alike)
            return f"[free-thread] {waiting[0]} never started once due, on free {thread}"
        parked = [r for r in thread.runs if r.parked and r.outcome in ACTIVE]
        if s.thread["status"] == "busy" and not waiting and not parked:
            return f"[thread-status] {thread} stays busy with no pending or running run"
        return None

    # -- checking the settled server against the model, and updating the model ----

    def absorb(self, thread: ThreadM, s: Seen) -> None:
        events = s.timeline
        # [one-running] from the timeline: nothing starts before the previous run ended
        holder_id: str | None = None
        for e in events:
            if e["kind"] == "started":
                assert holder_id is None, (
                    f"[one-running] {self.run_by_id(thread, e['run_id'])} started on {thread} "
                    f"while {self.run_by_id(thread, holder_id)} still held it"
                )
                holder_id = e["run_id"]
            elif e["kind"] in ("finished", "rolled_back") and e["run_id"] == holder_id:
                holder_id = None
        # [fifo]
        created = {
            e["run_id"]: (_ts(e["at"]) + (e.get("after_seconds") or 0), e["seq"])
            for e in events
            if e["kind"] == "created"
        }
        started_order = [e["run_id"] for e in events if e["kind"] == "started"]
        fifo = sorted(started_order, key=lambda r: created[r])
        tags = {r.run_id: r.tag for r in thread.runs}
        assert started_order == fifo, (
            f"[fifo] runs on {thread} started in the order {[tags[r] for r in started_order]}, "
            f"not by created_at+after_seconds: {[tags[r] for r in fifo]}"
        )
        visible = {r["run_id"]: r for r in s.runs}
        by_started_at = [
            r["run_id"]
            for r in sorted(
                (r for r in s.runs if r["started_at"]), key=lambda r: _ts(r["started_at"])
            )
        ]
        assert by_started_at == [r for r in started_order if r in by_started_at], (
            f"[fifo] started_at of the runs on {thread} disagrees with the timeline"
        )

        # apply the new events in order
        started_now: list[RunM] = []
        ended_now: list[tuple[RunM, int]] = []  # (run, index of its end event)
        for index in range(thread.processed, len(events)):
            e = events[index]
            kind = e["kind"]
            if kind in ("created", "cancelled", "superseded", "started", "finished", "rolled_back"):
                run = self.run_by_id(thread, e["run_id"])
            if kind in ("cancelled", "superseded"):
                assert run.outcome == "cancelling" and e["action"] == run.cancel_action, (
                    f"[cancel] {run} on {thread} was {kind} with action {e['action']}, "
                    f"which the model did not ask for"
                )
            elif kind == "started":
                assert run.outcome in ("pending", "cancelling") and not run.started, (
                    f"[run-status] {run} on {thread} started though it was {run.outcome}"
                )
                if run.outcome == "cancelling":
                    cancelled_at = next(
                        x["seq"]
                        for x in events
                        if x["run_id"] == run.run_id and x["kind"] in ("cancelled", "superseded")
                    )
                    assert cancelled_at > e["seq"], (
                        f"[cancel] {run} on {thread} started after it was cancelled"
                    )
                run.started = True
                run.base = list(thread.log)
                if run.outcome == "pending":
                    run.outcome = "running"
                if not started_now and thread.quiet is not None:
                    # the thread was free at the last settle: this run started from there
                    run.snapshot = thread.quiet
                started_now.append(run)
            elif kind == "finished":
                self.on_finished(thread, run, e["status"])
                ended_now.append((run, index))
            elif kind == "rolled_back":
                assert run.outcome == "cancelling" and run.cancel_action == "rollback", (
                    f"[run-status] {run} on {thread} was rolled back, which the model "
                    "did not ask for"
                )
                run.outcome = "rolled_back"
                STATS[f"run ended rolled back{'' if run.started else ' while pending'}"] += 1
                if run.started:
                    thread.changed = True
                    assert thread.log == run.base, "model: a run ended while another held"
                    if run.snapshot is None:
                        thread.expected_next = None
                    else:  # as the head it started from (no checkpoint at all: no next)
                        thread.expected_next = list(run.snapshot[0][3]) if run.snapshot else []
                ended_now.append((run, index))
        thread.processed = len(events)

        history = s.history
        keys = [_key(h) for h in history]
        # the run holding the thread now
        holder = self.run_by_id(thread, holder_id) if holder_id else None
        thread.holder = holder
        running = [r["run_id"] for r in s.runs if r["status"] == "running"]
        assert running == ([holder_id] if holder else []), (
            f"[one-running] {thread}: runs reported running {[tags.get(r) for r in running]}, "
            f"the timeline says {holder}"
        )
        if holder is not None:
            own = [k for h, k in zip(history, keys, strict=True) if _run_of(h) == holder.run_id]
            rest = [k for h, k in zip(history, keys, strict=True) if _run_of(h) != holder.run_id]
            assert keys[: len(own)] == own, (
                f"[history] {holder} on {thread} has checkpoints older than ones it did not write"
            )
            if holder.snapshot is not None and holder in started_now:
                assert rest == holder.snapshot, (
                    f"[history] starting {holder} on {thread} changed the history it started from"
                )
            if holder.snapshot is None:
                holder.snapshot = rest
            holder.at_gate = True
            want = holder.base + holder.step_names(holder.opened)  # type: ignore[operator]
            assert s.state["values"].get("log") == want, (
                f"[log] {holder} on {thread} waits at step {holder.opened}, but the log is "
                f"{s.state['values'].get('log')}, not {want}"
            )
            assert len(own) == 2 + holder.opened, (
                f"[history] {holder} on {thread} wrote {len(own)} checkpoints after "
                f"{holder.opened} steps (expected input + start + one per step)"
            )

        # what each run that ended since the last settle left behind
        for run, index in ended_now:
            if not run.started:
                continue
            later = {e["run_id"] for e in events[index:] if e["kind"] == "started"}
            view = [(h, k) for h, k in zip(history, keys, strict=True) if _run_of(h) not in later]
            own = [k for h, k in view if _run_of(h) == run.run_id]
            rest = [k for h, k in view if _run_of(h) != run.run_id]
            assert [k for _, k in view[: len(own)]] == own, (
                f"[history] {run} on {thread} left checkpoints below ones it did not write"
            )
            if run.snapshot is not None:
                tag = "[rollback]" if run.outcome == "rolled_back" else "[history]"
                assert rest == run.snapshot, (
                    f"{tag} the history {run} on {thread} started from changed: "
                    f"{_describe(run.snapshot)} became {_describe(rest)}"
                )
            if run.outcome == "rolled_back":
                assert not own, f"[rollback] {run} on {thread} left {len(own)} checkpoints"
                continue
            if run.outcome == "interrupted" and not run.at_gate:
                expected = None  # stopped while starting: up to input + start
                assert len(own) <= 2, f"[history] {run} wrote {len(own)} checkpoints starting"
            else:
                completed = {"success": run.steps, "error": run.fail, "interrupted": run.opened}
                expected = 2 + completed[run.outcome]
                assert len(own) == expected, (
                    f"[history] {run} on {thread} left {len(own)} checkpoints, expected {expected}"
                )
            if own:
                assert own[0][2].get("log") == run.final_log, (
                    f"[log] {run} on {thread} ended with log {own[0][2].get('log')}, "
                    f"expected {run.final_log}"
                )

        # runs as the API shows them
        for run in thread.runs:
            shown = visible.get(run.run_id)
            if run.outcome == "rolled_back":
                # deleted for the SDK; nbruns's own listing keeps it, as rolled back
                assert shown is not None and shown["status"] == "rolled_back", (
                    f"[run-status] rolled-back {run} on {thread} is listed as "
                    f"{shown and shown['status']}, expected rolled_back"
                )
                continue
            want_status = run.outcome
            assert shown is not None and shown["status"] == want_status, (
                f"[run-status] {run} on {thread} shows as "
                f"{shown and shown['status']}, expected {want_status}"
            )
        unknown = set(visible) - {r.run_id for r in thread.runs}
        assert not unknown, f"[run-status] {thread} lists runs the model never created: {unknown}"

        # the thread when no run holds it
        log = s.state["values"].get("log", []) if s.state["values"] else []
        if holder is None:
            assert log == thread.log, (
                f"[log] {thread} is free with log {log}, expected {thread.log}"
            )
            if thread.expected_next is not None:
                assert s.state["next"] == thread.expected_next, (
                    f"[thread-status] {thread}: get_state next is {s.state['next']}, "
                    f"expected {thread.expected_next}"
                )
            thread.quiet = keys
        else:
            thread.quiet = None
        if thread.active():
            want = "busy"
        elif thread.ended and thread.ended[-1].outcome == "error" and not thread.changed:
            want = "error"  # until the state changes after it (update, rollback), as the reference
        elif s.state["next"]:
            want = "interrupted"
        else:
            want = "idle"
        last = thread.ended[-1] if thread.ended else None
        assert s.thread["status"] == want, (
            f"[thread-status] {thread} is {s.thread['status']}, expected {want} "
            f"(last finished: {last}, next: {s.state['next']}, "
            f"pending/running: {thread.active()})"
        )

    def on_finished(self, thread: ThreadM, run: RunM, status: str) -> None:
        if run.outcome == "cancelling":
            assert run.cancel_action == "interrupt" and status == "interrupted", (
                f"[run-status] {run} on {thread} was cancelled ({run.cancel_action}) "
                f"but finished {status}"
            )
            completed = run.opened
        elif run.free and run.outcome in ACTIVE:
            want = "error" if run.fail >= 0 else "success"
            assert status == want, f"[run-status] {run} on {thread} finished {status}, not {want}"
            completed = run.fail if run.fail >= 0 else run.steps
        else:
            raise AssertionError(
                f"[run-status] {run} on {thread} finished {status} with a gate still closed"
            )
        run.outcome = status
        thread.ended.append(run)
        thread.changed = False
        STATS[f"run ended {status}{'' if run.started else ' while pending'}"] += 1
        if not run.started:
            return  # cancelled while pending: it never touched the thread
        run.final_log = run.base + run.step_names(completed)  # type: ignore[operator]
        thread.log = list(run.final_log)
        if status == "success":
            thread.expected_next = []
        elif status == "error":
            thread.expected_next = [f"s{run.fail}"]
        elif run.at_gate:
            thread.expected_next = [f"s{run.opened}"]
        else:
            thread.expected_next = None

    # -- rules -----------------------------------------------------------------

    # hypothesis disables a random subset of rules in each example (swarm testing), so
    # creating runs is four rules (one per strategy) and the first runs come with the
    # threads: an example never goes without runs.

    @initialize(
        n=st.integers(2, 3),
        runs=st.lists(st.tuples(st.integers(0, 2), st.integers(2, 3)), min_size=1, max_size=3),
    )
    def start_threads(self, n: int, runs: list[tuple[int, int]]) -> None:
        with self.step("start_threads"):
            for _ in range(n):
                self.new_thread()
            self.settle()
        for t, steps in runs:
            self.create_run(t, "enqueue", 0.0, steps, None)

    @rule(t=_T, after=_AFTERS, steps=_STEPS, fail=_FAILS)
    def enqueue_run(self, t: int, after: float, steps: int, fail: int | None) -> None:
        self.create_run(t, "enqueue", after, steps, fail)

    @rule(t=_T, after=_AFTERS, steps=_STEPS, fail=_FAILS)
    def reject_run(self, t: int, after: float, steps: int, fail: int | None) -> None:
        self.create_run(t, "reject", after, steps, fail)

    @rule(t=_T, after=_AFTERS, steps=_STEPS, fail=_FAILS)
    def interrupt_run(self, t: int, after: float, steps: int, fail: int | None) -> None:
        self.create_run(t, "interrupt", after, steps, fail)

    @rule(t=_T, after=_AFTERS, steps=_STEPS, fail=_FAILS)
    def rollback_run(self, t: int, after: float, steps: int, fail: int | None) -> None:
        self.create_run(t, "rollback", after, steps, fail)

    def create_run(self, t: int, strategy: str, after: float, steps: int, fail: int | None) -> None:
        with self.step("create_run"):
            STATS[f"create {strategy}"] += 1
            thread = self.threads[t % len(self.threads)]
            inflight = thread.active()
            tag = f"r{self.n_runs}"
            self.n_runs += 1
            fail_at = fail if fail is not None and fail < steps else -1
            body = {"ex": self.ex, "tag": tag, "steps": steps, "fail": fail_at}
            kwargs: dict[str, Any] = {"input": body, "multitask_strategy": strategy}
            if after:
                kwargs["after_seconds"] = after
            if strategy == "reject" and inflight:
                try:
                    created = self.c.runs.create(thread.tid, "steps", **kwargs)
                except ConflictError:
                    pass
                else:
                    raise AssertionError(
                        f"[reject] a reject run was accepted on {thread} while {inflight} were "
                        f"in flight (got {created['status']} run)"
                    )
                self.settle([thread])
                return
            try:
                created = self.c.runs.create(thread.tid, "steps", **kwargs)
            except ConflictError as exc:
                raise AssertionError(
                    f"[reject] a {strategy} run was refused on {thread} (in flight: {inflight}): "
                    f"{exc}"
                ) from None
            assert created["status"] == "pending", f"[run-status] new run is {created['status']}"
            if strategy in ("interrupt", "rollback"):
                for old in inflight:
                    old.outcome = "cancelling"
                    old.cancel_action = strategy
            thread.has_graph = True
            thread.runs.append(
                RunM(
                    run_id=created["run_id"],
                    tag=tag,
                    thread=thread,
                    steps=steps,
                    fail=fail_at,
                    strategy=strategy,
                    after=after,
                    scheduled=_ts(created["created_at"]) + after,
                    seq=self.n_runs,
                )
            )
            self.settle([thread])

    def gated(self) -> list[ThreadM]:
        # not "threads with a running run": whether a run created with after_seconds on a
        # free thread has started yet is timing, and preconditions must not depend on it
        return [t for t in self.threads if any(not r.free and not r.parked for r in t.active())]

    @precondition(lambda self: self.gated())
    @rule(t=_T)
    def open_next_gate(self, t: int) -> None:
        """The running run of one thread completes one step."""
        with self.step("open_next_gate"):
            gated = self.gated()
            thread = gated[t % len(gated)]
            self.open_gate_of(thread)
            self.settle([thread])

    @precondition(lambda self: self.gated())
    @rule()
    def open_every_next_gate(self) -> None:
        """The running run of every thread completes one step, all at once."""
        with self.step("open_every_next_gate"):
            gated = self.gated()
            for thread in gated:
                self.open_gate_of(thread)
            self.settle(gated)

    def open_gate_of(self, thread: ThreadM) -> None:
        deadline = time.monotonic() + SETTLE
        while thread.holder is None:  # never after a settle; kept as a guard
            assert time.monotonic() < deadline, (
                f"[free-thread] no run of {thread} ever started: {thread.active()}"
            )
            time.sleep(POLL)
            self.settle([thread])
        run = thread.holder
        self.board[f"{run.tag}:{run.opened}"].open()
        if run.fail == run.opened:
            run.free = True  # it raises now
        else:
            run.opened += 1
            run.free = run.opened == run.steps

    def cancellable(self) -> list[RunM]:
        return [r for t in self.threads for r in t.runs if r.outcome in ACTIVE and not r.free]

    @precondition(lambda self: self.cancellable())
    @rule(pick=st.integers(0, 7), wait=st.booleans())
    def cancel_interrupt(self, pick: int, wait: bool) -> None:
        self.cancel(pick, "interrupt", wait)

    @precondition(lambda self: self.cancellable())
    @rule(pick=st.integers(0, 7), wait=st.booleans())
    def cancel_rollback(self, pick: int, wait: bool) -> None:
        self.cancel(pick, "rollback", wait)

    def cancel(self, pick: int, action: str, wait: bool) -> None:
        with self.step(f"cancel {action}"):
            runs = self.cancellable()
            run = runs[pick % len(runs)]
            thread = run.thread
            was_at_gate = run.at_gate
            try:
                body = self.c.runs.cancel(thread.tid, run.run_id, wait=wait, action=action)
            except NotFoundError as exc:
                raise AssertionError(f"[cancel] cancelling {run} on {thread}: {exc}") from None
            run.outcome = "cancelling"
            run.cancel_action = action
            self.settle([thread])
            if wait and action == "interrupt" and was_at_gate:
                assert isinstance(body, dict) and body.get("log") == run.final_log, (
                    f"[cancel] cancel(wait=True) of {run} answered {body}, "
                    f"expected the log {run.final_log}"
                )

    def joinable(self) -> list[RunM]:
        return [r for t in self.threads for r in t.runs if not (r.parked and r.outcome in ACTIVE)]

    @precondition(lambda self: self.joinable())
    @rule(pick=st.integers(0, 7))
    def join(self, pick: int) -> None:
        with self.step("join"):
            runs = self.joinable()
            run = runs[pick % len(runs)]
            thread = run.thread
            if run.outcome in ACTIVE:
                # let it finish: it and every run that goes before it
                for other in thread.active():
                    if other.outcome == "running" or (other.scheduled, other.seq) <= (
                        run.scheduled,
                        run.seq,
                    ):
                        self.free(other)
            ended = run.outcome not in ACTIVE and run.outcome != "rolled_back"
            body = self.c.runs.join(thread.tid, run.run_id)
            self.settle([thread])
            if ended:
                self.check_late_join_body(run, body)
            else:
                self.check_join_body(run, body, maybe_late=True)

    def check_late_join_body(self, run: RunM, body: Any) -> None:
        """A join that comes once its run has ended answers the thread as it reads now
        (as on the reference), not the run's own body."""
        shown = self.c.threads.get(run.thread.tid)
        interrupts = [i for items in (shown["interrupts"] or {}).values() for i in items]
        if shown["status"] == "error":
            expected: Any = {"__error__": shown["error"]}
        elif shown["status"] == "interrupted" and interrupts:
            expected = {"__interrupt__": interrupts}
        else:
            expected = shown["values"] or {}
        assert body == expected, f"[join] late join of {run} on {run.thread} answered {body}"

    def check_join_body(self, run: RunM, body: Any, *, maybe_late: bool = False) -> None:
        """The run's own body; or, when the run may have ended before the join reached
        the server (`maybe_late`: it was let go first), the thread's as it read then,
        which later runs can only have added to (the log only grows, a rollback restores)."""
        try:
            self.check_own_join_body(run, body)
        except AssertionError:
            if not maybe_late:
                raise
            where = f"[join] joining {run} on {run.thread} answered {body}"
            if "__error__" in body:
                assert body["__error__"].get("error"), where
            elif "__interrupt__" in body:
                assert body["__interrupt__"], where
            else:
                final = run.final_log or []
                assert body.get("log", [])[: len(final)] == final, f"{where}: not after {final}"

    def check_own_join_body(self, run: RunM, body: Any) -> None:
        where = f"[join] joining {run} on {run.thread} answered {body}"
        if run.outcome == "success":
            assert body.get("log") == run.final_log, f"{where}, expected log {run.final_log}"
        elif run.outcome == "error":
            assert body.get("__error__", {}).get("error") == "RuntimeError", where
        elif run.outcome == "rolled_back":
            assert body == NO_RUN_BODY, where
        elif run.outcome == "interrupted" and run.at_gate:
            assert body.get("log") == run.final_log, f"{where}, expected log {run.final_log}"

    def used(self) -> list[ThreadM]:
        return [t for t in self.threads if t.runs]

    @precondition(lambda self: self.used())
    @rule(t=_T)
    def delete_thread(self, t: int) -> None:
        with self.step("delete_thread"):
            used = self.used()
            thread = used[t % len(used)]
            self.c.threads.delete(thread.tid)
            thread.deleted = True
            self.threads.remove(thread)
            doomed = {f"nbruns-run-{r.run_id}" for r in thread.runs}
            for run in thread.runs:
                if run.outcome in ACTIVE:
                    run.outcome = "deleted"
            try:
                self.c.threads.get(thread.tid)
            except NotFoundError:
                pass
            else:
                raise AssertionError(f"[delete] {thread} is still there after delete")
            for run in thread.runs:
                try:
                    self.c.runs.get(thread.tid, run.run_id)
                except NotFoundError:
                    pass
                else:
                    raise AssertionError(f"[delete] {run} of deleted {thread} is still there")
            alive = self.server.loop_thread.run(_tasks_named(doomed))
            assert not alive, f"[delete] tasks of runs of deleted {thread} still alive: {alive}"
            fresh = self.new_thread()
            self.settle([fresh])

    @rule(t=_T)
    def update_state(self, t: int) -> None:
        with self.step("update_state"):
            thread = self.threads[t % len(self.threads)]
            entry = f"u{self.n_updates}"
            self.n_updates += 1
            if thread.active() or not thread.has_graph:
                # busy: 409; never ran (no graph to read the update with): 400, as the reference
                refused: tuple[type[Exception], ...] = ()
                if thread.active():
                    refused += (ConflictError,)
                if not thread.has_graph:
                    refused += (BadRequestError,)
                try:
                    self.c.threads.update_state(thread.tid, {"log": [entry]})
                except refused:
                    pass
                else:
                    raise AssertionError(
                        f"[update-state] update_state on {thread} succeeded while "
                        f"{thread.active() or 'no run ever ran on it'}"
                    )
            else:
                try:
                    self.c.threads.update_state(thread.tid, {"log": [entry]})
                except ConflictError as exc:
                    raise AssertionError(
                        f"[update-state] update_state on free {thread} was refused: {exc}"
                    ) from None
                thread.log.append(entry)
                thread.expected_next = None
                thread.changed = True
            self.settle([thread])

    # -- teardown --------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.broken:
                self.finish()
        finally:
            self.board.open_all()
            self.c.http.client.close()
            try:
                self.close_server()
            except AssertionError:
                if not self.broken:
                    raise
                # the example already failed: that failure is the one to report
            finally:
                with _BOARDS_LOCK:
                    _BOARDS.pop(self.ex, None)
        if not self.broken:
            assert not self.server.executor._tasks, (
                f"[teardown] executor tasks left after close: {self.server.executor._tasks}"
            )

    def close_server(self) -> None:
        """server.close(), bounded: a close that hangs fails with the stuck tasks' stacks."""
        server = self.server
        try:
            server.loop_thread.run(server.executor.aclose("test teardown"), timeout=CLOSE_WAIT)
        except TimeoutError:
            stacks = server.loop_thread.run(_task_stacks(), timeout=5)
            server.loop_thread.close()
            raise AssertionError(
                f"[teardown] closing the server hung for {CLOSE_WAIT}s; tasks:\n{stacks}"
            ) from None
        server.close()

    def finish(self) -> None:
        for thread in self.threads:
            for run in thread.active():
                if run.parked:  # would start after the example: cancel it
                    self.c.runs.cancel(thread.tid, run.run_id, action="interrupt")
                    run.outcome = "cancelling"
                    run.cancel_action = "interrupt"
                else:
                    self.free(run)
        for thread in self.threads:
            for run in list(thread.runs):
                body = self.c.runs.join(thread.tid, run.run_id)
                if run.outcome in ACTIVE:
                    self.settle([thread])
                    self.check_join_body(run, body, maybe_late=True)
        self.settle()
        for thread in self.threads:
            left = [
                r
                for r in self.c.http.get("/nbruns/runs", params={"thread_id": thread.tid})
                if r["status"] in ACTIVE
            ]
            assert not left, f"[teardown] runs still pending/running on {thread}: {left}"
            assert self.c.threads.get(thread.tid)["status"] != "busy", (
                f"[teardown] {thread} still busy"
            )
        tasks = self.server.loop_thread.run(_other_tasks())
        assert not tasks, f"[teardown] tasks left on the server loop: {tasks}"


async def _bookkeeping(ex: Any) -> dict[str, Any]:
    """The executor's own view, for failure messages: each started run's task (its
    `TaskState`, thread, when a stop was asked, the drain its `RunControl` carries),
    the threads a started run holds, the timers of runs due later, and closed."""
    missing = "<missing: renamed in the executor?>"
    run_tasks = getattr(ex, "_run_tasks", None)
    timers = getattr(ex, "_timers", None)
    return {
        "run_tasks": missing
        if run_tasks is None
        else {
            run_id[-6:]: f"{t.state.value} thread={t.thread_id[-6:]} "
            f"stop_at={t.stop_requested_at} drain={t.control.drain_reason!r}"
            for run_id, t in run_tasks.items()
        },
        "held": sorted(tid[-6:] for tid in ex.store.threads if ex.store.holds_thread(tid)),
        "timers": missing if timers is None else sorted(tid[-6:] for tid in timers),
        "closed": getattr(ex, "_closed", missing),
    }


async def _task_stacks() -> str:
    me = asyncio.current_task()
    out = []
    for task in asyncio.all_tasks():
        if task is not me:
            frames = [f"{f.f_code.co_name}:{f.f_lineno}" for f in task.get_stack(limit=12)]
            out.append(f"  {task.get_name()}: {' > '.join(frames)}")
    return "\n".join(out)


async def _other_tasks() -> list[str]:
    me = asyncio.current_task()
    return [t.get_name() for t in asyncio.all_tasks() if t is not me]


async def _tasks_named(names: set[str]) -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name() in names]


def _describe(keys: list[Any]) -> str:
    return "[" + ", ".join(f"{k[0][-6:]}:{(k[2] or {}).get('log')}/{k[3]}" for k in keys) + "]"


@pytest.mark.timeout(3600)
def test_runs_state_machine() -> None:
    run_state_machine_as_test(  # type: ignore[no-untyped-call]
        RunsMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS_PER_EXAMPLE,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            derandomize=False,
            database=None,
        ),
    )
    print("\nexercised:", dict(sorted(STATS.items())))
