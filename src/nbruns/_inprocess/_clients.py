"""What makes `Server.client()` cheap: the httpx clients and the SDK's HTTP layer in process.

Two layers of the SDK client do work that only a network needs:

- httpx's ``send`` walks its auth flow, its redirect loop and its cookie jar on
  every request, though between a caller and the in-process server nothing sets
  cookies, redirects or asks for an auth challenge (an API key is a plain
  header): about 80 µs of roughly 300 µs per request on this path (2,000
  concurrent requests; the bridge itself took about 100). `InProcessAsyncClient`
  and `InProcessClient` send straight to the transport instead. Anything that
  would need it (auth passed to a call, ``follow_redirects=True``, event hooks,
  cookies on the client) goes through httpx's own ``send`` unchanged.
  ``Response.elapsed`` is set once the body has been read, or, for a streamed
  response, when its headers arrived.

- The async SDK client encodes every request body and decodes every response
  body with orjson in the loop's default thread pool, so that a large body from
  a network server does not stall the loop. orjson holds the GIL while it
  works, though, so the pool thread never runs beside the loop: each body only
  costs two thread hand-offs more, and when the loop is busy (runs executing on
  it) the pool thread waits for the GIL each time. In process that hop cost
  more than the whole server's handling of the request (see
  docs/benchmarks.md). `InlineJsonHttp` does the same requests, the same error
  mapping (the SDK's own typed errors) and the same JSON encoding (the SDK's own
  `default`), inline. Only the `LangGraphClient` returned by `Server.client()`
  uses it; a client for a `url=` is the SDK's own, untouched.
"""

from __future__ import annotations

import datetime
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
import orjson
from httpx import USE_CLIENT_DEFAULT
from langgraph_sdk._async.http import HttpClient
from langgraph_sdk._shared.utilities import _orjson_default
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import _araise_for_status_typed

__all__ = [
    "WEBSOCKET_REFUSED",
    "InProcessAsyncClient",
    "InProcessClient",
    "InlineJsonHttp",
    "refusing_websocket",
    "with_inline_json",
]

# -- httpx clients: requests go straight to the transport ----------------------------


def _needs_full_send(client: httpx.AsyncClient | httpx.Client, auth: Any, redirects: Any) -> bool:
    hooks = client.event_hooks
    return (
        auth is not USE_CLIENT_DEFAULT
        or client.auth is not None
        or (client.follow_redirects if redirects is USE_CLIENT_DEFAULT else bool(redirects))
        or bool(hooks["request"] or hooks["response"])
        or bool(client.cookies)
    )


def _elapsed_since(start: float) -> datetime.timedelta:
    return datetime.timedelta(seconds=time.perf_counter() - start)


class InProcessAsyncClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` bound to one in-process transport."""

    def __init__(self, *, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._bridge = transport

    async def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: Any = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if self.is_closed or _needs_full_send(self, auth, follow_redirects):
            return await super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        start = time.perf_counter()
        request.extensions.setdefault("timeout", self.timeout.as_dict())
        response = await self._bridge.handle_async_request(request)
        response.request = request
        if stream:
            response.elapsed = _elapsed_since(start)
            return response
        try:
            await response.aread()
        except BaseException:
            await response.aclose()
            raise
        response.elapsed = _elapsed_since(start)
        return response


class InProcessClient(httpx.Client):
    """An ``httpx.Client`` bound to one in-process transport."""

    def __init__(self, *, transport: httpx.BaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self._bridge = transport

    def send(
        self,
        request: httpx.Request,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: Any = USE_CLIENT_DEFAULT,
    ) -> httpx.Response:
        if self.is_closed or _needs_full_send(self, auth, follow_redirects):
            return super().send(
                request, stream=stream, auth=auth, follow_redirects=follow_redirects
            )
        start = time.perf_counter()
        request.extensions.setdefault("timeout", self.timeout.as_dict())
        response = self._bridge.handle_request(request)
        response.request = request
        if stream:
            response.elapsed = _elapsed_since(start)
            return response
        try:
            response.read()
        except BaseException:
            response.close()
            raise
        response.elapsed = _elapsed_since(start)
        return response


# -- the SDK's HTTP layer: JSON on the caller's loop ---------------------------------

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
OnResponse = Callable[[httpx.Response], None] | None


def _encode(json: Any) -> tuple[dict[str, str], bytes]:
    if json is None:
        return {}, b""
    body = orjson.dumps(json, _orjson_default, _OPTIONS)
    return {"Content-Length": str(len(body)), "Content-Type": "application/json"}, body


async def _decode(response: httpx.Response) -> Any:
    body = await response.aread()
    return orjson.loads(body) if body else None


def _sending(method: str) -> Any:
    """`post`, `put` or `patch`: the SDK's signature, sent through `_send`."""

    async def send(
        self: InlineJsonHttp,
        path: str,
        *,
        json: Any,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Any:
        return await self._send(method, path, json, params, headers, on_response)

    send.__name__ = send.__qualname__ = method.lower()
    return send


class InlineJsonHttp(HttpClient):
    """`langgraph_sdk`'s async `HttpClient`, without the thread-pool hop per body."""

    async def _send(
        self,
        method: str,
        path: str,
        json: Any,
        params: Any,
        headers: Mapping[str, str] | None,
        on_response: OnResponse,
    ) -> Any:
        request_headers, content = _encode(json)
        if headers:
            request_headers.update(headers)
        response = await self.client.request(
            method, path, headers=request_headers, content=content, params=params
        )
        return await self._answer(response, on_response)

    @staticmethod
    async def _answer(response: httpx.Response, on_response: OnResponse) -> Any:
        """The SDK's tail of every call: the hook, its typed error, the decoded body."""
        if on_response:
            on_response(response)
        await _araise_for_status_typed(response)
        return await _decode(response)

    async def get(
        self,
        path: str,
        *,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
    ) -> Any:
        response = await self.client.get(path, params=params, headers=headers)
        return await self._answer(response, on_response)

    post = _sending("POST")
    put = _sending("PUT")
    patch = _sending("PATCH")

    async def request_reconnect(
        self,
        path: str,
        method: str,
        *,
        json: dict[str, Any] | None = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        on_response: OnResponse = None,
        reconnect_limit: int = 5,
    ) -> Any:
        # The SDK reconnects to the response's Location when a body is cut off. In
        # process a body is cut off only when the server itself shut down, where a
        # reconnect cannot succeed, so the error is raised at once instead.
        request_headers, content = _encode(json)
        if headers:
            request_headers.update(headers)
        async with self.client.stream(
            method, path, headers=request_headers, content=content, params=params
        ) as response:
            if on_response:
                on_response(response)
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:
                # as the SDK does for these calls: a plain HTTPStatusError, body as a note
                exc.add_note((await response.aread()).decode())
                raise
            return await _decode(response)


def with_inline_json(client: LangGraphClient) -> LangGraphClient:
    """Give `client` and each of its parts (assistants, threads, runs, ...) one
    `InlineJsonHttp` over the same httpx client."""
    sdk_http = client.http
    inline = InlineJsonHttp(sdk_http.client)
    for part in (client, *vars(client).values()):
        if getattr(part, "http", None) is sdk_http:
            part.http = inline
    return refusing_websocket(client)


WEBSOCKET_REFUSED = (
    'threads.stream(transport="websocket") needs a network WebSocket, which an in-process '
    'nbruns client does not have: use transport="sse" (the default; the same events), '
    "or a client of `nbruns serve`, which serves both"
)


_Client = TypeVar("_Client", LangGraphClient, SyncLangGraphClient)


def refusing_websocket(client: _Client) -> _Client:
    """Make `client.threads.stream(transport="websocket")` fail when it is called.

    The SDK opens that transport with the `websockets` library straight to the
    client's base URL, past the in-process transport: left alone, it would try to
    reach a host named after the in-process URL and the stream would end empty."""
    sdk_stream = client.threads.stream

    @functools.wraps(sdk_stream)
    def stream(*args: Any, transport: Any = "sse", **kwargs: Any) -> Any:
        if transport == "websocket":
            raise ValueError(WEBSOCKET_REFUSED)
        return sdk_stream(*args, transport=transport, **kwargs)

    client.threads.stream = stream  # type: ignore[method-assign]
    return client
