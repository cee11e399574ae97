"""What the virtual clock relies on from asyncio's private parts, checked so that a
Python upgrade that changes them fails here, loudly, rather than as time that never
skips (or skips too early) in somebody's test.

- `BaseEventLoop._ready`: the deque of callbacks due now (`VirtualTimeLoop.has_ready`).
- `_run_once` asks its selector for `select(timeout)` with the time to the next timer,
  `None` when there is no timer, and `0` when callbacks are ready.
"""

from __future__ import annotations

import asyncio
import collections
import selectors
from typing import Any

from nbruns._inprocess._clock import VirtualTimeLoop


def test_a_selector_loop_keeps_its_due_callbacks_in_ready() -> None:
    loop = asyncio.SelectorEventLoop()
    try:
        ready = getattr(loop, "_ready", None)
        assert isinstance(ready, collections.deque), "asyncio renamed BaseEventLoop._ready"
        loop.call_soon(print)
        assert len(ready) == 1
    finally:
        loop.close()
    virtual = VirtualTimeLoop()
    try:
        assert virtual.has_ready() is False
        virtual.call_soon(print)
        assert virtual.has_ready() is True
    finally:
        virtual.close()


class _Recording(selectors.SelectSelector):
    def __init__(self) -> None:
        super().__init__()
        self.timeouts: list[float | None] = []

    def select(self, timeout: float | None = None) -> Any:
        self.timeouts.append(timeout)
        return super().select(0 if timeout is None else min(timeout, 0.001))


def test_run_once_passes_the_time_to_the_next_timer_to_select() -> None:
    selector = _Recording()
    loop = asyncio.SelectorEventLoop(selector)
    try:
        fired: list[str] = []
        loop.call_later(30.0, fired.append, "timer")
        loop.call_soon(loop.stop)
        loop.run_forever()  # one pass: a ready callback, so select(0)
        assert selector.timeouts[-1] == 0
        loop.call_soon(loop.stop)
        loop.run_forever()
        selector.timeouts.clear()
        handle = loop.call_later(0.0005, loop.stop)
        loop.run_forever()  # waits for the next timer: the nearest one, well under 30 s
        assert handle.cancelled() is False
        waited = [t for t in selector.timeouts if t]
        assert waited and all(0 < t < 30 for t in waited), selector.timeouts
        assert fired == []
    finally:
        loop.close()
