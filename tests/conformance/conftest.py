"""Conformance targets: the same scenarios against nbruns and the reference LangGraph server.

`target` is a session-scoped fixture parametrized over three servers, each
started once per session:

- ``inprocess``: `nbruns.Server(graphs=...)` in this process, reached through
  its in-process async SDK client;
- ``served``: `nbruns serve --config reference_app/langgraph.json` (uvicorn) in a
  subprocess on a free loopback port, reached with `langgraph_sdk.get_client(url=)`;
- ``reference``: the real `langgraph dev` server (tools/reference_server.py),
  offline, `--n-jobs-per-worker 10`, in its own `.ref` virtualenv.

The reference target is skipped only when ``NBRUNS_SKIP_REFERENCE=1``; if its
virtualenv cannot be created, or the server does not start, its tests fail.

Scenarios are client-side only (SDK calls and raw httpx through the client's own
`http.client`). Ordering is never established with sleeps: tests poll a run's or
thread's state with a bounded deadline (`Driver.until`). The reference polls its
queue every ~0.5 s, so deadlines are generous; they only matter when something is
broken. Tests never import this module (that breaks under --import-mode=importlib):
helpers reach them through the `drv` fixture.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from tools import reference_server

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = Path(__file__).resolve().parent / "reference_app" / "langgraph.json"

DEADLINE = 30.0  # upper bound when waiting for a state; never used to establish ordering
POLL = 0.02
SKIP_REFERENCE_ENV = "NBRUNS_SKIP_REFERENCE"


# -- targets -------------------------------------------------------------------------


class Target:
    """One server under test. `client()` returns a fresh async SDK client."""

    def __init__(self, name: str, make_client: Callable[[], LangGraphClient]) -> None:
        self.name = name
        self._make_client = make_client

    @property
    def is_reference(self) -> bool:
        return self.name == "reference"

    def client(self) -> LangGraphClient:
        return self._make_client()

    def __repr__(self) -> str:
        return f"<Target {self.name}>"


def _url_client(url: str) -> LangGraphClient:
    # api_key=None: never pick up a LANGSMITH/LANGGRAPH key from the environment.
    return get_client(url=url, api_key=None)


@contextlib.contextmanager
def _inprocess() -> Iterator[Target]:
    import nbruns

    server = nbruns.Server(config=APP_CONFIG)  # langgraph.json in process, as served
    try:
        yield Target("inprocess", server.client)
    finally:
        server.close()


@contextlib.contextmanager
def _served() -> Iterator[Target]:
    port = reference_server.free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        sys.executable,
        "-m",
        "nbruns",
        "serve",
        "--config",
        str(APP_CONFIG),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with tempfile.TemporaryDirectory(prefix="nbruns-served-") as scratch:
        log = Path(scratch) / "serve.log"
        with open(log, "wb") as logf:
            proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
            )
            try:
                try:
                    reference_server.wait_ok(url, proc, 60, log, name="nbruns serve", poll=0.1)
                except (RuntimeError, TimeoutError) as exc:
                    pytest.fail(str(exc))
                yield Target("served", lambda: _url_client(url))
            finally:
                # SIGINT first (uvicorn's graceful shutdown runs the lifespan's close),
                # then SIGKILL; always reaped.
                if proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGINT)
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        with contextlib.suppress(ProcessLookupError):
                            proc.kill()
                        proc.wait(timeout=10)


@contextlib.contextmanager
def _reference() -> Iterator[Target]:
    if os.environ.get(SKIP_REFERENCE_ENV) == "1":
        pytest.skip(f"{SKIP_REFERENCE_ENV}=1: the reference LangGraph server is not run")
    try:
        reference_server.ensure_venv()
    except Exception as exc:  # CI must really run the reference: fail, do not skip
        pytest.fail(
            f"cannot create the reference virtualenv (.ref with langgraph-cli[inmem]): "
            f"{type(exc).__name__}: {exc}. Set {SKIP_REFERENCE_ENV}=1 to skip the "
            "reference target deliberately."
        )
    with reference_server.running_reference(APP_CONFIG) as url:
        yield Target("reference", lambda: _url_client(url))


_FACTORIES = {"inprocess": _inprocess, "served": _served, "reference": _reference}


@pytest.fixture(
    scope="session",
    params=[
        "inprocess",
        "served",
        pytest.param("reference", marks=pytest.mark.reference),
    ],
)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    with _FACTORIES[request.param]() as t:
        yield t


# -- the per-test driver ---------------------------------------------------------------


class Driver:
    """A fresh SDK client for one test plus bounded-wait helpers.

    It remembers the threads it created and, at teardown, cancels whatever is
    still pending or running on them so a failed test leaves no busy runs behind.
    """

    DEADLINE = DEADLINE

    def __init__(self, target: Target) -> None:
        self.target = target
        self.client = target.client()
        self.http: httpx.AsyncClient = self.client.http.client
        self.threads: list[str] = []

    @property
    def is_reference(self) -> bool:
        return self.target.is_reference

    @property
    def name(self) -> str:
        return self.target.name

    # -- setup -----------------------------------------------------------------

    async def thread(self, **kwargs: Any) -> str:
        thread = await self.client.threads.create(**kwargs)
        self.threads.append(thread["thread_id"])
        return str(thread["thread_id"])

    def track(self, thread_id: str) -> str:
        self.threads.append(thread_id)
        return thread_id

    async def create(self, thread_id: str | None, graph: str = "slow", **kwargs: Any) -> str:
        run = await self.client.runs.create(thread_id, graph, **kwargs)
        return str(run["run_id"])

    # -- waiting ---------------------------------------------------------------

    async def until(
        self, probe: Callable[[], Awaitable[Any]], what: str, within: float = DEADLINE
    ) -> Any:
        """Poll `probe` until it returns something truthy; return that."""
        deadline = time.monotonic() + within
        last: Any = None
        while True:
            last = await probe()
            if last:
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"[{self.name}] timed out waiting for {what}; last: {last!r}")
            await asyncio.sleep(POLL)

    async def run_or_none(self, thread_id: str, run_id: str) -> dict[str, Any] | None:
        resp = await self.http.get(f"/threads/{thread_id}/runs/{run_id}")
        if resp.status_code == 404:
            return None
        resp.raise_for_status()
        return resp.json()  # type: ignore[no-any-return]

    async def wait_run(
        self, thread_id: str, run_id: str, *statuses: str, within: float = DEADLINE
    ) -> dict[str, Any]:
        """Wait until the run's status is one of `statuses`; return the run."""
        seen: list[str] = []

        async def probe() -> Any:
            run = await self.run_or_none(thread_id, run_id)
            status = "<404>" if run is None else run["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            return run if run is not None and status in statuses else None

        try:
            return await self.until(probe, f"run {run_id} in {statuses}", within)  # type: ignore[no-any-return]
        except AssertionError:
            raise AssertionError(
                f"[{self.name}] run {run_id} never became {statuses}; seen: {seen}"
            ) from None

    async def wait_thread(
        self, thread_id: str, *statuses: str, within: float = DEADLINE
    ) -> dict[str, Any]:
        seen: list[str] = []

        async def probe() -> Any:
            thread = await self.client.threads.get(thread_id)
            if not seen or seen[-1] != thread["status"]:
                seen.append(thread["status"])
            return thread if thread["status"] in statuses else None

        try:
            return await self.until(probe, f"thread {thread_id} in {statuses}", within)  # type: ignore[no-any-return]
        except AssertionError:
            raise AssertionError(
                f"[{self.name}] thread {thread_id} never became {statuses}; seen: {seen}"
            ) from None

    async def wait_log(self, thread_id: str, n: int, within: float = DEADLINE) -> list[str]:
        """Wait until the thread's checkpointed `values.log` has at least `n` (>= 1) entries."""
        assert n >= 1, n

        async def probe() -> Any:
            log = await self.log(thread_id)
            return log if len(log) >= n else None

        return await self.until(probe, f"{n} log entries on thread {thread_id}", within)  # type: ignore[no-any-return]

    async def log(self, thread_id: str) -> list[str]:
        state: Any = await self.client.threads.get_state(thread_id)
        return list((state.get("values") or {}).get("log") or [])

    async def busy(
        self, thread_id: str, delay: float = 5.0, log: list[str] | None = None, **kwargs: Any
    ) -> str:
        """Start a `slow` run whose nodes each sleep `delay` s; return once it is running.

        With `log`, the run's input appends it to `values.log`, and this returns only once
        the run's input checkpoint (next = a) is visible in the thread's state.
        """
        inp: dict[str, Any] = {"delay": delay}
        if log:
            inp["log"] = log
            before = len(await self.log(thread_id))
        run_id = await self.create(thread_id, "slow", input=inp, **kwargs)
        await self.wait_run(thread_id, run_id, "running")
        if log:
            await self.wait_log(thread_id, before + len(log))
        return run_id

    async def stays(self, thread_id: str, status: str, seconds: float) -> None:
        """Assert the thread reads `status` on every poll for `seconds`.

        Only for pinning a reference bug where a status is *stuck*; never for ordering.
        """
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            got = (await self.client.threads.get(thread_id))["status"]
            assert got == status, f"[{self.name}] thread left {status!r} for {got!r}"
            await asyncio.sleep(0.1)

    # -- teardown ----------------------------------------------------------------

    async def aclose(self) -> None:
        try:
            for thread_id in self.threads:
                with contextlib.suppress(Exception):
                    resp = await self.http.get(f"/threads/{thread_id}/runs", params={"limit": 100})
                    if resp.status_code != 200:
                        continue
                    for run in resp.json():
                        if run["status"] in ("pending", "running"):
                            with contextlib.suppress(Exception):
                                await self.http.post(
                                    f"/threads/{thread_id}/runs/{run['run_id']}/cancel"
                                )
        finally:
            await self.http.aclose()


@pytest.fixture
async def drv(target: Target) -> AsyncIterator[Driver]:
    driver = Driver(target)
    try:
        yield driver
    finally:
        await driver.aclose()


@pytest.fixture
def new_uuid() -> Callable[[], str]:
    return lambda: str(uuid.uuid4())
