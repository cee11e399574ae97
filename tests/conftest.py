"""Fixtures for the nbruns tests: gates opened at teardown, recorders, servers, clients.

The helpers themselves (`Gate`, `Gates`, `Recorder`, `wait_until`, `wait_for_status`,
`wait_for_thread_status`) live in `tests/helpers.py`, which tests import directly; this
module keeps only the fixtures that manage lifetimes. Tests never import conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import pytest

import nbruns
from tests.helpers import Gates, Recorder


@pytest.fixture
def gates() -> Iterator[Gates]:
    g = Gates()
    yield g
    g.open_all()  # never leave a node blocked after a test


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def make_server(gates: Gates) -> Iterator[Callable[[Mapping[str, Any]], nbruns.Server]]:
    """Start servers with the given graphs; every gate is opened before they close."""
    servers: list[nbruns.Server] = []

    def make(graphs: Mapping[str, Any]) -> nbruns.Server:
        server = nbruns.Server(graphs=dict(graphs))
        servers.append(server)
        return server

    yield make
    gates.open_all()
    for server in servers:
        server.close()


@pytest.fixture(params=["thread", "current"])
def server_loop(request: pytest.FixtureRequest) -> str:
    """Where the server runs: on its own thread (the default) or the test's loop."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
async def start_server(
    gates: Gates, server_loop: str
) -> AsyncIterator[Callable[[Mapping[str, Any]], nbruns.Server]]:
    """`make_server` for async fixtures, once per server placement (`server_loop`)."""
    servers: list[nbruns.Server] = []

    def start(graphs: Mapping[str, Any]) -> nbruns.Server:
        server = nbruns.Server(graphs=dict(graphs), loop=server_loop)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    gates.open_all()
    for server in servers:
        await server.aclose()


@pytest.fixture
async def client(server: nbruns.Server) -> AsyncIterator[Any]:
    c = server.client()
    yield c
    await c.aclose()
