"""httpx transports that call the nbruns ASGI app on the server loop and stream back.

Why not ``httpx.ASGITransport``: it runs the app on the *caller's* loop and
buffers the whole response before returning it, so server-sent events arrive
all at once at the end and endless streams hang. It also cannot serve a
synchronous ``httpx.Client`` at all.

The bridge runs every request as one task on the nbruns server loop (a
:class:`~nbruns._inprocess._loops.LoopThread`) and hands the ASGI response messages
back to the caller as soon as the app sends them:

* to an async caller through an ``asyncio.Queue`` living on the caller's loop,
  fed with ``loop.call_soon_threadsafe`` (or directly when the caller already
  runs on the server loop, e.g. a graph node using the client);
* to a sync caller through a ``queue.SimpleQueue`` it blocks on, which works
  even when the calling thread's own event loop is running and blocked in
  this call (a sync call inside a notebook cell).

The response is returned at ``http.response.start``; body chunks follow as
they are sent. Closing the response early makes the app's ``receive()``
return ``http.disconnect`` and its ``send()`` raise an ``OSError``; an app that
ignores both is cancelled after ``disconnect_grace`` seconds, so nothing leaks.

Each request's task runs in a fresh, empty ``contextvars.Context``, as on a
real server: the caller's context variables (LangChain/LangGraph run config,
tracing) must not leak into the server's handling of the request.

On a virtual-time loop (``_clock.py``) each request is counted while its task runs
on the server loop, since time may skip only while someone waits on the server; on
a real loop the transport builds the plain exchange and counts nothing.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import queue
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import httpx

from nbruns._inprocess._loops import LoopHost

__all__ = ["AsyncBridgeTransport", "SyncBridgeTransport"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Messages from the server loop to the caller are tuples whose first item is
# one of these kinds:
_START = 0  # (_START, status, headers)
_BODY = 1  # (_BODY, chunk, more_body)
_ERROR = 2  # (_ERROR, exception raised by the app)
_RETURNED = 3  # (_RETURNED,)  app returned before completing the response
_CANCELLED = 4  # (_CANCELLED,)  app task cancelled (server loop shutting down)

_Batch = list[tuple[Any, ...]]  # the messages one step of the app task sent

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_SYNC_ON_SERVER_LOOP = (
    "the synchronous client cannot be used on the thread running the nbruns server's "
    "loop (inside a graph node, or anywhere on a loop='current' server's own loop): "
    "waiting there would deadlock the server; use the async client there, or a "
    "server with loop='thread' (the default)"
)


class _ClientDisconnected(OSError):
    """Raised by the app's ``send()`` once the caller has closed the response."""


def _is_disconnect(exc: BaseException) -> bool:
    if isinstance(exc, _ClientDisconnected):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_disconnect(e) for e in exc.exceptions)
    return False


class _Exchange:
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
        emit: Callable[[_Batch], object],
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
        self._outbox: _Batch = []
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
                self._deliver((_CANCELLED,))
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
                self._deliver((_ERROR, exc))
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: tell the caller
            if not (self.gone or self.complete):
                self._deliver((_ERROR, exc))
            raise
        else:
            if not (self.gone or self.complete):
                self._deliver((_RETURNED,))
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
                self._deliver((_BODY, bytes(body), more_body))
        elif kind == "http.response.start":
            if self.started:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.started = True
            self._deliver((_START, message["status"], list(message.get("headers", ()))))
        elif kind == "http.response.trailers":
            pass  # not advertised; tolerate and drop
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r}")


class _CountedExchange(_Exchange):
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


def _response_start(batch: _Batch, request: httpx.Request) -> tuple[int, list[Any]]:
    """Status and headers from the first batch, or raise what the app did instead."""
    message = batch[0]
    kind = message[0]
    if kind == _START:
        return message[1], message[2]
    if kind == _ERROR:
        raise message[1]
    if kind == _RETURNED:
        raise RuntimeError("the ASGI app returned without sending 'http.response.start'")
    raise httpx.ReadError(
        "the request was cancelled on the nbruns server loop (is it shutting down?)",
        request=request,
    )


def _stream_error(message: tuple[Any, ...], request: httpx.Request) -> httpx.ReadError:
    kind = message[0]
    if kind == _ERROR:
        exc = message[1]
        error = httpx.ReadError(
            f"the ASGI app raised {type(exc).__name__} while sending the response body",
            request=request,
        )
        error.__cause__ = exc
        return error
    if kind == _RETURNED:
        return httpx.ReadError(
            "the ASGI app returned without completing the response body", request=request
        )
    return httpx.ReadError(
        "the response was cancelled on the nbruns server loop (is it shutting down?)",
        request=request,
    )


class _BridgeTransportBase:
    def __init__(
        self,
        app: ASGIApp,
        loop_thread: LoopHost,
        *,
        client: tuple[str, int] = ("127.0.0.1", 0),
        root_path: str = "",
        disconnect_grace: float | None = 1.0,
    ) -> None:
        self.app = app
        self.loop_thread = loop_thread
        # a virtual-time loop counts the requests it serves; a real one pays nothing
        clock = getattr(loop_thread.loop, "virtual_clock", None)
        self._new_exchange: Callable[..., _Exchange] = (
            _Exchange if clock is None else functools.partial(_CountedExchange, clock=clock)
        )
        self.client = client
        self.root_path = root_path
        self.disconnect_grace = disconnect_grace

    def _scope(self, request: httpx.Request) -> Scope:
        url = request.url
        scheme = url.scheme
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": self.root_path,
            "headers": [(key.lower(), value) for key, value in request.headers.raw],
            "server": (url.host, url.port or _DEFAULT_PORTS.get(scheme, 80)),
            "client": self.client,
        }

    def _closed_error(self) -> RuntimeError:
        return RuntimeError(f"the nbruns server loop is closed ({self.loop_thread!r})")


class AsyncBridgeTransport(_BridgeTransportBase, httpx.AsyncBaseTransport):
    """``httpx.AsyncClient`` transport running ``app`` on ``loop_thread``'s loop.

    Usable from any event loop (a new one per request is fine, e.g. successive
    ``asyncio.run`` calls) and from the server loop itself. ``disconnect_grace``
    is how long an app may keep running after the caller closed the response
    before its task is cancelled (``None``: never cancel).
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        loop_thread = self.loop_thread
        if loop_thread.closed:
            raise self._closed_error()
        body = await request.aread()
        responses: asyncio.Queue[_Batch] = asyncio.Queue()
        server_loop = loop_thread.loop
        caller_loop = asyncio.get_running_loop()
        # Already on the server loop (e.g. a graph node): no thread hop at all.
        local = caller_loop is server_loop
        emit: Callable[[_Batch], object] = (
            responses.put_nowait
            if local
            # deliver on the caller's loop; typeshed cannot see through this partial
            else functools.partial(caller_loop.call_soon_threadsafe, responses.put_nowait)  # type: ignore[arg-type]
        )
        exchange = self._new_exchange(
            self.app,
            self._scope(request),
            body,
            emit,
            server_loop,
            self.disconnect_grace,
            local=local,
        )
        if local:
            exchange.start()
        else:
            try:
                server_loop.call_soon_threadsafe(exchange.start)
            except RuntimeError:
                raise self._closed_error() from None
        try:
            batch = await responses.get()
        except BaseException:  # cancelled (timeout, interrupted cell) before the response
            exchange.abort()
            raise
        status, headers = _response_start(batch, request)
        stream = _AsyncBridgeStream(responses, batch[1:], exchange, request)
        return httpx.Response(status, headers=headers, stream=stream)


class _AsyncBridgeStream(httpx.AsyncByteStream):
    def __init__(
        self,
        responses: asyncio.Queue[_Batch],
        pending: _Batch,
        exchange: _Exchange,
        request: httpx.Request,
    ) -> None:
        self._responses = responses
        self._pending = pending  # the rest of the batch that carried the response start
        self._exchange = exchange
        self._request = request
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._finished:
            return
        batch, self._pending = self._pending, []
        get = self._responses.get
        try:
            while True:
                for message in batch:
                    if message[0] != _BODY:
                        self._finished = True
                        raise _stream_error(message, self._request)
                    if not message[2]:
                        self._finished = True
                    if message[1]:
                        yield message[1]
                    if self._finished:
                        return
                batch = await get()
        finally:
            # Iteration abandoned (cancelled, or the iterator closed/finalized):
            # nobody can read the rest of this response.
            self._abandon()

    async def aclose(self) -> None:
        self._abandon()

    def _abandon(self) -> None:
        if not self._finished:
            self._finished = True
            self._exchange.abort()


class SyncBridgeTransport(_BridgeTransportBase, httpx.BaseTransport):
    """``httpx.Client`` transport running ``app`` on ``loop_thread``'s loop.

    Blocks only the calling thread; the server runs on its own loop, so this
    also works in a thread whose event loop is running and blocked in this
    call (a synchronous call inside a notebook cell). Raises ``RuntimeError``
    on the server loop's own thread, where waiting would deadlock.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        loop_thread = self.loop_thread
        if loop_thread.is_current():
            raise RuntimeError(_SYNC_ON_SERVER_LOOP)
        if loop_thread.closed:
            raise self._closed_error()
        body = request.read()
        responses: queue.SimpleQueue[_Batch] = queue.SimpleQueue()
        exchange = self._new_exchange(
            self.app,
            self._scope(request),
            body,
            responses.put,
            loop_thread.loop,
            self.disconnect_grace,
            local=False,
        )
        try:
            loop_thread.loop.call_soon_threadsafe(exchange.start)
        except RuntimeError:
            raise self._closed_error() from None
        try:
            batch = responses.get()
        except BaseException:  # e.g. KeyboardInterrupt while waiting
            exchange.abort()
            raise
        status, headers = _response_start(batch, request)
        stream = _SyncBridgeStream(responses, batch[1:], exchange, request)
        return httpx.Response(status, headers=headers, stream=stream)


class _SyncBridgeStream(httpx.SyncByteStream):
    def __init__(
        self,
        responses: queue.SimpleQueue[_Batch],
        pending: _Batch,
        exchange: _Exchange,
        request: httpx.Request,
    ) -> None:
        self._responses = responses
        self._pending = pending  # the rest of the batch that carried the response start
        self._exchange = exchange
        self._request = request
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        if self._finished:
            return
        batch, self._pending = self._pending, []
        get = self._responses.get
        try:
            while True:
                for message in batch:
                    if message[0] != _BODY:
                        self._finished = True
                        raise _stream_error(message, self._request)
                    if not message[2]:
                        self._finished = True
                    if message[1]:
                        yield message[1]
                    if self._finished:
                        return
                batch = get()
        finally:
            # Iteration abandoned (interrupted, or the iterator closed/finalized):
            # nobody can read the rest of this response.
            self.close()

    def close(self) -> None:
        if not self._finished:
            self._finished = True
            self._exchange.abort()
