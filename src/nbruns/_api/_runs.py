"""Runs: create (on a thread or stateless), wait, stream, join, cancel, list."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from .._core._errors import BadRequest, Conflict, InvalidInput
from .._core._lifecycle import ACTIVE
from .._engine import _serde
from .._engine._executor import NO_RUN_BODY, RunSpec
from ._auth import visible
from ._declare import Api, Body, Call, Endpoints, Reply, json_body
from ._http import json_response
from ._params import CancelManyParams, CancelParams, JoinStreamParams, RunListParams
from ._requests import (
    CancelMany,
    RunBatch,
    RunCreate,
    parse,
    refuse_nonfinite,
)
from ._shapes import Run, RunOutput, StreamEvent
from ._sse import sse_frame
from ._streams import run_events, wait_response
from ._wire import run_json

__all__ = ["endpoint"]

endpoint = Endpoints("runs")

_THREAD_RUNS = "/threads/{thread_id}/runs"
_RUN = _THREAD_RUNS + "/{run_id}"
_ERRORS = (400, 404, 409)
_CONTENT_LOCATION = {"Content-Location": "`/threads/{thread_id}/runs/{run_id}`"}
_LOCATIONS = {
    "Location": "Where to join the run (`.../join` or `.../stream`)",
    **_CONTENT_LOCATION,
}
_RUN_BODY = json_body(RunCreate, "run", required=True)
_PENDING = Reply("The run, pending", Run, headers=_CONTENT_LOCATION)
_OUTPUT = Reply("The run's output", RunOutput, headers=_LOCATIONS)
_EVENTS = Reply(
    "Server-sent events: `metadata` first, then one event per chunk of each "
    "requested stream mode, `error` if the run failed",
    StreamEvent,
    media_type="text/event-stream",
    headers=_LOCATIONS,
)
_WAITING = " (whitespace heartbeats precede the JSON while the run is going)"
# the reference's words, so code that matches on them keeps working
_CONTEXT_AND_CONFIGURABLE = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context "
    "was introduced in LangGraph 0.6.0 and is the long term planned replacement for "
    "configurable."
)


def _client_configurable(config: object) -> bool:
    """Whether the client sent `config.configurable`; the keys the auth guard puts there
    for the graph (`langgraph_auth_user`, ...) are the server's, not the client's."""
    configurable = config.get("configurable") if isinstance(config, dict) else None
    return isinstance(configurable, dict) and any(
        not key.startswith("langgraph_auth_") for key in configurable
    )


def _spec(b: RunCreate) -> RunSpec:
    if b.command is not None and b.input is not None:
        raise InvalidInput("Invalid run: pass either input or command, not both")
    if b.context and _client_configurable(b.config):
        raise BadRequest(_CONTEXT_AND_CONFIGURABLE)
    checkpoint_id = b.checkpoint_id or (b.checkpoint or {}).get("checkpoint_id")
    return RunSpec(
        assistant_id=b.assistant_id,
        input=b.input,
        command=b.command.model_dump(exclude_none=True) if b.command else None,
        stream_mode=tuple(b.stream_mode),
        stream_subgraphs=b.stream_subgraphs,
        stream_resumable=b.stream_resumable,
        metadata=b.metadata or {},
        config=b.config or {},
        context=b.context,
        checkpoint_id=checkpoint_id,
        interrupt_before=b.interrupt_before,
        interrupt_after=b.interrupt_after,
        multitask_strategy=b.multitask_strategy,  # None: the policy or hook decides
        if_not_exists=b.if_not_exists or "reject",
        on_completion=b.on_completion or "delete",
        after_seconds=b.after_seconds or 0.0,
        durability=b.durability,
        feedback_keys=b.feedback_keys,
    )


def _locations(thread_id: str, run_id: str, tail: str) -> dict[str, str]:
    base = f"/threads/{thread_id}/runs/{run_id}"
    return {"Location": base + tail, "Content-Location": base}


# -- the hot paths first: Starlette tries routes in declaration order -------------------


@endpoint(
    "POST", _THREAD_RUNS, "Create a run on the thread", ok=_PENDING, body=_RUN_BODY, errors=_ERRORS
)
@endpoint(
    "POST",
    "/runs",
    "Create a run on a new temporary thread",
    ok=_PENDING,
    body=_RUN_BODY,
    errors=_ERRORS,
)
async def create(api: Api, call: Call[RunCreate, None]) -> Response:
    spec = _spec(await call.body())
    run, _ = api.ex.create_run(call.path.get("thread_id"), spec)
    return json_response(
        run_json(run),
        headers={"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"},
    )


@endpoint(
    "POST",
    _THREAD_RUNS + "/wait",
    "Create a run and wait for its output" + _WAITING,
    ok=_OUTPUT,
    body=_RUN_BODY,
    errors=_ERRORS,
)
@endpoint(
    "POST",
    "/runs/wait",
    "Create a stateless run and wait for its output" + _WAITING,
    ok=_OUTPUT,
    body=_RUN_BODY,
    errors=_ERRORS,
)
async def wait(api: Api, call: Call[RunCreate, None]) -> Response:
    b = await call.body()
    run, _ = api.ex.create_run(call.path.get("thread_id"), _spec(b))
    return await wait_response(
        api.ex,
        run.thread_id,
        run.run_id,
        cancel_on_disconnect=b.on_disconnect == "cancel",
        headers=_locations(run.thread_id, run.run_id, "/join"),
    )


@endpoint(
    "POST",
    _THREAD_RUNS + "/stream",
    "Create a run and stream its events",
    ok=_EVENTS,
    body=_RUN_BODY,
    errors=_ERRORS,
)
@endpoint(
    "POST",
    "/runs/stream",
    "Create a stateless run and stream its events",
    ok=_EVENTS,
    body=_RUN_BODY,
    errors=_ERRORS,
)
async def stream(api: Api, call: Call[RunCreate, None]) -> Response:
    b = await call.body()
    spec = _spec(b)
    run, reader = api.ex.create_run(
        call.path.get("thread_id"), spec, stream_modes=set(spec.stream_mode)
    )
    events = run_events(
        api.ex,
        run.thread_id,
        run.run_id,
        reader,
        resumable=spec.stream_resumable,
        cancel_on_disconnect=b.on_disconnect == "cancel",
    )
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers=_locations(run.thread_id, run.run_id, "/stream"),
    )


@endpoint(
    "GET",
    _RUN + "/join",
    "Wait for a run's output (200 with an `__error__` body for an unknown run, like the reference)",
    ok=Reply("The run's output", RunOutput),
    errors=(404,),
)
async def join(api: Api, call: Call[None, None]) -> Response:
    tid, rid = call.path["thread_id"], call.path["run_id"]
    found = api.ex.store.find_run(rid)
    if found is None or found.thread_id != tid or api.ex.store.was_rolled_back(tid, rid):
        if found is not None and found.thread_id == tid and found.phase in ACTIVE:
            # a rollback in progress: answered once it is done, so whoever joins then
            # reads the thread as the rollback leaves it (docs/compatibility.md, y5)
            await api.ex.outcome(rid)
        return json_response(NO_RUN_BODY)  # the reference answers 200 even for unknown runs
    if found.phase not in ACTIVE:
        return json_response(await api.ex.join(tid, rid))
    return await wait_response(api.ex, tid, rid, cancel_on_disconnect=False)


@endpoint("GET", _RUN, "Get a run", ok=Reply("The run", Run), errors=(404,))
async def get(api: Api, call: Call[None, None]) -> Response:
    run = api.ex.store.get_run(call.path["thread_id"], call.path["run_id"])
    return json_response(run_json(run, api.ex.store))


# -- the rest ---------------------------------------------------------------------------


@endpoint(
    "GET",
    _THREAD_RUNS,
    "List the thread's runs, newest first",
    ok=Reply("Runs", list[Run]),
    query=RunListParams,
    errors=(404, 422),
)
async def list_runs(api: Api, call: Call[None, RunListParams]) -> Response:
    q = call.query
    runs = api.ex.store.list_runs(
        call.path["thread_id"], limit=q.limit, offset=q.offset, status=q.status
    )
    return json_response([run_json(r, api.ex.store) for r in runs])


@endpoint(
    "DELETE",
    _RUN,
    "Delete a finished run",
    ok={204: Reply("Done; no body")},
    errors=(404, 409),
)
async def delete(api: Api, call: Call[None, None]) -> Response:
    run = api.ex.store.get_run(call.path["thread_id"], call.path["run_id"])
    if run.phase in ACTIVE:
        raise Conflict(
            f"Run {run.run_id} is still {run.phase}; cancel it (runs.cancel) before deleting it"
        )
    api.ex.store.forget_run(run.run_id)
    # as the reference: the run's checkpoints go too, so the state rewinds to before it
    # when it was the thread's last run (a running successor refreshes the head itself)
    await api.ex.saver.adelete_for_runs([run.run_id], thread_id=run.thread_id)
    if not api.ex.store.active_runs(run.thread_id) and run.graph_id in api.ex.graphs:
        graph = api.ex.graphs.get(run.graph_id)
        await api.ex.threads.refresh_head_safely(run.thread_id, graph)
    return Response(status_code=204)


async def _run_not_found_events() -> AsyncIterator[bytes]:
    yield sse_frame("error", _serde.dumps(NO_RUN_BODY["__error__"]))


@endpoint(
    "GET",
    _RUN + "/stream",
    "Join a run's event stream",
    ok=_EVENTS,
    query=JoinStreamParams,
    headers={"Last-Event-ID": "Resume a resumable stream after this event id"},
    errors=(404, 422),
)
async def join_stream(api: Api, call: Call[None, JoinStreamParams]) -> Response:
    tid, rid = call.path["thread_id"], call.path["run_id"]
    found = api.ex.store.find_run(rid)
    if found is None or found.thread_id != tid or api.ex.store.was_rolled_back(tid, rid):
        # like the reference (and join): 200, and the stream says the run is not there
        return StreamingResponse(
            _run_not_found_events(),
            media_type="text/event-stream",
            headers=_locations(tid, rid, "/stream"),
        )
    # read raw, not through call.query: a bad cancel_on_disconnect answers 422 only
    # for a run that is there (the SDK sends an empty stream_mode for none)
    modes = [m for m in call.request.query_params.getlist("stream_mode") if m] or None
    last = call.request.headers.get("last-event-id")
    after = int(last) if last and last.isdigit() else None
    reader = api.ex.reader(tid, rid, set(modes) if modes else None, after)
    run = api.ex.store.get_run(tid, rid)
    events = run_events(
        api.ex,
        tid,
        rid,
        reader,
        resumable=bool(run.kwargs.get("resumable")),
        cancel_on_disconnect=call.query.cancel_on_disconnect,
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers=_locations(tid, rid, "/stream")
    )


@endpoint(
    "POST",
    _RUN + "/cancel",
    "Cancel a run",
    ok={
        202: Reply("Cancellation requested (wait=false); no body"),
        200: Reply("wait=true: the run's output once it stopped", RunOutput),
    },
    query=CancelParams,
    errors=(404, 409, 422),
)
async def cancel(api: Api, call: Call[None, CancelParams]) -> Response:
    q = call.query
    api.ex.cancel(call.path["thread_id"], call.path["run_id"], q.action)
    if not q.wait:
        return Response(status_code=202)
    body, _ = await api.ex.outcome(call.path["run_id"])
    return json_response({} if body is NO_RUN_BODY else body)


def _read_batch(raw: bytes) -> list[RunSpec]:
    body = raw or b"[]"
    refuse_nonfinite(body, "run batch")
    try:
        items = _serde.loads(body)
    except ValueError:
        raise InvalidInput(
            "Invalid run batch: the body is not valid JSON; send a JSON list of run payloads"
        ) from None
    if not isinstance(items, list):
        raise InvalidInput("Invalid run batch: the body must be a JSON list of run payloads")
    return [
        _spec(parse(RunCreate, _serde.dumps(item), f"run batch item {i}"))
        for i, item in enumerate(items)
    ]


@endpoint(
    "POST",
    "/runs/batch",
    "Create several stateless runs, all or nothing",
    ok=Reply("The runs, pending", list[Run]),
    body=Body(RunBatch, _read_batch, required=True),
    errors=_ERRORS,
)
async def batch(api: Api, call: Call[list[RunSpec], None]) -> Response:
    specs = await call.body()
    # all or nothing: every item is admitted (checked, its strategy chosen: the choose
    # hook may refuse it) before any run is created
    admitted = [api.ex.admit(None, spec) for spec in specs]
    created = [
        api.ex.create_run(None, s, admitted=a)[0] for s, a in zip(specs, admitted, strict=True)
    ]
    return json_response([run_json(r) for r in created])


@endpoint(
    "POST",
    "/runs/cancel",
    "Cancel runs by id (with thread_id) or by status",
    ok={204: Reply("Done; no body")},
    body=json_body(CancelMany, "cancel request"),
    query=CancelManyParams,
    errors=(404,),
)
async def cancel_many(api: Api, call: Call[CancelMany, CancelManyParams]) -> Response:
    action = call.query.action
    b = await call.body()
    if b.run_ids is not None and b.status is not None:
        raise InvalidInput(
            "Invalid cancel request: pass run_ids (with thread_id) or status, not both"
        )
    where = visible(call.request)
    threads = None
    if where is not None and b.thread_id is None:  # auth: only on the threads it may touch
        threads = {t.thread_id for t in api.ex.store.threads.values() if where(t.metadata)}
    api.ex.cancel_many(
        thread_id=b.thread_id, run_ids=b.run_ids, status=b.status, action=action, threads=threads
    )
    return Response(status_code=204)
