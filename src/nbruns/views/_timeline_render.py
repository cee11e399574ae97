"""Lay the timeline out: lanes in order, bars packed in rows, the axis, the legend.

`render(...)` returns the SVG text with the number of lanes and runs drawn;
`_timeline` wraps it as the public `render_timeline` and `TimelineSVG`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from ._svg import DEFS, FAINT, INK, UID, cross, el, num, rect, start_tag, text, title
from ._timeline_data import Bar, TimelineData
from ._timeline_draw import BAR, ROW, draw_arrow, draw_bar, legend
from ._timeline_layout import Canvas, fit_label, pack
from ._timeline_marks import draw_arrival

__all__ = ["Window", "count", "render"]

_FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"
_MONO = "ui-monospace, SFMono-Regular, Menlo, monospace"
_TOP, _PAD, _STRIP, _AXIS = 8, 5, 14, 34  # top margin, lane padding, cross strip, axis
_LABEL_CHAR, _LABEL_X = 6.6, 8  # a lane label's character width (mono, 11px) and x
_HIGHLIGHT, _ACCENT, _DIM = "#e7f5ff", "#1c7ed6", 0.4
Window = tuple[datetime, datetime]


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _left_margin(names: Sequence[str], width: int) -> float:
    """Room for the lane labels: 84 px, more for long names (up to ~30% of the width)."""
    longest = max((len(n) for n in names), default=8)
    return max(84.0, min(_LABEL_X + 12 + longest * _LABEL_CHAR, 172.0, width * 0.3))


def _lane_label(thread_id: str, label: str | None, y: float, room: float, bold: bool) -> str:
    shown = fit_label(label or thread_id[:8], room, _LABEL_CHAR) or "…"
    tooltip = f"thread {thread_id}" + (f": {label}" if label else "")
    return el(
        "text",
        title(tooltip) + escape(shown),
        x=float(_LABEL_X),
        y=y,
        fill=INK,
        font_family=_FONT if label else _MONO,
        font_weight="bold" if bold else None,
        class_="lane-label",
    )


def _lane(
    c: Canvas,
    thread_id: str,
    lane: list[Bar],
    crosses: list[tuple[float, str | None]],
    y: float,
    rows: dict[str, float],
) -> tuple[str, float]:
    """One lane's runs (a group the caller may dim) and its height."""
    strip = _STRIP if crosses else 0
    height = strip + pack(lane, c) * ROW + 2 * _PAD
    out = []
    for t, strategy in crosses:
        what = f"rejected attempt (multitask_strategy={strategy}) at {c.offset(t)}"
        out.append(cross(c.x(t), y + _PAD + _STRIP / 2, what))
        c.used.add("rejected")
    for bar in lane:
        rows[bar.run_id] = y + _PAD + strip + bar.row * ROW
    out.extend(draw_bar(c, bar, rows[bar.run_id]) for bar in lane if not bar.merged)
    by_id = {bar.run_id: bar for bar in lane}
    for bar in lane:
        if bar.merged:  # it never ran: an arrival with an arrow into its carrier
            out.append(draw_arrival(c, bar, rows[bar.run_id], ROW, rows, BAR))
        elif bar.superseded_by is not None and bar.superseded_by in by_id:
            out.append(draw_arrow(c, bar, by_id[bar.superseded_by], rows))
    if not out:
        empty = "nothing in this window" if c.windowed else "no runs"
        at = c.left + c.plot / 2
        out.append(text(empty, at, y + height / 2 + 4, FAINT, text_anchor="middle"))
    return "".join(out), height


def render(
    runs: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]],
    now: datetime | None,
    width: int,
    thread_ids: Sequence[str] | None = None,
    highlight: str | None = None,
    window: Window | None = None,
    labels: Mapping[str, str] | None = None,
) -> tuple[str, int, int]:
    width = max(int(width), 360)
    data = TimelineData(runs, events, now)
    threads = list(dict.fromkeys(thread_ids)) if thread_ids is not None else data.threads()
    labels = labels or {}
    names = [labels.get(t) or t[:8] for t in threads]
    left = _left_margin(names, width)
    span: tuple[float, float] | None = None
    if window is not None:
        w0, w1 = data.t(window[0]), data.t(window[1])
        if w0 is None or w1 is None or w1 <= w0:
            raise ValueError(f"window must be (start, end) with end after start, got {window!r}")
        span = (w0, w1)
    everything = data.bars()
    end = max([0.0, *(b.reach for b in everything), *(t for _, t, _ in data.rejected)])
    c = Canvas(width, left, data.t0, end, span)
    shown = set(threads)
    bars = [b for b in everything if b.thread_id in shown and c.shows(b.created, b.reach)]
    by_thread: dict[str, list[Bar]] = {t: [] for t in threads}
    for bar in bars:
        by_thread[bar.thread_id].append(bar)
    lanes, rows, y = [], dict[str, float](), float(_TOP)
    for i, thread_id in enumerate(threads):
        crosses = [(t, s) for tid, t, s in data.rejected if tid == thread_id and c.inside(t)]
        body, height = _lane(c, thread_id, by_thread[thread_id], crosses, y, rows)
        lit, dim = thread_id == highlight, highlight in shown and thread_id != highlight
        fill = _HIGHLIGHT if lit else "#f8f9fa" if i % 2 == 0 else "#ffffff"
        lanes.append(rect(0, y, width, height, fill, class_="lane highlighted" if lit else "lane"))
        if lit:
            lanes.append(rect(0, y, 3, height, _ACCENT, class_="lane-accent"))
        label = _lane_label(thread_id, labels.get(thread_id), y + height / 2 + 4, left - 14, lit)
        lanes.append(el("g", label, opacity=0.6) if dim else label)
        klass = "lane-runs dimmed" if dim else "lane-runs"
        c.parts.append(
            el("g", body, class_=klass, data_thread_id=thread_id, opacity=_DIM if dim else None)
        )
        y += height
    if not threads:
        y += ROW + 2 * _PAD
        c.parts.append(
            text("no runs yet", c.left + c.plot / 2, y - ROW / 2, FAINT, text_anchor="middle")
        )
    c.axis(float(_TOP), y)
    bottom = legend(c, y + _AXIS)
    summary = f"nbruns timeline: {count(len(threads), 'thread')}, {count(len(bars), 'run')}"
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
