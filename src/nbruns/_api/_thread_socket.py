"""The SDK's thread stream over WebSocket (`threads.stream(..., transport="websocket")`).

`WebSocket /threads/{thread_id}/stream/events`, as LangGraph's server serves it: every
text frame the client sends is one protocol command, answered by its envelope in a frame
of its own. `subscription.subscribe` (`{channels, namespaces?, depth?, since?}`) starts
sending the thread's protocol events that match it, those kept after `since` first;
`subscription.unsubscribe` stops them; the other commands answer as over HTTP
(`_thread_commands`). Events are the same JSON objects the SSE stream sends.

Only a real server carries WebSockets: in process the client refuses this transport
(`_inprocess/_clients.py`). With an auth handler the socket is refused too (closed with
code 1008 and a reason): the handler's filters are applied per HTTP request only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import uuid
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from .._engine import _serde
from .._engine._protocol import ProtocolLog
from .._engine._runspec import is_uuid
from ._declare import Api
from ._thread_commands import (
    HEARTBEAT_SECONDS,
    EventFilter,
    as_command,
    dispatch,
    error,
    logs,
    subscription,
    success,
)

__all__ = ["thread_socket_route"]

PATH = "/threads/{thread_id}/stream/events"
_POLICY = 1008  # WebSocket close code: policy violation
_NOT_FOUND = 4404  # an application close code (4000-4999), named after HTTP's


def thread_socket_route(api: Api, api_key: str | None, auth_configured: bool) -> WebSocketRoute:
    """The route, behind the same API key as every HTTP endpoint."""
    expected = None if api_key is None else api_key.encode()

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        refusal = _refusal(websocket, expected, auth_configured)
        if refusal is not None:
            await websocket.close(code=refusal[0], reason=refusal[1])
            return
        await _Session(api, websocket, websocket.path_params["thread_id"]).serve()

    return WebSocketRoute(PATH, endpoint)


def _refusal(
    websocket: WebSocket, expected: bytes | None, auth_configured: bool
) -> tuple[int, str] | None:
    if auth_configured:
        return _POLICY, 'this server has an auth handler: use transport="sse"'
    if expected is not None:
        given = websocket.headers.get("x-api-key", "").encode()
        if not hmac.compare_digest(given, expected):
            return _POLICY, "Missing or wrong x-api-key header (pass it in headers=)"
    thread_id = websocket.path_params["thread_id"]
    if not is_uuid(thread_id):
        return _POLICY, f"Invalid thread ID: must be a UUID (got {thread_id!r:.60})"
    return None


class _Session:
    """One socket: its commands in order, and one sending task per subscription."""

    def __init__(self, api: Api, websocket: WebSocket, thread_id: str) -> None:
        self.api, self.websocket, self.thread_id = api, websocket, thread_id
        self._sending = asyncio.Lock()  # frames from commands and subscriptions never interleave
        self._subscriptions: dict[str, asyncio.Task[None]] = {}

    async def serve(self) -> None:
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                raw = message.get("text") or message.get("bytes") or b""
                if not await self._command(raw):
                    return
        finally:
            for task in self._subscriptions.values():
                task.cancel()
            for task in self._subscriptions.values():
                with contextlib.suppress(BaseException):
                    await task

    async def _command(self, raw: str | bytes) -> bool:
        """Answer one frame; False once the socket was closed."""
        try:
            payload = _serde.loads(raw)
        except ValueError:
            await self._send(
                error(None, "invalid_argument", "Protocol commands must be valid JSON.")
            )
            return True
        refused = as_command(payload)
        if refused is not None:
            await self._send(refused)
            return True
        method, cmd_id = payload["method"], payload["id"]
        params = payload.get("params")
        params = params if isinstance(params, dict) else {}
        if method == "subscription.subscribe":
            return await self._subscribe(cmd_id, params)
        if method == "subscription.unsubscribe":
            answer = self._unsubscribe(cmd_id, params)
        else:
            answer = await dispatch(self.api, self.thread_id, payload)
        await self._send(answer)
        return True

    async def _subscribe(self, cmd_id: int, params: dict[str, Any]) -> bool:
        wanted = subscription(params)
        if isinstance(wanted, str):
            await self._send(error(cmd_id, "invalid_argument", wanted))
            return True
        ex = self.api.ex
        if self.thread_id not in ex.store.threads:
            # like the SSE stream's 404: nothing will ever come, so say so and end
            reason = f"Thread {self.thread_id} not found."
            await self.websocket.close(code=_NOT_FOUND, reason=reason)
            return False
        log = logs(self.api).open(self.thread_id, ex.store.active_runs(self.thread_id))
        replayed = sum(1 for event in log.events_after(wanted.since) if wanted(event))
        sub_id = str(uuid.uuid4())
        result = {"subscription_id": sub_id, "replayed_events": replayed}
        await self._send(success(cmd_id, result, log.last_seq))
        task = asyncio.get_running_loop().create_task(self._pump(log, wanted))
        self._subscriptions[sub_id] = task
        return True

    def _unsubscribe(self, cmd_id: int, params: dict[str, Any]) -> dict[str, Any]:
        sub_id = params.get("subscription_id")
        if not isinstance(sub_id, str):
            return error(
                cmd_id, "invalid_argument", "subscription.unsubscribe requires a subscription_id."
            )
        task = self._subscriptions.pop(sub_id, None)
        if task is None:
            return error(cmd_id, "no_such_subscription", f"Unknown subscription: {sub_id}")
        task.cancel()
        return success(cmd_id, {})

    async def _pump(self, log: ProtocolLog, wanted: EventFilter) -> None:
        seq = wanted.since
        while True:
            events = log.events_after(seq)
            if not events:
                await log.changed(seq, HEARTBEAT_SECONDS)
                continue
            for event in events:
                seq = event["seq"]
                if wanted(event):
                    await self._send(event)

    async def _send(self, frame: dict[str, Any]) -> None:
        async with self._sending:
            await self.websocket.send_text(_serde.dumps(frame).decode())
