"""Server-side waits whose timeout a user gave: in wall seconds, whatever the loop's clock.

Under virtual time (`Server(clock="virtual")`) the loop's clock jumps over idle waits,
so a `wait_for(..., timeout=5)` would expire at once while a node sleeps 600 virtual
seconds. A loop that keeps virtual time offers `call_later_wall`; elsewhere this is
`asyncio.wait_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["wait_for_wall"]

_T = TypeVar("_T")


async def wait_for_wall(awaitable: Awaitable[_T], timeout: float) -> _T:  # noqa: ASYNC109
    """`asyncio.wait_for(awaitable, timeout)` with `timeout` in wall seconds: its result,
    or TimeoutError (the awaitable cancelled) once `timeout` real seconds have passed."""
    loop = asyncio.get_running_loop()
    call_later_wall = getattr(loop, "call_later_wall", None)
    if call_later_wall is None:
        return await asyncio.wait_for(awaitable, timeout)
    task = asyncio.ensure_future(awaitable)
    expired: asyncio.Future[None] = loop.create_future()
    timer: Any = call_later_wall(timeout, _settle, expired)
    try:
        either: set[asyncio.Future[Any]] = {task, expired}
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():  # the timeout came first and cancelled it
        raise TimeoutError
    return task.result()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
