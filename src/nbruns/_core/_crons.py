"""Crons: the record, and the pure rules about schedules, time zones and searches.

A cron is a run payload plus a schedule. Schedules are read by `croniter`, the
library LangGraph's server uses, so the same strings are accepted (five fields,
a sixth for seconds, `@daily` and the like) and fire at the same times: the next
time after "now" in the cron's IANA time zone (UTC when it has none). Times are
kept as POSIX timestamps, as every other record's are.

`CronTable` keeps the crons in memory; the persistence layer writes it through to
SQLite. Only the executor's loop touches it, so it needs no locks.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ._errors import InvalidInput, NotFound
from ._store import matches

__all__ = [
    "CRON_FIELDS",
    "CRON_SORT_FIELDS",
    "CronRecord",
    "CronTable",
    "OnRunCompleted",
    "check_timezone",
    "next_fire",
    "parse_end_time",
]

OnRunCompleted = Literal["delete", "keep"]
"""What happens to a stateless cron's thread after each run (the SDK's `OnCompletionBehavior`)."""

# the keys of a cron's JSON, in the reference's order (`select` picks among them)
CRON_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "user_id",
    "end_time",
    "schedule",
    "timezone",
    "payload",
    "next_run_date",
    "metadata",
    "on_run_completed",
    "enabled",
    "created_at",
    "updated_at",
)
CRON_SORT_FIELDS = (
    "cron_id",
    "assistant_id",
    "thread_id",
    "next_run_date",
    "end_time",
    "created_at",
    "updated_at",
)

_EXAMPLE = "use five fields (minute hour day-of-month month day-of-week), e.g. '*/5 * * * *'"


@dataclasses.dataclass(frozen=True, slots=True)
class CronRecord:
    cron_id: str
    assistant_id: str
    thread_id: str | None  # None: stateless, a new thread for each run
    schedule: str
    timezone: str | None
    payload: Mapping[str, Any]  # the run request, as the client sent it (plus the cron id)
    metadata: Mapping[str, Any]
    enabled: bool
    on_run_completed: OnRunCompleted | None  # None for a cron on a thread
    end_time: float | None
    next_run_date: float
    created_at: float
    updated_at: float
    user_id: str | None = ""  # the reference's value when no auth is configured


def check_timezone(name: str | None) -> str | None:
    """The IANA time zone name, or a 422 naming the field."""
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"Invalid timezone: {name!r:.80}; use an IANA time zone name "
            "such as 'America/New_York' (or leave it unset for UTC)"
        ) from None
    return name


def parse_end_time(value: str | None) -> float | None:
    """An ISO 8601 date-time as a timestamp; one without an offset is read as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"Invalid end_time: {value!r:.80} is not an ISO 8601 date-time "
            "(e.g. '2030-01-01T00:00:00+00:00')"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def next_fire(schedule: str, after: float, timezone: str | None) -> float:
    """The first time `schedule` fires strictly after `after`, read in `timezone`."""
    from croniter import croniter  # on first use: it costs `import nbruns` ~70 ms

    if not isinstance(schedule, str) or not croniter.is_valid(schedule):
        raise InvalidInput(
            f"Invalid cron schedule: {schedule!r:.80}; {_EXAMPLE}, "
            "with an optional sixth field for seconds"
        )
    zone = zoneinfo.ZoneInfo(timezone) if timezone else datetime.UTC
    start = datetime.datetime.fromtimestamp(after, zone)
    try:
        found = croniter(schedule, start).get_next(datetime.datetime)
    except (ValueError, OverflowError):  # a valid schedule that never fires: 30 February
        raise InvalidInput(
            f"Invalid cron schedule: {schedule!r:.80} never fires (no such date); {_EXAMPLE}"
        ) from None
    return float(found.timestamp())


def _sort_key(field: str) -> Any:
    if field in ("cron_id", "assistant_id", "thread_id"):
        return lambda c: str(getattr(c, field) or "").lower()
    return lambda c: getattr(c, field) or 0.0  # an absent end_time sorts first ascending


class CronTable:
    """The crons, by id."""

    def __init__(self) -> None:
        self.crons: dict[str, CronRecord] = {}

    def load(self, records: Iterable[CronRecord]) -> None:
        self.crons.update((c.cron_id, c) for c in records)

    def get(self, cron_id: str) -> CronRecord:
        try:
            return self.crons[cron_id]
        except KeyError:
            raise NotFound(f"Cron '{cron_id}' not found.") from None

    def put(self, record: CronRecord) -> CronRecord:
        self.crons[record.cron_id] = record
        return record

    def delete(self, cron_id: str) -> None:
        self.get(cron_id)
        del self.crons[cron_id]

    def delete_for_thread(self, thread_id: str) -> None:
        for cron in [c for c in self.crons.values() if c.thread_id == thread_id]:
            self.delete(cron.cron_id)

    def delete_for_assistant(self, assistant_id: str) -> None:
        for cron in [c for c in self.crons.values() if c.assistant_id == assistant_id]:
            self.delete(cron.cron_id)

    def search(
        self,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: Mapping[str, Any] | None = None,
        sort_by: str = "created_at",
        sort_order: str = "desc",
    ) -> list[CronRecord]:
        """Every match, sorted (the caller pages); `sort_by` is one of `CRON_SORT_FIELDS`."""
        found = [
            c
            for c in self.crons.values()
            if (assistant_id is None or c.assistant_id == assistant_id)
            and (thread_id is None or c.thread_id == thread_id)
            and (enabled is None or c.enabled == enabled)
            and (not metadata or matches(c.metadata, metadata))
        ]
        found.sort(key=_sort_key(sort_by), reverse=sort_order == "desc")
        return found

    def due(self, now: float) -> list[CronRecord]:
        """Enabled crons whose time has come and whose end time has not passed, oldest due first."""
        found = [
            c
            for c in self.crons.values()
            if c.enabled and c.next_run_date <= now and (c.end_time is None or c.end_time >= now)
        ]
        return sorted(found, key=lambda c: (c.next_run_date, c.created_at))

    def next_due(self, now: float) -> float | None:
        """When the next cron may fire, or None when none can (ended ones never will)."""
        times = [
            c.next_run_date
            for c in self.crons.values()
            if c.enabled and (c.end_time is None or c.end_time >= max(c.next_run_date, now))
        ]
        return min(times, default=None)
