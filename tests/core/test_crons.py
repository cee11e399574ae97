"""The pure cron rules: schedules read by croniter, time zones, end times, the table."""

from __future__ import annotations

import datetime

import pytest

from nbruns._core._crons import CronRecord, CronTable, check_timezone, next_fire, parse_end_time
from nbruns._core._errors import InvalidInput, NotFound

UTC = datetime.UTC


def at(*parts: int, tz: datetime.tzinfo = UTC) -> float:
    return datetime.datetime(*parts, tzinfo=tz).timestamp()  # type: ignore[misc]


def test_next_fire_is_strictly_after() -> None:
    assert next_fire("*/5 * * * *", at(2024, 1, 1, 0, 3), None) == at(2024, 1, 1, 0, 5)
    assert next_fire("*/5 * * * *", at(2024, 1, 1, 0, 5), None) == at(2024, 1, 1, 0, 10)
    assert next_fire("@daily", at(2024, 1, 1, 12), None) == at(2024, 1, 2)


def test_a_sixth_field_is_seconds() -> None:
    assert next_fire("* * * * * */10", at(2024, 1, 1, 0, 0, 1), None) == at(2024, 1, 1, 0, 0, 10)


def test_time_zones_follow_daylight_saving() -> None:
    # 09:00 in New York: 14:00 UTC in winter, 13:00 UTC in summer
    assert next_fire("0 9 * * *", at(2024, 1, 10), "America/New_York") == at(2024, 1, 10, 14)
    assert next_fire("0 9 * * *", at(2024, 7, 10), "America/New_York") == at(2024, 7, 10, 13)


@pytest.mark.parametrize("schedule", ["", "bad", "61 * * * *", "* * *", "0 0 31 2 *"])
def test_bad_schedules_name_the_field(schedule: str) -> None:
    with pytest.raises(InvalidInput, match="schedule"):
        next_fire(schedule, at(2024, 1, 1), None)


def test_timezones_and_end_times() -> None:
    assert check_timezone("Europe/Paris") == "Europe/Paris"
    assert check_timezone(None) is None
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(InvalidInput, match="timezone"):
            check_timezone(bad)
    assert parse_end_time("2030-01-01T00:00:00") == at(2030, 1, 1)  # no offset: UTC
    assert parse_end_time("2030-01-01T01:00:00+01:00") == at(2030, 1, 1)
    with pytest.raises(InvalidInput, match="end_time"):
        parse_end_time("soon")


def cron(cron_id: str, **changes: object) -> CronRecord:
    base: dict[str, object] = dict(
        cron_id=cron_id, assistant_id="a", thread_id=None, schedule="* * * * *", timezone=None,
        payload={}, metadata={}, enabled=True, on_run_completed="delete", end_time=None,
        next_run_date=100.0, created_at=1.0, updated_at=1.0,
    )  # fmt: skip
    return CronRecord(**{**base, **changes})  # type: ignore[arg-type]


def test_due_skips_disabled_ended_and_future() -> None:
    table = CronTable()
    table.load(
        [
            cron("due", next_run_date=50.0),
            cron("later", next_run_date=150.0),
            cron("off", enabled=False, next_run_date=10.0),
            cron("ended", end_time=90.0, next_run_date=10.0),
            cron("first", next_run_date=20.0),
        ]
    )
    assert [c.cron_id for c in table.due(100.0)] == ["first", "due"]
    assert table.next_due(100.0) == 20.0
    assert table.next_due(5.0) == 10.0  # "ended" was still to fire before its end
    table.delete("first")
    table.delete("due")
    assert table.next_due(100.0) == 150.0  # not "ended": it will never fire again
    with pytest.raises(NotFound):
        table.delete("due")


def test_search_sorts_and_filters() -> None:
    table = CronTable()
    table.load(
        [
            cron("b", created_at=2.0, thread_id="t", metadata={"x": 1}),
            cron("a", created_at=3.0, enabled=False),
            cron("c", created_at=1.0, metadata={"x": 1, "y": 2}),
        ]
    )
    assert [c.cron_id for c in table.search()] == ["a", "b", "c"]
    assert [c.cron_id for c in table.search(sort_by="cron_id", sort_order="asc")] == ["a", "b", "c"]
    assert [c.cron_id for c in table.search(metadata={"x": 1})] == ["b", "c"]
    assert [c.cron_id for c in table.search(thread_id="t")] == ["b"]
    assert [c.cron_id for c in table.search(enabled=False)] == ["a"]
    table.delete_for_thread("t")
    assert sorted(table.crons) == ["a", "c"]


def test_vocabulary_is_the_sdks() -> None:
    from typing import get_args

    from langgraph_sdk import schema

    from nbruns._api._requests import CronSelectField, CronSortBy
    from nbruns._core._crons import CRON_FIELDS, CRON_SORT_FIELDS, OnRunCompleted

    # the SDK also offers "now", which the reference's search refuses (422), as nbruns does
    sdk_fields = set(get_args(schema.CronSelectField)) - {"now"}
    assert set(get_args(CronSelectField)) == sdk_fields == set(CRON_FIELDS)
    assert set(get_args(CronSortBy)) == set(get_args(schema.CronSortBy)) == set(CRON_SORT_FIELDS)
    assert get_args(OnRunCompleted) == get_args(schema.OnCompletionBehavior)
