"""Crons through the official async SDK client, in process.

A cron is made due without waiting for its schedule: `fire_due(at=...)` runs the
scheduler's step at the cron's own `next_run_date`, on the server's loop. One test
lets the real timer fire a one-second schedule and waits for the run it makes.
"""

from __future__ import annotations

import datetime
import operator
from typing import Annotated, Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import BadRequestError, NotFoundError, UnprocessableEntityError
from typing_extensions import TypedDict

import nbruns
from tests.helpers import wait_for_status, wait_for_thread_status, wait_until


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    gate: str  # the gate node `work` waits on; "" for none


def log_graph(gates: Any) -> Any:
    async def work(state: LogState, config: RunnableConfig) -> dict[str, Any]:
        if state.get("gate"):
            await gates[state["gate"]].passage()
        cron_id = config["configurable"].get("cron_id", "-")
        return {"log": [f"{state.get('tag', '')}:{cron_id}"]}

    builder = StateGraph(LogState)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile()


@pytest.fixture
async def server(start_server: Any, gates: Any) -> nbruns.Server:
    return start_server({"log": log_graph(gates)})  # type: ignore[no-any-return]


def ts(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


async def fire(server: nbruns.Server, at: float) -> list[Any]:
    """The scheduler's step at time `at`, on the server's loop: the runs it created."""

    async def there() -> list[Any]:
        return server.executor.crons.fire_due(at=at)

    return await server.loop_thread.run_async(there())


async def runs_of(client: Any, thread_id: str) -> list[dict[str, Any]]:
    return list(await client.runs.list(thread_id))


# -- create, get, search, count --------------------------------------------------


async def test_create_shapes(client: Any) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    end = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    stateless = await client.crons.create(
        "log", schedule="*/5 * * * *", input={"tag": "s"}, metadata={"team": "a"}, end_time=end
    )
    on_thread = await client.crons.create_for_thread(
        tid, "log", schedule="0 9 * * *", timezone="America/New_York", multitask_strategy="reject"
    )
    keys = {
        "cron_id", "assistant_id", "thread_id", "user_id", "end_time", "schedule", "timezone",
        "payload", "next_run_date", "metadata", "on_run_completed", "enabled", "created_at",
        "updated_at",
    }  # fmt: skip
    assert set(stateless) == set(on_thread) == keys
    assert stateless["thread_id"] is None and stateless["on_run_completed"] == "delete"
    assert on_thread["thread_id"] == tid and on_thread["on_run_completed"] is None
    assert stateless["enabled"] is True and stateless["metadata"] == {"team": "a"}
    assert ts(stateless["end_time"]) == end.timestamp()
    # the stored request is the one sent, with the assistant resolved and the cron id added
    assistant_id = stateless["assistant_id"]
    assert stateless["payload"]["assistant_id"] == assistant_id != "log"
    assert stateless["payload"]["input"] == {"tag": "s"}
    assert stateless["payload"]["config"] == {"configurable": {"cron_id": stateless["cron_id"]}}
    # 09:00 in New York is 13:00 or 14:00 UTC
    nxt = datetime.datetime.fromisoformat(on_thread["next_run_date"])
    assert nxt.astimezone(datetime.UTC).hour in (13, 14) and nxt.minute == 0
    five = datetime.datetime.fromisoformat(stateless["next_run_date"])
    assert five.minute % 5 == 0 and five.second == 0
    got = await client.http.get(f"/runs/crons/{stateless['cron_id']}")
    assert got == stateless


async def test_search_count_filters_pages_and_sort(client: Any) -> None:
    t1 = (await client.threads.create())["thread_id"]
    t2 = (await client.threads.create())["thread_id"]
    a = await client.crons.create_for_thread(t1, "log", schedule="0 * * * *", metadata={"k": 1})
    b = await client.crons.create_for_thread(t2, "log", schedule="0 0 * * *", metadata={"k": 2})
    c = await client.crons.create("log", schedule="0 0 1 * *", metadata={"k": 1}, enabled=False)
    ids = [a["cron_id"], b["cron_id"], c["cron_id"]]

    found = await client.crons.search(limit=10)
    assert [x["cron_id"] for x in found] == ids[::-1]  # newest first
    assert [x["cron_id"] for x in await client.crons.search(thread_id=t1)] == [ids[0]]
    assert [x["cron_id"] for x in await client.crons.search(metadata={"k": 1})] == [
        ids[2],
        ids[0],
    ]
    assert [x["cron_id"] for x in await client.crons.search(enabled=False)] == [ids[2]]
    assert [x["cron_id"] for x in await client.crons.search(limit=1, offset=1)] == [ids[1]]
    by_next = await client.crons.search(sort_by="next_run_date", sort_order="asc")
    dates = [ts(x["next_run_date"]) for x in by_next]
    assert dates == sorted(dates)
    chosen = await client.crons.search(limit=1, select=["cron_id", "schedule"])
    assert chosen == [{"cron_id": ids[2], "schedule": "0 0 1 * *"}]
    assert await client.crons.count() == 3
    assert await client.crons.count(thread_id=t2) == 1
    assert await client.crons.count(metadata={"k": 1}) == 2
    assert await client.crons.count(assistant_id=a["assistant_id"]) == 3

    resp = await client.http.client.post("/runs/crons/search", json={"limit": 2})
    assert resp.headers["x-pagination-total"] == "3"
    assert resp.headers["x-pagination-next"] == "2"
    resp = await client.http.client.post("/runs/crons/search", json={"limit": 2, "offset": 2})
    assert "x-pagination-next" not in resp.headers


# -- update, delete --------------------------------------------------------------


async def test_update_changes_schedule_and_merges(client: Any) -> None:
    cron = await client.crons.create(
        "log", schedule="0 0 1 1 *", metadata={"a": 1}, input={"tag": "x"}
    )
    end = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
    updated = await client.crons.update(
        cron["cron_id"], schedule="*/1 * * * *", metadata={"b": 2}, end_time=end, enabled=False
    )
    assert updated["schedule"] == "*/1 * * * *"
    assert ts(updated["next_run_date"]) < ts(cron["next_run_date"])
    assert updated["metadata"] == {"a": 1, "b": 2}
    assert updated["enabled"] is False and ts(updated["end_time"]) == end.timestamp()
    assert updated["payload"]["input"] == {"tag": "x"}
    assert updated["payload"]["config"]["configurable"]["cron_id"] == cron["cron_id"]
    assert ts(updated["updated_at"]) >= ts(cron["updated_at"])
    assert updated["created_at"] == cron["created_at"]
    cleared = await client.crons.update(cron["cron_id"], end_time=None)
    assert cleared["end_time"] is None and cleared["schedule"] == "*/1 * * * *"


async def test_delete_stops_it(server: nbruns.Server, client: Any) -> None:
    cron = await client.crons.create("log", schedule="* * * * *", on_run_completed="keep")
    await client.crons.delete(cron["cron_id"])
    assert await fire(server, ts(cron["next_run_date"])) == []
    assert await client.crons.count() == 0
    with pytest.raises(NotFoundError):
        await client.crons.delete(cron["cron_id"])


# -- firing ------------------------------------------------------------------------


async def test_stateless_cron_fires_on_a_new_thread(server: nbruns.Server, client: Any) -> None:
    kept = await client.crons.create(
        "log", schedule="* * * * *", input={"tag": "k"}, metadata={"m": 1}, on_run_completed="keep"
    )
    await client.crons.create("log", schedule="* * * * *", input={"tag": "d"})
    due = ts(kept["next_run_date"])
    runs = await fire(server, due)
    assert len(runs) == 2 and runs[0].thread_id != runs[1].thread_id
    by_tag = {r.kwargs["input"]["tag"]: r for r in runs}
    keep_run = by_tag["k"]
    await wait_for_status(client, keep_run.thread_id, keep_run.run_id, "success")
    state = await client.threads.get_state(keep_run.thread_id)
    assert state["values"]["log"] == [f"k:{kept['cron_id']}"]  # the graph sees the cron id
    run = await client.runs.get(keep_run.thread_id, keep_run.run_id)
    assert run["metadata"]["m"] == 1
    # "delete" (the default): the thread goes once the run has ended
    gone = by_tag["d"]

    async def thread_gone() -> bool:
        try:
            await client.threads.get(gone.thread_id)
        except NotFoundError:
            return True
        return False

    await wait_until(thread_gone, "the stateless cron's thread is deleted")
    # next time is one minute on; firing again at the same time fires nothing
    again = await client.http.get(f"/runs/crons/{kept['cron_id']}")
    assert ts(again["next_run_date"]) == due + 60
    assert await fire(server, due) == []


async def test_disabled_or_ended_crons_do_not_fire(server: nbruns.Server, client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    off = await client.crons.create_for_thread(tid, "log", schedule="* * * * *", enabled=False)
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    await client.crons.create_for_thread(tid, "log", schedule="* * * * *", end_time=past)
    assert await fire(server, ts(off["next_run_date"])) == []
    await client.crons.update(off["cron_id"], enabled=True)
    assert len(await fire(server, ts(off["next_run_date"]))) == 1


@pytest.mark.parametrize("strategy", ["enqueue", "interrupt", "rollback", "reject"])
async def test_firing_on_a_busy_thread_obeys_the_strategy(
    server: nbruns.Server, client: Any, gates: Any, strategy: str
) -> None:
    tid = (await client.threads.create())["thread_id"]
    busy = await client.runs.create(tid, "log", input={"tag": "busy", "gate": "hold"})
    await gates["hold"].reached()
    cron = await client.crons.create_for_thread(
        tid,
        "log",
        schedule="* * * * *",
        input={"tag": "cron", "gate": ""},  # the busy run's gate stays in the thread's state
        multitask_strategy=strategy,
    )
    fired = await fire(server, ts(cron["next_run_date"]))
    if strategy == "reject":
        assert fired == []  # the firing is refused; the running run goes on
        gates["hold"].open()
        await wait_for_status(client, tid, busy["run_id"], "success")
        assert [r["run_id"] for r in await runs_of(client, tid)] == [busy["run_id"]]
        return
    (run,) = fired
    assert run.multitask_strategy == strategy
    if strategy == "enqueue":
        assert (await client.runs.get(tid, run.run_id))["status"] == "pending"
        gates["hold"].open()
        await wait_for_status(client, tid, busy["run_id"], "success")
    elif strategy == "interrupt":
        await wait_for_status(client, tid, busy["run_id"], "interrupted")
    await wait_for_status(client, tid, run.run_id, "success")
    await wait_for_thread_status(client, tid, "idle")
    log = (await client.threads.get_state(tid))["values"]["log"]
    expected = {
        "enqueue": ["busy:-", f"cron:{cron['cron_id']}"],
        "interrupt": [f"cron:{cron['cron_id']}"],  # the busy run never finished its step
        "rollback": [f"cron:{cron['cron_id']}"],
    }[strategy]
    assert log == expected
    if strategy == "rollback":
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, busy["run_id"])


async def test_the_timer_fires_without_being_asked(server: nbruns.Server, client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    cron = await client.crons.create_for_thread(
        tid,
        "log",
        schedule="* * * * * *",
        input={"tag": "t"},  # each second
    )

    async def ran() -> bool:
        return any(r["status"] == "success" for r in await runs_of(client, tid))

    await wait_until(ran, "the cron's first run, started by the timer")
    await client.crons.delete(cron["cron_id"])


async def test_deleting_the_thread_deletes_its_crons(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.crons.create_for_thread(tid, "log", schedule="* * * * *")
    other = await client.crons.create("log", schedule="* * * * *")
    await client.threads.delete(tid)
    assert [c["cron_id"] for c in await client.crons.search()] == [other["cron_id"]]


# -- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"schedule": "not a schedule"}, "schedule"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"schedule": "0 0 31 2 *"}, "schedule"),  # valid, but 31 February never comes
        ({"schedule": "* * * * *", "timezone": "Mars/Olympus"}, "timezone"),
        ({"schedule": "* * * * *", "end_time": "tomorrow"}, "end_time"),
        ({"schedule": "* * * * *", "stream_mode": "bogus"}, "stream_mode"),
        ({"schedule": "* * * * *", "multitask_strategy": "later"}, "multitask_strategy"),
        ({"schedule": "* * * * *", "on_run_completed": "archive"}, "on_run_completed"),
        ({"schedule": 5}, "schedule"),
        ({}, "schedule"),
    ],
)
async def test_bad_create_is_422_naming_the_field(client: Any, body: Any, field: str) -> None:
    resp = await client.http.client.post("/runs/crons", json={"assistant_id": "log", **body})
    assert resp.status_code == 422, resp.text
    assert field.replace("_", " ") in resp.json()["detail"].replace("_", " ")
    assert await client.crons.count() == 0


async def test_unknown_ids_are_404(client: Any) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(NotFoundError, match="Assistant"):
        await client.crons.create(unknown, schedule="* * * * *")
    with pytest.raises(NotFoundError, match="Thread"):
        await client.crons.create_for_thread(unknown, "log", schedule="* * * * *")
    with pytest.raises(NotFoundError):
        await client.crons.update(unknown, schedule="* * * * *")
    with pytest.raises(NotFoundError):
        await client.crons.delete(unknown)
    resp = await client.http.client.get(f"/runs/crons/{unknown}")
    assert resp.status_code == 404
    resp = await client.http.client.delete("/runs/crons/not-a-uuid")
    assert resp.status_code == 422 and "cron ID" in resp.json()["detail"]
    with pytest.raises(UnprocessableEntityError):
        await client.crons.search(assistant_id="log")  # search takes UUIDs only
    assert await client.crons.count() == 0


async def test_update_refusals_change_nothing(client: Any) -> None:
    cron = await client.crons.create("log", schedule="0 * * * *")
    with pytest.raises(BadRequestError):
        await client.http.patch(f"/runs/crons/{cron['cron_id']}", json={})
    with pytest.raises(UnprocessableEntityError):
        await client.crons.update(cron["cron_id"], schedule="bad", enabled=False)
    with pytest.raises(UnprocessableEntityError):
        await client.crons.update(cron["cron_id"], timezone="Nowhere/Never")
    assert await client.http.get(f"/runs/crons/{cron['cron_id']}") == cron


async def test_info_says_crons_are_served(client: Any) -> None:
    info = await client.http.get("/info")
    assert info["flags"]["crons"] is True


async def test_deleting_an_assistant_deletes_its_crons(server: nbruns.Server, client: Any) -> None:
    assistant = await client.assistants.create("log")
    other = await client.crons.create("log", schedule="* * * * *")
    cron = await client.crons.create(assistant["assistant_id"], schedule="* * * * *")
    assert await client.crons.count() == 2
    await client.assistants.delete(assistant["assistant_id"])
    # gone at once (not when next due), the other assistant's cron untouched
    found = await client.crons.search()
    assert [c["cron_id"] for c in found] == [other["cron_id"]]
    fired = await fire(server, ts(cron["next_run_date"]))
    assert all(r.assistant_id != assistant["assistant_id"] for r in fired)
