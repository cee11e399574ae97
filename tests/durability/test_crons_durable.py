"""Crons kept in the SQLite file (`path=`): after a restart they are all there and fire."""

from __future__ import annotations

import datetime
from pathlib import Path

import nbruns
from tests.helpers import wait_for_status


def ts(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


async def test_crons_survive_a_restart_and_fire(tmp_path: Path) -> None:
    path = tmp_path / "nbruns.sqlite"
    first = nbruns.Server(path=path)
    client = first.client()
    thread = await client.threads.create()
    tid = thread["thread_id"]
    on_thread = await client.crons.create_for_thread(
        tid,
        "agent",
        schedule="0 9 * * *",
        timezone="Europe/Paris",
        metadata={"k": "v"},
        input={"messages": [{"role": "human", "content": "whats the weather in sf?"}]},
    )
    stateless = await client.crons.create("agent", schedule="*/5 * * * *", enabled=False)
    gone = await client.crons.create("agent", schedule="* * * * *")
    updated = await client.crons.update(stateless["cron_id"], metadata={"u": 1})
    await client.crons.delete(gone["cron_id"])
    await first.aclose()

    second = nbruns.Server(path=path)
    try:
        client = second.client()
        found = {c["cron_id"]: c for c in await client.crons.search()}
        assert found == {on_thread["cron_id"]: on_thread, stateless["cron_id"]: updated}

        async def fire_there() -> list[object]:
            return second.executor.crons.fire_due(at=ts(on_thread["next_run_date"]))

        (run,) = await second.loop_thread.run_async(fire_there())
        await wait_for_status(client, tid, run.run_id, "success")  # type: ignore[attr-defined]
        after = await client.http.get(f"/runs/crons/{on_thread['cron_id']}")
        assert ts(after["next_run_date"]) == ts(on_thread["next_run_date"]) + 86400
    finally:
        await second.aclose()

    third = nbruns.Server(path=path)  # the new next run date was written through
    try:
        again = await third.client().http.get(f"/runs/crons/{on_thread['cron_id']}")
        assert again["next_run_date"] == after["next_run_date"]
    finally:
        await third.aclose()
