"""`nbruns serve`'s app: the graphs a config names, the engine in uvicorn's lifespan,
and a uvicorn server that interrupts the runs before it waits for connections."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from .._compose import Engine, Options

if TYPE_CHECKING:
    import uvicorn

__all__ = ["DEFAULT_MAX_BODY_BYTES", "SHUTDOWN_REASON", "build_app", "load_graphs", "make_server"]

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
SHUTDOWN_REASON = "the nbruns server shut down (nbruns serve stopped)"


def load_graphs(config_path: str | Path) -> dict[str, Any]:
    """Graphs named by a LangGraph CLI config: `{"graphs": {"id": "./file.py:attr"}}`."""
    path = Path(config_path).resolve()
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"nbruns serve: config file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise SystemExit(f"nbruns serve: {path} is not valid JSON: {exc}") from None
    specs = config.get("graphs")
    if not isinstance(specs, dict) or not specs:
        raise SystemExit(
            f'nbruns serve: {path} has no "graphs" object; expected '
            '{"graphs": {"agent": "./agent.py:graph"}}'
        )
    base = path.parent
    if str(base) not in sys.path:
        sys.path.insert(0, str(base))  # so graph files can import their neighbours
    graphs = {}
    for graph_id, spec in specs.items():
        if not isinstance(spec, str) or ":" not in spec:
            raise SystemExit(
                f"nbruns serve: graph {graph_id!r} is {spec!r}; "
                "expected 'path/to/file.py:attribute'"
            )
        file_part, attr = spec.rsplit(":", 1)
        file = (base / file_part).resolve()
        module_name = f"nbruns_graph_{graph_id.replace('-', '_')}"
        module_spec = importlib.util.spec_from_file_location(module_name, file)
        if module_spec is None or module_spec.loader is None or not file.exists():
            raise SystemExit(f"nbruns serve: graph {graph_id!r}: cannot load {file}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
        try:
            graphs[graph_id] = getattr(module, attr)
        except AttributeError:
            raise SystemExit(f"nbruns serve: graph {graph_id!r}: {file} has no {attr!r}") from None
    return graphs


def build_app(
    graphs: dict[str, Any],
    *,
    api_key: str | None = None,
    max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    run_timeout: float | None = None,
    db: str | None = None,
) -> Starlette:
    """An ASGI app serving `graphs`; runs are interrupted with a reason on shutdown.

    With `db`, assistants, threads, runs and checkpoints live in that SQLite file.
    The engine starts in the app's lifespan, on the loop uvicorn serves it from.
    """
    engine = Engine(
        Options(
            graphs=graphs,
            path=db or None,
            run_timeout=run_timeout,
            api_key=api_key,
            max_body_bytes=max_body_bytes,
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


def make_server(config: uvicorn.Config, *, engine: Engine) -> uvicorn.Server:
    """A uvicorn server for `config` whose exit first interrupts `engine`'s runs."""
    return _server_class()(config, engine=engine)


@functools.cache
def _server_class() -> Callable[..., uvicorn.Server]:
    import uvicorn  # the "server" extra: only `nbruns serve` needs it

    class Server(uvicorn.Server):
        """uvicorn waits for open connections before the app's shutdown step; a client
        waiting on a run would hold it open for ever. So interrupt the runs first."""

        def __init__(self, config: uvicorn.Config, *, engine: Engine) -> None:
            super().__init__(config)
            self._executor = engine.executor
            self._closing: asyncio.Task[None] | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self._closing is None:
                loop = asyncio.get_event_loop()

                def start() -> None:
                    self._closing = loop.create_task(self._executor.aclose(SHUTDOWN_REASON))

                loop.call_soon_threadsafe(start)
            super().handle_exit(sig, frame)

    return Server
