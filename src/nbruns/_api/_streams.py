"""Answers that outlast their request's handler: a run's final body, and its events.

Both keep the connection alive while the run goes on, and can cancel the run
when the caller leaves early (`on_disconnect="cancel"`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.responses import Response, StreamingResponse

from .._core._errors import NbrunsError
from .._engine import _serde
from .._engine._executor import NO_RUN_BODY, Executor
from ._http import json_response
from ._sse import sse_frame

__all__ = ["final_body", "run_events", "wait_response"]

_HEARTBEAT_SECONDS = 5.0


async def wait_response(
    ex: Executor,
    thread_id: str,
    run_id: str,
    *,
    cancel_on_disconnect: bool,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The run's final body; a plain response when it comes within a heartbeat interval
    (the common case), else a streamed one that keeps the connection alive meanwhile."""
    join = ex.outcome_future(run_id)  # shared: wait on it, never cancel it
    if not cancel_on_disconnect:
        # waiting here cannot notice a disconnect, so only when nobody asked to
        done, _ = await asyncio.wait({join}, timeout=_HEARTBEAT_SECONDS)
        if done:
            return json_response(final_body(*join.result()), headers=headers)
    return StreamingResponse(
        _wait_body(ex, thread_id, run_id, join, cancel_on_disconnect=cancel_on_disconnect),
        media_type="application/json",
        headers=headers,
    )


async def _wait_body(
    ex: Executor,
    thread_id: str,
    run_id: str,
    join: asyncio.Future[tuple[Any, Any]],
    *,
    cancel_on_disconnect: bool,
) -> AsyncIterator[bytes]:
    try:
        while True:
            done, _ = await asyncio.wait({join}, timeout=_HEARTBEAT_SECONDS)
            if done:
                body = final_body(*join.result())
                yield body if isinstance(body, bytes) else _serde.dumps(body)
                return
            yield b"\n"  # keeps proxies from timing out an idle response; JSON allows it
    finally:
        # the caller left before the run ended (the shared future stays untouched)
        if not join.done() and cancel_on_disconnect:
            _cancel_quietly(ex, thread_id, run_id)


async def run_events(
    ex: Executor,
    thread_id: str,
    run_id: str,
    reader: AsyncIterator[tuple[int, str, bytes]] | None,
    *,
    resumable: bool,
    cancel_on_disconnect: bool,
) -> AsyncIterator[bytes]:
    """The run's events as SSE frames (its `metadata` event comes from the run's
    stream when the run starts, so a run stopped while pending sends none)."""
    finished = False
    try:
        if reader is not None:
            async for event_id, event, data in reader:
                yield sse_frame(event, data, event_id if resumable else None)
        finished = True
    finally:
        if reader is not None:
            await reader.aclose()  # type: ignore[attr-defined]
        if not finished and cancel_on_disconnect:
            _cancel_quietly(ex, thread_id, run_id)


def final_body(body: Any, last_values: Any) -> Any:
    if body is NO_RUN_BODY:
        # rolled back under the caller: like the reference, answer with the last
        # values the run produced rather than an error
        return last_values if last_values is not None else {}
    return body


def _cancel_quietly(ex: Executor, thread_id: str, run_id: str) -> None:
    try:
        ex.cancel(thread_id, run_id, "interrupt")
    except NbrunsError:
        pass  # already finished: nothing to cancel
