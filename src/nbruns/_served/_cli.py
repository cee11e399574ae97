"""`nbruns serve`: the in-process server's API over HTTP, with uvicorn."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from ._app import DEFAULT_MAX_BODY_BYTES, build_app, load_config, make_server

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="nbruns", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the LangGraph API over HTTP")
    serve.add_argument(
        "--config", help="the project's langgraph.json (graphs, env, store, auth, http, ...)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    serve.add_argument("--port", type=int, default=8123)
    serve.add_argument("--api-key", help="require this value in the x-api-key header")
    serve.add_argument(
        "--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES, help="larger bodies get 413"
    )
    serve.add_argument("--run-timeout", type=float, help="seconds before a run ends as timeout")
    serve.add_argument("--db", help="keep everything in this SQLite file (survives restarts)")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let browser pages from ORIGIN (e.g. https://chat.example.com; '*' for any) call "
        "the API; loopback pages (http://localhost:*) always may (repeatable)",
    )
    args = parser.parse_args(argv)

    import uvicorn

    project = load_config(args.config) if args.config else None
    app = build_app(
        {},
        api_key=args.api_key,
        max_body_bytes=args.max_body_bytes,
        run_timeout=args.run_timeout,
        db=args.db,
        project=project,
        cors_origins=args.cors_origin,
    )
    server = make_server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="on"),
        engine=app.state.engine,
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


if __name__ == "__main__":
    main()
