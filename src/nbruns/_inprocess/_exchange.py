"""One request/response cycle of the in-process bridge, on the nbruns server loop.

An :class:`Exchange` runs the ASGI app for one request as a task on the server loop, in
a fresh, empty ``contextvars.Context`` (as on a real server, the caller's context
variables must not leak into the server's handling of the request), and hands the
response messages to the caller in batches as soon as the app sends them. Closing the
response early makes the app's ``receive()`` return ``http.disconnect`` and its
``send()`` raise an ``OSError``; an app that ignores both is cancelled after the grace
period, so nothing leaks.

:class:`CountedExchange` is the same on a virtual-time loop (``_clock.py``): the request
is counted while its task runs, since time may skip only while someone waits on the
server. The transports that start exchanges are in ``_transport.py``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = [
    "BODY",
    "CANCELLED",
    "ERROR",
    "RETURNED",
    "START",
    "ASGIApp",
    "Batch",
    "CountedExchange",
    "Exchange",
    "Scope",
]

# the bridge's one logger, under the name it has always had
logger = logging.getLogger("nbruns._inprocess._transport")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Messages from the server loop to the caller are tuples whose first item is
# one of these kinds:
START = 0  # (START, status, headers)
BODY = 1  # (BODY, chunk, more_body)
ERROR = 2  # (ERROR, exception raised by the app)
RETURNED = 3  # (RETURNED,)  app returned before completing the response
CANCELLED = 4  # (CANCELLED,)  app task cancelled (server loop shutting down)

Batch = list[tuple[Any, ...]]  # the messages one step of the app task sent


class _ClientDisconnected(OSError):
    """Raised by the app's ``send()`` once the caller has closed the response."""


def _is_disconnect(exc: BaseException) -> bool:
    if isinstance(exc, _ClientDisconnected):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_disconnect(e) for e in exc.exceptions)
    return False


class Exchange:
    """One request/response cycle on the server loop.

    Everything here runs on the server loop except :meth:`abort`, which the
    caller may invoke from any thread. ``emit`` hands a batch of message
    tuples to the caller; it is called on the server loop and raises
    ``RuntimeError`` when the caller's event loop is closed.
    """

    __slots__ = (
        "_app",
        "_body",
        "_emit",
        "_ended",
        "_grace",
        "_head",
        "_local",
        "_loop",
        "_outbox",
        "_request_sent",
        "_scope",
        "_task",
        "_timer",
        "complete",
        "gone",
        "started",
    )

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        body: bytes,
        emit: Callable[[Batch], object],
        loop: asyncio.AbstractEventLoop,
        grace: float | None,
        *,
        local: bool,
    ) -> None:
        self._app = app
        self._scope = scope
        self._body = body
        self._emit = emit
        self._loop = loop
        self._grace = grace
        self._local = local  # the caller runs on the server loop itself
        self._outbox: Batch = []
        self._head = scope["method"] == "HEAD"
        self._request_sent = False
        self._ended: asyncio.Event | None = None  # wakes receive() waiting for disconnect
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.started = False
        self.complete = False
        self.gone = False

    # -- caller side ----------------------------------------------------------

    def abort(self) -> None:
        """The caller is gone (closed the response early, or was cancelled)."""
        if self._local:
            self._disconnect()
            return
        try:
            self._loop.call_soon_threadsafe(self._disconnect)
        except RuntimeError:  # server loop closed: the task is gone already
            pass

    # -- server loop side -----------------------------------------------------

    def start(self) -> None:
        self._task = self._loop.create_task(self._serve(), context=contextvars.Context())

    def _deliver(self, message: tuple[Any, ...]) -> None:
        # Messages sent during one step of the app task travel to the caller
        # together, flushed as soon as the task yields (or ends): every
        # cross-thread hand-off costs a wake-up and a GIL hand-over, and a
        # stream replaying many buffered events should not pay that per chunk.
        outbox = self._outbox
        outbox.append(message)
        if len(outbox) == 1:
            self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        if not self._outbox:
            return
        batch, self._outbox = self._outbox, []
        try:
            self._emit(batch)
        except RuntimeError:  # the caller's event loop is closed: nobody will read this
            self._disconnect()

    def _disconnect(self) -> None:
        if self.gone:
            return
        self.gone = True
        if self._ended is not None:
            self._ended.set()
        task = self._task
        if task is not None and not task.done() and self._grace is not None:
            self._timer = self._loop.call_later(self._grace, self._cancel)

    def _cancel(self) -> None:
        task = self._task
        if task is not None and not task.done():
            logger.debug("cancelling ASGI task that ignored the disconnect: %r", task)
            task.cancel()

    async def _serve(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except asyncio.CancelledError:
            if not (self.gone or self.complete):
                self._deliver((CANCELLED,))
            raise
        except Exception as exc:
            if self.gone:
                if _is_disconnect(exc):
                    logger.debug("ASGI app stopped after the client disconnected")
                else:
                    logger.error(
                        "Exception in ASGI application after the client disconnected",
                        exc_info=exc,
                    )
            elif self.complete:
                logger.error(
                    "Exception in ASGI application after its response was complete",
                    exc_info=exc,
                )
            else:
                self._deliver((ERROR, exc))
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: tell the caller
            if not (self.gone or self.complete):
                self._deliver((ERROR, exc))
            raise
        else:
            if not (self.gone or self.complete):
                self._deliver((RETURNED,))
        finally:
            self._flush()
            if self._timer is not None:
                self._timer.cancel()
            self._task = None

    async def _receive(self) -> Message:
        if self.gone:
            return {"type": "http.disconnect"}
        if not self._request_sent:
            self._request_sent = True
            return {"type": "http.request", "body": self._body, "more_body": False}
        if not self.complete:
            if self._ended is None:
                self._ended = asyncio.Event()
            await self._ended.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self.gone:
            raise _ClientDisconnected("the client closed the response")
        kind = message["type"]
        if kind == "http.response.body":
            if not self.started:
                raise RuntimeError(
                    "ASGI app sent 'http.response.body' before 'http.response.start'"
                )
            if self.complete:
                raise RuntimeError("ASGI app sent 'http.response.body' after the response ended")
            body = message.get("body", b"")
            more_body = message.get("more_body", False)
            if not more_body:
                self.complete = True
                if self._ended is not None:
                    self._ended.set()
            if self._head:
                body = b""
            if body or not more_body:
                self._deliver((BODY, bytes(body), more_body))
        elif kind == "http.response.start":
            if self.started:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.started = True
            self._deliver((START, message["status"], list(message.get("headers", ()))))
        elif kind == "http.response.trailers":
            pass  # not advertised; tolerate and drop
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r}")


class CountedExchange(Exchange):
    """An exchange a virtual clock (`_clock.py`) counts as a waiter while its app runs on
    the server loop: time skips only while some request is being served there. Counted
    on the server loop, never in transit, so time cannot jump before a request arrives."""

    __slots__ = ("_clock", "_counted")

    def __init__(self, *args: Any, clock: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clock = clock
        self._counted = False

    async def _serve(self) -> None:
        self._counted = True
        self._clock.waiters += 1
        try:
            await super()._serve()
        finally:
            self._uncount()

    def _disconnect(self) -> None:
        super()._disconnect()
        self._uncount()  # the caller is gone: nobody waits on this any more

    def _uncount(self) -> None:
        if self._counted:
            self._counted = False
            self._clock.waiters -= 1
