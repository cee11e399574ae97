"""Per-run event fan-out: one publisher (the run's task), any number of SSE readers.

A merged run (steer, collect, debounce) never publishes: from its merge on, its stream
*follows* its carrier's (`RunStream.add_follower`). The carrier's stream hands each
event it publishes on to its followers' readers, in the stream modes each follower
asked for (the carrier's graph is driven with those modes too, see `modes`); the
follower's own thread feeds are not told again (they see the carrier's events). The
executor closes a follower's stream when its carrier ends, so a client streaming its
message reads the answer that includes it, to the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Any, Protocol

from . import _serde

__all__ = ["RunStream", "StreamTap"]

# events every reader gets, whatever stream modes it asked for
_EVERY_READER = frozenset(("metadata", "error"))


class StreamTap(Protocol):
    """Sees a run's events as they are published, without reading (a thread's stream)."""

    def on_event(self, run_id: str, event: str, data: bytes) -> None: ...

    def on_close(self, run_id: str) -> None: ...


class RunStream:
    """Events of one run. Readers see what is published after they subscribe;
    a resumable run keeps every event so a reader can replay after an event id."""

    __slots__ = (
        "_changed",
        "_closed",
        "_events",
        "_followers",
        "_readers",
        "own_modes",
        "resumable",
        "run_id",
        "taps",
    )

    def __init__(
        self, run_id: str, *, resumable: bool = False, modes: Collection[str] = ()
    ) -> None:
        self.run_id = run_id
        self.resumable = resumable
        self.own_modes = frozenset(modes)  # the stream modes the run was created with
        # (event id, mode, event name, data bytes); ids are 1-based positions
        self._events: list[tuple[int, str, str, bytes]] = []
        self._readers = 0
        self._closed = False
        self._changed = asyncio.Event()
        self.taps: list[StreamTap] = []
        self._followers: list[RunStream] = []  # the streams of runs merged into this one

    @property
    def wanted(self) -> bool:
        """Whether anyone could read an event published now (else skip encoding it)."""
        return (
            self.resumable
            or self._readers > 0
            or bool(self.taps)
            or any(f.resumable or f._readers for f in self._followers)
        )

    def modes(self, own: Collection[str]) -> list[str]:
        """The modes to publish: the run's own (`own`), then those its followers asked
        for that it did not (only they get those)."""
        extra = {m for f in self._followers for m in f.own_modes if m not in own}
        return [*own, *sorted(extra)]

    def add_follower(self, follower: RunStream) -> None:
        """`follower`'s run was merged into this run: from now on its readers get this
        run's events (first its own `metadata` event: its run goes on, inside this one)."""
        if follower is not self and follower not in self._followers:
            self._followers.append(follower)
            follower.started()

    def publish(self, mode: str, event: str, data: Any) -> None:
        if self._closed or not self.wanted:
            return
        encoded = _serde.dumps(data)
        # with followers, a mode only they asked for is theirs alone
        if not self._followers or mode in self.own_modes or mode in _EVERY_READER:
            for tap in self.taps:
                tap.on_event(self.run_id, event, encoded)
            if self.resumable or self._readers:
                self._events.append((len(self._events) + 1, mode, event, encoded))
                self._wake()
        for follower in self._followers:
            follower._forwarded(mode, event, encoded)

    def _forwarded(self, mode: str, event: str, encoded: bytes) -> None:
        """An event of the carrier this stream follows (its thread feeds saw it there)."""
        if self._closed or not (self.resumable or self._readers):
            return
        if mode in self.own_modes or mode in _EVERY_READER:
            self._events.append((len(self._events) + 1, mode, event, encoded))
            self._wake()

    def started(self) -> None:
        """The run started: its readers get the `metadata` event (as on LangGraph's
        server, a run stopped while pending sends none). Thread feeds are told apart."""
        if not self._closed and (self.resumable or self._readers):
            data = _serde.dumps({"run_id": self.run_id, "attempt": 1})
            self._events.append((len(self._events) + 1, "metadata", "metadata", data))
            self._wake()

    def close(self, error: Any = None) -> None:
        """End the stream; with `error`, its readers get it as their last event."""
        if error is not None and not self._closed and (self.resumable or self._readers):
            self._events.append((len(self._events) + 1, "error", "error", _serde.dumps(error)))
            self._wake()
        if not self._closed:
            self._closed = True
            self._wake()
            for tap in self.taps:
                tap.on_close(self.run_id)

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def reader(
        self, modes: Collection[str] | None, *, after: int | None = None
    ) -> AsyncIterator[tuple[int, str, bytes]]:
        """Register a reader now (so nothing published later is missed) and return it."""
        start = len(self._events) if after is None or not self.resumable else max(after, 0)
        self._readers += 1
        return self._read(modes, start)

    async def _read(
        self, modes: Collection[str] | None, position: int
    ) -> AsyncIterator[tuple[int, str, bytes]]:
        try:
            while True:
                changed = self._changed
                while position < len(self._events):
                    event_id, mode, event, data = self._events[position]
                    position += 1
                    if modes is None or mode in modes or mode in _EVERY_READER:
                        yield event_id, event, data
                if self._closed:
                    return
                await changed.wait()
        finally:
            self._readers -= 1
            if not self._readers and not self.resumable:
                # nobody can ask for these again
                self._events.clear()
