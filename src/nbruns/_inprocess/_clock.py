"""Virtual time for the in-process server: a loop whose clock jumps over idle waits.

`Server(clock="virtual")` runs its engine on a `VirtualTimeLoop`. Its `time()` is the
real monotonic time plus an offset. When the loop has nothing to do but wait for its
next timer (a graph's `asyncio.sleep`, an `after_seconds` delay, a debounce window, a
pending TTL, a run timeout, a cron), it adds the wait to the offset instead of
sleeping, so the timer fires at once, and timers still fire in the order they would in
real time. It skips only when all of these hold, else it waits for real:

- a client request is being served on the server loop (a join, a wait, a stream, a
  hold's wait...): time moves while someone waits on the server, never between two
  calls, so what a test does next happens at the same virtual moment as in real time;
- no job the loop handed to a thread is outstanding (`run_in_executor`: LangGraph's
  sync nodes, `asyncio.to_thread`): a blocking node is waited for in real time;
- no file descriptor but the loop's own wake-up pipe is registered: a node doing real
  network I/O on the loop is waited for too.

`VirtualClock` counts the seconds skipped and why skips were refused, so tests can wait
on it instead of sleeping. `call_later_wall` is a timer in wall seconds, for waits whose
timeout a user gave (`_engine/_waits.py`).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import selectors
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

__all__ = [
    "CLOCK_CHOICES",
    "REFUSALS",
    "ClockChoice",
    "VirtualClock",
    "VirtualTimeLoop",
    "WallTimer",
    "check_clock_choice",
    "engine_clock",
]

_T = TypeVar("_T")

ClockChoice = Literal["real", "virtual"]
CLOCK_CHOICES = ("real", "virtual")

REFUSALS = ("executor", "io", "no_waiter")
"""Why the loop waited for real: a thread job outstanding, a file descriptor of a node's
I/O registered, no client request being served."""


class VirtualClock:
    """What a virtual-time loop has done, and what it waits on (read from any thread).

    `skipped_s` is the total of the waits skipped, `skips` how many there were,
    `refused[reason]` how often the loop waited for real instead (reasons in `REFUSALS`).
    `waiters` and `jobs` are touched only on the loop's thread.
    """

    def __init__(self) -> None:
        self.offset = 0.0
        self.skipped_s = 0.0
        self.skips = 0
        self.refused: collections.Counter[str] = collections.Counter()
        self.waiters = 0  # client requests being served on the loop
        self.jobs = 0  # run_in_executor jobs not yet done

    def refusal(self, registered: Mapping[Any, Any]) -> str | None:
        """Why the loop may not skip now (None: it may)."""
        if self.jobs:
            return "executor"
        if len(registered) > 1:  # the self-pipe is always there
            return "io"
        if not self.waiters:
            return "no_waiter"
        return None

    def __repr__(self) -> str:
        refused = ", ".join(f"{k}={v}" for k, v in sorted(self.refused.items()))
        return (
            f"<VirtualClock skipped {self.skipped_s:.3f} s in {self.skips} skips; "
            f"refused: {refused or 'none'}>"
        )


class _SkippingSelector(selectors.BaseSelector):
    """The loop's selector, which returns at once (time moved on) instead of blocking
    when nothing is ready and the clock may skip."""

    def __init__(self, clock: VirtualClock) -> None:
        self._selector = selectors.DefaultSelector()
        self._clock = clock
        self.loop: VirtualTimeLoop | None = None  # set once the loop exists

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._selector.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._selector.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._selector.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._selector.get_map()

    def close(self) -> None:
        self._selector.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        # asyncio passes None (no timer: wait for an event) or the time to the next timer
        if timeout is None or timeout <= 0 or self.loop is None:
            return self._selector.select(timeout)
        ready = self._selector.select(0)
        if ready or self.loop.has_ready():  # something came in meanwhile: handle it
            return ready
        clock = self._clock
        reason = clock.refusal(self._selector.get_map())
        if reason is not None:
            clock.refused[reason] += 1
            return self._selector.select(timeout)
        clock.offset += timeout
        clock.skipped_s += timeout
        clock.skips += 1
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """An event loop whose time skips its idle waits (see the module docstring)."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.virtual_clock = clock or VirtualClock()
        selector = _SkippingSelector(self.virtual_clock)
        super().__init__(selector)
        selector.loop = self

    def time(self) -> float:
        return time.monotonic() + self.virtual_clock.offset

    def has_ready(self) -> bool:
        """Whether callbacks are queued to run (a thread-safe call may have just come)."""
        return bool(self._ready)  # type: ignore[attr-defined]

    def run_in_executor(  # type: ignore[override]  # same call, typeshed's generics aside
        self, executor: concurrent.futures.Executor | None, func: Callable[..., _T], *args: Any
    ) -> asyncio.Future[_T]:
        future = super().run_in_executor(executor, func, *args)
        self.virtual_clock.jobs += 1
        future.add_done_callback(self._job_done)
        return future

    def _job_done(self, _future: asyncio.Future[Any]) -> None:
        self.virtual_clock.jobs -= 1

    def call_later_wall(
        self, delay: float, callback: Callable[..., object], *args: Any
    ) -> WallTimer:
        """`call_later` in wall seconds: for a wait whose timeout a user gave, which must
        not expire at once because virtual time jumped."""
        return WallTimer(self, delay, callback, args)


class WallTimer:
    """Calls `callback(*args)` on `loop` after `delay` wall seconds, unless cancelled.
    Cancel it once it is not needed: until then it keeps a thread."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
    ) -> None:
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._timer = threading.Timer(delay, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the loop closed meanwhile: nobody waits any more
            pass

    def _run(self) -> None:
        if not self._cancelled:
            self._callback(*self._args)

    def cancel(self) -> None:
        self._cancelled = True
        self._timer.cancel()

    def cancelled(self) -> bool:
        return self._cancelled


def engine_clock(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """The engine's clock (Unix seconds) on a virtual-time loop: now, moving as the
    loop's time moves, so record timestamps and every delay the engine computes from
    them agree with the loop's timers."""
    epoch = time.time()
    start = loop.time()

    def now() -> float:
        return epoch + (loop.time() - start)

    return now


def check_clock_choice(clock: str, *, loop: str = "thread", path: object = None) -> None:
    """A ValueError naming the option when `clock=` is unknown or cannot go with the
    server's other options."""
    if clock not in CLOCK_CHOICES:
        raise ValueError(f"clock={clock!r}: expected one of {', '.join(map(repr, CLOCK_CHOICES))}")
    if clock != "virtual":
        return
    if loop == "current":
        raise ValueError(
            'clock="virtual" needs loop="thread": virtual time comes from the server\'s '
            'own event loop, and loop="current" runs it on the caller\'s loop, which '
            "nbruns does not own"
        )
    if path is not None:
        raise ValueError(
            'clock="virtual" cannot go with path=: the SQLite store works in a thread of '
            "its own the virtual clock cannot see, so time could jump while it writes; "
            "use an in-memory server for virtual time"
        )
