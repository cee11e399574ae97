"""A timeout on the wall clock, whatever clock the event loop keeps.

`asyncio.timeout` reads the loop's clock; a loop with a virtual clock would end
the wait at once when nothing else is ready. `wall_timeout` runs a real timer in a
thread that cancels the waiting task, and turns that cancellation into
`TimeoutError`, as `asyncio.timeout` does.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

__all__ = ["wall_timeout"]


class wall_timeout:  # lower case: used like asyncio.timeout
    """`async with wall_timeout(seconds):` raises `TimeoutError` once `seconds` of real
    time have passed inside the block."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expired = False
        self._exited = False
        self._task: asyncio.Task[object] | None = None
        self._timer: threading.Timer | None = None

    async def __aenter__(self) -> wall_timeout:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("wall_timeout must be used inside a task")
        self._task = task
        loop = asyncio.get_running_loop()
        self._timer = threading.Timer(
            max(0.0, self._seconds), loop.call_soon_threadsafe, (self._expire,)
        )
        self._timer.daemon = True
        self._timer.start()
        return self

    def _expire(self) -> None:  # on the loop's thread
        if not self._exited and self._task is not None:
            self._expired = True
            self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._exited = True
        if self._timer is not None:
            self._timer.cancel()
        if self._expired and self._task is not None:
            # undo our own cancel; one from elsewhere still stands
            if self._task.uncancel() == 0 and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc
