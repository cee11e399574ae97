"""A private asyncio event loop running in a daemon thread: the "server loop".

Why a thread of its own: nbruns is called from places whose event loop it does
not control and cannot rely on. A Jupyter cell awaits on the kernel's loop; a
script may call ``asyncio.run`` several times in a row (a new loop each time);
a synchronous call made inside a running notebook cell blocks the caller's
loop while it waits; and graph nodes run on the server itself. If the server
shared any caller's loop, the blocked-caller case would deadlock and the
``asyncio.run`` case would strand server tasks on a dead loop. Giving the
server its own long-lived loop in a dedicated thread makes every caller a
plain client, whatever loop (if any) it runs on.

``CallerLoop`` offers the same scheduling methods for the other placement,
``Server(loop="current")``: the server on the caller's own running loop,
which nbruns neither runs nor closes.

``LoopThread`` only owns the loop and the thread. It does not own the tasks
started on it: whoever starts long-lived tasks (the run executor) must cancel
and await them before calling :meth:`LoopThread.close`. ``close`` still cancels
and drains any leftovers so the loop is never closed with pending tasks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["CallerLoop", "LoopHost", "LoopThread"]

_T = TypeVar("_T")

logger = logging.getLogger(__name__)


class LoopHost:
    """Scheduling onto the loop that hosts an nbruns server, from any thread."""

    _loop: asyncio.AbstractEventLoop
    _closed: bool

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The server event loop (only touch it from its thread, or thread-safely)."""
        return self._loop

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def is_current(self) -> bool:
        """True when called from the thread running the loop."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop scheduling onto the loop (and stop it, if it is nbruns's own)."""
        raise NotImplementedError

    # -- scheduling -----------------------------------------------------------

    def submit(self, coro: Coroutine[Any, Any, _T]) -> concurrent.futures.Future[_T]:
        """Schedule ``coro`` on the server loop; return a concurrent future.

        Cancelling the returned future cancels the task on the server loop.
        """
        if self._closed:
            coro.close()
            raise RuntimeError(f"{self!r} is closed; cannot schedule {coro!r}")
        try:
            return asyncio.run_coroutine_threadsafe(coro, self._loop)
        except RuntimeError:  # the loop was closed under our feet
            coro.close()
            raise RuntimeError(f"{self!r} is closed; cannot schedule {coro!r}") from None

    def run(self, coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
        """Run ``coro`` on the server loop and block the calling thread for its result.

        Works from any thread, including one whose own event loop is running
        (that loop simply stays blocked meanwhile). On timeout, or if the wait
        is interrupted (``KeyboardInterrupt``), the task is cancelled.
        Raises ``RuntimeError`` when called from the server loop's thread,
        where blocking would deadlock.
        """
        if self.is_current():
            coro.close()
            raise RuntimeError(
                f"{type(self).__name__}.run() was called from the nbruns server loop's own "
                "thread; blocking here would deadlock the server. Await the coroutine "
                "directly (or use 'await loop_thread.run_async(coro)') instead."
            )
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Call ``fn(*args)`` on the loop's thread and return its result: directly when
        already there, else blocking the calling thread like :meth:`run`."""
        if self.is_current():
            return fn(*args)

        async def call_there() -> _T:
            return fn(*args)

        return self.run(call_there())

    async def run_async(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Await ``coro`` running on the server loop, from any event loop.

        On the server loop itself the coroutine is simply awaited. From another
        loop, cancelling the awaiting task cancels the server-side task too.
        """
        if asyncio.get_running_loop() is self._loop:
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def call_soon(self, fn: Callable[..., object], *args: Any) -> asyncio.Handle:
        """``loop.call_soon``, thread-safe from other threads."""
        if self._closed:
            raise RuntimeError(f"{self!r} is closed")
        if self.is_current():
            return self._loop.call_soon(fn, *args)
        try:
            return self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            raise RuntimeError(f"{self!r} is closed") from None


class CallerLoop(LoopHost):
    """The running event loop that created a ``Server(loop="current")``, hosting it.

    nbruns does not own this loop: it neither runs nor stops nor closes it.
    The server lives as long as the loop does (a notebook kernel's loop lives as
    long as the kernel; ``asyncio.run``'s loop ends when its coroutine returns).
    """

    def __init__(self) -> None:
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError(
                'loop="current" runs the nbruns server on the event loop that is running '
                "here, and none is: call it from a coroutine (a notebook cell, or code "
                'under asyncio.run), or use loop="thread" (the default)'
            ) from None
        self._thread_id = threading.get_ident()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called or the loop was closed."""
        return self._closed or self._loop.is_closed()

    def is_current(self) -> bool:
        return threading.get_ident() == self._thread_id

    def close(self) -> None:
        """Stop scheduling onto the loop; the loop itself belongs to its caller."""
        self._closed = True

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<{type(self).__name__} {state}>"


class LoopThread(LoopHost):
    """An event loop running ``run_forever`` in a daemon thread.

    The constructor returns once the loop is running. All methods are
    thread-safe unless noted otherwise.
    """

    def __init__(
        self,
        name: str = "nbruns-server",
        new_loop: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop,
    ) -> None:
        self._name = name
        self._loop = new_loop()  # a VirtualTimeLoop for Server(clock="virtual")
        self._closed = False
        self._close_lock = threading.Lock()
        # Monotonic deadline for draining leftover tasks; set by close().
        self._deadline: float | None = None
        started = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(started,), name=name, daemon=True)
        self._thread.start()
        started.wait()

    @property
    def thread(self) -> threading.Thread:
        """The daemon thread running the loop."""
        return self._thread

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the thread is gone)."""
        return self._closed or not self._thread.is_alive()

    def is_current(self) -> bool:
        return threading.get_ident() == self._thread.ident

    # -- shutdown -------------------------------------------------------------

    def close(self, timeout: float | None = 5) -> None:
        """Stop the loop, join the thread and close the loop. Idempotent.

        Tasks still pending on the loop are cancelled and awaited (bounded by
        ``timeout``) before the loop is closed; their owners should have done
        that already. Called from the loop's own thread, this only stops the
        loop: the thread finishes the cleanup once the current callback returns.
        """
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if timeout is not None:
            self._deadline = time.monotonic() + timeout
        try:
            self._loop.call_soon_threadsafe(self._loop.stop)
        except RuntimeError:  # already closed
            return
        if self.is_current():
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning("%r did not stop within %s seconds", self, timeout)

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<{type(self).__name__} {self._name} {state}>"

    # -- thread body ----------------------------------------------------------

    def _main(self, started: threading.Event) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        loop.call_soon(started.set)
        try:
            loop.run_forever()
        finally:
            try:
                self._drain_leftovers()
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            except Exception:
                logger.exception("error while shutting down %r", self)
            finally:
                asyncio.set_event_loop(None)
                loop.close()

    def _remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def _drain_leftovers(self) -> None:
        """Cancel tasks still pending after the loop stopped and run them to completion."""
        loop = self._loop
        while pending := asyncio.all_tasks(loop):
            logger.debug("%r: cancelling %d leftover task(s): %r", self, len(pending), pending)
            for task in pending:
                task.cancel()
            done, not_done = loop.run_until_complete(
                asyncio.wait(pending, timeout=self._remaining())
            )
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    logger.debug(
                        "%r: leftover task %r failed", self, task, exc_info=task.exception()
                    )
            if not_done:
                logger.warning(
                    "%r: %d task(s) did not finish after cancellation; closing anyway",
                    self,
                    len(not_done),
                )
                return
