"""`nbruns serve`: the in-process server's API over HTTP, with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .._api._app import create_app
from .._engine._executor import Executor

__all__ = ["build_app", "load_graphs", "main"]


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
    max_body_bytes: int | None = 10 * 1024 * 1024,
    run_timeout: float | None = None,
    db: str | None = None,
) -> Starlette:
    """An ASGI app serving `graphs`; runs are interrupted with a reason on shutdown.

    With `db`, assistants, threads, runs and checkpoints live in that SQLite file.
    """
    from .._persistence._durable import open_durable
    from ..demo import agent

    executor = Executor(run_timeout=run_timeout)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        durable = None
        if db:
            # opened here, on uvicorn's loop, with its SQLite checkpointer
            durable = await open_durable(db)
            executor.store = durable.store
            executor.use_saver(durable.saver)
        executor.install_pool(asyncio.get_running_loop())
        executor.register_graphs({"agent": agent, **graphs})
        if durable is not None:
            await executor.recover()
        yield
        await executor.aclose(_SHUTDOWN_REASON)
        if durable is not None:
            await durable.aclose()

    app = create_app(executor, api_key=api_key, max_body_bytes=max_body_bytes)
    app.router.lifespan_context = lifespan
    app.state.executor = executor
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nbruns", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the LangGraph API over HTTP")
    serve.add_argument("--config", help="langgraph.json naming the graphs to serve")
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    serve.add_argument("--port", type=int, default=8123)
    serve.add_argument("--api-key", help="require this value in the x-api-key header")
    serve.add_argument(
        "--max-body-bytes", type=int, default=10 * 1024 * 1024, help="larger bodies get 413"
    )
    serve.add_argument("--run-timeout", type=float, help="seconds before a run ends as timeout")
    serve.add_argument("--db", help="keep everything in this SQLite file (survives restarts)")
    args = parser.parse_args(argv)

    import uvicorn

    graphs = load_graphs(args.config) if args.config else {}
    app = build_app(
        graphs,
        api_key=args.api_key,
        max_body_bytes=args.max_body_bytes,
        run_timeout=args.run_timeout,
        db=args.db,
    )
    server = _Server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on"),
        executor=app.state.executor,
    )
    # Everything loaded so far (modules, graphs, the app) lives as long as the process.
    # Freezing it keeps the collector's full passes to what requests allocate: 15-30%
    # less server CPU per run in bench/served.py's throughput figures. This process is
    # ours; nbruns does not do this inside a user's kernel.
    gc.collect()
    gc.freeze()

    try:
        server.run()
    except KeyboardInterrupt:  # a second Ctrl-C, or uvloop re-raising the first
        pass


_SHUTDOWN_REASON = "the nbruns server shut down (nbruns serve stopped)"


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn waits for open connections before the app's shutdown step; a client
        waiting on a run would hold it open for ever. So interrupt the runs first."""

        def __init__(self, config: uvicorn.Config, *, executor: Executor) -> None:
            super().__init__(config)
            self._executor = executor
            self._closing: asyncio.Task[None] | None = None

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self._closing is None:
                loop = asyncio.get_event_loop()

                def start() -> None:
                    self._closing = loop.create_task(self._executor.aclose(_SHUTDOWN_REASON))

                loop.call_soon_threadsafe(start)
            super().handle_exit(sig, frame)

    return Server


def _Server(config: Any, *, executor: Executor) -> Any:
    return _server_class()(config, executor=executor)


if __name__ == "__main__":
    main()
