"""`nbruns serve`'s app: what a langgraph.json asks for, the engine in uvicorn's lifespan,
and a uvicorn server that interrupts the runs before it waits for connections."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from .._api._cors import CorsPolicy
from .._compose import Engine, Options
from .._engine._policies import Choose
from .._engine._rolled_back import DEFAULT_KEEP_ROLLED_BACK_S
from .._project._load import ConfigError, Project, load_project, project_options

if TYPE_CHECKING:
    import uvicorn

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "SHUTDOWN_REASON",
    "build_app",
    "load_config",
    "load_graphs",
    "make_server",
]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
SHUTDOWN_REASON = "the nbruns server shut down (nbruns serve stopped)"


def load_graphs(config_path: str | Path) -> dict[str, Any]:
    """The graphs a `langgraph.json` names (the whole file is checked and loaded)."""
    return load_config(config_path).graphs


def load_config(config_path: str | Path) -> Project:
    """`load_project` for the command line: a config it cannot honour stops start-up with
    the message naming the key."""
    try:
        return load_project(config_path)
    except ConfigError as exc:
        raise SystemExit(f"nbruns serve: {exc}") from None


def build_app(
    graphs: dict[str, Any],
    *,
    api_key: str | None = None,
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    run_timeout: float | None = None,
    db: str | None = None,
    project: Project | None = None,
    cors_origins: Sequence[str] = (),
    choose: Choose | None = None,
    keep_rolled_back_s: float = DEFAULT_KEEP_ROLLED_BACK_S,
) -> Starlette:
    """An ASGI app serving `graphs`; runs are interrupted with a reason on shutdown.

    With `db`, assistants, threads, runs and checkpoints live in that SQLite file.
    With `project` (a loaded langgraph.json), its graphs, store, auth and http sections
    too. Browser pages on loopback origins, `cors_origins` and the ones `http.cors`
    lists may call the API. `choose` is the server's choose hook, `keep_rolled_back_s`
    how long rolled-back runs stay restorable (see `nbruns.Server`).
    The engine starts in the app's lifespan, on the loop uvicorn serves it from.
    """
    cors = project.cors if project is not None and project.cors else CorsPolicy()
    engine = Engine(
        Options(
            graphs={**(project.graphs if project else {}), **graphs},
            path=db or None,
            run_timeout=run_timeout,
            api_key=api_key,
            max_body_bytes=max_body_bytes,
            **(project_options(project) if project is not None else {}),
            cors=cors.with_origins(cors_origins),
            choose=choose,
            keep_rolled_back_s=keep_rolled_back_s,
        )
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with engine.running(SHUTDOWN_REASON):
            yield

    app = engine.app
    app.router.lifespan_context = lifespan
    app.state.engine = engine
    app.state.executor = engine.executor
    return app


def make_server(
    config: uvicorn.Config, *, engine: Engine, on_started: Callable[[str], None] | None = None
) -> uvicorn.Server:
    """A uvicorn server for `config` whose exit first interrupts `engine`'s runs.
    `on_started` is called with the URL it answers on, once its socket is bound."""
    return _server_class()(config, engine=engine, on_started=on_started)


@functools.cache
def _server_class() -> Callable[..., uvicorn.Server]:
    import uvicorn  # the "server" extra: only `nbruns serve` needs it

    class Server(uvicorn.Server):
        """uvicorn waits for open connections before the app's shutdown step; a client
        waiting on a run would hold it open for ever. So interrupt the runs first."""

        def __init__(
            self,
            config: uvicorn.Config,
            *,
            engine: Engine,
            on_started: Callable[[str], None] | None,
        ) -> None:
            super().__init__(config)
            self._executor = engine.executor
            self._closing: asyncio.Task[None] | None = None
            self._on_started = on_started

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and self._on_started is not None:
                # the bound socket's port: the real one when the config asked for 0
                port = self.servers[0].sockets[0].getsockname()[1]
                host = self.config.host
                host = f"[{host}]" if ":" in host else host
                self._on_started(f"http://{host}:{port}")

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self._closing is None:
                loop = asyncio.get_event_loop()

                def start() -> None:
                    self._closing = loop.create_task(self._executor.aclose(SHUTDOWN_REASON))

                loop.call_soon_threadsafe(start)
            super().handle_exit(sig, frame)

    return Server
