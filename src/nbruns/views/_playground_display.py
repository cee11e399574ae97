"""The Playground's reading and drawing: runs, timeline, tables, inspection, the saved picture.

Everything is re-read through the SDK client on each `refresh()`; nothing here
decides anything about runs.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

import ipywidgets as w
from langgraph_sdk.client import LangGraphClient

from ._playground_inspect import inspect_html
from ._playground_tables import messages_table, runs_table
from ._playground_tasks import BackgroundTasks
from ._playground_timeline import Zoom, timeline_svg
from ._playground_words import failed_words, short
from ._read import fetch_events, fetch_runs
from .frames import messages_frame_for

__all__ = ["Display"]

_INFLIGHT = frozenset({"pending", "running"})


class Display(BackgroundTasks):
    """Renders a playground's threads into its widgets; `refresh()` once, or live via `_kick`."""

    client: LangGraphClient
    graph: str
    width: int
    threads: list[str]
    thread_names: dict[str, str]
    runs: list[dict[str, Any]]
    thread_picker: w.Dropdown
    this_thread_only: w.Checkbox
    status: w.HTML
    timeline_html: w.HTML
    runs_html: w.HTML
    messages_html: w.HTML
    inspect_picker: w.Dropdown
    inspect_html: w.HTML

    def __init__(self) -> None:
        super().__init__()
        self.zoom: Zoom = "all"
        self._failed_seen: set[str] = set()
        self._static = ("", "", "")  # status, svg, runs table: the saved notebook's picture

    def zoom_to(self, zoom: Zoom) -> None:
        """Zoom the timeline: "all", "thread" (the selected one) or "recent" (the last runs)."""
        self.zoom = zoom
        self._kick()

    async def inspect(self, run_id: str) -> str:
        """Show one run's input, state, messages and error below the runs; return the HTML."""
        runs = await fetch_runs(self.client, self.threads)
        run = next((r for r in runs if r["run_id"] == run_id), None)
        if run is None:
            found = next((r for r in self.runs if r["run_id"] == run_id), None)
            if found is None:
                raise ValueError(f"run {run_id} is not one of this playground's runs")
            run = found
        self.inspect_html.value = await inspect_html(self.client, run)
        return str(self.inspect_html.value)

    async def refresh(self) -> bool:
        """Re-read runs, timeline and messages through the client and render them once.

        Returns True while a run of the playground's threads is pending or running.
        """
        threads, current = list(self.threads), self.thread_picker.value
        try:
            runs = await fetch_runs(self.client, threads) if threads else []
            events = await fetch_events(self.client, threads, runs=runs) if threads else []
            messages = await messages_frame_for(self.client, current) if current else None
        except Exception as exc:  # shown, not raised: this usually runs in the background
            self.say(f"refresh failed: {type(exc).__name__}: {exc}")
            return False
        self._say_failures(runs)
        svg = timeline_svg(
            runs,
            events,
            now=datetime.now(UTC),
            width=self.width,
            threads=threads,
            current=current,
            only_current=self.this_thread_only.value,
            zoom=self.zoom,
            labels=self.thread_names,
        )
        self._show(svg, runs_table(runs, self.thread_names), messages)
        self._offer_inspection(runs)
        return any(r.get("status") in _INFLIGHT for r in runs)

    def _say_failures(self, runs: list[dict[str, Any]]) -> None:
        mine = {r["run_id"] for r in self.runs}
        for run in runs:
            rid = run["run_id"]
            if run.get("status") == "error" and rid in mine and rid not in self._failed_seen:
                self._failed_seen.add(rid)
                self.say(failed_words(run))

    def _offer_inspection(self, runs: list[dict[str, Any]]) -> None:
        options = [
            (
                f"{self.thread_names.get(r['thread_id'], short(r['thread_id']))} · "
                f"run {short(r['run_id'])} · {r.get('status')}",
                r["run_id"],
            )
            for r in runs
        ]
        if options != list(self.inspect_picker.options):
            chosen = self.inspect_picker.value
            with self.inspect_picker.hold_trait_notifications():
                self.inspect_picker.options = options
                ids = [o[1] for o in options]
                self.inspect_picker.value = chosen if chosen in ids else None

    def _on_inspect_pick(self, change: dict[str, Any]) -> None:
        run_id, old = change.get("new"), change.get("old")
        if run_id and run_id != old:
            self._on_loop(lambda: self._spawn(self.inspect(run_id)))

    def _show(self, svg: str, runs_html: str, messages: Any) -> None:
        self.timeline_html.value = f'<div style="width:100%;overflow-x:auto">{svg}</div>'
        self.runs_html.value = runs_html or runs_table([], {})
        self.messages_html.value = messages_table(messages)
        self._static = (str(self.status.value), svg, self.runs_html.value)

    def static_html(self) -> str:
        """What a saved notebook shows: the status words, the timeline SVG and the runs table."""
        status, svg, runs = self._static
        words = str(self.status.value) or status
        head = f"<p><b>nbruns Playground</b> (graph {html.escape(self.graph)})"
        head += f": {words}</p>" if words else "</p>"
        return f'<div class="nbruns-playground-static">{head}{svg}{runs}</div>'
