"""LangGraph's thread protocol (the SDK's `threads.stream`): a thread's runs as protocol events.

A `ProtocolLog` follows every run on its thread from the moment it is opened and keeps
the events it turns them into, numbered by `seq` from 1, so a reader that connects late
(or reconnects with `since`) replays them, as on the reference server. What it sends,
observed on the reference (0.16.7): `lifecycle` (`running` when a run starts; `completed`,
`failed` or `interrupted` when it ends; each with `graph_name`), `values` (the root
graph's state after each step), `messages` (a streamed chat model reply as content-block
events), and `input.requested` (an `interrupt()`, with `interrupt_id` and `payload`).
"""

from __future__ import annotations

import asyncio
import itertools
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._core._records import RunRecord
from . import _serde
from ._threadstream import ThreadFeeds

__all__ = ["CHANNELS", "PROTOCOL_STREAM_MODES", "ProtocolLog", "ProtocolLogs", "logs_of"]

CHANNELS = frozenset(
    {
        "values",
        "updates",
        "checkpoints",
        "messages",
        "tools",
        "custom",
        "lifecycle",
        "input",
        "tasks",
    }
)
"""The channels a reader may ask for (and `custom:<name>`)."""

PROTOCOL_STREAM_MODES = ("values", "messages-tuple")
"""What a run started by `run.start` streams: all the log turns into events."""

MAX_EVENTS = 10_000  # the reference's replay buffer is as long; older events are dropped

_LAST_PHASE = {
    "success": "completed",
    "error": "failed",
    "timeout": "failed",
    "interrupted": "interrupted",
}


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class _RunView:
    """What the log remembers of one run while turning its events into protocol events."""

    graph_name: str
    paused: bool = False  # an interrupt() was seen
    ended: bool = False  # a terminal lifecycle event was sent
    message_id: str | None = None  # the chat message being streamed, if any
    text: list[str] = field(default_factory=list)


class ProtocolLog:
    """Every protocol event of one thread since it was opened, in `seq` order."""

    def __init__(self, thread_id: str, run_of: Callable[[str], RunRecord | None]) -> None:
        self.thread_id = thread_id
        self._run_of = run_of
        self._events: list[dict[str, Any]] = []
        self._dropped = 0  # events dropped from the front (over MAX_EVENTS)
        self._runs: dict[str, _RunView] = {}
        self._ids = itertools.count()
        self._changed = asyncio.Event()
        self.pending_interrupts: dict[str, list[str]] = {}  # interrupt id -> namespace

    @property
    def last_seq(self) -> int:
        return self._dropped + len(self._events)

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        return self._events[max(seq - self._dropped, 0) :]

    async def changed(self, seq: int, idle_seconds: float) -> None:
        """Return when an event after `seq` exists, or after `idle_seconds` without one."""
        while self.last_seq <= seq:
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), idle_seconds)
            except TimeoutError:
                return

    # -- what the executor tells a follower --------------------------------------------

    def on_start(self, run_id: str) -> None:
        run = self._run_of(run_id)
        view = self._runs[run_id] = _RunView(run.graph_id if run is not None else "")
        self.pending_interrupts.clear()  # a new run consumes what the last one asked
        self._lifecycle(run_id, view, "running")

    def on_event(self, run_id: str, event: str, data: bytes) -> None:
        view = self._runs.get(run_id)
        if view is None:
            return
        if event == "values":
            self._values(run_id, view, _serde.loads(data))
        elif event == "messages":
            message, _metadata = _serde.loads(data)
            self._message(view, message)
        elif event == "error":
            body = _serde.loads(data)
            self._finish_message(view)
            message = body.get("message") if isinstance(body, dict) else None
            self._lifecycle(run_id, view, "failed", error=str(message or body))

    def on_close(self, run_id: str) -> None:
        view = self._runs.pop(run_id, None)
        if view is None or view.ended:
            return
        self._finish_message(view)
        run = self._run_of(run_id)
        phase = _LAST_PHASE.get(run.phase, "interrupted") if run is not None else "interrupted"
        if phase == "completed" and view.paused:
            phase = "interrupted"
        error = None
        if phase == "failed" and run is not None and run.error:
            error = str(run.error.get("message", run.error))
        self._lifecycle(run_id, view, phase, error=error)

    # -- turning events into protocol events -------------------------------------------

    def _values(self, run_id: str, view: _RunView, chunk: Any) -> None:
        self._finish_message(view)
        if isinstance(chunk, dict) and "__interrupt__" in chunk:
            view.paused = True
            for item in chunk["__interrupt__"] or ():
                iid = str(item.get("id")) if isinstance(item, dict) else ""
                if iid in self.pending_interrupts:
                    continue
                self.pending_interrupts[iid] = []
                payload = {"interrupt_id": iid, "payload": item.get("value")}
                self._append("input.requested", payload, f"synth:{run_id}:input||{iid}")
            return
        self._append("values", chunk)

    def _message(self, view: _RunView, message: Any) -> None:
        if not isinstance(message, dict) or not str(message.get("type", "")).endswith("Chunk"):
            return  # only a model's streamed reply is sent, as on the reference
        msg_id = str(message.get("id") or "")
        if view.message_id != msg_id:
            self._finish_message(view)
            view.message_id, view.text = msg_id, []
            self._append("messages", {"event": "message-start", "role": "ai", "id": msg_id})
            start = {"type": "text", "text": ""}
            self._append("messages", {"event": "content-block-start", "index": 0, "content": start})
        text = _text_of(message.get("content"))
        if text:
            view.text.append(text)
            delta = {"type": "text-delta", "text": text}
            self._append("messages", {"event": "content-block-delta", "index": 0, "delta": delta})
        if message.get("chunk_position") == "last":
            self._finish_message(view)

    def _finish_message(self, view: _RunView) -> None:
        if view.message_id is None:
            return
        content = {"type": "text", "text": "".join(view.text)}
        self._append("messages", {"event": "content-block-finish", "index": 0, "content": content})
        self._append("messages", {"event": "message-finish"})
        view.message_id, view.text = None, []

    def _lifecycle(
        self, run_id: str, view: _RunView, phase: str, *, error: str | None = None
    ) -> None:
        data: dict[str, Any] = {"event": phase, "graph_name": view.graph_name}
        if error is not None:
            data["error"] = error
        view.ended = phase != "running"
        self._append("lifecycle", data, f"synth:{run_id}:lc||{phase}")

    def _append(self, method: str, data: Any, event_id: str | None = None) -> None:
        now = _now_ms()
        self._events.append(
            {
                "type": "event",
                "event_id": event_id or f"{now}-{next(self._ids)}",
                "seq": self.last_seq + 1,
                "method": method,
                "params": {"namespace": [], "timestamp": now, "data": data},
            }
        )
        if len(self._events) > MAX_EVENTS:
            del self._events[0]
            self._dropped += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text", ""))
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


class ProtocolLogs:
    """The protocol log of each thread that has one (opened on first use, kept after)."""

    def __init__(
        self,
        feeds: ThreadFeeds,
        run_of: Callable[[str], RunRecord | None],
        thread_exists: Callable[[str], bool],
    ) -> None:
        self._feeds = feeds
        self._run_of = run_of
        self._thread_exists = thread_exists
        self._logs: dict[str, ProtocolLog] = {}

    def get(self, thread_id: str) -> ProtocolLog | None:
        log = self._logs.get(thread_id)
        if log is not None and not self._thread_exists(thread_id):
            # the thread was deleted: a thread made again with its id starts afresh
            self._feeds.unfollow(thread_id, log)
            del self._logs[thread_id]
            return None
        return log

    def open(self, thread_id: str, active: list[RunRecord]) -> ProtocolLog:
        """The thread's log, following its `active` runs (and every later one) if new."""
        log = self.get(thread_id)
        if log is None:
            log = self._logs[thread_id] = ProtocolLog(thread_id, self._run_of)
            self._feeds.follow(thread_id, log, [r.run_id for r in active])
            for run in active:
                if run.phase in ("running", "stopping"):
                    log.on_start(run.run_id)  # it started before the log existed
        return log


_LOGS: weakref.WeakKeyDictionary[ThreadFeeds, ProtocolLogs] = weakref.WeakKeyDictionary()


def logs_of(
    feeds: ThreadFeeds,
    run_of: Callable[[str], RunRecord | None],
    thread_exists: Callable[[str], bool],
) -> ProtocolLogs:
    """The protocol logs of one server (one per executor's thread feeds)."""
    logs = _LOGS.get(feeds)
    if logs is None:
        logs = _LOGS[feeds] = ProtocolLogs(feeds, run_of, thread_exists)
    return logs
