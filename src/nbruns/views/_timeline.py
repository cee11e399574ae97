"""A Gantt picture of runs and their double-texting, as plain SVG (no JavaScript).

`render_timeline(runs, events, now=..., width=...)` is pure: it takes the run
dicts of `GET /nbruns/runs` (or `runs.list`) and the events of
`GET /nbruns/timeline` and returns the same SVG text for the same input.
`timeline(client, ...)` fetches both through any SDK client and wraps the
picture in `TimelineSVG`, which notebooks, nbconvert and GitHub display.

One lane per thread (labelled by name when it has one); one bar per run from
started_at (or created_at if it never started) to ended_at (or now), coloured
by status; a thin hatched segment for the queue wait; white ticks, named by
node, for graph steps; a pause mark where a hold kept the run; a red cross for
each rejected attempt; an arrow from a superseded run to its successor;
rolled-back runs struck out. A `window` zooms the axis; `highlight` picks out
one lane and dims the others; the legend lists only what the picture shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Literal

import httpx
from langgraph_sdk.client import LangGraphClient

from ._read import fetch_events, fetch_runs
from ._sync import accepts_sync_client
from ._timeline_draw import STATUS_COLOURS
from ._timeline_labels import thread_labels
from ._timeline_render import Window, count, render
from ._timeline_window import fit_to_recent, fit_to_thread

__all__ = ["STATUS_COLOURS", "TimelineSVG", "build", "render_timeline", "timeline"]


# -- public -------------------------------------------------------------------


def render_timeline(
    runs: list[dict[str, Any]],
    events: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    width: int = 720,
    thread_ids: Sequence[str] | None = None,
    highlight: str | None = None,
    window: Window | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The timeline picture of `runs` and `events` (wire dicts) as SVG text.

    Timestamps may be ISO strings or datetimes. Runs still pending or running
    end at `now` (default: the latest time in the data). `thread_ids`: the
    lanes, in order (None: every thread in the data); `highlight`: the thread
    whose lane stands out (the others are dimmed); `window`: `(start, end)`
    to zoom to (bars cut at its edges are marked; None: everything);
    `labels`: `{thread_id: name}` for the lanes (else the short id). The same
    input always gives the same text; every string from the data is escaped.
    """
    return render(runs, events, now, width, thread_ids, highlight, window, labels)[0]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="margin:16px;font-family:system-ui,sans-serif">
{svg}
</body></html>
"""


class TimelineSVG:
    """A rendered timeline: `.svg` text, shown as SVG or HTML by notebooks."""

    def __init__(self, svg: str, *, n_threads: int, n_runs: int) -> None:
        self.svg, self.n_threads, self.n_runs = svg, n_threads, n_runs

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div class="nbruns-timeline" style="overflow-x:auto">{self.svg}</div>'

    def save(self, path: str | Path) -> Path:
        """Write the picture to `path`: an SVG file (`.svg`) or a standalone page (`.html`)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".svg":
            content = f'<?xml version="1.0" encoding="UTF-8"?>\n{self.svg}\n'
        elif suffix == ".html":
            content = _PAGE.format(title=escape(repr(self)[1:-1]), svg=self.svg)
        else:
            raise ValueError(
                f"cannot save a timeline as {suffix or 'a file without a suffix'!r} "
                f"({target.name}); allowed suffixes: .svg, .html"
            )
        target.write_text(content, encoding="utf-8")
        return target

    def __repr__(self) -> str:
        return f"<nbruns timeline: {count(self.n_threads, 'thread')}, {count(self.n_runs, 'run')}>"


def build(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None,
    width: int,
    thread_ids: Sequence[str] | None = None,
    highlight: str | None = None,
    window: Window | None = None,
    labels: Mapping[str, str] | None = None,
) -> TimelineSVG:
    """`render_timeline` wrapped as a `TimelineSVG`."""
    svg, n_threads, n_runs = render(runs, events, now, width, thread_ids, highlight, window, labels)
    return TimelineSVG(svg, n_threads=n_threads, n_runs=n_runs)


async def _read_labels(client: LangGraphClient, thread_ids: Sequence[str]) -> dict[str, str]:
    """Lane labels from the threads' metadata; a thread the server no longer has has none."""

    async def one(thread_id: str) -> dict[str, Any] | None:
        try:
            return dict(await client.threads.get(thread_id))
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code == 404:
                return None
            raise

    # one after another, not gathered: the sync client's adapter has no event loop
    found = [await one(t) for t in thread_ids]
    return thread_labels(t for t in found if t is not None)


@accepts_sync_client
async def timeline(
    client: LangGraphClient,
    thread_ids: str | Sequence[str] | None = None,
    *,
    width: int = 720,
    highlight: str | None = None,
    window: Window | Literal["recent", "thread"] | None = None,
    labels: Mapping[str, str] | None = None,
) -> TimelineSVG:
    """The timeline of one thread, several, or (None) every thread, read through `client`.

    `highlight`, `window` and `labels` as in `render_timeline`; `window` may
    also be "recent" (the last five runs) or "thread" (the highlighted thread,
    else the only one). Labels default to the names in the threads' metadata.
    Works against any LangGraph API server; without nbruns' timeline there are
    no step ticks, holds, rejections or rolled-back runs, and bars run from
    created_at.
    """
    ids = [thread_ids] if isinstance(thread_ids, str) else thread_ids
    ids = None if ids is None else list(ids)
    runs = await fetch_runs(client, ids)
    events = await fetch_events(client, ids, runs=runs)
    now = datetime.now(UTC)
    lanes = ids if ids is not None else list(dict.fromkeys(r["thread_id"] for r in runs))
    if labels is None:
        labels = await _read_labels(client, lanes)
    span: Window | None
    if window == "recent":
        span = fit_to_recent(runs, events, now=now)
    elif window == "thread":
        focus = highlight or (lanes[0] if len(lanes) == 1 else None)
        if focus is None:
            raise ValueError('window="thread" needs highlight= (or exactly one thread)')
        span = fit_to_thread(runs, events, focus, now=now)
    elif isinstance(window, str):
        raise ValueError(f'window must be (start, end), "recent" or "thread", got {window!r}')
    else:
        span = window
    return build(
        runs,
        events,
        now=now,
        width=width,
        thread_ids=ids,
        highlight=highlight,
        window=span,
        labels=labels,
    )
