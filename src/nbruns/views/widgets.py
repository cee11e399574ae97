"""A double-texting playground for notebooks (ipywidgets), for any graph, driven through the SDK.

`Playground(client, graph="mine", input=...)` shows a thread picker, a message
box, the strategies the server offers, a hold control, and Send. Below: the
status line (what the last send did, in words), the live answer as tokens
stream, the timeline (this thread only, zoom to thread or recent), the runs,
one run inspected, and the thread's messages. It holds no run logic: every view
is re-read through the client, so it works against any LangGraph API server
(holds, and the words about superseded runs, need nbruns).

The widgets are made in `_playground_controls`, the background tasks live in
`_playground_tasks`, holds in `_playground_holding`; the words of the status
line come from `_playground_words`.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from ._playground_boundaries import HoldSpec, boundary_options, graph_nodes, parse_hold
from ._playground_controls import Controls
from ._playground_display import Display
from ._playground_holding import HoldControl
from ._playground_input import InputBuilder, InputProblem, InputSpec
from ._playground_setup import STRATEGIES, input_schema, server_strategies
from ._playground_timeline import timeline_svg
from ._playground_tokens import LiveAnswer
from ._playground_words import http_detail, rejected_words, sent_words, short
from ._read import _has_nbruns, fetch_runs

__all__ = ["STRATEGIES", "Playground"]

_INFLIGHT = frozenset({"pending", "running"})
_STREAM_MODES = ["values", "messages-tuple"]
_ENDED_WAIT = 2.0  # seconds, at most, for a superseded run's end time to be recorded
_POLL = 0.005
_JOIN_SLICE = 0.5  # seconds: wait_idle re-checks for held runs this often
_FOLLOWER = "nbruns-playground-"  # names of tasks wait_idle does not wait for first


class Playground(Controls, HoldControl, Display):
    """Send messages to one graph with a chosen multitask strategy, and watch what happens.

    `client` defaults to `nbruns.get_client()`; `graph` is a graph id (or assistant);
    `input` is None (built from the text: `{"messages": [...]}` when the graph
    has messages, else its one string key), a dict (the text appended to its
    `messages`), or `input(text) -> dict`. Drive it from the widgets or from
    code: `await pg.send(text, strategy, hold=True)`, `await pg.release()`,
    `await pg.refresh()`, `await pg.wait_idle()`. Display it by leaving it as
    the last expression of a cell (or `pg.widget`).
    """

    def __init__(
        self,
        client: LangGraphClient | None = None,
        *,
        graph: str = "agent",
        input: InputSpec = None,  # the name runs.create uses
        width: int = 720,
    ) -> None:
        if client is None:  # the public default: an SDK client on this process's server
            from .._inprocess._get_client import get_client

            client = get_client()
        Controls.__init__(self, STRATEGIES)
        HoldControl.__init__(self)  # and, along the bases, Display and BackgroundTasks
        self.client, self.graph, self.width = client, graph, width
        self.widget = self.box
        self.builder = InputBuilder(input, None, graph=f"graph {graph!r}")
        self.threads: list[str] = []  # the threads in view, oldest first
        self.thread_names: dict[str, str] = {}
        self.runs: list[dict[str, Any]] = []  # every run this playground created, in order
        self.answer: LiveAnswer | None = None  # the latest run's live answer
        self._setup: asyncio.Task[None] | None = None
        self._thread_lock = asyncio.Lock()
        self._wire()
        self._show(timeline_svg([], [], now=None, width=width, threads=[], current=None,
                                only_current=False, zoom="all", labels={}), "", None)  # fmt: skip
        if self._loop is not None:
            self._setup = self._spawn(self._set_up())

    def _wire(self) -> None:
        def click(button: Any, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
            button.on_click(lambda _: self._on_loop(lambda: self._spawn(make())))

        click(self.send_button, self.send)
        click(self.new_thread_button, self.new_thread)
        click(self.release_button, self.release)
        click(self.clear_button, self.clear)
        click(self.options.apply_button, self.apply_options)
        for button, zoom in (
            (self.fit_thread_button, "thread"),
            (self.fit_recent_button, "recent"),
            (self.fit_all_button, "all"),
        ):
            button.on_click(lambda _, z=zoom: self._on_loop(lambda: self.zoom_to(z)))
        self.thread_picker.observe(lambda _: self._on_loop(self._kick), names="value")
        self.this_thread_only.observe(lambda _: self._on_loop(self._kick), names="value")
        self.inspect_picker.observe(self._on_inspect_pick, names="value")

    async def ready(self) -> None:
        """Wait until the graph's input schema, nodes and the server's strategies are read."""
        if self._setup is None:
            self._setup = self._spawn(self._set_up())
        await asyncio.shield(self._setup)

    async def _set_up(self) -> None:
        schema = await input_schema(self.client, self.graph)
        self.builder = InputBuilder(self.builder.spec, schema, graph=f"graph {self.graph!r}")
        self.sleep.layout.display = None if self.builder.has_sleep else "none"
        self.hold_at.options = boundary_options(await graph_nodes(self.client, self.graph))
        self.options.show(await _has_nbruns(self.client))
        strategies = await server_strategies(self.client)
        if strategies != tuple(self.strategy.options):
            chosen = self.strategy.value
            self.strategy.options = strategies
            self.strategy.value = chosen if chosen in strategies else strategies[0]

    # -- what the buttons do ------------------------------------------------

    async def new_thread(self) -> str:
        """Create a thread named "thread N", add it to the picker and select it; return its id."""
        name = f"thread {len(self.thread_names) + 1}"
        thread = await self.client.threads.create(metadata={"name": name})
        thread_id: str = thread["thread_id"]
        self.threads.append(thread_id)
        self.thread_names[thread_id] = name
        self.thread_picker.options = [(self.thread_names[t], t) for t in self.threads]
        self.thread_picker.value = thread_id
        self._kick()
        return thread_id

    async def send(
        self,
        text: str | None = None,
        strategy: str | None = None,
        sleep: float | None = None,
        *,
        hold: HoldSpec = None,
    ) -> dict[str, Any] | None:
        """Start a run on the selected thread (a new one if none); None if none was started.

        Defaults come from the widgets. `hold`: True (before its first step),
        "before:<node>" or "after:<node>" arms a hold for this run (nbruns
        only); None takes the hold control's setting, False holds nothing. A
        409 (strategy "reject" on a busy thread), an empty message or an input
        that cannot be built is said in `status`; other errors are raised.
        """
        await self.ready()
        text = self.message.value if text is None else text
        strategy = strategy or self.strategy.value
        sleep = self.sleep.value if sleep is None else sleep
        if hold is None:
            hold = self.hold_at.value if self.hold.value else False
        boundary = parse_hold(hold)
        try:
            payload = self.builder.build(text, sleep=sleep)
        except InputProblem as exc:
            self.say(str(exc))
            return None
        async with self._thread_lock:
            thread_id = self.thread_picker.value or await self.new_thread()
        hold_id = await self._arm(thread_id, boundary) if boundary else None
        if boundary and hold_id is None:
            return None  # the hold could not be armed: status says why, nothing sent
        try:
            run = await self.client.runs.create(
                thread_id,
                self.graph,
                input=payload,
                multitask_strategy=strategy,  # type: ignore[arg-type]
                stream_mode=_STREAM_MODES,  # type: ignore[arg-type]
                stream_resumable=True,  # the live answer replays what streamed before it joined
            )
        except httpx.HTTPStatusError as exc:
            if hold_id is not None:
                await self._disarm(hold_id)
            if exc.response.status_code != 409:
                raise
            busy = await fetch_runs(self.client, [thread_id])
            self.say(rejected_words(text, http_detail(exc), busy))
            self._kick()
            return None
        self.runs.append(dict(run))
        runs = await self._after_create(thread_id, run["run_id"])
        words = sent_words(text, strategy, run, runs, hold=self.holds.get(hold_id or ""))
        self.say(words)
        self._follow(dict(run))
        if hold_id is not None:
            self._spawn(self._say_held(hold_id, words), name=f"{_FOLLOWER}held")
        self._kick()
        return dict(run)

    async def apply_options(self, policy: Mapping[str, object] | None = None) -> bool:
        """Set the selected thread's multitask policy (a new thread if none) from the
        options area; `policy` ({"quiet_s": 0.5, ...}) fills the fields first. Returns
        whether the server took it; the status line says what was set, or its 422 detail.
        """
        if policy is not None:
            for key, field in self.options.fields.items():
                field.value = "" if policy.get(key) is None else str(policy[key])
            self.options.overflow.value = str(policy.get("overflow") or "")
        async with self._thread_lock:
            thread_id = self.thread_picker.value or await self.new_thread()
        name = self.thread_names.get(thread_id, f"thread {short(thread_id)}")
        words = await self.options.apply(self.client, thread_id, name)
        self.say(words)
        return not words.startswith("options not applied")

    async def clear(self) -> None:
        """Forget this playground's threads in the view (they stay on the server)."""
        self.threads = []
        self.thread_picker.options = []
        self.thread_picker.value = None
        self.answer = None
        self.live_html.value = self.inspect_html.value = ""
        self.say("cleared: the threads are still on the server; Send starts a new one")
        self._kick()

    def say(self, words: str) -> None:
        """Put words on the status line (plain text, shown as such)."""
        self.status.value = html.escape(words, quote=False)

    async def wait_idle(self) -> None:
        """Wait for scheduled clicks and for every run this playground started; render.

        A run held by a hold never ends by itself: `await pg.release()` first.
        """
        while True:
            me = asyncio.current_task()
            busy = [
                t
                for t in self._tasks
                if t is not self._live and t is not me and not t.get_name().startswith(_FOLLOWER)
            ]
            if busy:
                await asyncio.wait(busy)
                continue
            thread_ids = list(dict.fromkeys(r["thread_id"] for r in self.runs))
            runs = await fetch_runs(self.client, thread_ids) if thread_ids else []
            mine = {r["run_id"] for r in self.runs}
            going = [r for r in runs if r["run_id"] in mine and r.get("status") in _INFLIGHT]
            if not going:
                break
            if held := [r for r in going if r.get("held")]:
                names = ", ".join(f"run {short(r['run_id'])}" for r in held)
                raise RuntimeError(f"{names} held: await pg.release() to let it go on")
            try:  # bounded, so a run that becomes held meanwhile is noticed above
                await asyncio.wait_for(
                    self.client.runs.join(going[0]["thread_id"], going[0]["run_id"]), _JOIN_SLICE
                )
            except TimeoutError:
                continue
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:  # 404: rolled back, so gone
                    raise
        followers = [t for t in self._tasks if t.get_name() == f"{_FOLLOWER}stream"]
        if followers:  # the runs have ended, so their streams end too
            await asyncio.wait(followers)
        if self._live is not None and not self._live.done():
            await asyncio.wait([self._live])
        await self.refresh()

    # -- plumbing -----------------------------------------------------------

    async def _after_create(self, thread_id: str, run_id: str) -> list[dict[str, Any]]:
        """The thread's runs once the runs the new one superseded have ended (bounded wait).

        Their status is final when `runs.create` returns; `ended_at` follows as
        soon as their task has stopped, before the new run's first step.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ENDED_WAIT
        while True:
            runs = await fetch_runs(self.client, [thread_id])
            stopping = [
                r for r in runs if r.get("superseded_by") == run_id and not r.get("ended_at")
            ]
            if not stopping or loop.time() > deadline:
                return runs
            await asyncio.sleep(_POLL)

    def _follow(self, run: dict[str, Any]) -> None:
        answer = self.answer = LiveAnswer(run["run_id"])

        def show() -> None:
            if self.answer is answer:
                self.live_html.value = answer.html()

        show()
        self._spawn(answer.follow(self.client, run["thread_id"], show), name=f"{_FOLLOWER}stream")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # the short repr, not the VBox's trait dump
            bundle["text/plain"] = repr(self)
            bundle["text/html"] = self.static_html()
        return bundle

    def __repr__(self) -> str:
        return f"<nbruns Playground graph={self.graph!r}>"
