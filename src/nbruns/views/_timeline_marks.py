"""The timeline's marks for nbruns's strategies: merged arrivals, debounce waits, restores.

A run merged into another (steer, collect, debounce) never ran on its own, so it
is no bar: a hollow dot where it arrived, a dashed line while it waited, and an
arrow down (or up) into its carrier's bar where its input went in. A debounce
wait is a dotted line under the waiting run, from the arrival that reset the
quiet window to the window's end, with a small tick at its `max_wait_s`
deadline. A restore (a rolled-back run's state put back) is a ↺ on its row.
Each drawing notes its legend entry in `Canvas.used`; `legend_item` draws it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._svg import ARROW, el, line, num, text, title
from ._timeline_data import Bar
from ._timeline_layout import Canvas

__all__ = ["MARK_KEYS", "MERGE", "draw_arrival", "draw_restored", "draw_waits", "legend_item"]

MERGE, WAIT, RESTORED = "#1971c2", "#9c36b5", "#2f9e44"
MARK_KEYS = ("merged into", "debounce wait", "restored")


def _arrival_tooltip(c: Canvas, bar: Bar) -> str:
    how = f" ({bar.merge_how})" if bar.merge_how else ""
    lines = [
        f"run {bar.run_id}",
        f"merged{how} into run {bar.merged_into}: it never ran on its own",
        f"status (its carrier's): {bar.status.replace('_', ' ')}",
    ]
    if bar.strategy:
        lines.append(f"multitask_strategy: {bar.strategy}")
    merged = c.offset(bar.merged_at) if bar.merged_at is not None else "?"
    lines.append(f"arrived {c.offset(bar.created)}, merged {merged}")
    return title("\n".join(lines))


def draw_arrival(
    c: Canvas, bar: Bar, y: float, row: float, rows: Mapping[str, float], bar_height: float
) -> str:
    """A merged run: its arrival dot, its wait, and the arrow into its carrier's bar."""
    mid = y + row / 2
    x0 = c.x(bar.created)
    x1 = c.x(bar.merged_at if bar.merged_at is not None else bar.created)
    out = [_arrival_tooltip(c, bar)]
    if x1 - x0 >= 1:
        out.append(
            line(
                x0,
                mid,
                x1,
                mid,
                MERGE,
                stroke_width=1.2,
                stroke_dasharray="3 2",
                class_="merge-wait",
            )
        )
    out.append(
        el(
            "circle",
            cx=x0,
            cy=mid,
            r=4.0,
            fill="#ffffff",
            stroke=MERGE,
            stroke_width=1.6,
            class_="arrival",
        )
    )
    carrier_y = rows.get(bar.merged_into or "")
    if carrier_y is not None:
        edge = bar_height / 2  # end on the carrier bar's near edge, not its middle
        target = carrier_y + row / 2 + (edge if carrier_y < y else -edge)
        bend = (target - mid) / 2
        d = f"M{num(x1)},{num(mid)} C{num(x1 + 6)},{num(mid)} "
        d += f"{num(x1)},{num(mid + bend)} {num(x1)},{num(target)}"
        what = f"run {bar.run_id} merged into run {bar.merged_into}"
        out.append(
            el(
                "path",
                title(what),
                d=d,
                fill="none",
                stroke=MERGE,
                stroke_width=1.4,
                marker_end=ARROW,
                class_="merge-arrow",
            )
        )
    c.used.add("merged into")
    return el("g", "".join(out), class_="run merged-run", data_run_id=bar.run_id)


def draw_waits(c: Canvas, bar: Bar, bottom: float) -> str:
    """The debounce waits of a run, as dotted lines just under its bar."""
    out = []
    for wait in bar.waits:
        until = wait.until if wait.until is not None else bar.end
        if not c.shows(wait.at, until):
            continue
        x0, x1 = c.x(wait.at), max(c.x(until), c.x(wait.at) + 2)
        what = f"debounce: waits for quiet from {c.offset(wait.at)} until {c.offset(until)}"
        if wait.deadline is not None:
            what += f" (at the latest {c.offset(wait.deadline)})"
        parts = [title(what)]
        parts.append(
            line(x0, bottom, x1, bottom, WAIT, stroke_width=1.6, stroke_dasharray="1.5 1.5")
        )
        parts.append(line(x1, bottom - 3, x1, bottom + 3, WAIT, stroke_width=1.4))
        if wait.deadline is not None and c.inside(wait.deadline):
            xd = c.x(wait.deadline)
            parts.append(line(xd, bottom - 2, xd, bottom + 2, WAIT, stroke_width=0.8))
        out.append(el("g", "".join(parts), class_="debounce-wait"))
        c.used.add("debounce wait")
    return "".join(out)


def draw_restored(c: Canvas, bar: Bar, mid: float) -> str:
    """A ↺ where a rolled-back run's state was restored."""
    out = []
    for at, checkpoint in bar.restored:
        if not c.inside(at):
            continue
        what = f"restored at {c.offset(at)}: run {bar.run_id}'s state put back"
        what += f" (checkpoint {checkpoint})" if checkpoint else ""
        glyph = text(
            "↺",
            c.x(at),
            mid + 4.5,
            RESTORED,
            font_size=14,
            font_weight="bold",
            text_anchor="middle",
        )
        out.append(el("g", title(what) + glyph, class_="restored-mark"))
        c.used.add("restored")
    return "".join(out)


def legend_item(key: str, x: float, y: float) -> str:
    """The legend's picture of one of `MARK_KEYS`."""
    if key == "merged into":
        dot = el(
            "circle", cx=x + 3, cy=y + 5, r=3.0, fill="#ffffff", stroke=MERGE, stroke_width=1.4
        )
        return dot + el(
            "path",
            d=f"M{num(x + 6)},{num(y + 5)} h10",
            stroke=MERGE,
            stroke_width=1.3,
            stroke_dasharray="3 2",
            marker_end=ARROW,
        )
    if key == "debounce wait":
        return line(
            x, y + 5, x + 14, y + 5, WAIT, stroke_width=1.6, stroke_dasharray="1.5 1.5"
        ) + line(x + 14, y + 2, x + 14, y + 8, WAIT, stroke_width=1.4)
    return text(
        "↺", x + 8, y + 10, RESTORED, font_size=13, font_weight="bold", text_anchor="middle"
    )
