"""Holds at step boundaries: the engine keeps the registry and does the waiting.

A run's graph is driven with LangGraph's `tasks` stream mode: the events that say a
step's tasks start come out before any of them runs, and the events that say they
ended after. `StepWatch` turns those into boundaries (`_core/_holds.py`) and, when a
hold on the run's thread matches one, `Holds.wait_at` keeps the run there: the
driving task awaits a future, so the graph's next step does not begin. Nothing else
changes: the run reads `running`, and a stop cancels the task as it would cancel one
busy in a node (an interrupt keeps the finished steps, a rollback deletes them).

With no hold on a thread, a boundary costs one dictionary lookup.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._core._errors import NotFound
from .._core._holds import Boundary, HoldRule, check_hold, matches
from .._core._store import MemoryStore
from ._waits import wait_for_wall

__all__ = ["HeldRun", "Holds", "StepWatch"]


@dataclass(slots=True)
class HeldRun:
    """A run waiting at a hold."""

    run_id: str
    boundary: Boundary
    since: float
    go_on: asyncio.Future[None]


@dataclass(slots=True)
class _Hold:
    rule: HoldRule
    hits: int = 0
    held: dict[str, HeldRun] = field(default_factory=dict)  # run id -> where it waits
    reached: asyncio.Event = field(default_factory=asyncio.Event)  # set while any is held

    @property
    def armed(self) -> bool:
        return self.rule.times is None or self.hits < self.rule.times


class Holds:
    """Every hold of one server, by thread, and the runs waiting at them.

    `settle(thread_id)` waits until the checkpoints LangGraph is still saving in the
    background for that thread are written, so a held run's finished steps are there
    to read.
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        clock: Callable[[], float],
        settle: Callable[[str], Awaitable[None]],
        nodes_by_graph: Callable[[], Mapping[str, Sequence[str]]],
    ) -> None:
        self._store = store
        self._clock = clock
        self._settle = settle
        self._nodes_by_graph = nodes_by_graph
        self._holds: dict[str, _Hold] = {}
        self._armed: dict[str, list[_Hold]] = {}  # thread id -> its armed holds, oldest first
        self._held_runs: dict[str, tuple[_Hold, HeldRun]] = {}

    # -- what the API asks --------------------------------------------------------------

    def create(
        self,
        thread_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        times: int | None = None,
        new_runs_only: bool = False,
    ) -> _Hold:
        """Arm a hold on an existing thread; `InvalidInput` names a bad request."""
        self._store.get_thread(thread_id)  # 404 for an unknown thread
        before, after = check_hold(before, after, times, self._nodes_by_graph())
        rule = HoldRule(
            hold_id=str(uuid.uuid4()),
            thread_id=thread_id,
            before=before,
            after=after,
            times=times,
            new_runs_only=new_runs_only,
            created_seq=self._store.next_seq(),
            created_at=self._clock(),
        )
        hold = _Hold(rule)
        self._holds[rule.hold_id] = hold
        self._armed.setdefault(thread_id, []).append(hold)
        return hold

    def find(self, hold_id: str) -> _Hold | None:
        return self._holds.get(hold_id)

    def get(self, hold_id: str) -> _Hold:
        hold = self._holds.get(hold_id)
        if hold is None:
            raise NotFound(f"Hold {hold_id} not found.")
        return hold

    def of_thread(self, thread_id: str | None) -> list[_Hold]:
        return [h for h in self._holds.values() if thread_id in (None, h.rule.thread_id)]

    def release(self, hold_id: str) -> _Hold:
        """Let every run waiting at the hold go on; it stays armed if it has hits left."""
        hold = self.get(hold_id)
        for run_id, held in list(hold.held.items()):
            if not held.go_on.done():
                held.go_on.set_result(None)
            self._let_go(hold, run_id)  # now, so the answer no longer lists it as held
        return hold

    def _let_go(self, hold: _Hold, run_id: str) -> None:
        hold.held.pop(run_id, None)
        self._held_runs.pop(run_id, None)
        if not hold.held:
            hold.reached.clear()

    def delete(self, hold_id: str) -> _Hold:
        """Disarm the hold, release its runs and forget it."""
        hold = self.release(hold_id)
        self._disarm(hold)
        del self._holds[hold_id]
        return hold

    def forget_thread(self, thread_id: str) -> None:
        """A deleted thread's holds go with it (its runs were stopped first)."""
        for hold in self.of_thread(thread_id):
            self.delete(hold.rule.hold_id)

    def held(self, run_id: str) -> tuple[HoldRule, HeldRun] | None:
        """Where a run waits, if it is held."""
        found = self._held_runs.get(run_id)
        return None if found is None else (found[0].rule, found[1])

    async def wait_held(self, hold_id: str, timeout: float) -> _Hold:  # noqa: ASYNC109
        """The hold once a run waits at it (at once if one does), or after `timeout` s."""
        hold = self.get(hold_id)
        if not hold.held:
            try:
                await wait_for_wall(hold.reached.wait(), timeout)  # wall s: virtual time
            except TimeoutError:
                pass
        return hold

    # -- what a driven run asks ---------------------------------------------------------

    def watching(self, thread_id: str) -> bool:
        """Whether any hold could catch a run of this thread now (the cheap check)."""
        return thread_id in self._armed

    async def wait_at(
        self, thread_id: str, run_id: str, boundary: Boundary, *, named_only: bool = False
    ) -> bool:
        """Keep the run here while a matching hold holds it; return when released,
        saying whether it was held."""
        run = self._store.runs.get(run_id)
        if run is None:
            return False
        armed = self._armed.get(thread_id, ())
        hold = next(
            (h for h in armed if matches(h.rule, boundary, run.seq, named_only=named_only)),
            None,
        )
        if hold is None:
            return False
        hold.hits += 1
        if not hold.armed:
            self._disarm(hold)
        await self._settle(thread_id)
        held = HeldRun(run_id, boundary, self._clock(), asyncio.get_running_loop().create_future())
        hold.held[run_id] = held
        self._held_runs[run_id] = (hold, held)
        hold.reached.set()
        detail = {"after": list(boundary.after), "before": list(boundary.before)}
        self._store.record(
            "held", thread_id, run_id, at=held.since, hold_id=hold.rule.hold_id, **detail
        )
        released = False
        try:
            await held.go_on
            released = True
        finally:
            self._let_go(hold, run_id)  # a release did already; a cancel did not
            if released:
                self._store.record(
                    "released", thread_id, run_id, at=self._clock(), hold_id=hold.rule.hold_id
                )
        return True

    def _disarm(self, hold: _Hold) -> None:
        armed = self._armed.get(hold.rule.thread_id)
        if armed is not None and hold in armed:
            armed.remove(hold)
            if not armed:
                del self._armed[hold.rule.thread_id]


_PUSH = "__pregel_push"  # the trigger of a task pushed by Send or a functional call


class StepWatch:
    """Finds a driven run's step boundaries in its `tasks` events and stops at holds.

    The start events of a step's planned tasks all come out before any of them runs,
    one after another; its tasks end with result events. A task pushed while others
    run (a functional API call) starts mid-step: that is no boundary. So a start with
    no task open begins a step (its boundary is checked), and further starts before
    any result, unless pushed, belong to the same step (checked for holds naming
    them).
    """

    __slots__ = (
        "_after",
        "_before",
        "_finished",
        "_holds",
        "_open",
        "_resuming",
        "_run_id",
        "_thread_id",
        "at_boundary",
    )

    def __init__(self, holds: Holds, thread_id: str, run_id: str) -> None:
        self._holds = holds
        self._thread_id = thread_id
        self._run_id = run_id
        # awaited at each new step's boundary, after any hold there, and again after a
        # hold on another node of that step (steer delivers there)
        self.at_boundary: Callable[[Boundary], Awaitable[None]] | None = None
        self._resuming = False  # the graph is driven again from the boundary just crossed
        self._open: set[Any] = set()  # ids of tasks started and not yet ended
        self._finished: list[str] = []  # names of the tasks of the step that just ended
        self._after: tuple[str, ...] = ()  # the boundary being crossed: its `after`...
        self._before: list[str] | None = None  # ...and the nodes starting (None: running)

    async def task_event(self, event: Mapping[str, Any]) -> None:
        """One top-level `tasks` event: a task started, or one ended."""
        name = event.get("name")
        if "result" in event or "error" in event:  # a task ended
            self._open.discard(event.get("id"))
            self._before = None
            if isinstance(name, str) and name not in self._finished:
                self._finished.append(name)
            return
        if not isinstance(name, str):
            return
        if not self._open and self._resuming:  # the boundary was crossed already
            self._resuming = False
            # the step's nodes seen before it was left count as seen (no hold twice)
            seen = self._before or []
            self._before = seen if name in seen else [*seen, name]
        elif not self._open:  # every task had ended: a new step begins
            self._after, self._before = tuple(self._finished), [name]
            self._finished = []
            if self._holds.watching(self._thread_id):
                boundary = Boundary(after=self._after, before=(name,))
                await self._holds.wait_at(self._thread_id, self._run_id, boundary)
            if self.at_boundary is not None:
                await self.at_boundary(Boundary(after=self._after, before=(name,)))
        elif self._before is not None and _PUSH not in (event.get("triggers") or ()):
            if name not in self._before:  # another node of the step that is starting
                self._before.append(name)
                if self._holds.watching(self._thread_id):
                    boundary = Boundary(after=self._after, before=tuple(self._before))
                    held = await self._holds.wait_at(
                        self._thread_id, self._run_id, boundary, named_only=True
                    )
                    # a steer that came while it was held goes in here, as at a step's
                    # first node: none of the step's tasks has run yet
                    if held and self.at_boundary is not None:
                        await self.at_boundary(boundary)
        self._open.add(event.get("id"))

    def resume(self) -> None:
        """The graph is driven again from the boundary it stopped at: its first step
        starting is that boundary, not a new one (no hold catches it twice, even one
        naming a node of the step whose start was seen before it was left)."""
        self._resuming = True
        self._open.clear()

    async def ended(self) -> None:
        """The graph has run its last step: the run's end is a boundary too."""
        if self._finished and self._holds.watching(self._thread_id):
            boundary = Boundary(after=tuple(self._finished), before=())
            await self._holds.wait_at(self._thread_id, self._run_id, boundary)
