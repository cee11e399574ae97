"""nbruns's own endpoints, under /nbruns: what the views read beyond the LangGraph API."""

from __future__ import annotations

from starlette.responses import Response

from .._core._lifecycle import public_status
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
    return json_response([run_json(r) for r in found if public_status(r) is not None])
