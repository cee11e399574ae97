"""`clock="virtual"`: the issue's scenario in a moment, with the real-time outcome.

Time moves only while a client waits on the server and nothing else is ready, so the
scenario below (an `after_seconds=600` run whose node sleeps 30 s, then an interrupt
and an enqueue) gives the same statuses, states and events in virtual time, full size,
as in real time scaled down; and nothing moves between two calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import nbruns
from nbruns._inprocess import _get_client
from tests.helpers import wait_for_status
from tests.inprocess_clock.scenario import Outcome, double_text, sleeper_graph

SCALED = 0.001  # the scaled-down scenario: after_seconds=0.6, sleeps of 0.03 and 0.3 s


@pytest.fixture
async def servers() -> AsyncIterator[list[nbruns.Server]]:
    started: list[nbruns.Server] = []
    yield started
    for server in started:
        await server.aclose()


def start(servers: list[nbruns.Server], clock: str, scale: float) -> nbruns.Server:
    server = nbruns.Server({"sleeper": sleeper_graph(scale)}, clock=clock)  # type: ignore[arg-type]
    servers.append(server)
    return server


async def play(servers: list[nbruns.Server], clock: str, scale: float) -> Outcome:
    server = start(servers, clock, scale)
    return await double_text(server.client(), "sleeper", scale)


async def test_the_ten_minute_scenario_takes_a_moment(servers: list[nbruns.Server]) -> None:
    outcome = await play(servers, "virtual", 1.0)
    print(f"virtual scenario: {outcome.virtual_s:.1f} virtual s in {outcome.wall_s:.3f} wall s")
    assert outcome.statuses == ["success", "interrupted", "success", "success"]
    assert outcome.virtual_s >= 630  # after_seconds=600 + 30 s asleep, and more after
    assert outcome.wall_s < 10  # a bound that proves skipping, not an ordering
    clock = servers[0].virtual_clock
    assert clock is not None and clock.skipped_s >= 620  # the rest passed for real


async def test_virtual_time_gives_the_real_time_outcome(servers: list[nbruns.Server]) -> None:
    real = await play(servers, "real", SCALED)
    virtual = await play(servers, "virtual", SCALED)
    full_size = await play(servers, "virtual", 1.0)
    assert real.statuses == ["success", "interrupted", "success", "success"]
    assert real.values["log"] == [
        "first waited",
        "first said",
        "third waited",
        "third said",
        "fourth waited",
        "fourth said",
    ]
    assert real.events[0][0] == ("metadata", None)
    for other in (virtual, full_size):
        assert other.statuses == real.statuses
        assert other.values == real.values
        assert other.events == real.events
    assert full_size.virtual_s >= 630 > real.virtual_s


async def test_time_stands_still_between_two_calls(servers: list[nbruns.Server]) -> None:
    """A's node sleeps 30 s; B interrupts it a moment later, as in real time (a clock
    that skipped whenever the loop was idle would have finished A first)."""
    server = start(servers, "virtual", 1.0)
    client = server.client()
    tid = (await client.threads.create())["thread_id"]
    a = await client.runs.create(tid, "sleeper", input={"word": "a", "naps": 30})
    await wait_for_status(client, tid, a["run_id"], "running")
    clock = server.virtual_clock
    assert clock is not None and clock.skipped_s < 30
    b = await client.runs.create(
        tid, "sleeper", input={"word": "b", "naps": 0}, multitask_strategy="interrupt"
    )
    await client.runs.join(tid, b["run_id"])
    assert (await client.runs.get(tid, a["run_id"]))["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == ["b waited", "b said"]


def test_the_sync_client_keeps_virtual_time() -> None:
    server = nbruns.Server({"sleeper": sleeper_graph(1.0)}, clock="virtual")
    try:
        client = server.sync_client()
        tid = client.threads.create()["thread_id"]
        began = time.monotonic()
        run = client.runs.create(tid, "sleeper", input={"word": "s", "naps": 30}, after_seconds=600)
        result: Any = client.runs.join(tid, run["run_id"])
        assert result["log"] == ["s waited", "s said"]
        assert time.monotonic() - began < 10  # 630 virtual seconds were skipped
        assert server.virtual_clock is not None and server.virtual_clock.skipped_s >= 620
    finally:
        server.close()


def test_get_sync_client_reaches_the_virtual_default_server() -> None:
    client = nbruns.get_sync_client({"sleeper": sleeper_graph(1.0)}, clock="virtual")
    virtual = _get_client.default_server(clock="virtual")
    assert virtual is not _get_client.default_server()
    assert (virtual.clock, _get_client.default_server().clock) == ("virtual", "real")
    tid = client.threads.create()["thread_id"]
    result: Any = client.runs.wait(tid, "sleeper", input={"word": "d", "naps": 60})
    assert result["log"] == ["d waited", "d said"]
    assert virtual.virtual_clock is not None and virtual.virtual_clock.skipped_s >= 50


async def test_get_client_takes_the_clock() -> None:
    client = nbruns.get_client({"sleeper": sleeper_graph(1.0)}, clock="virtual")
    result: Any = await client.runs.wait(None, "sleeper", input={"word": "g", "naps": 45})
    assert result["log"] == ["g waited", "g said"]
    assert _get_client.default_server(clock="virtual").virtual_clock is not None


def test_the_clock_is_shown() -> None:
    server = nbruns.Server(clock="virtual")
    try:
        assert server.clock == "virtual"
        assert "clock='virtual'" in repr(server)
        assert repr(server.virtual_clock).startswith("<VirtualClock skipped")
    finally:
        server.close()
    real = nbruns.Server()
    try:
        assert real.clock == "real" and real.virtual_clock is None
        assert "clock" not in repr(real)
    finally:
        real.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"clock": "fast"}, r"^clock='fast': expected one of 'real', 'virtual'$"),
        ({"clock": "virtual", "path": "x.sqlite"}, r"cannot go with path=: the SQLite store"),
        ({"clock": "virtual", "url": "http://localhost:1"}, r"a server at url= keeps real time"),
    ],
)
def test_get_client_refuses_a_clock_it_cannot_keep(options: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        nbruns.get_client(**options)
    with pytest.raises(ValueError, match=message):
        nbruns.get_sync_client(**options)


async def test_a_virtual_clock_needs_a_loop_of_its_own() -> None:
    with pytest.raises(ValueError, match=r'^clock="virtual" needs loop="thread": virtual time'):
        nbruns.Server(clock="virtual", loop="current")
    with pytest.raises(ValueError, match=r'^clock="virtual" needs loop="thread"'):
        nbruns.get_client(clock="virtual", loop="current")
    with pytest.raises(ValueError, match=r"^clock='slow': expected one of"):
        nbruns.Server(clock="slow")  # type: ignore[arg-type]
    await asyncio.sleep(0)  # an async test: loop="current" would have had a loop
