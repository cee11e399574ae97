"""What `nbruns serve` says when it starts, and where its log goes.

The banner is logged at INFO on `nbruns.serve` (one record, a line per item) once uvicorn
has bound its socket (so the URL is the one it answers on): the URL, the graphs
and where each came from, the store, auth, CORS and the run timeout. The same
handler shows every `nbruns` record at the chosen level: a failing run's ERROR
with its traceback among them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._compose import Options

__all__ = ["LOG_FORMAT", "banner_lines", "config_notes", "log_banner", "show_nbruns_log"]

LOG_FORMAT = "%(asctime)s %(levelname)s [%(name)s] %(message)s"

logger = logging.getLogger("nbruns.serve")


def show_nbruns_log(level: str) -> logging.Handler:
    """Print the `nbruns` logger's records at `level` and above to stderr; the handler.

    Only the `nbruns` tree: other libraries' loggers are left as they are."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, datefmt="%H:%M:%S"))
    nbruns = logging.getLogger("nbruns")
    nbruns.addHandler(handler)
    nbruns.setLevel(level.upper())
    return handler


def config_notes(config_path: Path) -> tuple[dict[str, str], str | None]:
    """What the banner quotes of a `langgraph.json` (already checked and loaded): graph
    id -> where it comes from ("./agent.py:graph"), and `auth.path`."""
    config: dict[str, Any] = json.loads(config_path.read_text())
    sources = {
        graph_id: spec["path"] if isinstance(spec, Mapping) else str(spec)
        for graph_id, spec in config.get("graphs", {}).items()
    }
    auth = config.get("auth")
    return sources, auth.get("path") if isinstance(auth, Mapping) else None


def _auth_line(options: Options, auth_path: str | None) -> str:
    parts = []
    if options.auth is not None:
        parts.append(f"langgraph.json auth module {auth_path or '(auth.path)'}")
    if options.api_key is not None:
        parts.append("API key (the x-api-key header)")
    return " + ".join(parts) or "off (anyone who can reach the URL may call the API)"


def _cors_line(options: Options) -> str:
    cors = options.cors
    if cors is None:
        return "off"
    allowed = []
    if cors.allow_loopback:
        allowed.append("loopback pages (http://localhost:*, http://127.0.0.1:*)")
    allowed.extend("any origin" if o == "*" else o for o in cors.allow_origins)
    if cors.allow_origin_regex is not None:
        allowed.append(f"origins matching {cors.allow_origin_regex!r}")
    return ", ".join(allowed) or "no browser origin"


def banner_lines(
    url: str,
    options: Options,
    graph_ids: Sequence[str],
    *,
    sources: Mapping[str, str],
    config_path: Path | None = None,
    auth_path: str | None = None,
) -> list[str]:
    """The banner, one line per item (pure: the tests read it line by line)."""
    graphs = []
    for graph_id in graph_ids:
        if graph_id in sources:
            graphs.append(f"{graph_id} ({sources[graph_id]})")
        elif graph_id == "agent":
            graphs.append("agent (nbruns's built-in demo)")
        else:
            graphs.append(graph_id)
    path = options.path
    store = "memory (gone when the process ends)"
    if path is not None:
        store = f"SQLite {Path(path).resolve()}"
    limit = options.run_timeout
    lines = [
        f"nbruns serve: listening on {url}",
        f"  graphs: {', '.join(graphs) or 'none'}",
        f"  store: {store}",
        f"  auth: {_auth_line(options, auth_path)}",
        f"  CORS: {_cors_line(options)}",
        f"  run timeout: {'none' if limit is None else f'{limit:g} s'}",
    ]
    if config_path is not None:
        lines.insert(1, f"  config: {config_path}")
    lines.append("  failing runs are logged here with their tracebacks; Ctrl-C stops the server")
    return lines


def log_banner(lines: Sequence[str]) -> None:
    """One INFO record: the first line after the log's prefix, the rest indented below."""
    logger.info("%s", "\n".join(lines))
