"""Per-run event fan-out: one publisher (the run's task), any number of SSE readers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Any

from . import _serde

__all__ = ["RunStream"]


class RunStream:
    """Events of one run. Readers see what is published after they subscribe;
    a resumable run keeps every event so a reader can replay after an event id."""

    __slots__ = ("_changed", "_closed", "_events", "_readers", "resumable", "run_id")

    def __init__(self, run_id: str, *, resumable: bool = False) -> None:
        self.run_id = run_id
        self.resumable = resumable
        # (event id, mode, event name, data bytes); ids are 1-based positions
        self._events: list[tuple[int, str, str, bytes]] = []
        self._readers = 0
        self._closed = False
        self._changed = asyncio.Event()

    @property
    def wanted(self) -> bool:
        """Whether anyone could read an event published now (else skip encoding it)."""
        return self.resumable or self._readers > 0

    def publish(self, mode: str, event: str, data: Any) -> None:
        if self._closed or not self.wanted:
            return
        self._events.append((len(self._events) + 1, mode, event, _serde.dumps(data)))
        self._wake()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._wake()

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
                    # an error reaches every reader, whatever modes it asked for
                    if modes is None or mode in modes or mode == "error":
                        yield event_id, event, data
                if self._closed:
                    return
                await changed.wait()
        finally:
            self._readers -= 1
            if not self._readers and not self.resumable:
                # nobody can ask for these again
                self._events.clear()
