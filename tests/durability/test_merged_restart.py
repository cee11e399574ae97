"""Merged runs on a durable server: killed mid-run, they come back ended as their carrier.

A child process merges a debounce burst (the carrier sleeping in its node), writes
the ids and is SIGKILLed; the reopened server ends the carrier as `error`
(ProcessStopped) and its merged run the same way.
"""

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
        thread = await client.threads.create()
        tid = thread["thread_id"]
        ask = lambda text, **more: {"messages": [{"role": "human", "content": text}], **more}
        first = await client.runs.create(
            tid, "agent", input=ask("paris?"), multitask_strategy="debounce",
            metadata={"multitask": {"quiet_s": 600}},
        )
        second = await client.runs.create(
            tid, "agent", input=ask("tokyo?", sleep=600), multitask_strategy="debounce",
            metadata={"multitask": {"quiet_s": 0.05}},
        )
        while (await client.runs.get(tid, second["run_id"]))["status"] != "running":
            await asyncio.sleep(0.01)
        with open(out, "w") as f:
            json.dump({"thread": tid, "carrier": first["run_id"], "merged": second["run_id"]}, f)
        await asyncio.sleep(3600)  # killed here, mid-run

    asyncio.run(main(sys.argv[1], sys.argv[2]))
    """
)


def _run_child_until_killed(tmp_path: Path) -> dict[str, Any]:
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
    ids["db"] = str(db)
    return ids


async def test_a_merged_run_ends_as_its_carrier_after_a_restart(tmp_path: Path) -> None:
    ids = _run_child_until_killed(tmp_path)
    server = nbruns.Server(path=ids["db"])
    try:
        client = server.client()
        tid = ids["thread"]
        carrier = await client.runs.get(tid, ids["carrier"])
        merged = await client.runs.get(tid, ids["merged"])
        assert carrier["status"] == merged["status"] == "error"
        records = server.executor.store.runs
        assert (records[ids["merged"]].error or {}).get("error") == "ProcessStopped"
        assert records[ids["merged"]].merged_into == ids["carrier"]
        assert (await client.threads.get(tid))["status"] != "busy"
    finally:
        server.close()
