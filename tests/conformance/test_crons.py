"""Crons on every target: create (stateless and on a thread), get, search, count,
update, delete, the thread-delete cascade, and the refusals.

Schedules here are far apart ("0 0 1 1 *") so nothing fires during a test; firing
itself is tested in process (tests/api/test_crons.py), where a cron can be made
due without waiting. Each test marks its crons with a metadata value of its own,
searches by it, and deletes its crons at the end: the reference is shared by the
whole session.
"""

from __future__ import annotations

import contextlib
import datetime
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

YEARLY = "0 0 1 1 *"
KEYS = {
    "cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule", "timezone",
    "payload", "next_run_date", "metadata", "on_run_completed", "enabled", "created_at",
    "updated_at",
}  # fmt: skip


def ts(iso: str) -> float:
    moment = datetime.datetime.fromisoformat(iso)
    if moment.tzinfo is None:  # the reference echoes an end_time as it was sent
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


def next_new_year() -> float:
    now = datetime.datetime.now(datetime.UTC)
    return datetime.datetime(now.year + 1, 1, 1, tzinfo=datetime.UTC).timestamp()


@pytest.fixture
async def crons(drv: Any) -> AsyncIterator[list[str]]:
    """Ids of the crons a test made; deleted after it."""
    made: list[str] = []
    yield made
    for cron_id in made:
        with contextlib.suppress(Exception):
            await drv.http.delete(f"/runs/crons/{cron_id}")


async def test_create_get_shapes(drv: Any, crons: list[str]) -> None:
    tid = await drv.thread()
    mark = {"test": str(uuid.uuid4())}
    stateless = await drv.client.crons.create(
        "slow",
        schedule=YEARLY,
        input={"n": 1},
        metadata=mark,
        end_time=datetime.datetime(2100, 1, 1),
    )
    crons.append(stateless["cron_id"])
    on_thread = await drv.client.crons.create_for_thread(
        tid, "slow", schedule=YEARLY, timezone="America/New_York", multitask_strategy="interrupt"
    )
    crons.append(on_thread["cron_id"])

    for cron in (stateless, on_thread):
        assert set(cron) == KEYS
        assert cron["enabled"] is True and cron["schedule"] == YEARLY
        assert cron["user_id"] == ""  # no auth configured
        assert cron["created_at"] == cron["updated_at"]
        payload = cron["payload"]
        assert payload["assistant_id"] == cron["assistant_id"] != "slow"
        assert payload["config"] == {"configurable": {"cron_id": cron["cron_id"]}}
        assert payload["schedule"] == YEARLY
    assert stateless["thread_id"] is None and stateless["on_run_completed"] == "delete"
    assert stateless["timezone"] is None and stateless["metadata"] == mark
    assert stateless["payload"]["input"] == {"n": 1}
    # the SDK sends a naive datetime as it is: the reference echoes that text, nbruns
    # reads it as UTC and answers it with its offset, as every other time it answers
    sent = "2100-01-01T00:00:00"
    assert stateless["end_time"] == (sent if drv.is_reference else sent + "+00:00")
    assert stateless["payload"]["end_time"] == sent  # the stored request, as sent
    assert (
        ts(stateless["end_time"]) == datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC).timestamp()
    )
    assert ts(stateless["next_run_date"]) == next_new_year()
    assert on_thread["thread_id"] == tid and on_thread["on_run_completed"] is None
    assert on_thread["timezone"] == "America/New_York" and on_thread["metadata"] == {}
    assert on_thread["payload"]["multitask_strategy"] == "interrupt"
    assert on_thread["end_time"] is None
    new_york_new_year = next_new_year() + 5 * 3600  # midnight in New York, 05:00 UTC
    assert ts(on_thread["next_run_date"]) == new_york_new_year

    got = await drv.http.get(f"/runs/crons/{on_thread['cron_id']}")
    assert got.status_code == 200 and got.json() == on_thread


async def test_search_and_count(drv: Any, crons: list[str]) -> None:
    tid = await drv.thread()
    mark = {"test": str(uuid.uuid4())}
    made = []
    for i, schedule in enumerate(["0 0 1 1 *", "0 0 1 6 *", "0 0 1 3 *"]):
        if i == 1:
            cron = await drv.client.crons.create_for_thread(
                tid, "slow", schedule=schedule, metadata=mark
            )
        else:
            cron = await drv.client.crons.create(
                "slow", schedule=schedule, metadata={**mark, "i": i}, enabled=i != 2
            )
        crons.append(cron["cron_id"])
        made.append(cron["cron_id"])

    ids = [c["cron_id"] for c in await drv.client.crons.search(metadata=mark)]
    assert ids == made[::-1]  # newest first
    asc = await drv.client.crons.search(metadata=mark, sort_by="created_at", sort_order="asc")
    assert [c["cron_id"] for c in asc] == made
    by_next = await drv.client.crons.search(
        metadata=mark, sort_by="next_run_date", sort_order="asc"
    )
    assert [c["schedule"] for c in by_next] == ["0 0 1 1 *", "0 0 1 3 *", "0 0 1 6 *"]
    page = await drv.client.crons.search(metadata=mark, limit=1, offset=1)
    assert [c["cron_id"] for c in page] == [made[1]]
    off = await drv.client.crons.search(metadata=mark, enabled=False)
    assert [c["cron_id"] for c in off] == [made[2]]
    on_thread = await drv.client.crons.search(thread_id=tid)
    assert [c["cron_id"] for c in on_thread] == [made[1]]
    chosen = await drv.client.crons.search(metadata=mark, limit=1, select=["cron_id", "enabled"])
    assert chosen == [{"cron_id": made[2], "enabled": False}]

    resp = await drv.http.post("/runs/crons/search", json={"metadata": mark, "limit": 2})
    assert resp.status_code == 200
    assert resp.headers["x-pagination-total"] == "3"
    assert resp.headers["x-pagination-next"] == "2"

    assert await drv.client.crons.count(metadata=mark) == 3
    assert await drv.client.crons.count(thread_id=tid) == 1
    assert await drv.client.crons.count(metadata={**mark, "i": 0}) == 1


async def test_update(drv: Any, crons: list[str]) -> None:
    cron = await drv.client.crons.create(
        "slow",
        schedule=YEARLY,
        metadata={"a": 1},
        input={"n": 1},
        end_time=datetime.datetime(2100, 1, 1),
    )
    crons.append(cron["cron_id"])
    updated = await drv.client.crons.update(
        cron["cron_id"], schedule="0 0 1 2 *", metadata={"b": 2}, enabled=False, input={"n": 2}
    )
    assert updated["schedule"] == "0 0 1 2 *" and updated["enabled"] is False
    assert updated["metadata"] == {"a": 1, "b": 2}  # merged
    assert updated["payload"]["input"] == {"n": 2}
    assert updated["payload"]["metadata"] == {"b": 2}  # the stored request takes the patch's keys
    assert updated["payload"]["schedule"] == "0 0 1 2 *"
    assert updated["payload"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert updated["created_at"] == cron["created_at"]
    assert ts(updated["updated_at"]) > ts(cron["updated_at"])
    assert ts(updated["next_run_date"]) != ts(cron["next_run_date"])
    assert updated["end_time"] is not None
    cleared = await drv.client.crons.update(cron["cron_id"], end_time=None)
    assert cleared["end_time"] is None and cleared["metadata"] == {"a": 1, "b": 2}

    empty = await drv.http.patch(f"/runs/crons/{cron['cron_id']}", json={})
    assert empty.status_code == 400 and empty.json()["detail"]
    bad = await drv.http.patch(f"/runs/crons/{cron['cron_id']}", json={"schedule": "bad"})
    assert bad.status_code == 422 and bad.json()["detail"]
    after = await drv.http.get(f"/runs/crons/{cron['cron_id']}")
    assert after.json() == cleared  # refusals changed nothing


async def test_delete_and_unknown_ids(drv: Any, new_uuid: Any) -> None:
    cron = await drv.client.crons.create("slow", schedule=YEARLY)
    resp = await drv.http.delete(f"/runs/crons/{cron['cron_id']}")
    assert resp.status_code == 204
    unknown = new_uuid()
    for method, body in (("GET", None), ("DELETE", None), ("PATCH", {"enabled": True})):
        resp = await drv.http.request(method, f"/runs/crons/{unknown}", json=body)
        assert resp.status_code == 404, (method, resp.text)
        assert resp.json()["detail"]
    resp = await drv.http.get(f"/runs/crons/{cron['cron_id']}")
    assert resp.status_code == 404
    resp = await drv.http.patch("/runs/crons/not-a-uuid", json={"enabled": True})
    assert resp.status_code == 422 and "cron ID" in resp.json()["detail"]


async def test_deleting_a_thread_deletes_its_crons(drv: Any, crons: list[str]) -> None:
    tid = await drv.thread()
    cron = await drv.client.crons.create_for_thread(tid, "slow", schedule=YEARLY)
    crons.append(cron["cron_id"])
    assert await drv.client.crons.count(thread_id=tid) == 1
    await drv.client.threads.delete(tid)
    assert await drv.client.crons.count(thread_id=tid) == 0
    resp = await drv.http.get(f"/runs/crons/{cron['cron_id']}")
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"assistant_id": "slow", "schedule": "not a schedule"}, 422),
        ({"assistant_id": "slow", "schedule": "61 * * * *"}, 422),
        ({"assistant_id": "slow", "schedule": YEARLY, "timezone": "Mars/Olympus"}, 422),
        ({"assistant_id": "slow", "schedule": YEARLY, "sort_by": 1}, 200),  # ignored key
        ({"assistant_id": "nope", "schedule": YEARLY}, 404),
        ({"assistant_id": str(uuid.UUID(int=0)), "schedule": YEARLY}, 404),
        ({"assistant_id": "slow", "schedule": YEARLY, "stream_mode": "bogus"}, 422),
        ({"assistant_id": "slow", "schedule": YEARLY, "on_run_completed": "archive"}, 422),
    ],
)
async def test_create_refusals(drv: Any, crons: list[str], body: Any, status: int) -> None:
    resp = await drv.http.post("/runs/crons", json=body)
    assert resp.status_code == status, resp.text
    if status == 200:
        crons.append(resp.json()["cron_id"])
    else:
        assert isinstance(resp.json()["detail"], str) and resp.json()["detail"]


async def test_create_on_an_unknown_thread(drv: Any, new_uuid: Any) -> None:
    resp = await drv.http.post(
        f"/threads/{new_uuid()}/runs/crons", json={"assistant_id": "slow", "schedule": YEARLY}
    )
    assert resp.status_code == 404 and "Thread" in resp.json()["detail"]


async def test_a_schedule_that_never_fires(drv: Any) -> None:
    resp = await drv.http.post(
        "/runs/crons", json={"assistant_id": "slow", "schedule": "0 0 31 2 *"}
    )
    # the reference answers 400 "failed to find next date"; nbruns a 422 naming the field
    assert resp.status_code == (400 if drv.is_reference else 422), resp.text
    assert resp.json()["detail"]
    if not drv.is_reference:
        assert "schedule" in resp.json()["detail"]


async def test_an_end_time_that_is_not_a_date(drv: Any, crons: list[str]) -> None:
    body = {"assistant_id": "slow", "schedule": YEARLY, "end_time": "not a date"}
    resp = await drv.http.post("/runs/crons", json=body)
    if drv.is_reference:  # accepted and echoed; its scheduler then compares text with a date
        assert resp.status_code == 200 and resp.json()["end_time"] == "not a date"
        crons.append(resp.json()["cron_id"])
    else:
        assert resp.status_code == 422 and "end_time" in resp.json()["detail"]


async def test_search_refuses_graph_ids(drv: Any) -> None:
    resp = await drv.http.post("/runs/crons/search", json={"assistant_id": "slow"})
    assert resp.status_code == 422 and resp.json()["detail"]
    resp = await drv.http.post("/runs/crons/search", json={"sort_by": "bogus"})
    assert resp.status_code == 422 and resp.json()["detail"]


async def test_info_flags_crons(drv: Any) -> None:
    info = (await drv.http.get("/info")).json()
    assert info["flags"]["crons"] is True


async def test_a_cron_fires_a_run_that_sees_its_cron(drv: Any, crons: list[str]) -> None:
    """A six-field schedule (seconds) fires every second; the reference's scheduler looks
    every 5 s. The run reads the cron id in its configurable and the cron's metadata."""
    tid = await drv.thread()
    cron = await drv.client.crons.create_for_thread(
        tid, "readconfig", schedule="* * * * * *", input={}, metadata={"from": "cron"}
    )
    crons.append(cron["cron_id"])

    async def a_run_succeeded() -> Any:
        runs = await drv.client.runs.list(tid)
        return next((r for r in runs if r["status"] == "success"), None)

    run = await drv.until(a_run_succeeded, "the cron's first successful run")
    await drv.http.delete(f"/runs/crons/{cron['cron_id']}")
    assert run["metadata"]["from"] == "cron"
    assert run["multitask_strategy"] == "enqueue"
    answer = (await drv.client.threads.get_state(tid))["values"]["answer"]
    assert answer["configurable"]["cron_id"] == cron["cron_id"]
    assert answer["metadata"]["from"] == "cron"
