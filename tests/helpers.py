"""What tests import to order themselves against a server: gates, a recorder, state waiters.

    from tests.helpers import Gates, wait_for_status, wait_for_thread_status, wait_until

Ordering between a test and a graph running on the server's loop thread is never
established with sleeps. A node waits on a `Gate` the test opens; the test waits for a
state (a run's status, a gate being reached) by polling with a bounded deadline. `WAIT`
only matters when something is broken.

The fixtures that own lifetimes (`gates`, which opens every gate at teardown,
`recorder`, `make_server`, `start_server`, `client`) stay in `tests/conftest.py`;
tests import this module, never conftest (pytest's `pythonpath = ["."]` puts the
repository root on `sys.path`, so `tests.helpers` imports under `--import-mode=importlib`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

__all__ = [
    "POLL",
    "WAIT",
    "Gate",
    "Gates",
    "Recorder",
    "free_port",
    "unavailable",
    "wait_for_status",
    "wait_for_thread_status",
    "wait_until",
]

WAIT = 10.0  # upper bound when waiting for a state; never used to establish ordering
POLL = 0.005


class Gate:
    """A one-shot, thread-safe gate a graph node waits on until the test opens it."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self._open = threading.Event()
        self._reached = threading.Event()
        self._lock = threading.Lock()
        self.reached_count = 0

    # -- test side ---------------------------------------------------------

    def open(self) -> None:
        self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    @property
    def was_reached(self) -> bool:
        return self._reached.is_set()

    async def reached(self, within: float = WAIT) -> None:
        """Wait (polling, bounded) until a node has arrived at this gate."""
        deadline = time.monotonic() + within
        while not self._reached.is_set():
            if time.monotonic() > deadline:
                raise AssertionError(f"gate {self.name!r} was never reached")
            await asyncio.sleep(POLL)

    def reached_sync(self, within: float = WAIT) -> None:
        if not self._reached.wait(within):
            raise AssertionError(f"gate {self.name!r} was never reached")

    # -- node side ---------------------------------------------------------

    def _arrive(self) -> None:
        with self._lock:
            self.reached_count += 1
        self._reached.set()

    async def passage(self, within: float = WAIT) -> None:
        """For async nodes: cancellable wait until the gate opens."""
        self._arrive()
        deadline = time.monotonic() + within
        while not self._open.is_set():
            if time.monotonic() > deadline:
                raise TimeoutError(f"gate {self.name!r} never opened")
            await asyncio.sleep(POLL)

    def passage_sync(self, within: float = WAIT) -> None:
        """For sync nodes: blocks the worker thread until the gate opens."""
        self._arrive()
        if not self._open.wait(within):
            raise TimeoutError(f"gate {self.name!r} never opened")


class Gates:
    """Gates by name, created on first use from any thread; a graph's input names its gate."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, Gate] = {}

    def __getitem__(self, name: str) -> Gate:
        with self._lock:
            gate = self._gates.get(name)
            if gate is None:
                gate = self._gates[name] = Gate(name)
            return gate

    def open_all(self) -> None:
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.open()


class Recorder:
    """A thread-safe list of (label, monotonic time) events recorded by nodes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events: list[tuple[str, float]] = []

    def add(self, label: str) -> None:
        with self._lock:
            self.events.append((label, time.monotonic()))

    def at(self, label: str) -> float:
        with self._lock:
            found = [t for name, t in self.events if name == label]
        assert len(found) == 1, f"{label!r} recorded {len(found)} times: {self.events}"
        return found[0]

    def labels(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self.events]


async def wait_until(probe: Callable[[], Any], what: str, within: float = WAIT) -> Any:
    """Poll an async probe until it returns something truthy; return that."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        last = await probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last probe: {last!r})")
        await asyncio.sleep(POLL)


async def wait_for_status(
    client: Any, thread_id: str, run_id: str, status: str, within: float = WAIT
) -> dict[str, Any]:
    """Poll runs.get until the run has `status`; return the run."""
    seen: list[str] = []

    async def probe() -> Any:
        run = await client.runs.get(thread_id, run_id)
        if not seen or seen[-1] != run["status"]:
            seen.append(run["status"])
        return run if run["status"] == status else None

    try:
        return await wait_until(probe, f"run {run_id} to be {status}", within)  # type: ignore[no-any-return]
    except AssertionError:
        raise AssertionError(f"run {run_id} never became {status}; statuses seen: {seen}") from None


async def wait_for_thread_status(
    client: Any, thread_id: str, status: str, within: float = WAIT
) -> dict[str, Any]:
    seen: list[str] = []

    async def probe() -> Any:
        thread = await client.threads.get(thread_id)
        if not seen or seen[-1] != thread["status"]:
            seen.append(thread["status"])
        return thread if thread["status"] == status else None

    try:
        return await wait_until(probe, f"thread {thread_id} to be {status}", within)  # type: ignore[no-any-return]
    except AssertionError:
        raise AssertionError(
            f"thread {thread_id} never became {status}; statuses seen: {seen}"
        ) from None


def unavailable(reason: str) -> NoReturn:
    """Skip a test whose outside part (a browser) is missing, or fail under CI, where
    it must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (the CI environment variable is set, so this fails)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
