"""Fixtures of nbruns.testing's tests: the `chain` graph (a -> b -> c) served in process
and by `nbruns serve`.

`testing_client` is parametrized over both: a fresh in-process server per test, or a
client of one `nbruns serve` subprocess started once per session (SIGINT, then SIGKILL,
at the end; always reaped). Tests never import this module.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tools import reference_server

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = Path(__file__).resolve().parent / "app" / "langgraph.json"


@pytest.fixture(scope="session")
def testing_served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of one `nbruns serve --config tests/testing/app/langgraph.json`."""
    port = reference_server.free_port()
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
            start_new_session=True,  # stop_group signals its process group
        )
        try:
            reference_server.wait_ok(url, proc, 60, log, name="nbruns serve", poll=0.05)
            yield url
        finally:
            reference_server.stop_group(proc, sig=signal.SIGINT)


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
