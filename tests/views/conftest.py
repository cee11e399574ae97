"""Fixtures for the views tests: a fresh server with a fast demo agent, and waiting helpers.

Ordering never relies on sleeps: a slow run is made with the demo input's
`sleep`, and the tests wait for states by polling `client.runs.get`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

import nbruns
import nbruns.demo

WAIT = 10.0  # upper bound only; never used to order anything
POLL = 0.005

Ask = Callable[..., dict[str, Any]]
WaitStatus = Callable[[str, str, str], Awaitable[dict[str, Any]]]


@pytest.fixture
def server() -> Iterator[nbruns.Server]:
    srv = nbruns.Server(graphs={"agent": nbruns.demo.make_agent(latency=0.01)})
    yield srv
    srv.close()


@pytest.fixture
async def client(server: nbruns.Server) -> AsyncIterator[Any]:
    c = server.client()
    yield c
    await c.aclose()


@pytest.fixture
def ask() -> Ask:
    """The demo agent's input: one human message, optionally slow."""

    def make(text: str = "whats the weather in sf?", sleep: float = 0) -> dict[str, Any]:
        return {"messages": [{"role": "human", "content": text}], "sleep": sleep}

    return make


async def poll(probe: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll `probe` until it returns something truthy (bounded by WAIT)."""
    deadline = time.monotonic() + WAIT
    while not (found := await probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)
    return found


@pytest.fixture
def wait_status(client: Any) -> WaitStatus:
    """Wait until `client.runs.get(thread_id, run_id)` has the given status."""

    async def wait(thread_id: str, run_id: str, status: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            run = await client.runs.get(thread_id, run_id)
            return run if run["status"] == status else None

        found: dict[str, Any] = await poll(probe, f"run {run_id} to be {status}")
        return found

    return wait


@pytest.fixture
def until() -> Callable[[Callable[[], Awaitable[Any]], str], Awaitable[Any]]:
    """`await until(probe, what)`: poll an async probe until it is truthy."""
    return poll
