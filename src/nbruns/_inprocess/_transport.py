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

One request's cycle on the server loop is an ``Exchange`` (``_exchange.py``); on a
virtual-time loop (``_clock.py``) the transports start a ``CountedExchange``, counted
while its task runs since time may skip only while someone waits on the server; on a
real loop they start the plain one and count nothing.
"""

from __future__ import annotations

import asyncio
import functools
import queue
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from nbruns._inprocess._loops import LoopHost

from ._exchange import (
    BODY,
    ERROR,
    RETURNED,
    START,
    ASGIApp,
    Batch,
    CountedExchange,
    Exchange,
    Scope,
)

__all__ = ["AsyncBridgeTransport", "SyncBridgeTransport"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

_SYNC_ON_SERVER_LOOP = (
    "the synchronous client cannot be used on the thread running the nbruns server's "
    "loop (inside a graph node, or anywhere on a loop='current' server's own loop): "
    "waiting there would deadlock the server; use the async client there, or a "
    "server with loop='thread' (the default)"
)


def _response_start(batch: Batch, request: httpx.Request) -> tuple[int, list[Any]]:
    """Status and headers from the first batch, or raise what the app did instead."""
    message = batch[0]
    kind = message[0]
    if kind == START:
        return message[1], message[2]
    if kind == ERROR:
        raise message[1]
    if kind == RETURNED:
        raise RuntimeError("the ASGI app returned without sending 'http.response.start'")
    raise httpx.ReadError(
        "the request was cancelled on the nbruns server loop (is it shutting down?)",
        request=request,
    )


def _stream_error(message: tuple[Any, ...], request: httpx.Request) -> httpx.ReadError:
    kind = message[0]
    if kind == ERROR:
        exc = message[1]
        error = httpx.ReadError(
            f"the ASGI app raised {type(exc).__name__} while sending the response body",
            request=request,
        )
        error.__cause__ = exc
        return error
    if kind == RETURNED:
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
        self._new_exchange: Callable[..., Exchange] = (
            Exchange if clock is None else functools.partial(CountedExchange, clock=clock)
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
        responses: asyncio.Queue[Batch] = asyncio.Queue()
        server_loop = loop_thread.loop
        caller_loop = asyncio.get_running_loop()
        # Already on the server loop (e.g. a graph node): no thread hop at all.
        local = caller_loop is server_loop
        emit: Callable[[Batch], object] = (
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
        responses: asyncio.Queue[Batch],
        pending: Batch,
        exchange: Exchange,
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
                    if message[0] != BODY:
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
        responses: queue.SimpleQueue[Batch] = queue.SimpleQueue()
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
        responses: queue.SimpleQueue[Batch],
        pending: Batch,
        exchange: Exchange,
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
                    if message[0] != BODY:
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
