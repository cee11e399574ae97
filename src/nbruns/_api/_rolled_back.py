"""Rollback you can undo, under /nbruns/threads/{thread_id}/rolled_back.

A rolled-back run is gone for every LangGraph endpoint (404), as on the reference;
for the server's `keep_rolled_back_s` its checkpoints are kept as a hidden branch
(`_engine/_rolled_back.py`): listed here, and restorable onto the thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from starlette.responses import Response

from .._engine import _serde
from .._engine._rolled_back import Branch
from ._declare import Api, Call, Endpoints, Reply
from ._http import json_response
from ._shapes import RolledBackRun, ThreadState
from ._wire import empty_state_json, state_json

__all__ = ["endpoint", "rolled_back_json"]

endpoint = Endpoints("nbruns")

_PATH = "/nbruns/threads/{thread_id}/rolled_back"
_iso = cast("Callable[[float], str]", _serde.iso)


def rolled_back_json(branch: Branch) -> RolledBackRun:
    return {
        "run_id": branch.run_id,
        "rolled_back_at": _iso(branch.rolled_back_at),
        "superseded_by": branch.superseded_by,
        "cancel_reason": branch.cancel_reason,
        "checkpoints": branch.checkpoints,
        "values": _serde.raw(branch.values),  # JSON as kept
        "expires_at": _iso(branch.expires_at),
    }


@endpoint(
    "GET",
    _PATH,
    "nbruns only: the thread's rolled-back runs whose checkpoints are kept, newest first",
    ok=Reply("Rolled-back runs, with the state each had got to", list[RolledBackRun]),
    errors=(404,),
)
async def listing(api: Api, call: Call[None, None]) -> Response:
    branches = await api.ex.rolled_back.of_thread(call.path["thread_id"])
    return json_response([rolled_back_json(b) for b in branches])


@endpoint(
    "POST",
    _PATH + "/{run_id}/restore",
    "nbruns only: put the thread's state back to where a rolled-back run had got to",
    ok=Reply("The thread's state after the restore", ThreadState),
    errors=(404, 409),
)
async def restore(api: Api, call: Call[None, None]) -> Response:
    thread_id = call.path["thread_id"]
    snapshot = await api.ex.rolled_back.restore(thread_id, call.path["run_id"])
    state = empty_state_json() if snapshot is None else state_json(snapshot)
    if api.ex.thread_feeds.watched(thread_id):  # a state change, as an update's
        event = {"state": state, "thread_id": thread_id}
        api.ex.thread_feeds.state_updated(thread_id, _serde.dumps(event))
    return json_response(state)
