"""`multitask_strategy="interrupt"` while a *sync* node blocks a worker thread.

Cancellation is cooperative: neither server can stop `time.sleep` in a sync node.
The reference nevertheless starts the successor while the old node still sleeps
(two runs of one thread executing at once); nbruns awaits the old node and only
then starts the successor. Both discard the old node's write.

The client-side bound: the `blocking` node of R1 starts after R1 is created, so it
cannot return before `created + DELAY`. On nbruns R2 therefore cannot finish before
that instant; on the reference it does, well before.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

DELAY = 5.0


async def test_interrupt_waits_for_blocking_node(drv: Any) -> None:
    t = await drv.thread()
    t0 = time.monotonic()
    r1 = await drv.create(t, "blocking", input={"delay": DELAY, "log": ["R1"]})
    await drv.wait_run(t, r1, "running")
    assert await drv.wait_log(t, 1) == ["R1"]  # R1's input checkpoint: its node is next

    r2 = await drv.create(
        t, "blocking", input={"delay": 0, "log": ["R2"]}, multitask_strategy="interrupt"
    )
    assert (await drv.client.runs.get(t, r1))["status"] == "interrupted"
    await drv.wait_run(t, r2, "success")
    r2_done = time.monotonic()

    if drv.is_reference:
        # the successor ran and finished while R1's node was still sleeping
        assert r2_done < t0 + DELAY, f"R2 done {r2_done - t0:.2f}s after R1 was created"
    else:
        # the successor started only after R1's node returned
        assert r2_done >= t0 + DELAY, f"R2 done {r2_done - t0:.2f}s after R1 was created"
        old, new = await drv.client.runs.get(t, r1), await drv.client.runs.get(t, r2)
        started, ended = (datetime.fromisoformat(old[k]) for k in ("started_at", "ended_at"))
        assert (ended - started).total_seconds() >= DELAY - 0.05  # R1 ended with its node
        assert datetime.fromisoformat(new["started_at"]) >= ended

    await drv.wait_thread(t, "idle")
    # R1's node write ("sleepy" after R1) is discarded on both
    assert await drv.log(t) == ["R1", "R2", "sleepy"]
