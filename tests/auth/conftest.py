"""Servers protected by real `langgraph_sdk.Auth` objects, in process and over HTTP.

`protected(auth, graphs)` starts a server with `auth` and returns `connect(token)`:
an official SDK client sending `Authorization: Bearer <token>` (None: no header),
plus the server's store, for checking that nothing changed. The mode (`inprocess`:
`nbruns.Server(auth=...)`; `served`: the same engine behind a real uvicorn on
127.0.0.1) is a fixture parameter. Tests never import this module.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from langgraph_sdk import Auth, get_client

import nbruns
from nbruns._compose import Engine, Options

USERS = {"token-alice": "alice", "token-bob": "bob"}


def owner_auth() -> Auth:
    """LangGraph's documented per-user ownership: a bearer token names the user,
    every create stamps `owner`, and every request only sees its owner's resources."""
    auth = Auth()

    @auth.authenticate
    async def authenticate(authorization: str | None) -> Auth.types.MinimalUserDict:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme != "Bearer" or token not in USERS:
            raise Auth.exceptions.HTTPException(status_code=401, detail="Invalid token")
        return {"identity": USERS[token], "permissions": ["read", "write"]}

    @auth.on
    async def add_owner(ctx: Auth.types.AuthContext, value: dict[str, Any]) -> dict[str, Any]:
        filters = {"owner": ctx.user.identity}
        metadata = value.setdefault("metadata", {})
        metadata.update(filters)
        return filters

    return auth


@dataclass
class Protected:
    connect: Callable[[str | None], Any]
    store: Any  # the server's core store: what exists, whatever the clients may see


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Uvicorn:
    """An nbruns engine with `auth` behind a real uvicorn on a loopback port, in a thread."""

    def __init__(self, auth: Any, graphs: Mapping[str, Any]) -> None:
        import uvicorn

        self.engine = Engine(Options(graphs=dict(graphs), auth=auth))

        @contextlib.asynccontextmanager
        async def lifespan(app: Any) -> AsyncIterator[None]:
            async with self.engine.running("test server stopping"):
                yield

        self.engine.app.router.lifespan_context = lifespan
        self.url = f"http://127.0.0.1:{_free_port()}"
        config = uvicorn.Config(
            self.engine.app,
            host="127.0.0.1",
            port=int(self.url.rsplit(":", 1)[1]),
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="auth-uvicorn", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(params=["inprocess", "served"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def owner() -> Auth:
    return owner_auth()


@pytest.fixture
async def protected(mode: str, gates: Any) -> AsyncIterator[Callable[..., Protected]]:
    stops: list[Callable[[], None]] = []
    clients: list[Any] = []

    def start(auth: Any, graphs: Mapping[str, Any] | None = None) -> Protected:
        def headers(token: str | None) -> dict[str, str]:
            return {} if token is None else {"Authorization": f"Bearer {token}"}

        if mode == "inprocess":
            server = nbruns.Server(dict(graphs or {}), auth=auth)
            stops.append(server.close)

            def connect(token: str | None) -> Any:
                client = server.client()
                client.http.client.headers.update(headers(token))
                clients.append(client)
                return client

            return Protected(connect, server.executor.store)
        served = _Uvicorn(auth, graphs or {})
        stops.append(served.stop)

        def connect_http(token: str | None) -> Any:
            client = get_client(url=served.url, headers=headers(token))
            clients.append(client)
            return client

        return Protected(connect_http, served.engine.executor.store)

    yield start
    gates.open_all()
    for client in clients:
        await client.aclose()
    for stop in stops:
        stop()
