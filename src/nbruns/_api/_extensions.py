"""nbruns's own endpoints, under /nbruns: what the views read beyond the LangGraph API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import Response

from .._core._records import RunRecord
from ._auth import visible
from ._declare import Api, Call, Endpoints, Reply
from ._holds import held_json
from ._http import json_response
from ._params import RunsParams, TimelineParams
from ._shapes import ListedRun, RunFailure, TimelineEvent
from ._wire import run_json, run_status, timeline_json

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
    "nbruns only: every visible run, all threads, in created order; rolled-back runs too",
    ok=Reply("Runs", list[ListedRun]),
    query=RunsParams,
)
async def runs(api: Api, call: Call[None, RunsParams]) -> Response:
    found = api.ex.store.listed_runs(call.query.thread_id)
    where = visible(call.request)  # only the threads auth lets it see
    if where is not None:
        found = [r for r in found if _seen(api, r.thread_id, where)]
    return json_response([_nbruns_run(api, r) for r in found])


def _nbruns_run(api: Api, r: RunRecord) -> ListedRun:
    """One run as GET /nbruns/runs lists it: the SDK's fields, and how it failed."""
    return {
        **run_json(r, api.ex.store),
        # only a run a rollback deleted (or is deleting) has no public status
        "status": run_status(r, api.ex.store) or "rolled_back",
        "error": _failure(r),
        "held": held_json(api.ex.holds, r.run_id),
        "stopping": r.phase == "stopping",
    }


def _failure(r: RunRecord) -> RunFailure | None:
    if r.phase not in ("error", "timeout") or r.error is None:
        return None
    kept = r.failure or {}
    return {
        "error": kept.get("error", r.error.get("error", "")),
        "message": kept.get("message", r.error.get("message", "")),
        "traceback": kept.get("traceback"),
    }


def _seen(api: Api, thread_id: str, where: Callable[[Mapping[str, Any]], bool]) -> bool:
    thread = api.ex.store.threads.get(thread_id)
    return thread is not None and where(thread.metadata)
