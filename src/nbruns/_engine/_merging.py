"""Merged runs: steer, collect and debounce put several runs' inputs into one run.

- steer: a pending run is delivered into the running run it names (`steer_into`) at
  that run's next safe step boundary (`_steer.py`; `deliver` records it);
- collect: when the thread's next run is a collect run, every pending collect run of
  the thread (same assistant) starts as one, the oldest carrying the others' inputs;
- debounce: as collect, once the thread has been quiet for `quiet_s` after the last
  held run, at the latest `max_wait_s` after the first (`due`).

A merged run never executes on its own: it reads as its carrier does and ends as its
carrier ends, in the same step (`follow`). From its merge on, its event stream follows
its carrier's (`RunStream.add_follower`), so its readers see the answer that includes it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from .._core._errors import InvalidInput
from .._core._lifecycle import transition
from .._core._policy import Policy, effective_policy
from .._core._records import RunRecord
from .._core._store import MemoryStore
from ._run_body import drop_rolled_back, end_run
from ._runstream import RunStream
from ._steer import combine_inputs, steering_into

__all__ = ["GATHERED", "Merging"]

GATHERED = ("collect", "debounce")
"""The strategies whose held runs start together as one."""

_ENDED = ("success", "error", "timeout", "interrupted", "rolled_back")


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat()


def _mergeable(run: RunRecord) -> bool:
    # a resume (a command) is no input to combine: it runs on its own
    return run.phase == "pending" and not run.kwargs.get("command")


class Merging:
    """Merges runs of a store's threads; the executor calls it while scheduling."""

    def __init__(
        self,
        store: MemoryStore,
        *,
        clock: Callable[[], float],
        streams: Mapping[str, RunStream] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._streams: Mapping[str, RunStream] = streams if streams is not None else {}
        self._windows: dict[str, tuple[float, float]] = {}  # run id -> (quiet, max wait)
        self._shown: dict[str, tuple[float, float]] = {}  # carrier -> last debounce_wait

    def note_policy(self, run: RunRecord, policy: Policy) -> None:
        """Keep a debounce run's window (its policy's `quiet_s`, `max_wait_s`); its
        arrival moves its group's window, busy thread or not (`debounce_wait`)."""
        if run.multitask_strategy == "debounce":
            self._windows[run.run_id] = (policy.quiet, policy.max_wait)
            self.due(run, self.clock())

    def forget(self, run_id: str) -> None:
        """A pending run ended before it started: drop what was kept for it."""
        self._windows.pop(run_id, None)
        self._shown.pop(run_id, None)

    def _window(self, run: RunRecord) -> tuple[float, float]:
        window = self._windows.get(run.run_id)
        if window is None:  # after a restart: from the metadata the policy came from
            thread = self.store.threads.get(run.thread_id)
            assistant = self.store.assistants.get(run.assistant_id)
            try:
                policy = effective_policy(
                    run.metadata,
                    thread.metadata if thread else None,
                    assistant.metadata if assistant else None,
                )
            except InvalidInput:
                policy = Policy()
            window = self._windows[run.run_id] = (policy.quiet, policy.max_wait)
        return window

    # -- collect and debounce -------------------------------------------------------

    def group(self, first: RunRecord) -> list[RunRecord]:
        """The pending runs that start with `first`, in arrival order (oldest carries)."""
        if not _mergeable(first):
            return [first]
        found = [
            r
            for r in self.store.active_runs(first.thread_id)
            if _mergeable(r)
            and r.multitask_strategy == first.multitask_strategy
            and r.assistant_id == first.assistant_id
        ]
        return sorted(found, key=lambda r: r.seq) or [first]

    def due(self, first: RunRecord, now: float) -> float:
        """When a debounce group may start: quiet since its last run, or its deadline.
        Each time the window moves, the timeline says so (`debounce_wait`)."""
        if first.multitask_strategy != "debounce":
            return now
        runs = self.group(first)
        carrier, last = runs[0], runs[-1]
        until = last.created_at + self._window(last)[0]
        deadline = carrier.created_at + self._window(carrier)[1]
        due = min(until, deadline)
        if due > now and self._shown.get(carrier.run_id) != (until, deadline):
            self._shown[carrier.run_id] = (until, deadline)
            self.store.record(
                "debounce_wait",
                carrier.thread_id,
                carrier.run_id,
                at=now,
                until=_iso(until),
                deadline=_iso(deadline),
            )
        return due

    def gather(self, first: RunRecord, now: float) -> RunRecord:
        """Merge the group `first` starts into its oldest run; return that carrier, still
        pending, its input the group's inputs combined in arrival order."""
        runs = self.group(first)
        carrier = runs[0]
        for run in runs:
            self._windows.pop(run.run_id, None)
        self._shown.pop(carrier.run_id, None)
        if len(runs) == 1:
            return carrier
        kwargs = {**carrier.kwargs, "input": combine_inputs([r.kwargs.get("input") for r in runs])}
        carrier = self.store.replace_run(dataclasses.replace(carrier, kwargs=kwargs))
        self._merge(runs[1:], carrier.run_id, carrier.multitask_strategy, now)
        return carrier

    def _merge(self, runs: list[RunRecord], carrier_id: str, how: str, now: float) -> None:
        carrier_stream = self._streams.get(carrier_id)
        for run in runs:
            stream = self._streams.get(run.run_id)
            if carrier_stream is not None and stream is not None:
                carrier_stream.add_follower(stream)
            self.store.replace_run(
                transition(run, "merged", at=now, merged_into=carrier_id, steer_into=None)
            )
            self.store.record("merged", run.thread_id, run.run_id, at=now, into=carrier_id, how=how)

    # -- steer ----------------------------------------------------------------------

    def deliver(
        self, carrier_id: str, thread_id: str, after: tuple[str, ...], before: tuple[str, ...]
    ) -> Any:
        """Merge the runs waiting to steer into the running `carrier_id`; return their
        inputs combined (None when none is left: a cancel got there first)."""
        carrier = self.store.runs.get(carrier_id)
        if carrier is None or carrier.phase != "running":
            return None
        runs = [self.store.runs[i] for i in steering_into(self.store, thread_id, carrier_id)]
        runs = [r for r in runs if _mergeable(r)]
        if not runs:
            return None
        now = self.clock()
        self._merge(runs, carrier_id, "steer", now)
        self.store.record(
            "steer_delivered",
            thread_id,
            carrier_id,
            at=now,
            runs=[r.run_id for r in runs],
            after=list(after),
            before=list(before),
        )
        return combine_inputs([r.kwargs.get("input") for r in runs])

    def unsteer(self, run: RunRecord) -> RunRecord:
        """A steer run whose target ended first: from now on an ordinary queued run."""
        if run.steer_into is None:
            return run
        return self.store.replace_run(dataclasses.replace(run, steer_into=None))

    # -- merged runs follow their carrier ---------------------------------------------

    def merged_into(self, carrier_id: str, thread_id: str) -> list[RunRecord]:
        return [
            r
            for r in self.store.active_runs(thread_id)
            if r.phase == "merged" and r.merged_into == carrier_id
        ]

    def follow(self, carrier_id: str, thread_id: str) -> list[str]:
        """End the runs merged into a carrier that has ended, as it ended; their ids."""
        merged = self.merged_into(carrier_id, thread_id)
        if not merged:
            return []
        carrier = self.store.runs.get(carrier_id) or self.store.rolled_back_runs.get(carrier_id)
        phase = carrier.phase if carrier is not None else "rolled_back"
        if phase not in _ENDED:
            return []
        now = self.clock()
        reason = None
        if carrier is not None and carrier.cancel_reason:
            reason = f"its carrier run {carrier_id}: {carrier.cancel_reason}"
        stop: dict[str, Any] = {}
        if carrier is not None:
            stop = {
                "cancel_action": carrier.cancel_action,
                "cancel_reason": reason,
                "cancel_source": carrier.cancel_source,
                "superseded_by": carrier.superseded_by,
            }
        for run in merged:
            if phase == "rolled_back":
                drop_rolled_back(self.store, run, now, **stop)
            else:
                result = carrier.result if carrier is not None else None
                error = carrier.error if carrier is not None else None
                end_run(self.store, run, phase, now, result=result, error=error, **stop)
        return [r.run_id for r in merged]

    def carriers_ended(self) -> list[tuple[str, str]]:
        """(carrier, thread) of merged runs whose carrier has ended (after a restart)."""
        found: dict[str, str] = {}
        for run in list(self.store.runs.values()):
            if run.phase != "merged" or run.merged_into is None:
                continue
            carrier = self.store.runs.get(run.merged_into)
            if carrier is None or carrier.phase in _ENDED:
                found[run.merged_into] = run.thread_id
        return list(found.items())
