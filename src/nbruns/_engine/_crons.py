"""The cron scheduler: creates, changes and fires crons on the executor's loop.

A firing is an ordinary `Executor.create_run`, so it obeys the cron's multitask
strategy like any other run (`reject` on a busy thread skips that firing, as on
the reference). A stateless cron (no thread) gets a new thread per firing, deleted
after its run unless `on_run_completed="keep"`.

There is no polling task: one timer, set for the earliest due cron, wakes the
scheduler, which fires what is due and sets the timer again. `fire_due(at=...)`
is the same step with an explicit time, so tests and notebooks make a cron due
without waiting for it. Firing is synchronous, so there is nothing to await on
close: `stop` cancels the timer.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .._core._crons import (
    CronRecord,
    CronTable,
    check_timezone,
    next_fire,
    parse_end_time,
)
from .._core._errors import BadRequest, NbrunsError, NotFound
from .._core._policy import policy_of
from .._core._records import AssistantRecord, RunRecord
from ._runspec import RunSpec

__all__ = ["Crons", "run_spec"]

logger = logging.getLogger(__name__)

# the longest the timer sleeps before checking again (a wall clock may jump)
_MAX_SLEEP = 60.0

CreateRun = Callable[[str | None, RunSpec], RunRecord]


def run_spec(cron: CronRecord) -> RunSpec:
    """The run a firing creates, from the cron's stored request (validated when it was made)."""
    p = cron.payload
    config = dict(p.get("config") or {})
    configurable = dict(config.get("configurable") or {})
    if p.get("context"):
        # as the reference does: the cron id stays out of `configurable` next to `context`
        configurable.pop("cron_id", None)
    config.pop("configurable", None)
    if configurable:
        config["configurable"] = configurable
    modes = p.get("stream_mode") or "values"
    return RunSpec(
        assistant_id=cron.assistant_id,
        input=p.get("input"),
        stream_mode=(modes,) if isinstance(modes, str) else tuple(modes),
        stream_subgraphs=bool(p.get("stream_subgraphs")),
        stream_resumable=bool(p.get("stream_resumable")),
        metadata={**cron.metadata, **(p.get("metadata") or {})},
        config=config,
        context=p.get("context"),
        interrupt_before=p.get("interrupt_before"),
        interrupt_after=p.get("interrupt_after"),
        # the cron's own strategy; none stored: the run's policy decides, else enqueue
        multitask_strategy=p.get("multitask_strategy") or None,
        on_completion=cron.on_run_completed or "delete",
        durability=p.get("durability"),
    )


class Crons:
    """Cron operations and the timer that fires them."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        create_run: CreateRun,
        resolve_assistant: Callable[[str], AssistantRecord],
        thread_exists: Callable[[str], bool],
    ) -> None:
        self.table = CronTable()
        self._clock = clock
        self._create_run = create_run
        self._resolve_assistant = resolve_assistant
        self._thread_exists = thread_exists
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------

    def use_table(self, table: CronTable) -> None:
        """Swap in a durable table (before `start`)."""
        self.table = table

    def start(self) -> None:
        """Begin firing; call on the loop that runs the executor."""
        self._loop = asyncio.get_running_loop()
        self._stopped = False
        self._arm()

    def stop(self) -> None:
        """Fire nothing more (the executor is closing)."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, at_least: float = 0.0) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._stopped or self._loop is None:
            return
        now = self._clock()
        due = self.table.next_due(now)
        if due is not None:
            delay = min(max(at_least, due - now), _MAX_SLEEP)
            self._timer = self._loop.call_later(delay, self._wake)

    def _wake(self) -> None:
        self._timer = None
        try:
            self.fire_due()
        except Exception:  # a timer callback must not die: the next crons still fire
            logger.exception("nbruns: firing due crons failed")
            self._arm(at_least=1.0)  # not at once: the same failure would spin

    # -- firing --------------------------------------------------------------

    def fire_due(self, at: float | None = None) -> list[RunRecord]:
        """Fire every cron due at `at` (default: now) once, then set the timer again.

        Each fired cron's next run is the first time its schedule fires after `at`
        (firings missed while the process was down are not made up, as on the
        reference). A firing the executor refuses (`reject` on a busy thread, the
        server closing) is skipped; a cron whose assistant was deleted is deleted."""
        now = self._clock() if at is None else at
        created: list[RunRecord] = []
        if self._stopped:
            return created
        for cron in self.table.due(now):
            try:
                self._resolve_assistant(cron.assistant_id)
            except NotFound:
                # its assistant was deleted: the reference deletes such crons with it
                self.table.delete(cron.cron_id)
                continue
            if cron.thread_id is not None and not self._thread_exists(cron.thread_id):
                self.table.delete(cron.cron_id)  # (thread deletes take their crons already)
                continue
            try:
                created.append(self._create_run(cron.thread_id, run_spec(cron)))
            except NbrunsError:
                pass
            self.table.put(_replace(cron, **self._advance(cron, now)))
        self._arm()
        return created

    @staticmethod
    def _advance(cron: CronRecord, after: float) -> dict[str, Any]:
        try:
            return {"next_run_date": next_fire(cron.schedule, after, cron.timezone)}
        except NbrunsError:  # a schedule with a year that has passed: it is done
            return {"enabled": False}

    # -- operations (the API's) ---------------------------------------------

    def create(self, thread_id: str | None, body: Mapping[str, Any]) -> CronRecord:
        """A new cron from a validated create request; nothing is kept if a check fails."""
        # checked in the reference's order: time zone, schedule, assistant, thread
        timezone = check_timezone(body.get("timezone"))
        end_time = parse_end_time(body.get("end_time"))
        policy_of(body.get("metadata"), where="cron")  # its runs' policy: 422 now, not later
        now = self._clock()
        next_run = next_fire(body["schedule"], now, timezone)
        assistant = self._assistant(str(body["assistant_id"]))
        if thread_id is not None and not self._thread_exists(thread_id):
            raise NotFound(
                f"Thread with ID '{thread_id}' not found. Please verify the ID is correct "
                "and the thread hasn't been deleted."
            )
        cron_id = str(uuid.uuid4())
        payload = dict(body)
        payload["assistant_id"] = assistant.assistant_id
        config = dict(payload.get("config") or {})
        config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
        payload["config"] = config
        cron = CronRecord(
            cron_id=cron_id,
            assistant_id=assistant.assistant_id,
            thread_id=thread_id,
            schedule=body["schedule"],
            timezone=timezone,
            payload=payload,
            metadata=dict(body.get("metadata") or {}),
            enabled=body.get("enabled", True) is not False,
            on_run_completed=None
            if thread_id is not None
            else body.get("on_run_completed") or "delete",
            end_time=end_time,
            next_run_date=next_run,
            created_at=now,
            updated_at=now,
        )
        self.table.put(cron)
        self._arm()
        return cron

    def update(self, cron_id: str, patch: Mapping[str, Any]) -> CronRecord:
        """Apply a validated patch: absent keys stay, `end_time: null` clears the end time."""
        if not patch:
            raise BadRequest(
                "Request body cannot be empty: send at least one field to change "
                "(schedule, timezone, end_time, enabled, metadata, input, ...)"
            )
        check_timezone(patch.get("timezone"))
        policy_of(patch.get("metadata"), where="cron")
        cron = self.table.get(cron_id)
        now = self._clock()
        changes: dict[str, Any] = {"updated_at": now}
        timezone = cron.timezone
        if patch.get("timezone") is not None:
            timezone = changes["timezone"] = patch["timezone"]
        schedule = patch.get("schedule")
        if schedule is not None or "timezone" in changes:
            changes["schedule"] = schedule if schedule is not None else cron.schedule
            changes["next_run_date"] = next_fire(changes["schedule"], now, timezone)
        if "end_time" in patch:
            changes["end_time"] = parse_end_time(patch["end_time"])
        if patch.get("enabled") is not None:
            changes["enabled"] = bool(patch["enabled"])
        if patch.get("on_run_completed") is not None:
            changes["on_run_completed"] = patch["on_run_completed"]
        if patch.get("metadata") is not None:
            changes["metadata"] = {**cron.metadata, **patch["metadata"]}
        # the stored request takes the patch's keys; its assistant and cron id stay
        payload = {**cron.payload, **patch, "assistant_id": cron.assistant_id}
        config = dict(payload.get("config") or {})
        config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
        payload["config"] = config
        changes["payload"] = payload
        updated = self.table.put(_replace(cron, **changes))
        self._arm()
        return updated

    def delete(self, cron_id: str) -> None:
        self.table.delete(cron_id)
        self._arm()

    def forget_thread(self, thread_id: str) -> None:
        """The thread is being deleted: its crons go with it, as on the reference."""
        self.table.delete_for_thread(thread_id)
        self._arm()

    def forget_assistant(self, assistant_id: str) -> None:
        """The assistant is being deleted: its crons go at once, as on the reference."""
        self.table.delete_for_assistant(assistant_id)
        self._arm()

    def _assistant(self, assistant_id: str) -> AssistantRecord:
        try:
            return self._resolve_assistant(assistant_id)
        except NotFound:
            raise NotFound(f"Assistant '{assistant_id}' not found.") from None


def _replace(cron: CronRecord, **changes: Any) -> CronRecord:
    return dataclasses.replace(cron, **changes)
