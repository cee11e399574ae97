"""Views of runs: pandas DataFrames, an SVG timeline and the Playground widget.

Every view takes a `langgraph_sdk` async client and reads only through it, so the
views work against the in-process server, `nbruns serve` and LangGraph's own server
alike. pandas and ipywidgets (the `views` extra) are imported on first use.
"""

from typing import Any as _Any

from ._timeline import TimelineSVG, render_timeline, timeline
from .frames import history_frame, messages_frame, messages_frame_for, runs_frame, timeline_frame

__all__ = [
    "Playground",
    "TimelineSVG",
    "history_frame",
    "messages_frame",
    "messages_frame_for",
    "render_timeline",
    "runs_frame",
    "timeline",
    "timeline_frame",
]


def __getattr__(name: str) -> _Any:
    if name == "Playground":  # ipywidgets: imported on first use
        from .widgets import Playground

        return Playground
    raise AttributeError(f"module 'nbruns.views' has no attribute {name!r}")
