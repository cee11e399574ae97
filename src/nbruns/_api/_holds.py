"""nbruns's holds, under /nbruns/holds: keep a thread's runs at a step boundary.

The Playground's "hold the next run" and `nbruns.testing.pause` use these; the
engine does the holding (`_engine/_holds.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from starlette.responses import Response

from .._engine import _serde
from .._engine._holds import Holds
from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import json_response
from ._params import HoldsParams, HoldWaitParams
from ._requests import HoldCreate
from ._shapes import HeldRunJson, Hold

__all__ = ["endpoint", "held_json", "hold_json"]

endpoint = Endpoints("nbruns")

_HOLD = "/nbruns/holds/{hold_id}"
_iso = cast("Callable[[float], str]", _serde.iso)


def held_json(holds: Holds, run_id: str) -> HeldRunJson | None:
    """Where a run waits, for `/nbruns/runs`; None when it is not held."""
    found = holds.held(run_id)
    if found is None:
        return None
    rule, held = found
    return {
        "hold_id": rule.hold_id,
        "run_id": run_id,
        "after": list(held.boundary.after),
        "before": list(held.boundary.before),
        "since": _iso(held.since),
    }


def hold_json(hold: Any) -> Hold:
    rule = hold.rule
    return {
        "hold_id": rule.hold_id,
        "thread_id": rule.thread_id,
        "before": rule.before,
        "after": rule.after,
        "times": rule.times,
        "new_runs_only": rule.new_runs_only,
        "hits": hold.hits,
        "armed": hold.armed,
        "held": [
            {
                "run_id": h.run_id,
                "after": list(h.boundary.after),
                "before": list(h.boundary.before),
                "since": _iso(h.since),
            }
            for h in hold.held.values()
        ],
        "created_at": _iso(rule.created_at),
    }


@endpoint(
    "POST",
    "/nbruns/holds",
    "nbruns only: hold a thread's runs at a step boundary",
    ok=Reply("The hold", Hold),
    body=json_body(HoldCreate, "hold", required=True),
    errors=(404, 422),
)
async def create(api: Api, call: Call[HoldCreate, None]) -> Response:
    body = await call.body()
    hold = api.ex.holds.create(
        body.thread_id,
        before=body.before,
        after=body.after,
        times=body.times,
        new_runs_only=body.new_runs_only,
    )
    return json_response(hold_json(hold))


@endpoint(
    "GET",
    "/nbruns/holds",
    "nbruns only: the holds, of one thread or all",
    ok=Reply("Holds", list[Hold]),
    query=HoldsParams,
)
async def search(api: Api, call: Call[None, HoldsParams]) -> Response:
    return json_response([hold_json(h) for h in api.ex.holds.of_thread(call.query.thread_id)])


@endpoint("GET", _HOLD, "nbruns only: a hold", ok=Reply("The hold", Hold), errors=(404,))
async def get(api: Api, call: Call[None, None]) -> Response:
    return json_response(hold_json(api.ex.holds.get(call.path["hold_id"])))


@endpoint(
    "POST",
    _HOLD + "/release",
    "nbruns only: let the runs held there go on",
    ok=Reply("The hold", Hold),
    errors=(404,),
)
async def release(api: Api, call: Call[None, None]) -> Response:
    return json_response(hold_json(api.ex.holds.release(call.path["hold_id"])))


@endpoint(
    "DELETE",
    _HOLD,
    "nbruns only: disarm a hold and let its runs go on",
    ok=Reply("The hold as it was", Hold),
    errors=(404,),
)
async def delete(api: Api, call: Call[None, None]) -> Response:
    return json_response(hold_json(api.ex.holds.delete(call.path["hold_id"])))


@endpoint(
    "GET",
    _HOLD + "/wait",
    "nbruns only: answer once a run is held there, or after the timeout",
    ok=Reply("The hold", Hold),
    query=HoldWaitParams,
    errors=(404, 422),
)
async def wait(api: Api, call: Call[None, HoldWaitParams]) -> Response:
    hold = await api.ex.holds.wait_held(call.path["hold_id"], call.query.timeout)
    return json_response(hold_json(hold))
