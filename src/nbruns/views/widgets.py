"""A double-texting playground for notebooks (ipywidgets), driven through the SDK client.

`Playground(client)` shows a thread picker, a message box, the four
multitask strategies, a sleep slider and a Send button; pressing Send while a
run is going double-texts. Below it, the live timeline, the runs of its
threads and the current thread's messages. It holds no run logic: every view
is re-read through the client, so it works against any LangGraph API server.

Jupyter calls widget handlers synchronously and never awaits them, so the
handlers schedule coroutines on the kernel's running loop and keep a reference
to each task. One refresh task re-renders at most ~10 times a second while the
playground's threads have pending or running runs, then renders once more and
ends. Background code never prints: outcomes and errors go to `status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, get_args

import httpx
import ipywidgets as w
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import MultitaskStrategy

from ._read import fetch_events, fetch_runs
from ._timeline import render_timeline
from .frames import messages_frame_for, runs_to_frame

__all__ = ["STRATEGIES", "Playground"]

STRATEGIES: tuple[str, ...] = get_args(MultitaskStrategy)
_INTERVAL = 0.1  # seconds between live renders: at most ~10 a second
_INFLIGHT = frozenset({"pending", "running"})


def _short(value: Any) -> str:
    return value[:8] if isinstance(value, str) else ""


def _detail(exc: httpx.HTTPStatusError) -> str:
    try:
        body = exc.response.json()
    except ValueError:
        return exc.response.text
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


_TABLE_CSS = (
    "<style>.nbruns-table table{border-collapse:collapse;font-size:12px}"
    ".nbruns-table th,.nbruns-table td{padding:2px 10px;text-align:left;vertical-align:top}"
    ".nbruns-table tr:nth-child(even){background:#f5f5f5}</style>"
)


def _table(title: str, view: Any) -> str:
    if view is None or view.empty:
        return f"<p><b>{title}</b>: none yet</p>"
    body = str(view.to_html(index=False, na_rep="", border=0))
    head = f'<div class="nbruns-table" style="overflow-x:auto"><p><b>{title}</b></p>'
    return f"{_TABLE_CSS}{head}{body}</div>"


def _runs_view(frame: Any) -> Any:
    """The runs frame, made short for a table: ids cut to 8 characters, times in seconds."""
    return frame.assign(
        thread=frame["thread_id"].map(_short),
        run=frame["run_id"].map(_short),
        strategy=frame["multitask_strategy"],
        created=frame["created_at"].dt.strftime("%H:%M:%S.%f").str[:-3],
        **{
            "queue wait (s)": frame["queue_wait"].dt.total_seconds().round(3),
            "duration (s)": frame["duration"].dt.total_seconds().round(3),
            "superseded by": frame["superseded_by"].map(_short),
        },
    )[
        [
            "thread",
            "run",
            "strategy",
            "status",
            "created",
            "queue wait (s)",
            "duration (s)",
            "superseded by",
        ]
    ]


def _messages_view(frame: Any, clip: int = 120) -> Any:
    return frame.assign(
        content=frame["content"].map(lambda s: s if len(s) <= clip else s[: clip - 1] + "…"),
        **{"tool calls": frame["tool_calls"].map(", ".join)},
        run=frame["run_id"].map(_short),
    )[["position", "type", "content", "tool calls", "run"]]


class Playground:
    """Send messages to one graph with a chosen multitask strategy, and watch what happens.

    `client` defaults to `nbruns.get_client()`. Drive it from the widgets, or
    from code: `await pg.send(...)`, `await pg.refresh()`, `await pg.wait_idle()`.
    Display it by leaving it as the last expression of a cell (or `pg.widget`).
    """

    def __init__(
        self, client: LangGraphClient | None = None, *, graph: str = "agent", width: int = 720
    ) -> None:
        if client is None:  # the public default: an SDK client on this process's server
            from .._inprocess._server import get_client

            client = get_client()
        self.client, self.graph, self.width = client, graph, width
        self.threads: list[str] = []
        self.runs: list[dict[str, Any]] = []  # every run this playground created, in order
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live: asyncio.Task[Any] | None = None
        self._kicked = False
        self._thread_lock = asyncio.Lock()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None

        self.thread_picker = w.Dropdown(options=[], description="thread")
        self.new_thread_button = w.Button(description="New thread", icon="plus")
        self.message = w.Text(value="whats the weather in sf?", description="message")
        self.strategy = w.ToggleButtons(options=STRATEGIES, value="enqueue", description="strategy")
        self.sleep = w.FloatSlider(value=3.0, min=0.0, max=10.0, step=0.5, description="sleep (s)")
        self.send_button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.status = w.Label(value="")
        self.timeline_html = w.HTML(layout=w.Layout(width="100%"))
        self.runs_html = w.HTML()
        self.messages_html = w.HTML()
        self.widget = w.VBox(
            [
                w.HBox([self.thread_picker, self.new_thread_button]),
                w.HBox([self.message, self.send_button]),
                self.strategy,
                self.sleep,
                self.status,
                self.timeline_html,
                self.runs_html,
                self.messages_html,
            ]
        )
        self.send_button.on_click(lambda _: self._on_loop(lambda: self._spawn(self.send())))
        self.new_thread_button.on_click(
            lambda _: self._on_loop(lambda: self._spawn(self.new_thread()))
        )
        self.thread_picker.observe(lambda _: self._on_loop(self._kick), names="value")
        self._show(render_timeline([], [], now=None, width=width), [], None)

    # -- what the buttons do ------------------------------------------------

    async def new_thread(self) -> str:
        """Create a thread, add it to the picker and select it; return its id."""
        thread_id: str = (await self.client.threads.create())["thread_id"]
        self.threads.append(thread_id)
        self.thread_picker.options = [(f"{i + 1}: {t[:8]}", t) for i, t in enumerate(self.threads)]
        self.thread_picker.value = thread_id
        self._kick()
        return thread_id

    async def send(
        self,
        text: str | None = None,
        strategy: str | None = None,
        sleep: float | None = None,
    ) -> dict[str, Any] | None:
        """Start a run on the selected thread (a new one if none); None if it was rejected.

        Defaults come from the widgets. A 409 (strategy "reject" on a busy
        thread) is shown in `status`; any other error is raised.
        """
        text = self.message.value if text is None else text
        strategy = strategy or self.strategy.value
        sleep = self.sleep.value if sleep is None else sleep
        async with self._thread_lock:
            thread_id = self.thread_picker.value or await self.new_thread()
        payload: dict[str, Any] = {"messages": [{"role": "human", "content": text}]}
        if sleep:
            payload["sleep"] = float(sleep)
        try:
            run = await self.client.runs.create(
                thread_id,
                self.graph,
                input=payload,
                multitask_strategy=strategy,  # type: ignore[arg-type]
            )
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 409:
                raise
            self.status.value = f"rejected (409): {_detail(exc)}"
            self._kick()
            return None
        self.runs.append(dict(run))
        self.status.value = f"run {run['run_id'][:8]} ({strategy}) on thread {thread_id[:8]}"
        self._kick()
        return dict(run)

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
            self.status.value = f"refresh failed: {type(exc).__name__}: {exc}"
            return False
        self._show(
            render_timeline(runs, events, now=datetime.now(UTC), width=self.width), runs, messages
        )
        return any(r.get("status") in _INFLIGHT for r in runs)

    async def wait_idle(self) -> None:
        """Wait for scheduled clicks and for every run this playground started; render."""
        joined: set[str] = set()
        while True:
            me = asyncio.current_task()
            busy = [t for t in self._tasks if t is not self._live and t is not me]
            if busy:
                await asyncio.wait(busy)
                continue
            todo = [r for r in self.runs if r["run_id"] not in joined]
            if not todo:
                break
            for run in todo:
                try:
                    await self.client.runs.join(run["thread_id"], run["run_id"])
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code != 404:  # 404: rolled back, so gone
                        raise
                joined.add(run["run_id"])
        if self._live is not None and not self._live.done():
            await asyncio.wait([self._live])
        await self.refresh()

    async def aclose(self) -> None:
        """Cancel this playground's background tasks (its runs keep going)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    # -- plumbing -----------------------------------------------------------

    def _show(self, svg: str, runs: list[dict[str, Any]], messages: Any) -> None:
        self.timeline_html.value = f'<div style="width:100%;overflow-x:auto">{svg}</div>'
        self.runs_html.value = _table("Runs", _runs_view(runs_to_frame(runs)))
        self.messages_html.value = _table(
            "Messages", None if messages is None else _messages_view(messages)
        )

    def _on_loop(self, fn: Callable[[], object]) -> None:
        """Call `fn` on the kernel's loop: now if this thread runs it, else thread-safely."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop = self._loop
            if loop is not None and loop.is_running():
                loop.call_soon_threadsafe(fn)
            else:
                self.status.value = "no running event loop: await pg.send() in a notebook cell"
            return
        fn()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self.status.value = f"error: {type(exc).__name__}: {exc}"

    def _kick(self) -> None:
        """Ask for a render soon; start the refresh task unless it is running."""
        self._kicked = True
        if self._live is None or self._live.done():
            self._live = self._spawn(self._live_loop())

    async def _live_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._kicked = False
            began = loop.time()
            busy = await self.refresh()
            if not busy and not self._kicked:
                return
            await asyncio.sleep(max(0.0, _INTERVAL - (loop.time() - began)))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # the short repr, not the VBox's trait dump
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"<nbruns Playground graph={self.graph!r}>"
