"""Fixtures of nbruns.testing's tests: the `chain` graph (a -> b -> c) served in process
and by `nbruns serve`.

`testing_client` is parametrized over both: a fresh in-process server per test, or a
client of one `nbruns serve` subprocess started once per session (SIGINT, then SIGKILL,
at the end; always reaped). Tests never import this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = Path(__file__).resolve().parent / "app" / "langgraph.json"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def testing_served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one `nbruns serve --config tests/testing/app/langgraph.json`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    cmd = [sys.executable, "-m", "nbruns", "serve", "--config", str(APP_CONFIG)]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port)],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=logf,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"nbruns serve exited: {log.read_text(errors='replace')}")
                with contextlib.suppress(urllib.error.URLError, ConnectionError, OSError):
                    with urllib.request.urlopen(url + "/ok", timeout=2) as resp:
                        if resp.status == 200:
                            break
                if time.monotonic() > deadline:
                    pytest.fail(f"nbruns serve never answered: {log.read_text(errors='replace')}")
                time.sleep(0.05)
            yield url
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


@pytest.fixture(params=["inprocess", "served"])
async def testing_client(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """An async SDK client of a server with the `chain` graph."""
    if request.param == "served":
        from langgraph_sdk import get_client

        client = get_client(url=request.getfixturevalue("testing_served_url"), api_key=None)
        yield client
        await client.aclose()
        return
    import nbruns

    server = nbruns.Server(config=APP_CONFIG)  # langgraph.json in process, as served
    client = server.client()
    yield client
    await client.aclose()
    await server.aclose()
