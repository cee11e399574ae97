"""Crons: create (stateless or on a thread), get, update, delete, search, count.

Paths, bodies and answers are the reference server's (`client.crons.*`); the
scheduler that fires them is the engine's (`_engine/_crons.py`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, cast

from starlette.responses import Response

from .._core._crons import CRON_FIELDS, CronRecord
from .._core._errors import InvalidInput
from .._engine import _serde
from .._engine._runspec import is_uuid
from ._auth import visible
from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import PAGE_HEADERS, PAGE_NEXT_HEADER, json_response, page_of
from ._requests import CronCount, CronCreate, CronPatch, CronSearch
from ._shapes import Count, Cron

__all__ = ["cron_json", "endpoint"]

endpoint = Endpoints("crons")

_CRON = "/runs/crons/{cron_id}"
_CREATE_BODY = json_body(CronCreate, "cron", required=True)


def cron_json(c: CronRecord, select: Collection[str] | None = None) -> Cron:
    body: dict[str, Any] = {
        "cron_id": c.cron_id,
        "assistant_id": c.assistant_id,
        "thread_id": c.thread_id,
        "user_id": c.user_id,
        "end_time": _serde.iso(c.end_time),
        "schedule": c.schedule,
        "timezone": c.timezone,
        "payload": c.payload,
        "next_run_date": _serde.iso(c.next_run_date),
        "metadata": c.metadata,
        "on_run_completed": c.on_run_completed,
        "enabled": c.enabled,
        "created_at": _serde.iso(c.created_at),
        "updated_at": _serde.iso(c.updated_at),
    }
    if select:
        body = {k: body[k] for k in CRON_FIELDS if k in select}
    return cast(Cron, body)


def _sent(body: CronCreate | CronPatch) -> dict[str, Any]:
    """The request as the client sent it: keys it set, without nulls (but `end_time`'s,
    which clears an end time)."""
    sent = body.model_dump(exclude_unset=True)
    return {k: v for k, v in sent.items() if v is not None or k == "end_time"}


def _uuid_or_none(value: str | None, what: str) -> str | None:
    if value is not None and not is_uuid(value):
        raise InvalidInput(f"Invalid {what} ID: must be a UUID (got {value!r:.60})")
    return value


@endpoint(
    "POST",
    "/runs/crons",
    "Create a cron that runs on a new thread each time",
    ok=Reply("The cron", Cron),
    body=_CREATE_BODY,
    errors=(404,),
)
@endpoint(
    "POST",
    "/threads/{thread_id}/runs/crons",
    "Create a cron that runs on the thread",
    ok=Reply("The cron", Cron),
    body=_CREATE_BODY,
    errors=(404,),
)
async def create(api: Api, call: Call[CronCreate, None]) -> Response:
    body = _sent(await call.body())
    return json_response(cron_json(api.ex.crons.create(call.path.get("thread_id"), body)))


def _matching(
    api: Api, call: Call[Any, Any], b: CronCount | CronSearch, **search: Any
) -> list[CronRecord]:
    """The crons a search or count body selects, within what the auth handler lets the
    user see; `search` adds what only a search takes (enabled, sort)."""
    found = api.ex.crons.table.search(
        assistant_id=_uuid_or_none(b.assistant_id, "assistant"),
        thread_id=_uuid_or_none(b.thread_id, "thread"),
        metadata=b.metadata,
        **search,
    )
    if (where := visible(call.request)) is not None:  # the auth handler's filter
        found = [c for c in found if where(c.metadata)]
    return found


@endpoint(
    "POST",
    "/runs/crons/search",
    "Search crons",
    ok=Reply(
        "Matching crons",
        list[Cron],
        headers=PAGE_HEADERS,
        optional_headers=PAGE_NEXT_HEADER,
    ),
    body=json_body(CronSearch, "cron search"),
)
async def search(api: Api, call: Call[CronSearch, None]) -> Response:
    b = await call.body()
    found = _matching(
        api,
        call,
        b,
        enabled=b.enabled,
        sort_by=b.sort_by or "created_at",
        sort_order=b.sort_order or "desc",
    )
    page, headers = page_of(found, b.offset, b.limit)
    return json_response([cron_json(c, b.select) for c in page], headers=headers)


@endpoint(
    "POST",
    "/runs/crons/count",
    "Count crons",
    ok=Reply("How many match", Count),
    body=json_body(CronCount, "cron count"),
)
async def count(api: Api, call: Call[CronCount, None]) -> Response:
    b = await call.body()
    found = _matching(api, call, b)
    return json_response(len(found))


# 422: a cron id that is not a UUID (`_app` checks path ids)
@endpoint("GET", _CRON, "Get a cron", ok=Reply("The cron", Cron), errors=(404, 422))
async def get(api: Api, call: Call[None, None]) -> Response:
    return json_response(cron_json(api.ex.crons.table.get(call.path["cron_id"])))


@endpoint(
    "PATCH",
    _CRON,
    "Update a cron (the keys sent change; `end_time: null` clears the end time)",
    ok=Reply("The updated cron", Cron),
    body=json_body(CronPatch, "cron update"),
    errors=(400, 404),
)
async def patch(api: Api, call: Call[CronPatch, None]) -> Response:
    changes = _sent(await call.body())
    return json_response(cron_json(api.ex.crons.update(call.path["cron_id"], changes)))


@endpoint("DELETE", _CRON, "Delete a cron", ok={204: Reply("Done; no body")}, errors=(404, 422))
async def delete(api: Api, call: Call[None, None]) -> Response:
    api.ex.crons.delete(call.path["cron_id"])
    return Response(status_code=204)
