"""Thread-wide endpoints beyond one run: a thread's event stream, and pruning threads.

The SDK's newer thread stream (`threads.stream`: `POST /threads/{id}/commands` and
`POST /threads/{id}/stream/events`, LangGraph's "protocol v2") is not served: those
paths answer 404 with a detail saying nbruns does not serve them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.responses import Response, StreamingResponse

from .._core._errors import InvalidInput
from .._engine._threadstream import ThreadFeed
from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import json_response
from ._requests import ThreadPrune
from ._shapes import PruneResult, StreamEvent
from ._sse import sse_frame

__all__ = ["endpoint"]

endpoint = Endpoints("threads")

ThreadStreamMode = Literal["run_modes", "lifecycle", "state_update"]
"""What a thread's stream carries.

- run_modes: every event of its runs (their own stream modes, and `metadata`)
- lifecycle: only the `metadata` events marking each run's start and end
- state_update: the thread's state after each `threads.update_state`
"""
_MODES = get_args(ThreadStreamMode)
_STREAM_ID = re.compile(r"^\d+-\d+$")  # the reference's event ids: "<ms>-<seq>"


class ThreadStreamParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # the reference reads `stream_modes` (comma-separated); the SDK sends `stream_mode`
    stream_modes: str | None = Field(
        None, description="Comma-separated: run_modes (the default), lifecycle, state_update"
    )
    stream_mode: Annotated[
        list[str],
        WithJsonSchema({"type": "array", "items": {"type": "string", "enum": list(_MODES)}}),
    ] = Field(default_factory=list, description="The SDK's spelling of stream_modes")


def _modes(q: ThreadStreamParams) -> set[str]:
    if q.stream_modes:
        modes = [m.strip() for m in q.stream_modes.split(",")]
    else:
        modes = [m for given in q.stream_mode for m in given.split(",") if m]
    for mode in modes:
        if mode not in _MODES:
            raise InvalidInput(
                f"Invalid stream mode: {mode}; use any of " + ", ".join(repr(m) for m in _MODES)
            )
    return set(modes) or {"run_modes"}


def _wanted(modes: set[str], event: str, data: bytes) -> bool:
    if event == "state_update":
        return "state_update" in modes
    if "run_modes" in modes:
        return True
    # lifecycle: a run's start ({run_id, attempt}) and end ({status: run_done})
    return "lifecycle" in modes and event == "metadata"


@endpoint(
    "GET",
    "/threads/{thread_id}/stream",
    "Follow a thread's runs: the events of its active runs from now on and of every run "
    "created on it later, each framed by `metadata` events (`{run_id, attempt}` when it "
    "starts, `{status: run_done, run_id}` when it ends). The stream does not end by itself.",
    ok=Reply("Server-sent events", StreamEvent, media_type="text/event-stream"),
    query=ThreadStreamParams,
    headers={
        "Last-Event-ID": "Accepted in the reference's form (`<ms>-<seq>`); nothing is replayed"
    },
    errors=(404, 422),
)
async def join_thread_stream(api: Api, call: Call[None, ThreadStreamParams]) -> Response:
    thread_id = call.path["thread_id"]
    api.ex.store.get_thread(thread_id)  # 404 for an unknown thread
    modes = _modes(call.query)
    last = call.request.headers.get("last-event-id")
    if last and not _STREAM_ID.match(last):
        raise InvalidInput(
            f"Invalid last-event-id: {last!r:.60}; an event id looks like '1796310325802-0'"
        )
    active = [r.run_id for r in api.ex.store.active_runs(thread_id)]
    feed = api.ex.thread_feeds.open(thread_id, active)
    return StreamingResponse(_frames(feed, modes), media_type="text/event-stream")


async def _frames(feed: ThreadFeed, modes: set[str]) -> AsyncIterator[bytes]:
    frames = feed.frames()
    try:
        async for event_id, event, data in frames:
            if _wanted(modes, event, data):
                yield sse_frame(event, data, event_id)
    finally:
        await frames.aclose()  # type: ignore[attr-defined]


@endpoint(
    "POST",
    "/threads/prune",
    "Delete the given threads (unknown ids are skipped); `keep_latest` is refused, as on "
    "the reference's in-memory server",
    ok=Reply("How many threads were deleted", PruneResult),
    body=json_body(ThreadPrune, "thread prune request", required=True),
    errors=(422,),
)
async def prune(api: Api, call: Call[ThreadPrune, None]) -> Response:
    b = await call.body()
    if not b.thread_ids:
        return json_response({"pruned_count": 0})
    if b.strategy == "keep_latest":
        raise InvalidInput(
            "keep_latest strategy is not supported by nbruns (nor by LangGraph's in-memory "
            "server); use strategy 'delete'"
        )
    pruned = 0
    for thread_id in dict.fromkeys(b.thread_ids):
        if thread_id in api.ex.store.threads:
            await api.ex.delete_thread(thread_id)
            pruned += 1
    return json_response({"pruned_count": pruned})
