"""Views of runs: DataFrames, an SVG timeline, `compare`, a live `watch`, the Playground,
and rolled-back runs to list and `restore`.

Every view takes a `langgraph_sdk` client and reads only through it, so the views
work against the in-process server, `nbruns serve` and LangGraph's own server alike.
The frames and `timeline` take the async client (await them) or the sync one (they
return the result); `watch` and `Playground` need the async client. pandas and
ipywidgets (the `views` extra) are imported on first use.
"""

from typing import Any as _Any

from ._compare import Comparison, compare
from ._rolled_back import restore, rolled_back_frame
from ._timeline import TimelineSVG, render_timeline, timeline
from ._timeline_labels import thread_labels
from ._timeline_window import fit_to_recent, fit_to_thread
from .frames import history_frame, messages_frame, messages_frame_for, runs_frame, timeline_frame

__all__ = [
    "Comparison",
    "Playground",
    "TimelineSVG",
    "Watch",
    "compare",
    "fit_to_recent",
    "fit_to_thread",
    "history_frame",
    "messages_frame",
    "messages_frame_for",
    "render_timeline",
    "restore",
    "rolled_back_frame",
    "runs_frame",
    "thread_labels",
    "timeline",
    "timeline_frame",
    "watch",
]

_WIDGETS = {"Playground": "widgets", "Watch": "_watch", "watch": "_watch"}


def __getattr__(name: str) -> _Any:
    if name in _WIDGETS:  # ipywidgets: imported on first use
        import importlib

        return getattr(importlib.import_module(f".{_WIDGETS[name]}", __name__), name)
    raise AttributeError(f"module 'nbruns.views' has no attribute {name!r}")
