"""Durable threads survive a SIGKILL: a real subprocess is killed mid-run, then reopened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import nbruns

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    import nbruns

    async def main(path, out):
        server = nbruns.Server(path=path)
        client = server.client()
        done = await client.threads.create(metadata={"name": "done"})
        finished = await client.runs.wait(
            done["thread_id"], "agent",
            input={"messages": [{"role": "human", "content": "whats the weather in sf?"}]},
        )
        busy = await client.threads.create(metadata={"name": "busy"})
        running = await client.runs.create(
            busy["thread_id"], "agent",
            input={"messages": [{"role": "human", "content": "paris?"}], "sleep": 600},
        )
        queued = await client.runs.create(
            busy["thread_id"], "agent",
            input={"messages": [{"role": "human", "content": "tokyo?"}]},
        )
        while (await client.runs.get(busy["thread_id"], running["run_id"]))["status"] != "running":
            await asyncio.sleep(0.01)
        # the sleeping run has written its input checkpoint once its first step is pending
        while not (await client.threads.get_state(busy["thread_id"]))["next"]:
            await asyncio.sleep(0.01)
        runs = await client.runs.list(done["thread_id"])
        with open(out, "w") as f:
            json.dump({
                "done": done["thread_id"], "busy": busy["thread_id"],
                "finished": runs[0]["run_id"], "running": running["run_id"],
                "queued": queued["run_id"], "answer": finished["messages"][-1]["content"],
                "history": len(await client.threads.get_history(done["thread_id"], limit=100)),
            }, f)
        await asyncio.sleep(3600)  # killed here, mid-run

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def run_child_until_killed(tmp_path: Path) -> dict[str, Any]:
    db, out = tmp_path / "nbruns.sqlite", tmp_path / "ids.json"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(out)])
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or not out.read_text():
            assert child.poll() is None, "the child process died before it was killed"
            assert time.monotonic() < deadline, "the child never reached the kill point"
            time.sleep(0.05)
        ids: dict[str, Any] = json.loads(out.read_text())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    ids["db"] = str(db)
    return ids


async def test_everything_survives_a_sigkill(tmp_path: Path) -> None:
    ids = run_child_until_killed(tmp_path)
    server = nbruns.Server(path=ids["db"])
    try:
        client = server.client()
        # finished work is all there: thread, run, checkpoints, answer
        finished = await client.runs.get(ids["done"], ids["finished"])
        assert finished["status"] == "success"
        state = await client.threads.get_state(ids["done"])
        assert state["values"]["messages"][-1]["content"] == ids["answer"]
        history = await client.threads.get_history(ids["done"], limit=100)
        assert len(history) == ids["history"]
        assert (await client.threads.get(ids["done"]))["metadata"]["name"] == "done"

        # the run that was running comes back as error, saying why
        running = await client.runs.get(ids["busy"], ids["running"])
        assert running["status"] == "error"
        # (join answers the thread as it reads now, busy with the queued run, as on the
        # reference: the reason is read from the record)
        error = server.executor.store.runs[ids["running"]].error or {}
        assert error["error"] == "ProcessStopped"
        assert "process stopped" in error["message"]

        # the queued run comes back pending and then runs, on top of what was kept
        result = await client.runs.join(ids["busy"], ids["queued"])
        assert (await client.runs.get(ids["busy"], ids["queued"]))["status"] == "success"
        contents = [m["content"] for m in result["messages"] if m["type"] == "human"]
        assert contents == ["paris?", "tokyo?"]
        assert (await client.threads.get(ids["busy"]))["status"] == "idle"

        # nothing vanished: both threads and all three runs are listed
        threads = await client.threads.search(limit=100)
        assert {t["thread_id"] for t in threads} == {ids["done"], ids["busy"]}
        listed = {r["run_id"] for r in await client.runs.list(ids["busy"])}
        assert listed == {ids["running"], ids["queued"]}
    finally:
        server.close()


async def test_rollback_and_copy_on_sqlite(tmp_path: Path) -> None:
    server = nbruns.Server(path=tmp_path / "db.sqlite")
    try:
        client = server.client()
        thread = await client.threads.create()
        tid = thread["thread_id"]
        await client.runs.wait(
            tid, "agent", input={"messages": [{"role": "human", "content": "sf"}]}
        )
        before = await client.threads.get_history(tid, limit=100)
        doomed = await client.runs.create(
            tid, "agent", input={"messages": [{"role": "human", "content": "nyc"}], "sleep": 600}
        )
        while not (await client.threads.get_state(tid))["next"]:
            await time_step()
        await client.runs.cancel(tid, doomed["run_id"], action="rollback", wait=True)
        after = await client.threads.get_history(tid, limit=100)
        assert [h["checkpoint_id"] for h in after] == [h["checkpoint_id"] for h in before]
        assert [h["values"] for h in after] == [h["values"] for h in before]
        assert (await client.threads.get(tid))["status"] == "idle"

        copy = await client.threads.copy(tid)
        copied = await client.threads.get_state(copy["thread_id"])
        assert copied["values"] == (await client.threads.get_state(tid))["values"]
    finally:
        server.close()


async def time_step() -> None:
    import asyncio

    await asyncio.sleep(0.01)
