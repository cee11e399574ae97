"""Tests for the server loop thread and the httpx <-> ASGI bridge transports.

Ordering is never established with sleeps: the test app is gated with an
``asyncio.Event`` that is only waited on (and set) on the server loop, and it
reports progress through ``threading.Event``s the tests wait on (with a
generous upper bound that only matters when something is broken).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import logging
import threading
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from nbruns._inprocess._clients import InProcessAsyncClient, InProcessClient
from nbruns._inprocess._loops import LoopThread
from nbruns._inprocess._transport import AsyncBridgeTransport, SyncBridgeTransport

BASE = "http://nbruns.test"
WAIT = 10.0  # upper bound when waiting for a state; never used to establish ordering

EVENT_ONE = b"event: one\ndata: 1\n\n"
EVENT_TWO = b"event: two\ndata: 2\n\n"

caller_var: contextvars.ContextVar[str] = contextvars.ContextVar("caller_var", default="unset")


class Boom(Exception):
    pass


class AppState:
    """Per-test knobs and probes shared by the test app and the test."""

    def __init__(self) -> None:
        # Waited on and set on the server loop only (set it with loop_thread.call_soon).
        self.gate = asyncio.Event()
        self.sse_started = threading.Event()
        self.sse_finally = threading.Event()
        self.entered = threading.Event()
        self.finished = threading.Event()
        self.messages: list[Any] = []


def make_app(state: AppState) -> Any:
    async def json_route(request: Request) -> Response:
        return JSONResponse({"hello": "world", "query": dict(request.query_params)})

    async def echo(request: Request) -> Response:
        body = await request.body()
        media_type = request.headers.get("content-type", "application/octet-stream")
        return Response(body, media_type=media_type)

    async def scope_route(request: Request) -> Response:
        scope = request.scope
        return JSONResponse(
            {
                "type": scope["type"],
                "asgi": scope["asgi"],
                "http_version": scope["http_version"],
                "method": scope["method"],
                "scheme": scope["scheme"],
                "path": scope["path"],
                "raw_path": scope["raw_path"].decode(),
                "query_string": scope["query_string"].decode(),
                "root_path": scope["root_path"],
                "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
                "server": list(scope["server"]),
                "client": list(scope["client"]),
            }
        )

    async def sse(request: Request) -> Response:
        async def events() -> Any:
            try:
                state.sse_started.set()
                yield EVENT_ONE
                await state.gate.wait()
                yield EVENT_TWO
            finally:
                state.sse_finally.set()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def burst(request: Request) -> Response:
        async def chunks() -> Any:  # never yields to the loop: one batch on the wire
            for i in range(int(request.query_params["n"])):
                yield b"%d\n" % i

        return StreamingResponse(chunks(), media_type="text/plain")

    async def boom(request: Request) -> Response:
        raise Boom("kaboom")

    async def ctx(request: Request) -> Response:
        return JSONResponse({"caller_var": caller_var.get()})

    starlette_app = Starlette(
        routes=[
            Route("/json", json_route),
            Route("/echo", echo, methods=["POST"]),
            Route("/scope/{rest:path}", scope_route, methods=["GET", "POST"]),
            Route("/sse", sse),
            Route("/burst", burst),
            Route("/boom", boom),
            Route("/ctx", ctx),
        ]
    )

    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain")],
    }
    chunk = {"type": "http.response.body", "body": b"chunk", "more_body": True}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        """Raw ASGI routes under /raw/, everything else goes to Starlette."""
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/raw/"):
            await starlette_app(scope, receive, send)
            return
        if path == "/raw/boom":
            raise Boom("before start")
        if path == "/raw/no-response":
            return
        if path == "/raw/boom-after-start":
            await send(start)
            await send(chunk)
            raise Boom("after start")
        if path == "/raw/listen":
            state.messages.append(await receive())
            await send(start)
            await send(chunk)
            state.messages.append(await receive())  # blocks until the client leaves
            try:
                await send(chunk)
            except OSError as exc:
                state.messages.append(type(exc).__mro__)
            state.finished.set()
            return
        if path == "/raw/stubborn":
            await send(start)
            await send(chunk)
            try:
                await state.gate.wait()  # ignores the disconnect entirely
            finally:
                state.finished.set()
            return
        if path == "/raw/slow-start":
            state.messages.append(await receive())
            state.entered.set()
            state.messages.append(await receive())  # blocks until the client leaves
            state.finished.set()
            return
        raise AssertionError(f"unknown raw route {path}")

    return app


# -- fixtures and helpers -----------------------------------------------------


@pytest.fixture
def loop_thread() -> Any:
    lt = LoopThread(name="nbruns-test-server")
    yield lt
    lt.close()
    assert not lt.thread.is_alive()


@pytest.fixture
def state() -> AppState:
    return AppState()


@pytest.fixture
def app(state: AppState) -> Any:
    return make_app(state)


# Every client test runs with httpx's own clients and with nbruns's in-process ones
# (which skip httpx's cookie, auth and redirect handling): they must behave alike.
CLIENT_KINDS = ["httpx", "in-process"]


@pytest.fixture(params=CLIENT_KINDS)
async def aclient(request: Any, app: Any, loop_thread: LoopThread) -> Any:
    transport = AsyncBridgeTransport(app, loop_thread)
    kind = httpx.AsyncClient if request.param == "httpx" else InProcessAsyncClient
    async with kind(transport=transport, base_url=BASE) as client:
        yield client


@pytest.fixture(params=CLIENT_KINDS)
def client(request: Any, app: Any, loop_thread: LoopThread) -> Any:
    kind = httpx.Client if request.param == "httpx" else InProcessClient
    with kind(transport=SyncBridgeTransport(app, loop_thread), base_url=BASE) as c:
        yield c


def pending_server_tasks(lt: LoopThread) -> list[asyncio.Task[Any]]:
    """Wait (bounded) for all tasks on the server loop to finish; return stragglers."""

    async def probe() -> list[asyncio.Task[Any]]:
        me = asyncio.current_task()
        others = [t for t in asyncio.all_tasks() if t is not me]
        if others:
            await asyncio.wait(others, timeout=WAIT)
        return [t for t in asyncio.all_tasks() if t is not me and not t.done()]

    return lt.run(probe())


async def wait_for(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, WAIT), "timed out waiting for a state"


# -- LoopThread ---------------------------------------------------------------


def test_loop_thread_basics() -> None:
    lt = LoopThread()
    try:
        assert repr(lt) == "<LoopThread nbruns-server running>"
        assert lt.thread.daemon and lt.thread.name == "nbruns-server"
        assert lt.loop.is_running()
        assert not lt.is_current()
        assert not lt.closed

        async def where() -> bool:
            return lt.is_current()

        assert lt.run(where()) is True
        assert lt.submit(where()).result(WAIT) is True

        done = threading.Event()
        lt.call_soon(done.set)
        assert done.wait(WAIT)
    finally:
        lt.close()
    assert lt.closed
    assert not lt.thread.is_alive()
    assert lt.loop.is_closed()
    assert repr(lt) == "<LoopThread nbruns-server closed>"
    lt.close()  # idempotent
    lt.close(timeout=0)

    async def never() -> None:  # pragma: no cover - must not run
        raise AssertionError

    with pytest.raises(RuntimeError, match="closed"):
        lt.submit(never())  # the coroutine is closed: no "never awaited" warning
    with pytest.raises(RuntimeError, match="closed"):
        lt.run(never())
    with pytest.raises(RuntimeError, match="closed"):
        lt.call_soon(print)


def test_loop_thread_run_from_own_thread_raises(loop_thread: LoopThread) -> None:
    async def inner() -> int:
        return 1

    async def outer() -> int:
        with pytest.raises(RuntimeError, match="deadlock"):
            loop_thread.run(inner())
        return await loop_thread.run_async(inner())  # fine on the loop itself

    assert loop_thread.run(outer()) == 1


async def test_loop_thread_run_async_from_other_loop(loop_thread: LoopThread) -> None:
    async def where() -> tuple[bool, asyncio.AbstractEventLoop]:
        return loop_thread.is_current(), asyncio.get_running_loop()

    assert await loop_thread.run_async(where()) == (True, loop_thread.loop)


async def test_loop_thread_run_async_cancellation_propagates(loop_thread: LoopThread) -> None:
    started, cancelled = threading.Event(), threading.Event()
    gate = asyncio.Event()  # never set

    async def forever() -> None:
        started.set()
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.create_task(loop_thread.run_async(forever()))
    await wait_for(started)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(cancelled)
    assert pending_server_tasks(loop_thread) == []


def test_loop_thread_run_timeout_cancels_task(loop_thread: LoopThread) -> None:
    cancelled = threading.Event()
    gate = asyncio.Event()  # never set

    async def forever() -> None:
        try:
            await gate.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        loop_thread.run(forever(), timeout=0.01)
    assert cancelled.wait(WAIT)


def test_loop_thread_close_cancels_leftovers() -> None:
    lt = LoopThread()
    started, cleaned_up = threading.Event(), threading.Event()
    gate = asyncio.Event()  # never set

    async def leftover() -> None:
        started.set()
        try:
            await gate.wait()
        finally:
            cleaned_up.set()

    lt.submit(leftover())
    assert started.wait(WAIT)
    lt.close()
    assert cleaned_up.is_set()
    assert not lt.thread.is_alive()
    assert lt.loop.is_closed()


def test_loop_thread_close_from_own_thread() -> None:
    lt = LoopThread()

    async def closer() -> None:
        lt.close()

    lt.run(closer())
    lt.thread.join(WAIT)
    assert not lt.thread.is_alive()
    assert lt.closed and lt.loop.is_closed()
    lt.close()


# -- round trips --------------------------------------------------------------


async def test_json_round_trip_async(aclient: httpx.AsyncClient) -> None:
    response = await aclient.get("/json", params={"x": "1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"hello": "world", "query": {"x": "1"}}


def test_json_round_trip_sync(client: httpx.Client) -> None:
    response = client.get("/json", params={"x": "1"})
    assert response.status_code == 200
    assert response.json() == {"hello": "world", "query": {"x": "1"}}


async def test_post_echo_async(aclient: httpx.AsyncClient) -> None:
    payload = bytes(range(256)) * 1024
    response = await aclient.post(
        "/echo", content=payload, headers={"content-type": "application/x-test"}
    )
    assert response.content == payload
    assert response.headers["content-type"] == "application/x-test"

    async def chunks() -> Any:  # a streaming request body is read on the caller side
        yield b"hello "
        yield b"world"

    assert (await aclient.post("/echo", content=chunks())).content == b"hello world"
    assert (await aclient.post("/echo", json={"a": [1, 2]})).json() == {"a": [1, 2]}


def test_post_echo_sync(client: httpx.Client) -> None:
    payload = b"x" * 100_000
    assert client.post("/echo", content=payload).content == payload
    assert client.post("/echo", json={"a": 1}).json() == {"a": 1}


async def test_scope(app: Any, loop_thread: LoopThread) -> None:
    async with httpx.AsyncClient(
        transport=AsyncBridgeTransport(app, loop_thread), base_url=BASE
    ) as c:
        response = await c.get("/scope/a%20b", params={"q": "1/2"}, headers={"X-Custom": "V"})
    scope = response.json()
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["path"] == "/scope/a b"
    assert scope["raw_path"] == "/scope/a%20b"
    assert scope["query_string"] == "q=1%2F2"
    assert scope["root_path"] == ""
    assert ["x-custom", "V"] in scope["headers"]
    assert ["host", "nbruns.test"] in scope["headers"]
    assert all(k == k.lower() for k, _ in scope["headers"])
    assert scope["server"] == ["nbruns.test", 80]
    assert scope["client"] == ["127.0.0.1", 0]

    transport = SyncBridgeTransport(app, loop_thread, client=("10.1.2.3", 4567), root_path="/api")
    with httpx.Client(transport=transport, base_url="https://example.org:8443") as c:
        scope = c.post("/api/scope/x").json()
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/api/scope/x"
    assert scope["root_path"] == "/api"
    assert scope["server"] == ["example.org", 8443]
    assert scope["client"] == ["10.1.2.3", 4567]


async def test_head_request_has_no_body(aclient: httpx.AsyncClient) -> None:
    response = await aclient.head("/json")
    assert response.status_code == 200
    assert response.content == b""


async def test_caller_context_does_not_leak_into_app_async(aclient: httpx.AsyncClient) -> None:
    token = caller_var.set("caller")
    try:
        assert (await aclient.get("/ctx")).json() == {"caller_var": "unset"}
    finally:
        caller_var.reset(token)


def test_caller_context_does_not_leak_into_app_sync(client: httpx.Client) -> None:
    token = caller_var.set("caller")
    try:
        assert client.get("/ctx").json() == {"caller_var": "unset"}
    finally:
        caller_var.reset(token)


# -- streaming ----------------------------------------------------------------


async def test_sse_streams_incrementally_async(
    aclient: httpx.AsyncClient, state: AppState, loop_thread: LoopThread
) -> None:
    async with aclient.stream("GET", "/sse") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async with contextlib.aclosing(response.aiter_raw()) as chunks:
            first = await anext(chunks)
            # Event 1 arrived while the app is still parked on the gate.
            assert first == EVENT_ONE
            assert state.sse_started.is_set()
            assert not state.gate.is_set()
            assert not state.sse_finally.is_set()
            loop_thread.call_soon(state.gate.set)
            assert await anext(chunks) == EVENT_TWO
            assert [c async for c in chunks] == []
    assert state.sse_finally.is_set()
    assert pending_server_tasks(loop_thread) == []


def test_sse_streams_incrementally_sync(
    client: httpx.Client, state: AppState, loop_thread: LoopThread
) -> None:
    with client.stream("GET", "/sse") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = response.iter_raw()
        assert next(chunks) == EVENT_ONE
        assert not state.gate.is_set()
        loop_thread.call_soon(state.gate.set)
        assert next(chunks) == EVENT_TWO
        assert list(chunks) == []
    assert state.sse_finally.is_set()


async def test_sdk_sse_parsing_is_incremental(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    transport = AsyncBridgeTransport(app, loop_thread)
    sdk = LangGraphClient(httpx.AsyncClient(transport=transport, base_url=BASE))
    try:
        parts = []
        async for part in sdk.http.stream("/sse", "GET"):
            parts.append((part.event, part.data))
            if part.event == "one":
                assert not state.gate.is_set()
                loop_thread.call_soon(state.gate.set)
        assert parts == [("one", 1), ("two", 2)]
    finally:
        await sdk.http.client.aclose()


def test_sync_sdk_sse_parsing_is_incremental(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    transport = SyncBridgeTransport(app, loop_thread)
    with httpx.Client(transport=transport, base_url=BASE) as http:
        sdk = SyncLangGraphClient(http)
        parts = []
        for part in sdk.http.stream("/sse", "GET"):
            parts.append((part.event, part.data))
            if part.event == "one":
                assert not state.gate.is_set()
                loop_thread.call_soon(state.gate.set)
        assert parts == [("one", 1), ("two", 2)]


async def test_burst_of_chunks_arrives_complete_and_in_order(
    aclient: httpx.AsyncClient, client: httpx.Client
) -> None:
    expected = b"".join(b"%d\n" % i for i in range(2000))
    assert (await aclient.get("/burst", params={"n": "2000"})).content == expected
    async with aclient.stream("GET", "/burst", params={"n": "2000"}) as response:
        assert b"".join([c async for c in response.aiter_raw()]) == expected
    sync_response = await asyncio.to_thread(client.get, "/burst", params={"n": "2000"})
    assert sync_response.content == expected


# -- disconnects --------------------------------------------------------------


async def test_disconnect_mid_stream_async(
    aclient: httpx.AsyncClient, state: AppState, loop_thread: LoopThread
) -> None:
    async with aclient.stream("GET", "/sse") as response:
        async with contextlib.aclosing(response.aiter_raw()) as chunks:
            async for chunk in chunks:
                assert chunk == EVENT_ONE
                break
    # Leaving the block closed the response while the generator waits on the gate.
    await wait_for(state.sse_finally)
    assert not state.gate.is_set()
    assert pending_server_tasks(loop_thread) == []


def test_disconnect_mid_stream_sync(
    client: httpx.Client, state: AppState, loop_thread: LoopThread
) -> None:
    with client.stream("GET", "/sse") as response:
        for chunk in response.iter_raw():
            assert chunk == EVENT_ONE
            break
    assert state.sse_finally.wait(WAIT)
    assert not state.gate.is_set()
    assert pending_server_tasks(loop_thread) == []


async def test_disconnect_is_reported_by_receive_and_send_async(
    aclient: httpx.AsyncClient, state: AppState, loop_thread: LoopThread
) -> None:
    async with aclient.stream("GET", "/raw/listen") as response:
        async with contextlib.aclosing(response.aiter_raw()) as chunks:
            assert await anext(chunks) == b"chunk"
    await wait_for(state.finished)
    request_msg, disconnect_msg, send_error_mro = state.messages
    assert request_msg == {"type": "http.request", "body": b"", "more_body": False}
    assert disconnect_msg == {"type": "http.disconnect"}
    assert OSError in send_error_mro
    assert pending_server_tasks(loop_thread) == []


def test_disconnect_is_reported_by_receive_and_send_sync(
    client: httpx.Client, state: AppState, loop_thread: LoopThread
) -> None:
    with client.stream("GET", "/raw/listen") as response:
        assert next(response.iter_raw()) == b"chunk"
    assert state.finished.wait(WAIT)
    request_msg, disconnect_msg, send_error_mro = state.messages
    assert request_msg == {"type": "http.request", "body": b"", "more_body": False}
    assert disconnect_msg == {"type": "http.disconnect"}
    assert OSError in send_error_mro
    assert pending_server_tasks(loop_thread) == []


async def test_app_ignoring_disconnect_is_cancelled(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    transport = AsyncBridgeTransport(app, loop_thread, disconnect_grace=0.01)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        async with c.stream("GET", "/raw/stubborn") as response:
            async with contextlib.aclosing(response.aiter_raw()) as chunks:
                assert await anext(chunks) == b"chunk"
    await wait_for(state.finished)
    assert not state.gate.is_set()
    assert pending_server_tasks(loop_thread) == []


async def test_caller_cancelled_before_response_start(
    aclient: httpx.AsyncClient, state: AppState, loop_thread: LoopThread
) -> None:
    task = asyncio.create_task(aclient.get("/raw/slow-start"))
    await wait_for(state.entered)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_for(state.finished)
    assert state.messages[1] == {"type": "http.disconnect"}
    assert pending_server_tasks(loop_thread) == []


# -- app errors ---------------------------------------------------------------


NO_START = r"without sending 'http\.response\.start'"


async def test_app_errors_async(aclient: httpx.AsyncClient, loop_thread: LoopThread) -> None:
    with pytest.raises(Boom, match="before start"):
        await aclient.get("/raw/boom")
    with pytest.raises(httpx.ReadError) as info:
        await aclient.get("/raw/boom-after-start")
    assert isinstance(info.value.__cause__, Boom)
    with pytest.raises(RuntimeError, match=NO_START):
        await aclient.get("/raw/no-response")
    assert pending_server_tasks(loop_thread) == []


def test_app_errors_sync(client: httpx.Client, loop_thread: LoopThread) -> None:
    with pytest.raises(Boom, match="before start"):
        client.get("/raw/boom")
    with pytest.raises(httpx.ReadError) as info:
        client.get("/raw/boom-after-start")
    assert isinstance(info.value.__cause__, Boom)
    with pytest.raises(RuntimeError, match=NO_START):
        client.get("/raw/no-response")
    assert pending_server_tasks(loop_thread) == []


async def test_starlette_route_exception_is_500_and_logged(
    aclient: httpx.AsyncClient, loop_thread: LoopThread, caplog: pytest.LogCaptureFixture
) -> None:
    # Starlette's ServerErrorMiddleware sends a complete 500 *before* re-raising,
    # so the caller gets the 500 (as over a real connection) and the exception
    # is logged on the server side.
    caplog.set_level(logging.ERROR, logger="nbruns._inprocess._transport")
    response = await aclient.get("/boom")
    assert response.status_code == 500
    assert pending_server_tasks(loop_thread) == []
    [record] = [r for r in caplog.records if r.name == "nbruns._inprocess._transport"]
    assert record.exc_info is not None and isinstance(record.exc_info[1], Boom)


async def test_closed_loop_thread_is_reported(app: Any) -> None:
    lt = LoopThread()
    lt.close()
    async with httpx.AsyncClient(transport=AsyncBridgeTransport(app, lt), base_url=BASE) as c:
        with pytest.raises(RuntimeError, match="closed"):
            await c.get("/json")
    with httpx.Client(transport=SyncBridgeTransport(app, lt), base_url=BASE) as c:
        with pytest.raises(RuntimeError, match="closed"):
            c.get("/json")


# -- calling contexts ---------------------------------------------------------


def test_async_client_across_successive_asyncio_runs(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    client = httpx.AsyncClient(transport=AsyncBridgeTransport(app, loop_thread), base_url=BASE)

    async def get_json() -> Any:
        return (await client.get("/json")).json()

    async def stream_sse() -> list[bytes]:
        async with client.stream("GET", "/sse") as response:
            async with contextlib.aclosing(response.aiter_raw()) as chunks:
                received = [await anext(chunks)]
                loop_thread.call_soon(state.gate.set)
                received += [c async for c in chunks]
        return received

    expected = {"hello": "world", "query": {}}
    assert asyncio.run(get_json()) == expected
    assert asyncio.run(stream_sse()) == [EVENT_ONE, EVENT_TWO]
    assert asyncio.run(get_json()) == expected
    asyncio.run(client.aclose())
    assert pending_server_tasks(loop_thread) == []


def test_stream_abandoned_by_finished_asyncio_run_is_cleaned_up(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    client = httpx.AsyncClient(transport=AsyncBridgeTransport(app, loop_thread), base_url=BASE)

    async def open_and_abandon() -> bytes:
        response = await client.send(client.build_request("GET", "/sse"), stream=True)
        return await anext(response.aiter_raw())  # never closed

    assert asyncio.run(open_and_abandon()) == EVENT_ONE
    assert state.sse_finally.wait(WAIT)
    assert pending_server_tasks(loop_thread) == []
    asyncio.run(client.aclose())


def test_sync_client_inside_running_event_loop(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    transport = SyncBridgeTransport(app, loop_thread)

    async def notebook_cell() -> tuple[Any, list[bytes]]:
        # A sync API called from a running cell: this loop is blocked meanwhile.
        assert asyncio.get_running_loop().is_running()
        with httpx.Client(transport=transport, base_url=BASE) as c:
            data = c.get("/json").json()  # noqa: ASYNC212 - blocking on purpose
            with c.stream("GET", "/sse") as response:  # noqa: ASYNC212
                chunks = response.iter_raw()
                received = [next(chunks)]
                assert not state.gate.is_set()
                loop_thread.call_soon(state.gate.set)
                received += list(chunks)
        return data, received

    data, received = asyncio.run(notebook_cell())
    assert data == {"hello": "world", "query": {}}
    assert received == [EVENT_ONE, EVENT_TWO]


async def test_sync_client_inside_pytest_event_loop(client: httpx.Client) -> None:
    assert client.get("/json").status_code == 200  # noqa: ASYNC212 - blocking on purpose


async def test_async_client_on_the_server_loop(
    app: Any, state: AppState, loop_thread: LoopThread
) -> None:
    transport = AsyncBridgeTransport(app, loop_thread)

    async def graph_node() -> tuple[Any, list[bytes]]:
        assert loop_thread.is_current()
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            data = (await c.get("/json")).json()
            async with c.stream("GET", "/sse") as response:
                async with contextlib.aclosing(response.aiter_raw()) as chunks:
                    received = [await anext(chunks)]
                    assert not state.gate.is_set()
                    state.gate.set()  # we are on the server loop
                    received += [chunk async for chunk in chunks]
            token = caller_var.set("node")
            try:
                ctx = (await c.get("/ctx")).json()
            finally:
                caller_var.reset(token)
        return data, received, ctx

    data, received, ctx = await loop_thread.run_async(graph_node())
    assert data == {"hello": "world", "query": {}}
    assert received == [EVENT_ONE, EVENT_TWO]
    assert ctx == {"caller_var": "unset"}
    assert pending_server_tasks(loop_thread) == []


def test_disconnect_on_the_server_loop(app: Any, state: AppState, loop_thread: LoopThread) -> None:
    transport = AsyncBridgeTransport(app, loop_thread)

    async def graph_node() -> None:
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            async with c.stream("GET", "/sse") as response:
                async with contextlib.aclosing(response.aiter_raw()) as chunks:
                    assert await anext(chunks) == EVENT_ONE

    loop_thread.run(graph_node())
    assert state.sse_finally.wait(WAIT)
    assert not state.gate.is_set()
    assert pending_server_tasks(loop_thread) == []


def test_sync_client_on_the_server_loop_raises(app: Any, loop_thread: LoopThread) -> None:
    transport = SyncBridgeTransport(app, loop_thread)

    async def graph_node() -> None:
        with httpx.Client(transport=transport, base_url=BASE) as c:
            c.get("/json")  # noqa: ASYNC212 - the point of the test

    with pytest.raises(
        RuntimeError,
        match=r"the synchronous client cannot be used on the thread running the nbruns "
        r"server's loop \(inside a graph node, .*use the async client there",
    ):
        loop_thread.run(graph_node())


# -- load ---------------------------------------------------------------------


async def test_200_concurrent_requests_async(
    aclient: httpx.AsyncClient, loop_thread: LoopThread
) -> None:
    async def one(i: int) -> bool:
        if i % 2:
            response = await aclient.get("/json", params={"i": str(i)})
            return response.json() == {"hello": "world", "query": {"i": str(i)}}
        response = await aclient.post("/echo", content=str(i).encode())
        return response.content == str(i).encode()

    assert all(await asyncio.gather(*(one(i) for i in range(200))))
    assert pending_server_tasks(loop_thread) == []


def test_200_concurrent_requests_sync(client: httpx.Client, loop_thread: LoopThread) -> None:
    def one(i: int) -> Any:
        return client.get("/json", params={"i": str(i)}).json()["query"]["i"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        assert list(pool.map(one, range(200))) == [str(i) for i in range(200)]
    assert pending_server_tasks(loop_thread) == []


# -- the in-process clients' shortcut ---------------------------------------------------


async def test_in_process_client_sets_elapsed_and_request(
    app: Any, loop_thread: LoopThread
) -> None:
    async with InProcessAsyncClient(
        transport=AsyncBridgeTransport(app, loop_thread), base_url=BASE
    ) as client:
        response = await client.get("/json")
        assert response.request.url == f"{BASE}/json"
        assert response.elapsed.total_seconds() >= 0
        async with client.stream("GET", "/json") as streamed:
            assert streamed.elapsed.total_seconds() >= 0
            assert (await streamed.aread()).startswith(b"{")


async def test_in_process_client_falls_back_to_httpx_for_hooks_and_cookies(
    app: Any, loop_thread: LoopThread
) -> None:
    """Event hooks and client cookies need httpx's own send: they still work."""
    seen: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        seen.append(f"request {request.url.path}")

    async def on_response(response: httpx.Response) -> None:
        seen.append(f"response {response.status_code}")

    async with InProcessAsyncClient(
        transport=AsyncBridgeTransport(app, loop_thread),
        base_url=BASE,
        event_hooks={"request": [on_request], "response": [on_response]},
        cookies={"flavour": "oat"},
    ) as client:
        echoed = (await client.get("/scope/x")).json()
    assert seen == ["request /scope/x", "response 200"]
    assert ["cookie", "flavour=oat"] in echoed["headers"]


async def test_in_process_client_refuses_after_close(app: Any, loop_thread: LoopThread) -> None:
    client = InProcessAsyncClient(transport=AsyncBridgeTransport(app, loop_thread), base_url=BASE)
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("/json")
    sync_client = InProcessClient(transport=SyncBridgeTransport(app, loop_thread), base_url=BASE)
    sync_client.close()
    with pytest.raises(RuntimeError, match="closed"):
        sync_client.get("/json")
