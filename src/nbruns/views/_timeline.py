"""A Gantt picture of runs and their double-texting, as plain SVG (no JavaScript).

`render_timeline(runs, events, now=..., width=...)` is pure: it takes the run
dicts of `GET /nbruns/runs` (or `runs.list`) and the events of
`GET /nbruns/timeline` and returns the same SVG text for the same input.
`timeline(client, ...)` fetches both through any SDK client and wraps the
picture in `TimelineSVG`, which notebooks, nbconvert and GitHub display.

One lane per thread; one bar per run from started_at (or created_at if it
never started) to ended_at (or now), coloured by status; a thin hatched
segment for the queue wait; white ticks for graph steps; a red cross for each
rejected attempt; an arrow from a superseded run to its successor; rolled-back
runs, gone from the API, drawn struck out from the timeline's events.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from langgraph_sdk.client import LangGraphClient

from ._read import fetch_events, fetch_runs
from ._svg import (
    ARROW,
    DEFS,
    FAINT,
    GREY,
    HATCH,
    INK,
    UID,
    cross,
    el,
    line,
    num,
    rect,
    start_tag,
    text,
    title,
)
from ._timeline_data import Bar, TimelineData

__all__ = ["STATUS_COLOURS", "TimelineSVG", "build", "render_timeline", "timeline"]

STATUS_COLOURS = {
    "success": "#2f9e44",
    "interrupted": "#f59f00",
    "error": "#e03131",
    "timeout": "#9c36b5",
    "running": "#1c7ed6",
    "pending": "#adb5bd",
    "rolled_back": "#ced4da",
}
_FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
_MONO = "ui-monospace, SFMono-Regular, Menlo, monospace"
_LEFT, _RIGHT, _TOP = 84, 16, 8  # margins around the plot
_ROW, _BAR, _QUEUE, _PAD, _STRIP = 26, 18, 6, 5, 14  # lane geometry
_AXIS, _LEGEND_ROW = 34, 18
_CHAR = 6.2  # rough width of one 11px character, for fitting labels


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


# -- layout -------------------------------------------------------------------


class _Canvas:
    """The time axis (a round number of nice steps) and the SVG parts drawn so far."""

    def __init__(self, width: int, span: float) -> None:
        self.width, self.plot, self.parts = width, width - _LEFT - _RIGHT, list[str]()
        span = span if span > 1e-6 else 1.0  # nothing took time yet: a one-second axis
        raw = span / max(2, self.plot // 90)
        power: float = 10.0 ** math.floor(math.log10(raw))
        self.step: float = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
        self.span = max(self.step, math.ceil(span / self.step - 1e-9) * self.step)
        self.decimals = max(0, -math.floor(math.log10(self.step) + 1e-9))

    def x(self, t: float) -> float:
        return round(_LEFT + t / self.span * self.plot, 1)

    def ends(self, bar: Bar) -> tuple[float, float]:
        """Where a bar's solid part begins and ends (at least 3 px wide)."""
        x0 = self.x(bar.begin)
        return x0, max(self.x(bar.end), x0 + 3)


def _pack(lane: list[Bar], c: _Canvas) -> int:
    """Give each bar of a lane a row so that none overlap (queue waits included)."""
    ends: list[float] = []
    for bar in lane:
        left = c.x(bar.created)
        for row, end in enumerate(ends):
            if end + 6 <= left:
                bar.row, ends[row] = row, c.ends(bar)[1]
                break
        else:
            bar.row = len(ends)
            ends.append(c.ends(bar)[1])
    return max(len(ends), 1)


# -- drawing ------------------------------------------------------------------


def _tooltip(bar: Bar) -> str:
    lines = [f"run {bar.run_id}", f"status: {bar.status.replace('_', ' ')}"]
    if bar.strategy:
        lines.append(f"multitask_strategy: {bar.strategy}")
    times = [("created", bar.created), ("started", bar.started), ("ended", bar.end)]
    lines.append(", ".join(f"{k} +{v:.3f} s" for k, v in times if v is not None))
    if bar.reason:
        lines.append(f"reason: {bar.reason}")
    return title("\n".join(lines))


def _draw_bar(c: _Canvas, bar: Bar, y: float) -> str:
    colour = STATUS_COLOURS.get(bar.status, GREY)
    top, mid = y + (_ROW - _BAR) / 2, y + _ROW / 2
    x0, x1 = c.ends(bar)
    out = [_tooltip(bar)]
    if bar.started is not None and bar.started > bar.created:
        qx, qy = c.x(bar.created), mid - _QUEUE / 2
        out.append(
            rect(qx, qy, max(x0 - qx, 1), _QUEUE, colour, fill_opacity=0.35, class_="queue-wait")
        )
        out.append(rect(qx, qy, max(x0 - qx, 1), _QUEUE, HATCH, class_="queue-wait"))
    struck = bar.status == "rolled_back"
    out.append(
        rect(
            x0,
            top,
            x1 - x0,
            _BAR,
            colour,
            rx=3,
            class_=f"run-bar status-{bar.status}",
            stroke=FAINT if struck else None,
            stroke_dasharray="3 2" if struck else None,
            data_run_id=bar.run_id,
        )
    )
    if bar.never_started:  # it only ever waited
        out.append(rect(x0, top, x1 - x0, _BAR, HATCH, rx=3, class_="never-started"))
    for at, nodes in bar.steps:
        sx = min(max(c.x(at), x0 + 1), x1 - 1)
        what = title(f"step: {nodes} at +{at:.3f} s")
        out.append(
            line(
                sx,
                top + 1.5,
                sx,
                top + 6,
                "#ffffff",
                stroke_width=1.5,
                class_="step-tick",
                body=what,
            )
        )
    if struck:
        out.append(line(x0, mid, x1, mid, GREY, stroke_width=1.5, class_="strike"))
    label = bar.strategy or ""
    if label and x1 - x0 >= len(label) * _CHAR * 0.9 + 8:
        ink = "#212529" if struck else "#ffffff"
        out.append(text(label, x0 + 4, top + 14.5, ink, font_size=10, class_="label"))
    return el("g", "".join(out), class_="run", data_run_id=bar.run_id)


def _draw_arrow(c: _Canvas, old: Bar, new: Bar, rows: Mapping[str, float]) -> str:
    x1, y1 = c.ends(old)[1], rows[old.run_id] + _ROW / 2
    x2, y2 = c.ends(new)[0], rows[new.run_id] + _ROW / 2
    if x2 - x1 >= 24:
        bend = (x2 - x1) / 2
        d = f"M{num(x1)},{num(y1)} C{num(x1 + bend)},{num(y1)} "
        d += f"{num(x2 - bend)},{num(y2)} {num(x2)},{num(y2)}"
    else:
        # the successor starts where the old run ends (the usual interrupt/rollback
        # case): drop down between the rows instead of looping back sideways
        mid = (y1 + y2) / 2
        d = f"M{num(x1)},{num(y1)} C{num(x1)},{num(mid)} {num(x2)},{num(mid)} {num(x2)},{num(y2)}"
    what = f"{old.action or 'superseded'}: run {old.run_id} superseded by run {new.run_id}"
    return el(
        "path",
        title(what),
        d=d,
        fill="none",
        stroke=INK,
        stroke_width=1.3,
        marker_end=ARROW,
        class_="supersede-arrow",
    )


def _legend_item(key: str, x: float, y: float) -> str:
    if key in STATUS_COLOURS:
        struck = key == "rolled_back"
        box = rect(
            x,
            y,
            16,
            10,
            STATUS_COLOURS[key],
            rx=2,
            stroke=FAINT if struck else None,
            stroke_dasharray="3 2" if struck else None,
        )
        return box + (line(x, y + 5, x + 16, y + 5, GREY, stroke_width=1.5) if struck else "")
    if key == "queue wait":
        return rect(x, y + 2, 16, 6, HATCH)
    if key == "step":
        tick = line(x + 8, y + 1, x + 8, y + 5, "#ffffff", stroke_width=1.5)
        return rect(x, y, 16, 10, STATUS_COLOURS["success"], rx=2) + tick
    if key == "rejected":
        return cross(x + 8, y + 5, "rejected attempt", klass="legend-rejected")
    return el(
        "path", d=f"M{num(x)},{num(y + 5)} h14", stroke=INK, stroke_width=1.3, marker_end=ARROW
    )


def _legend(c: _Canvas, y: float) -> float:
    """Draw the legend, wrapping its items, from `y`; return the y below it."""
    keys = [*STATUS_COLOURS, "queue wait", "step", "rejected", "superseded by"]
    x, out = float(_LEFT), []
    for key in keys:
        name = key.replace("_", " ")
        w = 36 + len(name) * _CHAR
        if x + w > c.width - _RIGHT and x > _LEFT:
            x, y = float(_LEFT), y + _LEGEND_ROW
        out.append(_legend_item(key, x, y + 4) + text(name, x + 21, y + 13))
        x += w
    c.parts.append(el("g", "".join(out), class_="legend"))
    return y + _LEGEND_ROW


def _axis(c: _Canvas, top: float, y: float) -> None:
    grid = [line(_LEFT, top, _LEFT, y, "#adb5bd")]
    marks = [line(_LEFT, y, c.width - _RIGHT, y, GREY)]
    for k in range(round(c.span / c.step) + 1):
        tx = c.x(k * c.step)
        grid.append(line(tx, top, tx, y, "#dee2e6", stroke_width=0.8, class_="grid"))
        marks.append(line(tx, y, tx, y + 4, GREY))
        marks.append(text(f"{k * c.step:.{c.decimals}f} s", tx, y + 16, GREY, text_anchor="middle"))
    marks.append(
        text(
            "seconds since the first event",
            c.width - _RIGHT,
            y + 29,
            FAINT,
            text_anchor="end",
            font_size=10,
        )
    )
    c.parts.insert(0, el("g", "".join(grid)))
    c.parts.append(el("g", "".join(marks), class_="axis"))


def _render(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime | None,
    width: int,
) -> tuple[str, int, int]:
    width = max(int(width), 360)
    data = TimelineData(runs, events, now)
    bars = data.bars()
    c = _Canvas(width, max([0.0, *(b.end for b in bars), *(t for _, t, _ in data.rejected)]))
    threads = data.threads()
    lanes, rows, y = [], dict[str, float](), float(_TOP)
    for i, thread_id in enumerate(threads):
        lane = [b for b in bars if b.thread_id == thread_id]
        crosses = [(t, s) for tid, t, s in data.rejected if tid == thread_id]
        strip = _STRIP if crosses else 0
        height = strip + _pack(lane, c) * _ROW + 2 * _PAD
        lanes.append(
            rect(0, y, width, height, "#f8f9fa" if i % 2 == 0 else "#ffffff", class_="lane")
        )
        label = title(f"thread {thread_id}") + escape(thread_id[:8])
        lanes.append(
            el(
                "text",
                label,
                x=8.0,
                y=y + height / 2 + 4,
                fill=INK,
                font_family=_MONO,
                class_="lane-label",
            )
        )
        for t, strategy in crosses:
            what = f"rejected attempt (multitask_strategy={strategy}) at +{t:.3f} s"
            lanes.append(cross(c.x(t), y + _PAD + _STRIP / 2, what))
        for bar in lane:
            rows[bar.run_id] = y + _PAD + strip + bar.row * _ROW
        y += height
    c.parts.extend(_draw_bar(c, bar, rows[bar.run_id]) for bar in bars)
    for bar in bars:
        if bar.superseded_by is not None and bar.superseded_by in rows:
            c.parts.append(_draw_arrow(c, bar, data.runs[bar.superseded_by], rows))
    if not threads:
        y += _ROW + 2 * _PAD
        c.parts.append(
            text("no runs yet", _LEFT + c.plot / 2, y - _ROW / 2, FAINT, text_anchor="middle")
        )
    _axis(c, float(_TOP), y)
    bottom = _legend(c, y + _AXIS)
    summary = f"nbruns timeline: {_count(len(threads), 'thread')}, {_count(len(bars), 'run')}"
    body = rect(0, 0, width, bottom, "#ffffff") + "".join(lanes) + "".join(c.parts)
    head = start_tag(
        "svg",
        xmlns="http://www.w3.org/2000/svg",
        width=width,
        height=bottom,
        viewBox=f"0 0 {width} {num(bottom)}",
        font_family=_FONT,
        font_size=11,
        role="img",
        aria_label=summary,
        style="max-width:100%;height:auto",  # shrinks to fit narrow outputs
    )
    uid = "nbt" + hashlib.sha1(body.encode()).hexdigest()[:10]
    svg = f"<{head}>{title(summary)}{DEFS}{body}</svg>".replace(UID, uid)
    return svg, len(threads), len(bars)


# -- public -------------------------------------------------------------------


def render_timeline(
    runs: list[dict[str, Any]],
    events: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    width: int = 720,
) -> str:
    """The timeline picture of `runs` and `events` (wire dicts) as SVG text.

    Timestamps may be ISO strings or datetimes. Runs still pending or running
    end at `now` (default: the latest time in the data). Rolled-back runs come
    from `created`/`started`/`rolled_back` events. The same input always gives
    the same text; every string from the data is escaped.
    """
    return _render(runs, events, now, width)[0]


class TimelineSVG:
    """A rendered timeline: `.svg` text, shown as SVG or HTML by notebooks."""

    def __init__(self, svg: str, *, n_threads: int, n_runs: int) -> None:
        self.svg, self.n_threads, self.n_runs = svg, n_threads, n_runs

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return f'<div class="nbruns-timeline" style="overflow-x:auto">{self.svg}</div>'

    def __repr__(self) -> str:
        return (
            f"<nbruns timeline: {_count(self.n_threads, 'thread')}, {_count(self.n_runs, 'run')}>"
        )


def build(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    *,
    now: datetime | None,
    width: int,
) -> TimelineSVG:
    """`render_timeline` wrapped as a `TimelineSVG`."""
    svg, n_threads, n_runs = _render(runs, events, now, width)
    return TimelineSVG(svg, n_threads=n_threads, n_runs=n_runs)


async def timeline(
    client: LangGraphClient,
    thread_id: str | Sequence[str] | None = None,
    *,
    width: int = 720,
) -> TimelineSVG:
    """The timeline of one thread, several, or (None) every thread, read through `client`.

    Works against any LangGraph API server; without nbruns' timeline there are
    no step ticks, rejections or rolled-back runs, and bars run from created_at.
    """
    ids: list[str] | None
    if thread_id is None:
        ids = None
    elif isinstance(thread_id, str):
        ids = [thread_id]
    else:
        ids = list(thread_id)
    runs = await fetch_runs(client, ids)
    events = await fetch_events(client, ids, runs=runs)
    return build(runs, events, now=datetime.now(UTC), width=width)
