"""The Playground's HTML tables: its runs (short ids, seconds, held, error) and messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._playground_words import boundary_words
from .frames import runs_to_frame

__all__ = ["messages_table", "runs_table", "table"]

_TABLE_CSS = (
    "<style>.nbruns-table table{border-collapse:collapse;font-size:12px}"
    ".nbruns-table th,.nbruns-table td{padding:2px 10px;text-align:left;vertical-align:top;"
    "white-space:nowrap}"
    ".nbruns-table tr:nth-child(even){background:#f5f5f5}</style>"
)


def _short(value: Any) -> str:
    return value[:8] if isinstance(value, str) else ""


def table(title: str, view: Any) -> str:
    if view is None or view.empty:
        return f"<p><b>{title}</b>: none yet</p>"
    body = str(view.to_html(index=False, na_rep="", border=0))
    head = f'<div class="nbruns-table" style="overflow-x:auto"><p><b>{title}</b></p>'
    return f"{_TABLE_CSS}{head}{body}</div>"


def _held(run: Mapping[str, Any]) -> str:
    held = run.get("held")
    if not isinstance(held, Mapping):
        return ""
    before, after = held.get("before") or [], held.get("after") or []
    if not after:
        return boundary_words("*", None)
    return f"after {', '.join(after)}" + (f", before {', '.join(before)}" if before else "")


def runs_table(runs: Sequence[Mapping[str, Any]], labels: Mapping[str, str]) -> str:
    """The runs as a table: thread label, short run id, strategy, status, times, held, error,
    and which run superseded it or carries its input (merged)."""
    frame = runs_to_frame(runs)
    if frame.empty:
        return table("Runs", None)
    view = frame.assign(
        thread=frame["thread_id"].map(lambda t: labels.get(t) or _short(t)),
        run=frame["run_id"].map(_short),
        strategy=frame["multitask_strategy"],
        created=frame["created_at"].dt.strftime("%H:%M:%S.%f").str[:-3],
        held=frame["run_id"].map({r["run_id"]: _held(r) for r in runs}),
        error=frame["error"].map(lambda e: e or ""),
        **{
            "queue wait (s)": frame["queue_wait"].dt.total_seconds().round(3),
            "duration (s)": frame["duration"].dt.total_seconds().round(3),
            "superseded by": frame["superseded_by"].map(_short),
            "merged into": frame["merged_into"].map(_short),
        },
    )
    columns = ["thread", "run", "strategy", "status", "held", "error", "created"]
    columns += ["queue wait (s)", "duration (s)", "superseded by", "merged into"]
    return table("Runs", view[columns])


def messages_table(frame: Any, clip: int = 120) -> str:
    if frame is None or frame.empty:
        return table("Messages", None)
    view = frame.assign(
        content=frame["content"].map(lambda s: s if len(s) <= clip else s[: clip - 1] + "…"),
        **{"tool calls": frame["tool_calls"].map(", ".join)},
        run=frame["run_id"].map(_short),
    )[["position", "type", "content", "tool calls", "run"]]
    return table("Messages", view)
