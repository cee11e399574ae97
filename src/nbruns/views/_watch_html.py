"""The HTML parts of `watch`: its status line and each thread's latest messages."""

from __future__ import annotations

from html import escape
from typing import Any

from .frames import messages_frame

__all__ = ["CSS", "messages_html", "short", "summary"]

_CLIP = 160  # characters of a message shown
CSS = (
    "<style>.nbruns-watch table{border-collapse:collapse;font-size:12px;margin-bottom:6px}"
    ".nbruns-watch td,.nbruns-watch th{padding:1px 8px;text-align:left;vertical-align:top}"
    ".nbruns-watch tr:nth-child(even){background:#f5f5f5}</style>"
)


def short(value: Any) -> str:
    """An id's first 8 characters, as the timeline labels lanes."""
    return value[:8] if isinstance(value, str) else ""


def summary(runs: list[dict[str, Any]], going: list[dict[str, Any]]) -> str:
    """The status line: live or idle, and how many runs are in each status."""
    counts: dict[str, int] = {}
    for run in runs:
        counts[str(run.get("status"))] = counts.get(str(run.get("status")), 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in counts.items()) or "no runs yet"
    if going:
        return f"live: {tally}"
    return f"idle: {tally} (w.refresh() follows new runs)"


def messages_html(name: str, state: Any, last: int) -> str:
    """The `last` messages of a thread state (None: the thread is gone) as a small table."""
    title = f"<b>thread {escape(name)}</b>"
    if state is None:
        return f"<p>{title}: not found</p>"
    frame = messages_frame(state)
    if frame.empty:
        return f"<p>{title}: no messages yet</p>"
    rows = []
    for m in frame.tail(last).itertuples():
        text = m.content if len(m.content) <= _CLIP else m.content[: _CLIP - 1] + "…"
        calls = ", ".join(m.tool_calls)
        said = escape(text) + (f"<br><i>calls {escape(calls)}</i>" if calls else "")
        rows.append(f"<tr><td>{m.position}</td><td>{escape(str(m.type))}</td><td>{said}</td></tr>")
    shown = f"last {min(last, len(frame))} of {len(frame)} messages"
    return f"<p>{title} ({shown})</p><table>{''.join(rows)}</table>"
