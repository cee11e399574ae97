"""nbruns: LangGraph's double-texting run server, inside your Jupyter kernel.

Layout, importing one way only (tests/test_layering.py checks it):

- `_core/`     pure and synchronous: records, the run lifecycle, strategy
               decisions, the store. Standard library only.
- `_executor`  asyncio: carries the core's decisions out, owns every task.
- `_api`       HTTP routes mapped onto the executor (Starlette), shared by the
               in-process client (`_transport`) and `nbruns serve`.
- `_server`    the in-process server on its own loop thread; `get_client()`.
- views        `frames`, `timeline`, `Playground`: read through the SDK client
               only, so they work against any LangGraph API server too.
"""

from typing import Any as _Any

from ._inprocess._server import Server, default_server, get_client, get_sync_client
from .views._timeline import TimelineSVG, render_timeline, timeline
from .views.frames import (
    history_frame,
    messages_frame,
    messages_frame_for,
    runs_frame,
    timeline_frame,
)

__all__ = [
    "Playground",
    "Server",
    "TimelineSVG",
    "default_server",
    "get_client",
    "get_sync_client",
    "history_frame",
    "messages_frame",
    "messages_frame_for",
    "render_timeline",
    "runs_frame",
    "timeline",
    "timeline_frame",
]


def __getattr__(name: str) -> _Any:
    if name == "Playground":  # ipywidgets is the optional "views" extra: imported on first use
        from .views.widgets import Playground

        return Playground
    raise AttributeError(f"module 'nbruns' has no attribute {name!r}")
