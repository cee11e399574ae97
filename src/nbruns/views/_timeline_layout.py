"""Where things go on the timeline: the time axis (whole or a window), rows, lane labels.

Times are seconds since the data's first moment (see `_timeline_data`). The
axis covers either everything (from 0, rounded up to whole steps) or a window
`(start, end)` exactly; positions outside it are clamped to its edges, and the
caller drops what lies wholly outside.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from ._svg import FAINT, GREY, el, line, text
from ._timeline_data import Bar

__all__ = ["CHAR", "Canvas", "fit_label", "pack"]

CHAR = 6.2  # rough width of one 11px character, for fitting labels
RIGHT, MIN_GAP = 16, 6
# nice steps beyond a minute: whole minutes and hours people count in
_CLOCK_STEPS = (60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def _nice_step(raw: float) -> float:
    if raw < 45:
        power: float = 10.0 ** math.floor(math.log10(raw))
        return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    for step in _CLOCK_STEPS:
        if step >= raw:
            return float(step)
    days = raw / 86400
    power = 10.0 ** math.floor(math.log10(days))
    return 86400 * next(m * power for m in (1, 2, 5, 10) if m * power >= days)


class Canvas:
    """The time axis (a round number of nice steps) and the SVG parts drawn so far."""

    def __init__(
        self,
        width: int,
        left: float,
        t0: datetime,
        end: float,
        window: tuple[float, float] | None,
    ) -> None:
        self.width, self.left = width, left
        self.plot = width - left - RIGHT
        self.parts: list[str] = []
        self.used: set[str] = set()  # legend entries the picture uses
        self.t0, self.windowed = t0, window is not None
        origin, span = (window[0], window[1] - window[0]) if window else (0.0, end)
        span = span if span > 1e-6 else 1.0  # nothing took time yet: a one-second axis
        self.step = _nice_step(span / max(2, self.plot // 90))
        if window is None:  # the whole picture: end on a whole step
            span = max(self.step, math.ceil(span / self.step - 1e-9) * self.step)
        self.origin, self.span = origin, span
        self.decimals = max(0, -math.floor(math.log10(self.step) + 1e-9))

    @property
    def stop(self) -> float:
        return self.origin + self.span

    def x(self, t: float) -> float:
        """The x of time `t`, clamped to the plot."""
        at = min(max(t, self.origin), self.stop)
        return round(self.left + (at - self.origin) / self.span * self.plot, 1)

    def inside(self, t: float) -> bool:
        return self.origin - 1e-9 <= t <= self.stop + 1e-9

    def shows(self, begin: float, end: float) -> bool:
        """Whether any of [begin, end] lies on the axis."""
        return end >= self.origin - 1e-9 and begin <= self.stop + 1e-9

    def ends(self, bar: Bar) -> tuple[float, float]:
        """Where a bar's solid part begins and ends (at least 3 px wide)."""
        x0 = self.x(bar.begin)
        return x0, max(self.x(bar.end), x0 + 3)

    def offset(self, t: float) -> str:
        """A time in a tooltip: seconds from the axis's origin, '+1.500 s'."""
        return f"{t - self.origin:+.3f} s"

    def _tick_label(self, seconds: float) -> str:
        sign = "+" if self.windowed else ""
        if self.step >= 3600:
            return f"{sign}{seconds / 3600:g} h"
        if self.step >= 60:
            return f"{sign}{seconds / 60:g} min"
        return f"{sign}{seconds:.{self.decimals}f} s"

    def axis(self, top: float, y: float) -> None:
        """Grid lines behind the lanes from `top`, tick marks and labels below `y`."""
        grid = [line(self.left, top, self.left, y, "#adb5bd")]
        marks = [line(self.left, y, self.width - RIGHT, y, GREY)]
        for k in range(int(self.span / self.step + 1e-9) + 1):
            tx = self.x(self.origin + k * self.step)
            grid.append(line(tx, top, tx, y, "#dee2e6", stroke_width=0.8, class_="grid"))
            marks.append(line(tx, y, tx, y + 4, GREY))
            label = self._tick_label(k * self.step)
            marks.append(text(label, tx, y + 16, GREY, text_anchor="middle"))
        unit = "hours" if self.step >= 3600 else "minutes" if self.step >= 60 else "seconds"
        clock = (self.t0 + timedelta(seconds=self.origin)).strftime("%H:%M:%S UTC")
        since = f"{clock} (the window's start)" if self.windowed else f"the first event, {clock}"
        caption = f"{unit} since {since}"
        x = self.width - RIGHT
        marks.append(text(caption, x, y + 29, FAINT, text_anchor="end", font_size=10))
        self.parts.insert(0, el("g", "".join(grid)))
        self.parts.append(el("g", "".join(marks), class_="axis"))


def pack(lane: list[Bar], c: Canvas) -> int:
    """Give each bar of a lane a row so that none overlap (queue waits included)."""
    ends: list[float] = []
    for bar in lane:
        left = c.x(bar.created)
        for row, end in enumerate(ends):
            if end + MIN_GAP <= left:
                bar.row, ends[row] = row, max(c.ends(bar)[1], c.x(bar.reach))
                break
        else:
            bar.row = len(ends)
            ends.append(max(c.ends(bar)[1], c.x(bar.reach)))
    return max(len(ends), 1)


def fit_label(label: str, room: float, char: float = CHAR) -> str:
    """`label` cut to `room` pixels with an ellipsis ('' when not even one letter fits)."""
    fits = int(room // char)
    if len(label) <= fits:
        return label
    return label[: fits - 1] + "…" if fits >= 2 else ""
