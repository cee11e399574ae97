"""The plugin's teardown check on a live server, in process: what it reports and what not.

tests/testing/test_plugin.py covers it as a user meets it (left runs, leaked tasks);
these cover the cases a subprocess cannot reach without timing: a stream still open,
and no false alarm after ordinary traffic on either clock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

import nbruns
from nbruns.testing._plugin import _foreign_tasks, _leftovers
from tests.helpers import wait_until

HI = {"messages": [{"role": "human", "content": "hi"}]}


@pytest.fixture(params=["real", "virtual"])
def server(request: pytest.FixtureRequest) -> Iterator[nbruns.Server]:
    with nbruns.Server(clock=request.param) as server:
        yield server


def test_ordinary_traffic_leaves_nothing(server: nbruns.Server) -> None:
    client = server.sync_client()
    tid = client.threads.create()["thread_id"]
    client.runs.wait(tid, "agent", input=HI)
    parts = list(client.runs.stream(tid, "agent", input=HI, stream_mode="values"))
    assert parts[-1].event == "values"
    run = client.runs.create(tid, "agent", input=HI)
    client.runs.join(tid, run["run_id"])
    assert _leftovers(server) == ""


async def test_a_stream_left_open_is_named(server: nbruns.Server) -> None:
    client = server.sync_client()
    tid = client.threads.create()["thread_id"]
    ended: list[BaseException] = []

    def follow() -> None:  # a thread stream waits for runs until the server closes
        try:
            for _ in client.threads.join_stream(tid):
                pass
        except httpx.HTTPError as exc:
            ended.append(exc)

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()

    async def opened() -> bool:
        return bool(await asyncio.wrap_future(server.loop_thread.submit(_foreign_tasks())))

    await wait_until(opened, "the thread stream's request on the server")
    report = await asyncio.to_thread(_leftovers, server)
    assert "the test ended with 1 task of its own still alive" in report
    assert f"GET /threads/{tid}/stream still open" in report
    await asyncio.to_thread(server.close)
    await asyncio.to_thread(follower.join, 30)
    assert not follower.is_alive() and len(ended) == 1
