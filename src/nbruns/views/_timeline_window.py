"""Zoom windows for the timeline: fit one thread, or the last few runs.

Pure functions of the same runs and events `render_timeline` takes; they
return `(start, end)` UTC datetimes to pass as its `window`. A little margin
on both sides keeps the bars off the edges; a window is never shorter than a
second. With nothing to fit, the window is the last ten seconds before `now`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ._timeline_data import Bar, TimelineData

__all__ = ["fit_to_recent", "fit_to_thread"]

_MARGIN = 0.03  # of the span, on each side
_SHORTEST = 1.0  # seconds
_EMPTY = 10.0  # seconds shown before `now` when there is nothing to fit


def _window(data: TimelineData, spans: list[tuple[float, float]]) -> tuple[datetime, datetime]:
    if not spans:
        last = data.t0 + timedelta(seconds=data.now)
        return last - timedelta(seconds=_EMPTY), last
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    if end - start < _SHORTEST:
        middle = (start + end) / 2
        start, end = middle - _SHORTEST / 2, middle + _SHORTEST / 2
    pad = (end - start) * _MARGIN
    return (
        data.t0 + timedelta(seconds=start - pad),
        data.t0 + timedelta(seconds=end + pad),
    )


def _span(bar: Bar) -> tuple[float, float]:
    return bar.created, max(bar.end, bar.created)


def fit_to_thread(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    thread_id: str,
    *,
    now: datetime | None,
) -> tuple[datetime, datetime]:
    """The window from a thread's first run (or rejected attempt) to its last moment
    (`now` while one of its runs is still going)."""
    data = TimelineData(runs, events, now)
    spans = [_span(b) for b in data.bars() if b.thread_id == thread_id]
    spans += [(at, at) for tid, at, _ in data.rejected if tid == thread_id]
    return _window(data, spans)


def fit_to_recent(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None,
    runs_back: int = 5,
) -> tuple[datetime, datetime]:
    """The window of the last `runs_back` runs created (any thread): from the first
    of them being created to the last of them ending (`now` if one is still going)."""
    if runs_back < 1:
        raise ValueError(f"runs_back must be at least 1, got {runs_back}")
    data = TimelineData(runs, events, now)
    recent = data.bars()[-runs_back:]
    return _window(data, [_span(b) for b in recent])
