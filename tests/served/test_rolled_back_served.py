"""Rollback you can undo over HTTP, against `nbruns serve --db ... --keep-rolled-back-s`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk.errors import ConflictError, NotFoundError

from tests.helpers import wait_for_status, wait_until

HELLO = {"messages": [{"role": "human", "content": "hello", "id": "hello"}]}


async def listed(client: Any, thread_id: str) -> list[dict[str, Any]]:
    return await client.http.get(f"/nbruns/threads/{thread_id}/rolled_back")  # type: ignore[no-any-return]


async def restored(client: Any, thread_id: str, run_id: str) -> dict[str, Any]:
    path = f"/nbruns/threads/{thread_id}/rolled_back/{run_id}/restore"
    return await client.http.post(path, json=None)  # type: ignore[no-any-return]


async def test_list_and_restore_over_http_and_after_a_restart(
    serve: Any, sdk: Any, tmp_path: Path
) -> None:
    db = str(tmp_path / "served.sqlite")
    served = serve("--db", db, "--keep-rolled-back-s", "600")
    client = sdk(served.url)
    tid = (await client.threads.create())["thread_id"]
    slow = await client.runs.create(tid, "slow", input=HELLO)
    await wait_for_status(client, tid, slow["run_id"], "running")

    async def saved() -> Any:  # its input and `__start__` checkpoints, saved
        return len(await client.threads.get_history(tid)) == 2

    await wait_until(saved, "the slow run's checkpoints")
    held = await client.threads.get_state(tid)
    fast = await client.runs.create(tid, "reply", input=None, multitask_strategy="rollback")
    await client.runs.join(tid, fast["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, slow["run_id"])
    after_rollback = await client.threads.get_history(tid)

    [branch] = await listed(client, tid)
    assert (branch["run_id"], branch["superseded_by"]) == (slow["run_id"], fast["run_id"])
    assert (branch["checkpoints"], branch["values"]) == (2, held["values"])
    busy_input = {"messages": [{"role": "human", "content": "busy", "id": "busy"}]}
    busy = await client.runs.create(tid, "slow", input=busy_input)
    await wait_for_status(client, tid, busy["run_id"], "running")
    with pytest.raises(ConflictError):
        await restored(client, tid, slow["run_id"])
    await client.runs.cancel(tid, busy["run_id"], action="interrupt", wait=True)
    before_restore = await client.threads.get_history(tid)
    state = await restored(client, tid, slow["run_id"])
    assert state["values"] == held["values"]
    assert (await client.threads.get_state(tid))["values"] == held["values"]
    history = await client.threads.get_history(tid)
    assert [s["checkpoint_id"] for s in history[1:]] == [s["checkpoint_id"] for s in before_restore]
    assert len(before_restore) >= len(after_rollback)
    served.stop()

    # the branch lives in the same SQLite file: after a restart it is listed and restorable
    again = serve("--db", db)
    client = sdk(again.url)
    assert [b["run_id"] for b in await listed(client, tid)] == [slow["run_id"]]
    state = await restored(client, tid, slow["run_id"])
    assert state["values"] == held["values"]
    with pytest.raises(NotFoundError):
        await listed(client, "00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize("bad", ["-1", "soon", "nan"])
def test_a_bad_keep_value_stops_start_up(bad: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nbruns", "serve", "--port", "1", "--keep-rolled-back-s", bad],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"--keep-rolled-back-s: {bad!r}: expected a number of seconds >= 0" in done.stderr
