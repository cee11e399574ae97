"""One run's bar with what happened to it, the supersede arrows and the legend.

A bar is cut by white step ticks; the name of the node(s) a step ran sits just
left of its tick when there is room (the tooltip always has it). Held runs get
a pause mark, error runs an error mark, bars cut by a zoom window a small
triangle at the cut edge. Every drawing notes its legend entry in `Canvas.used`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._svg import ARROW, FAINT, GREY, HATCH, INK, RED, cross, el, line, num, rect, text, title
from ._timeline_data import Bar, Hold
from ._timeline_layout import CHAR, Canvas
from ._timeline_marks import MARK_KEYS, draw_restored, draw_waits, legend_item

__all__ = ["BAR", "ROW", "STATUS_COLOURS", "abbreviate", "draw_arrow", "draw_bar", "legend"]

STATUS_COLOURS = {
    "success": "#2f9e44",
    "interrupted": "#f59f00",
    "error": "#e03131",
    "timeout": "#9c36b5",
    "running": "#1c7ed6",
    "pending": "#adb5bd",
    "rolled_back": "#ced4da",
}
ROW, _BAR, _QUEUE = 26, 18, 6  # a row's height, a bar's height, a queue wait's height
BAR = _BAR
_SMALL = 5.4  # rough width of one 9.5px character (node names)
_LEGEND_ROW = 18
_DARK_TEXT = {"rolled_back", "pending"}  # light bars: dark letters
_NAME, _NAMES = 12, 18  # longest node name, longest list of names, before abbreviating


def abbreviate(nodes: list[str]) -> str:
    """The same short text for the same nodes everywhere: 'agent', 'retrieve_docu…+2'."""
    short = [n if len(n) <= _NAME else n[: _NAME - 1] + "…" for n in nodes]
    joined = "+".join(short)
    return joined if len(joined) <= _NAMES or len(short) < 2 else f"{short[0]}+{len(short) - 1}"


def _tooltip(c: Canvas, bar: Bar) -> str:
    lines = [f"run {bar.run_id}", f"status: {bar.status.replace('_', ' ')}"]
    if bar.strategy:
        lines.append(f"multitask_strategy: {bar.strategy}")
    times = [("created", bar.created), ("started", bar.started), ("ended", bar.ended)]
    lines.append(", ".join(f"{k} {c.offset(v)}" for k, v in times if v is not None))
    if bar.error:
        lines.append(f"error: {bar.error}")
    if bar.superseded_by and bar.action in ("replaced", "dropped"):
        lines.append(f"{bar.action} by run {bar.superseded_by}")
    elif bar.superseded_by:
        how = "rolled back" if bar.status == "rolled_back" else bar.action or "superseded"
        lines.append(f"{how}: superseded by run {bar.superseded_by}")
    elif bar.status == "rolled_back":
        lines.append("rolled back")
    if bar.reason:
        lines.append(f"reason: {bar.reason}")
    if bar.cancel_source:
        lines.append(f"cancel_source: {bar.cancel_source}")
    if bar.carries:
        lines.append(f"carries the input of run {', run '.join(bar.carries)}")
    lines.extend(h.describe() for h in _holds(bar))
    return title("\n".join(lines))


def _holds(bar: Bar) -> list[Hold]:
    """Its holds; the one it is in now (its `held` field) last, even without events."""
    now = bar.held_now
    past = [h for h in bar.holds if now is None or h.hold_id != now.hold_id or h.released]
    return [*past, now] if now is not None else past


def _pause(x: float, mid: float, tooltip: str) -> str:
    bars = "".join(
        rect(bx, mid - 5.5, 2.4, 11, INK, stroke="#ffffff", stroke_width=0.7)
        for bx in (x - 3.2, x + 0.8)
    )
    return el("g", title(tooltip) + bars, class_="held-mark")


def _clip_marks(c: Canvas, bar: Bar, x0: float, x1: float, mid: float) -> list[str]:
    out = []
    if bar.begin < c.origin:
        d = f"M{num(x0 + 2)},{num(mid)} l5,-4 v8 z"
        out.append(
            el(
                "path",
                title("continues before the window"),
                d=d,
                fill="#ffffff",
                stroke=INK,
                stroke_width=0.6,
                class_="clipped clipped-left",
            )
        )
    if bar.end > c.stop:
        d = f"M{num(x1 - 2)},{num(mid)} l-5,-4 v8 z"
        out.append(
            el(
                "path",
                title("continues after the window"),
                d=d,
                fill="#ffffff",
                stroke=INK,
                stroke_width=0.6,
                class_="clipped clipped-right",
            )
        )
    if out:
        c.used.add("clipped")
    return out


def _labels(
    c: Canvas, bar: Bar, x0: float, x1: float, top: float, ticks: list[tuple[float, list[str]]]
) -> str:
    """The strategy at the bar's start, node names before their ticks, the error at its end."""
    out, ink = [], INK if bar.status in _DARK_TEXT else "#ffffff"
    start = x0 + (10 if bar.begin < c.origin else 4)  # after the clip mark, if any
    label = bar.strategy or ""
    first_cut = ticks[0][0] if ticks else x1
    if label and first_cut - start >= len(label) * CHAR * 0.9 + 4:
        out.append(text(label, start, top + 13, ink, font_size=10, class_="label"))
        start += len(label) * CHAR * 0.9 + 4
    for tx, nodes in ticks:
        name = abbreviate(nodes)
        if name and tx - start >= len(name) * _SMALL + 5:
            attrs = {"font_size": 9.5, "text_anchor": "end", "class_": "step-label"}
            out.append(text(name, tx - 3, top + 12.5, ink, **attrs))
        start = tx + 2
    if bar.error_type and bar.end <= c.stop:  # the error happened at the bar's end
        room = x1 - start
        # inside the bar's end when it fits, else just after it: a failure always shows
        cx = x1 - 8 if room >= 14 else x1 + 7
        mark = el("circle", cx=cx, cy=top + _BAR / 2, r=5.5, fill="#ffffff", stroke=RED)
        mark += text("!", cx, top + 13, RED, font_size=10, font_weight="bold", text_anchor="middle")
        if room >= 22 + len(bar.error_type) * _SMALL:
            mark += text(bar.error_type, x1 - 16, top + 12.5, ink, font_size=9.5, text_anchor="end")
        out.append(el("g", title(bar.error or bar.error_type) + mark, class_="error-mark"))
    return "".join(out)


def draw_bar(c: Canvas, bar: Bar, y: float) -> str:
    """The run's group: tooltip, queue wait, bar, ticks, holds, labels and marks."""
    colour = STATUS_COLOURS.get(bar.status, GREY)
    top, mid = y + (ROW - _BAR) / 2, y + ROW / 2
    x0, x1 = c.ends(bar)
    c.used.add(bar.status)
    out = [_tooltip(c, bar)]
    if bar.started is not None and bar.started > bar.created and bar.started > c.origin:
        qx, qy = c.x(bar.created), mid - _QUEUE / 2
        wide = max(x0 - qx, 1)
        out.append(rect(qx, qy, wide, _QUEUE, colour, fill_opacity=0.35, class_="queue-wait"))
        out.append(rect(qx, qy, wide, _QUEUE, HATCH, class_="queue-wait"))
        c.used.add("queue wait")
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
    holds = _holds(bar)
    for hold in holds:  # the held stretch, paler
        h0 = c.x(hold.at)
        h1 = c.x(hold.released if hold.released is not None else bar.end)
        if h1 - h0 >= 1 and c.shows(hold.at, hold.released or bar.end):
            out.append(
                rect(h0, top, h1 - h0, _BAR, "#ffffff", fill_opacity=0.45, class_="held-span")
            )
    ticks = []
    for at, nodes in bar.steps:
        if not c.inside(at):
            continue
        sx = min(max(c.x(at), x0 + 1), x1 - 1)
        ticks.append((sx, nodes))
        what = title(f"step: {', '.join(nodes)} at {c.offset(at)}")
        out.append(
            line(
                sx,
                top + 1.5,
                sx,
                top + _BAR - 1.5,
                "#ffffff",
                stroke_width=1.3,
                class_="step-tick",
                body=what,
            )
        )
        c.used.add("step")
    if struck:
        out.append(line(x0, mid, x1, mid, GREY, stroke_width=1.5, class_="strike"))
    out.append(_labels(c, bar, x0, x1, top, ticks))
    for hold in holds:
        current = hold is bar.held_now
        at = bar.end if current else hold.at
        if c.inside(at):
            out.append(_pause(min(max(c.x(at), x0 + 4), x1 - 2), mid, hold.describe()))
            c.used.add("held")
    out.append(draw_waits(c, bar, top + _BAR + 2.5))
    out.append(draw_restored(c, bar, mid))
    out.extend(_clip_marks(c, bar, x0, x1, mid))
    return el("g", "".join(out), class_="run", data_run_id=bar.run_id)


def draw_arrow(c: Canvas, old: Bar, new: Bar, rows: Mapping[str, float]) -> str:
    """A curved arrow from a superseded run's end to the run that superseded it."""
    x1, y1 = c.ends(old)[1], rows[old.run_id] + ROW / 2
    x2, y2 = c.ends(new)[0], rows[new.run_id] + ROW / 2
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
    c.used.add("superseded by")
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
        tick = line(x + 8, y + 1, x + 8, y + 9, "#ffffff", stroke_width=1.3)
        return rect(x, y, 16, 10, STATUS_COLOURS["success"], rx=2) + tick
    if key == "held":
        return "".join(rect(bx, y, 2.4, 10, INK) for bx in (x + 5, x + 9))
    if key == "rejected":
        return cross(x + 8, y + 5, "rejected attempt", klass="legend-rejected")
    if key in MARK_KEYS:
        return legend_item(key, x, y)
    if key == "clipped":
        return el("path", d=f"M{num(x + 3)},{num(y + 5)} l6,-4 v8 z", fill="#ffffff", stroke=INK)
    return el(
        "path", d=f"M{num(x)},{num(y + 5)} h14", stroke=INK, stroke_width=1.3, marker_end=ARROW
    )


_LEGEND_NAMES = {"clipped": "continues outside the window", "held": "held (a hold)"}


def legend(c: Canvas, y: float) -> float:
    """Draw the legend of the entries in use, wrapping, from `y`; return the y below it."""
    extras = ["queue wait", "step", "held", "rejected", "superseded by", *MARK_KEYS, "clipped"]
    keys = [k for k in [*STATUS_COLOURS, *extras] if k in c.used]
    x, out = float(c.left), []
    for key in keys:
        name = _LEGEND_NAMES.get(key, key.replace("_", " "))
        w = 36 + len(name) * CHAR
        if x + w > c.width - 16 and x > c.left:
            x, y = float(c.left), y + _LEGEND_ROW
        item = _legend_item(key, x, y + 4) + text(name, x + 21, y + 13)
        out.append(el("g", item, class_=f"legend-entry legend-{key.replace(' ', '-')}"))
        x += w
    if out:
        c.parts.append(el("g", "".join(out), class_="legend"))
        y += _LEGEND_ROW
    return y
