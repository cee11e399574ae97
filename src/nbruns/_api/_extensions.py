"""nbruns's own endpoints, under /nbruns: what the views read beyond the LangGraph API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from .._core._lifecycle import public_status
from ._auth import visible
from ._declare import Api, Call, Endpoints, Reply
from ._http import json_response
from ._params import RunsParams, TimelineParams
from ._shapes import Run, TimelineEvent
from ._wire import run_json, timeline_json

__all__ = ["endpoint"]

endpoint = Endpoints("nbruns")


@endpoint(
    "GET",
    "/nbruns/timeline",
    "nbruns only: lifecycle events in order",
    ok=Reply("Events", list[TimelineEvent]),
    query=TimelineParams,
    errors=(404,),
)
async def timeline(api: Api, call: Call[None, TimelineParams]) -> Response:
    events = api.ex.store.timeline(call.query.thread_id)
    if (where := visible(call.request)) is not None:  # only the threads auth lets it see
        events = [e for e in events if _seen(api, e.thread_id, where)]
    return json_response([timeline_json(e) for e in events])


@endpoint(
    "GET",
    "/nbruns/runs",
    "nbruns only: every visible run, all threads",
    ok=Reply("Runs", list[Run]),
    query=RunsParams,
)
async def runs(api: Api, call: Call[None, RunsParams]) -> Response:
    thread_id = call.query.thread_id
    store = api.ex.store
    found = store.runs.values() if thread_id is None else store.runs_of(thread_id)
    where = visible(call.request)  # only the threads auth lets it see
    return json_response(
        [
            run_json(r)
            for r in found
            if public_status(r) is not None and (where is None or _seen(api, r.thread_id, where))
        ]
    )


def _seen(api: Api, thread_id: str, where: Callable[[Mapping[str, Any]], bool]) -> bool:
    thread = api.ex.store.threads.get(thread_id)
    return thread is not None and where(thread.metadata)
