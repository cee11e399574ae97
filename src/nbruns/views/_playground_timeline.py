"""The Playground's timeline: its lanes, the selected thread highlighted, and a zoom.

Zoom is one of "all" (everything), "thread" (the selected thread's runs) and
"recent" (the last few runs), computed by `_timeline_window`'s pure helpers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from ._timeline import render_timeline
from ._timeline_window import fit_to_recent, fit_to_thread

__all__ = ["ZOOMS", "Zoom", "timeline_svg"]

Zoom = Literal["all", "thread", "recent"]
ZOOMS: tuple[Zoom, ...] = ("all", "thread", "recent")


def timeline_svg(
    runs: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    *,
    now: datetime | None,
    width: int,
    threads: Sequence[str],
    current: str | None,
    only_current: bool,
    zoom: Zoom,
    labels: Mapping[str, str],
) -> str:
    """The SVG of the playground's threads (or only the current one), zoomed as asked."""
    lanes = [current] if only_current and current else list(threads)
    shown = set(lanes)
    runs = [r for r in runs if r.get("thread_id") in shown]
    events = [e for e in events if e.get("thread_id") in shown]
    window = None
    if runs and now is not None:
        if zoom == "thread" and current:
            window = fit_to_thread(runs, events, current, now=now)
        elif zoom == "recent":
            window = fit_to_recent(runs, events, now=now)
    return render_timeline(
        runs,
        events,
        now=now,
        width=width,
        thread_ids=lanes,
        highlight=current if len(lanes) > 1 else None,
        window=window,
        labels=dict(labels),
    )
