"""Threads, their state and their checkpoint history."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from .._core._errors import InvalidInput
from .._engine import _serde
from ._auth import visible
from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import PAGE_HEADERS, PAGE_NEXT_HEADER, json_response, page_of
from ._params import HistoryParams, StateParams
from ._requests import (
    HistoryQuery,
    StateCheckpointQuery,
    StateUpdate,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    parse,
)
from ._shapes import Count, StateUpdated, Thread, ThreadState
from ._wire import empty_state_json, state_json, state_updated_json, thread_json

__all__ = ["endpoint"]

endpoint = Endpoints("threads")
_PATH = "/threads/{thread_id}"
_EVERY = 10**9  # a search's matches, all of them: the page is cut after counting


@endpoint(
    "POST",
    "/threads",
    "Create a thread",
    ok=Reply("The thread", Thread),
    body=json_body(ThreadCreate, "thread"),
    errors=(404, 409),
)
async def create(api: Api, call: Call[ThreadCreate, None]) -> Response:
    b = await call.body()
    record = api.ex.create_thread(
        thread_id=b.thread_id,
        metadata=b.metadata,
        if_exists=b.if_exists or "raise",
        graph_id=b.graph_id,
    )
    return json_response(thread_json(api.ex.store, record))


@endpoint(
    "POST",
    "/threads/search",
    "Search threads",
    ok=Reply(
        "Matching threads",
        list[Thread],
        headers=PAGE_HEADERS,
        optional_headers=PAGE_NEXT_HEADER,
    ),
    body=json_body(ThreadSearch, "thread search"),
)
async def search(api: Api, call: Call[ThreadSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.store.search_threads(
        metadata=b.metadata,
        values=b.values,
        ids=b.ids,
        status=b.status,
        limit=_EVERY,
        offset=0,
        sort_by=b.sort_by or "created_at",
        sort_order=b.sort_order or "desc",
        where=visible(call.request),
    )
    page, headers = page_of(found, b.offset, b.limit)
    return json_response([thread_json(api.ex.store, t) for t in page], headers=headers)


@endpoint(
    "POST",
    "/threads/count",
    "Count threads",
    ok=Reply("How many match", Count),
    body=json_body(ThreadSearch, "thread count"),
)
async def count(api: Api, call: Call[ThreadSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.store.search_threads(
        metadata=b.metadata,
        values=b.values,
        ids=b.ids,
        status=b.status,
        limit=_EVERY,
        where=visible(call.request),
    )
    return json_response(len(found))


@endpoint("GET", _PATH, "Get a thread", ok=Reply("The thread", Thread), errors=(404,))
async def get(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.store.get_thread(call.path["thread_id"])
    return json_response(thread_json(api.ex.store, record))


@endpoint(
    "PATCH",
    _PATH,
    "Update a thread's metadata",
    ok=Reply("The updated thread", Thread),
    body=json_body(ThreadPatch, "thread update"),
    errors=(404,),
)
async def patch(api: Api, call: Call[ThreadPatch, None]) -> Response:
    b = await call.body()
    record = api.ex.update_thread(call.path["thread_id"], b.metadata)
    return json_response(thread_json(api.ex.store, record))


@endpoint(
    "DELETE",
    _PATH,
    "Delete a thread (its in-flight runs are cancelled first)",
    ok={204: Reply("Done; no body")},
    errors=(404,),
)
async def delete(api: Api, call: Call[None, None]) -> Response:
    await api.ex.delete_thread(call.path["thread_id"])
    return Response(status_code=204)


@endpoint(
    "POST",
    _PATH + "/copy",
    "Copy a thread with its checkpoints",
    ok=Reply("The copy", Thread),
    errors=(404, 409),
)
async def copy(api: Api, call: Call[None, None]) -> Response:
    record = await api.ex.copy_thread(call.path["thread_id"])
    return json_response(thread_json(api.ex.store, record))


# -- state ------------------------------------------------------------------------------


def _checkpoint_ns(checkpoint: Any) -> str:
    """The namespace a body's `checkpoint` names: "" for the thread's own graph, or a
    subgraph's, as a task's `checkpoint` gives it."""
    ns = (checkpoint or {}).get("checkpoint_ns") or ""
    if not isinstance(ns, str):
        raise InvalidInput(
            f"Invalid checkpoint.checkpoint_ns: expected a string such as '' or a task's "
            f"'node:task_id', got {ns!r:.60}"
        )
    return ns


async def _state(
    api: Api, thread_id: str, checkpoint_id: str | None, subgraphs: bool, checkpoint_ns: str = ""
) -> Response:
    snapshot = await api.ex.get_state(
        thread_id, checkpoint_id, subgraphs=subgraphs, checkpoint_ns=checkpoint_ns
    )
    return json_response(empty_state_json() if snapshot is None else state_json(snapshot))


@endpoint(
    "GET",
    _PATH + "/state",
    "The thread's current state",
    ok=Reply("The state (empty for a thread with no checkpoint)", ThreadState),
    query=StateParams,
    errors=(404, 422),
)
async def state(api: Api, call: Call[None, StateParams]) -> Response:
    return await _state(api, call.path["thread_id"], None, call.query.subgraphs)


@endpoint(
    "POST",
    _PATH + "/state",
    "Update the thread's state",
    ok=Reply("The new checkpoint", StateUpdated),
    body=json_body(StateUpdate, "state update"),
    errors=(400, 404, 409),
)
async def update_state(api: Api, call: Call[StateUpdate, None]) -> Response:
    b = await call.body()
    checkpoint_id = b.checkpoint_id or (b.checkpoint or {}).get("checkpoint_id")
    thread_id = call.path["thread_id"]
    configurable = await api.ex.update_state(
        thread_id, b.values, as_node=b.as_node, checkpoint_id=checkpoint_id
    )
    if api.ex.thread_feeds.watched(thread_id):  # read the new state only for a reader
        snapshot = await api.ex.get_state(thread_id, None)
        state = empty_state_json() if snapshot is None else state_json(snapshot)
        event = {"state": state, "thread_id": thread_id}
        api.ex.thread_feeds.state_updated(thread_id, _serde.dumps(event))
    return json_response(state_updated_json(configurable))


@endpoint(
    "POST",
    _PATH + "/state/checkpoint",
    "The thread's state at a checkpoint",
    ok=Reply("The state", ThreadState),
    body=json_body(StateCheckpointQuery, "state query"),
    errors=(404,),
)
async def state_at_checkpoint(api: Api, call: Call[StateCheckpointQuery, None]) -> Response:
    b = await call.body()
    return await _state(
        api,
        call.path["thread_id"],
        b.checkpoint.get("checkpoint_id"),
        b.subgraphs,
        _checkpoint_ns(b.checkpoint),
    )


@endpoint(
    "GET",
    _PATH + "/state/{checkpoint_id}",
    "The thread's state at a checkpoint id",
    ok=Reply("The state (empty for an unknown checkpoint)", ThreadState),
    query=StateParams,
    errors=(404, 422),
)
async def state_at(api: Api, call: Call[None, StateParams]) -> Response:
    return await _state(
        api, call.path["thread_id"], call.path["checkpoint_id"], call.query.subgraphs
    )


# -- history ----------------------------------------------------------------------------


async def _history(api: Api, thread_id: str, b: HistoryQuery) -> Response:
    before = (
        b.before.get("configurable", b.before).get("checkpoint_id")
        if isinstance(b.before, dict)
        else b.before
    )
    states = await api.ex.get_history(
        thread_id,
        limit=b.limit,
        before=before,
        metadata=b.metadata,
        checkpoint_id=(b.checkpoint or {}).get("checkpoint_id"),
        checkpoint_ns=_checkpoint_ns(b.checkpoint),
    )
    return json_response([state_json(s) for s in states])


@endpoint(
    "GET",
    _PATH + "/history",
    "The thread's checkpoints, newest first",
    ok=Reply("States", list[ThreadState]),
    query=HistoryParams,
    errors=(404, 422),
)
async def history(api: Api, call: Call[None, HistoryParams]) -> Response:
    q = call.query
    # through the POST body's model, so both forms check (and word) the limit alike
    b = parse(HistoryQuery, _serde.dumps({"limit": q.limit, "before": q.before}), "history query")
    return await _history(api, call.path["thread_id"], b)


@endpoint(
    "POST",
    _PATH + "/history",
    "The thread's checkpoints, newest first",
    ok=Reply("States", list[ThreadState]),
    body=json_body(HistoryQuery, "history query"),
    errors=(404,),
)
async def history_query(api: Api, call: Call[HistoryQuery, None]) -> Response:
    return await _history(api, call.path["thread_id"], await call.body())
