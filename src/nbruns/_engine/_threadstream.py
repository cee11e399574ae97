"""A thread's stream (`GET /threads/{thread_id}/stream`): the events of every run on it.

Like LangGraph's server, a feed follows the runs that are active when it opens (from
now on) and every run created on the thread afterwards: each run's own stream modes,
a `metadata` event `{run_id, attempt}` when it starts and `{status: "run_done",
run_id}` when it ends. It never ends by itself; the reader leaves.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Protocol

from . import _serde
from ._runstream import RunStream, StreamTap

__all__ = ["RunFollower", "ThreadFeed", "ThreadFeeds"]

# (event id, event name, data); ids look like the reference's ("<ms>-<seq>")
Frame = tuple[str, str, bytes]


class _Ids:
    """Increasing ids of the reference's form: milliseconds, then a sequence within them."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._seq = itertools.count()

    def next(self) -> str:
        ms = max(int(time.time() * 1000), self._last_ms)
        if ms != self._last_ms:
            self._last_ms, self._seq = ms, itertools.count()
        return f"{ms}-{next(self._seq)}"


_IDS = _Ids()


class ThreadFeed:
    """One reader's view of a thread's runs (a `StreamTap` on each of their streams)."""

    __slots__ = ("_changed", "_frames", "_leave", "thread_id")

    def __init__(self, thread_id: str, leave: Callable[[ThreadFeed], None]) -> None:
        self.thread_id = thread_id
        self._frames: collections.deque[Frame] = collections.deque()
        self._changed = asyncio.Event()
        self._leave = leave

    def _put(self, event: str, data: bytes) -> None:
        self._frames.append((_IDS.next(), event, data))
        self._changed.set()

    def on_start(self, run_id: str) -> None:
        self._put("metadata", _serde.dumps({"run_id": run_id, "attempt": 1}))

    def on_event(self, run_id: str, event: str, data: bytes) -> None:
        self._put(event, data)

    def on_close(self, run_id: str) -> None:
        self._put("metadata", _serde.dumps({"status": "run_done", "run_id": run_id}))

    def on_state_update(self, data: bytes) -> None:
        self._put("state_update", data)

    async def frames(self) -> AsyncIterator[Frame]:
        """Every frame from now on, until the reader stops iterating."""
        try:
            while True:
                while self._frames:
                    yield self._frames.popleft()
                self._changed.clear()
                await self._changed.wait()
        finally:
            self._leave(self)


class RunFollower(StreamTap, Protocol):
    """Follows a thread's runs: told when each starts, tapped on each one's stream."""

    def on_start(self, run_id: str) -> None: ...


class ThreadFeeds:
    """The open feeds of each thread; the executor tells it of runs created and started."""

    def __init__(self, streams: Mapping[str, RunStream]) -> None:
        self._streams = streams  # run id -> its live stream (the executor's)
        self._feeds: dict[str, set[RunFollower]] = {}

    def open(self, thread_id: str, active_run_ids: list[str]) -> ThreadFeed:
        """A feed of the thread's runs: `active_run_ids` from now on, then every new run."""
        feed = ThreadFeed(thread_id, self._close)
        self.follow(thread_id, feed, active_run_ids)
        return feed

    def follow(self, thread_id: str, follower: RunFollower, active_run_ids: list[str]) -> None:
        """Tap `active_run_ids` from now on, then every run created on the thread."""
        self._feeds.setdefault(thread_id, set()).add(follower)
        for run_id in active_run_ids:
            stream = self._streams.get(run_id)
            if stream is not None:
                stream.taps.append(follower)

    def unfollow(self, thread_id: str, follower: RunFollower) -> None:
        feeds = self._feeds.get(thread_id)
        if feeds is not None:
            feeds.discard(follower)
            if not feeds:
                del self._feeds[thread_id]
        for stream in self._streams.values():
            if follower in stream.taps:
                stream.taps.remove(follower)

    def run_created(self, thread_id: str, stream: RunStream) -> None:
        stream.taps.extend(self._feeds.get(thread_id, ()))

    def run_started(self, thread_id: str, run_id: str) -> None:
        for feed in self._feeds.get(thread_id, ()):
            feed.on_start(run_id)

    def watched(self, thread_id: str) -> bool:
        """Whether any thread stream reads this thread (a state update is sent to it)."""
        return any(isinstance(f, ThreadFeed) for f in self._feeds.get(thread_id, ()))

    def state_updated(self, thread_id: str, data: bytes) -> None:
        """`threads.update_state` changed the thread: its streams get a `state_update`."""
        for follower in self._feeds.get(thread_id, ()):
            if isinstance(follower, ThreadFeed):
                follower.on_state_update(data)

    def _close(self, feed: ThreadFeed) -> None:
        self.unfollow(feed.thread_id, feed)
