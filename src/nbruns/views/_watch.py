"""`watch(client, thread_ids)`: a live picture of runs to put under a cell that starts them.

The timeline of the threads and their latest messages, re-read through the
async SDK client about five times a second while any of their runs is pending
or running, then once more, then left as it is until `w.refresh()` (or
`await w.wait_idle()`). Like the Playground it holds no run logic and works
against any LangGraph API server.

Background refreshes never print: errors go to the status line. The watch
keeps a reference to every task it starts; `w.close()` cancels them. A saved
notebook shows the last picture as HTML next to the widget view, updated when
the watch goes idle (GitHub and nbconvert show that HTML).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any, Literal

import httpx
import ipywidgets as w
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient

from ._read import fetch_events, fetch_runs
from ._timeline import render_timeline
from ._timeline_labels import thread_labels
from ._timeline_window import fit_to_recent
from ._watch_html import CSS, messages_html, short, summary

__all__ = ["Watch", "watch"]

INTERVAL = 0.2  # seconds between renders while runs are going: ~5 a second
_INFLIGHT = frozenset({"pending", "running"})
_MESSAGE_THREADS = 5  # watching every thread: the messages of the latest active ones


def watch(
    client: LangGraphClient,
    thread_ids: str | Sequence[str] | None = None,
    *,
    last_messages: int = 3,
    highlight: str | None = None,
    window: Literal["recent"] | None = None,
    width: int = 720,
) -> Watch:
    """A live view of `thread_ids` (None: every thread, new ones too): timeline and messages.

    `client` must be the async client (`nbruns.get_client()` or
    `langgraph_sdk.get_client()`): the watch re-reads in the background on the
    notebook's event loop. Leave it as the last expression of the cell that
    starts runs; `await w.wait_idle()` waits for those runs and renders the end;
    `w.refresh()` follows runs started later; `w.close()` stops it. Below the
    timeline, the last `last_messages` messages of each thread (watching every
    thread: of the five with the latest runs). `highlight`: a thread whose lane
    stands out; `window="recent"`: the axis zoomed to the last few runs
    (default: everything).
    """
    return Watch(
        client,
        thread_ids,
        last_messages=last_messages,
        highlight=highlight,
        window=window,
        width=width,
    )


class Watch:
    """What `watch()` returns: `widget` (ipywidgets), `html` (the last picture), tasks."""

    def __init__(
        self,
        client: LangGraphClient,
        thread_ids: str | Sequence[str] | None = None,
        *,
        last_messages: int = 3,
        highlight: str | None = None,
        window: Literal["recent"] | None = None,
        width: int = 720,
    ) -> None:
        if isinstance(client, SyncLangGraphClient):
            raise TypeError(
                "watch() re-reads in the background, which needs the async client: "
                "pass nbruns.get_client() (or langgraph_sdk.get_client()), not the sync one"
            )
        if not isinstance(client, LangGraphClient):
            raise TypeError(
                "watch() takes the async langgraph_sdk client (nbruns.get_client() or "
                f"langgraph_sdk.get_client()), not {type(client).__name__}"
            )
        if window not in (None, "recent"):
            raise ValueError(f'window must be None or "recent", got {window!r}')
        self.client, self.width, self.last_messages = client, width, last_messages
        self.highlight, self.window = highlight, window
        self.thread_ids = [thread_ids] if isinstance(thread_ids, str) else thread_ids
        if self.thread_ids is not None:
            self.thread_ids = list(self.thread_ids)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live: asyncio.Task[Any] | None = None
        self._kicked = False
        self._closed = False
        self._handles: list[Any] = []  # IPython display handles to update when idle
        # thread id -> (what its runs looked like when read, its messages' HTML)
        self._messages: dict[str, tuple[Any, str]] = {}
        self._labels: dict[str, str | None] = {}  # thread id -> its name in metadata, if any
        self.status = w.Label(value="")
        self.timeline_html = w.HTML(layout=w.Layout(width="100%"))
        self.messages_html = w.HTML()
        self.widget = w.VBox([self.status, self.timeline_html, self.messages_html])
        self.html = ""
        self._show("", render_timeline([], [], now=None, width=width), "")
        self.refresh()

    # -- public -------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read soon, and keep re-reading while runs of the threads are going."""
        if self._closed:
            return
        self._kicked = True
        if self._live is not None and not self._live.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.status.value = "no running event loop: 'await w.wait_idle()' to render"
            return
        self._live = self._spawn(loop, self._follow())

    async def render(self) -> bool:
        """Read runs, timeline and messages once and render them; True while runs are going."""
        now = datetime.now(UTC)
        runs = await fetch_runs(self.client, self.thread_ids)
        events = await fetch_events(self.client, self.thread_ids, runs=runs)
        threads = self._threads(runs)
        lanes = self.thread_ids or dict.fromkeys(r["thread_id"] for r in runs)
        for tid in lanes:
            if tid not in self._labels:  # read once: a thread's name rarely changes
                self._labels[tid] = await self._label_of(tid)
        labels = {t: label for t, label in self._labels.items() if label}
        messages = [await self._messages_of(tid, runs, labels.get(tid)) for tid in threads]
        svg = render_timeline(
            runs,
            events,
            now=now,
            width=self.width,
            thread_ids=self.thread_ids,
            highlight=self.highlight,
            window=fit_to_recent(runs, events, now=now) if self.window == "recent" else None,
            labels=labels,
        )
        going = [r for r in runs if r.get("status") in _INFLIGHT]
        self._show(summary(runs, going), svg, "".join(messages))
        return bool(going)

    async def wait_idle(self) -> None:
        """Return once no run of the threads is pending or running, with that picture drawn."""
        while True:
            if self._live is not None and not self._live.done():
                await asyncio.wait([self._live])
            if not await self.render():
                break
            self.refresh()  # follow them until they end
        self._publish()

    def close(self) -> None:
        """Stop refreshing (the picture stays as it is) and cancel the watch's tasks."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self.status.value = "closed"

    # -- reading ------------------------------------------------------------

    def _threads(self, runs: list[dict[str, Any]]) -> list[str]:
        """Threads whose messages to show: the given ones, else the latest with runs first."""
        if self.thread_ids is not None:
            return list(self.thread_ids)
        latest: dict[str, str] = {}
        for run in runs:  # oldest first, so the last one seen is the latest
            latest[run["thread_id"]] = run["run_id"]
        return list(reversed(latest))[:_MESSAGE_THREADS]

    async def _label_of(self, thread_id: str) -> str | None:
        try:
            thread = await self.client.threads.get(thread_id)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
            return None
        return thread_labels([thread]).get(thread_id)

    async def _messages_of(
        self, thread_id: str, runs: list[dict[str, Any]], label: str | None
    ) -> str:
        """The thread's last few messages as HTML, re-read only when its runs changed."""
        mine = tuple((r["run_id"], r.get("status")) for r in runs if r["thread_id"] == thread_id)
        going = any(status in _INFLIGHT for _, status in mine)
        cached = self._messages.get(thread_id)
        if cached is not None and cached[0] == mine and not going:
            return cached[1]
        try:
            state: Any = await self.client.threads.get_state(thread_id)
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:
                raise
            state = None
        found = messages_html(label or short(thread_id), state, self.last_messages)
        self._messages[thread_id] = (mine, found)
        return found

    # -- plumbing -----------------------------------------------------------

    def _show(self, summary: str, svg: str, messages: str) -> None:
        if summary:
            self.status.value = summary
        timeline = f'<div style="width:100%;overflow-x:auto">{svg}</div>'
        self.timeline_html.value = timeline
        self.messages_html.value = f'{CSS}<div class="nbruns-watch">{messages}</div>'
        head = f"<p>{escape(summary)}</p>" if summary else ""
        self.html = f"{head}{timeline}{self.messages_html.value}"

    def _spawn(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]
    ) -> asyncio.Task[Any]:
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _follow(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._kicked = False
            began = loop.time()
            try:
                going = await self.render()
            except Exception as exc:  # shown, never printed: this runs in the background
                self.status.value = f"refresh failed: {type(exc).__name__}: {exc}"
                return
            if not going and not self._kicked:
                self._publish()
                return
            await asyncio.sleep(max(0.0, INTERVAL - (loop.time() - began)))

    def _bundle(self) -> dict[str, Any]:
        bundle = dict(self.widget._repr_mimebundle_() or {})
        bundle["text/plain"] = repr(self)
        bundle["text/html"] = self.html  # what a saved notebook shows without the widget
        return bundle

    def _publish(self) -> None:
        """Put the picture into the displayed outputs, so a saved notebook keeps it."""
        for handle in self._handles:
            handle.update(self._bundle(), raw=True)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._bundle()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        handle = display(self._bundle(), raw=True, display_id=True)  # type: ignore[no-untyped-call]
        if handle is not None:
            self._handles.append(handle)

    def __repr__(self) -> str:
        which = "every thread" if self.thread_ids is None else f"{len(self.thread_ids)} threads"
        return f"<nbruns watch of {which}>"
