"""`nbruns serve`: the in-process server's API over HTTP, with uvicorn."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Sequence

from .._engine._rolled_back import DEFAULT_KEEP_ROLLED_BACK_S, check_keep_rolled_back_s
from ._app import DEFAULT_MAX_BODY_BYTES, build_app, load_config, make_server
from ._banner import banner_lines, config_notes, log_banner, show_nbruns_log
from ._choose import CHOOSE_ENV, load_choose

__all__ = ["LOG_LEVELS", "main"]

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def _keep_seconds(text: str) -> float:
    """--keep-rolled-back-s: a number of seconds >= 0, refused with the reason."""
    try:
        return check_keep_rolled_back_s(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a number of seconds >= 0 (how long a rolled-back run's "
            "checkpoints stay restorable; 0 deletes them at once, as LangGraph's server does)"
        ) from None


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
        "--keep-rolled-back-s",
        type=_keep_seconds,
        default=DEFAULT_KEEP_ROLLED_BACK_S,
        metavar="SECONDS",
        help="how long a rolled-back run's checkpoints stay restorable "
        "(POST /nbruns/threads/{id}/rolled_back/{run_id}/restore; default 3600, "
        "0: deleted at once, as LangGraph's server does)",
    )
    serve.add_argument(
        "--choose",
        metavar="MODULE:FUNCTION",
        help="a choose hook, choose(new_input, thread) -> strategy name or None, for runs "
        "whose call and policy name no multitask strategy (e.g. nbruns.policies:by_message; "
        f"default: ${CHOOSE_ENV})",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let browser pages from ORIGIN (e.g. https://chat.example.com; '*' for any) call "
        "the API; loopback pages (http://localhost:*) always may (repeatable)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=LOG_LEVELS,
        help="what nbruns prints to stderr: at info its start-up banner and failing runs "
        "(with their tracebacks; those are errors), at debug more (default info); "
        "uvicorn's own log stays at warning unless this is stricter",
    )
    args = parser.parse_args(argv)

    import uvicorn

    show_nbruns_log(args.log_level)
    project = load_config(args.config) if args.config else None
    choose, _ = load_choose(args.choose)  # after the config: its env may set NBRUNS_CHOOSE
    app = build_app(
        {},
        api_key=args.api_key,
        max_body_bytes=args.max_body_bytes,
        run_timeout=args.run_timeout,
        db=args.db,
        project=project,
        cors_origins=args.cors_origin,
        choose=choose,
        keep_rolled_back_s=args.keep_rolled_back_s,
    )
    engine = app.state.engine
    config_path = project.path if project is not None else None
    sources, auth_path = config_notes(config_path) if config_path else ({}, None)

    def started(url: str) -> None:  # the graphs are registered by now (the lifespan ran)
        graph_ids = engine.executor.graphs.ids()
        log_banner(
            banner_lines(
                url,
                engine.options,
                graph_ids,
                sources=sources,
                config_path=config_path,
                auth_path=auth_path,
            )
        )

    uvicorn_level = args.log_level if LOG_LEVELS.index(args.log_level) > 1 else "warning"
    server = make_server(
        uvicorn.Config(app, host=args.host, port=args.port, log_level=uvicorn_level, lifespan="on"),
        engine=engine,
        on_started=started,
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
