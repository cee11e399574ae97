"""The HTTP API: LangGraph API server routes mapped onto the executor.

One implementation serves both the in-process client (through the bridge
transport) and `nbruns serve` (through uvicorn), so the two cannot drift.
Handlers validate, call the executor, and shape JSON; they decide nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import warnings
from collections.abc import AsyncIterator, Callable, Mapping
from importlib import metadata as _metadata
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import _serde
from ._core._lifecycle import ACTIVE
from ._errors import Conflict, InvalidInput, NbrunsError, PayloadTooLarge, Unauthorized
from ._executor import NO_RUN_BODY, Executor, RunSpec
from ._openapi import openapi_document
from ._requests import (
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    CancelMany,
    HistoryQuery,
    RunCreate,
    StateCheckpointQuery,
    StateUpdate,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    parse,
)
from ._runspec import is_uuid
from ._runstream import sse_frame
from ._types import CANCEL_ACTIONS
from ._wire import (
    assistant_json,
    empty_state_json,
    run_json,
    state_json,
    thread_json,
    timeline_json,
)

__all__ = ["create_app"]

_HEARTBEAT_SECONDS = 5.0


def _json(data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # join bodies are kept encoded: send those bytes as they are
    content = data if isinstance(data, bytes) else _serde.dumps(data)
    return Response(
        content, status_code=status_code, media_type="application/json", headers=headers
    )


def _error(status_code: int, detail: str) -> Response:
    return _json({"detail": detail}, status_code)


def _query_int(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            f"Invalid query parameter {name}: expected an integer, got {raw!r}"
        ) from None
    if value < minimum:
        raise InvalidInput(f"Invalid query parameter {name}: must be >= {minimum}, got {value}")
    return value


def _query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidInput(f"Invalid query parameter {name}: expected true or false, got {raw!r}")


def _query_action(request: Request) -> str:
    action = request.query_params.get("action", "interrupt")
    if action not in CANCEL_ACTIONS:
        raise InvalidInput(
            f"Invalid cancel action {action!r}: use 'interrupt' (keep the run's completed "
            "steps) or 'rollback' (delete the run and its checkpoints)"
        )
    return action


class _Api:
    def __init__(self, executor: Executor, *, max_body_bytes: int | None) -> None:
        self.ex = executor
        self.max_body_bytes = max_body_bytes

    async def body(self, request: Request) -> bytes:
        if self.max_body_bytes is not None:
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise PayloadTooLarge(
                    f"Request body is {declared} bytes; this server accepts at most "
                    f"{self.max_body_bytes} bytes"
                )
        raw = await request.body()
        if self.max_body_bytes is not None and len(raw) > self.max_body_bytes:
            raise PayloadTooLarge(
                f"Request body is over {self.max_body_bytes} bytes, the most this server accepts"
            )
        return raw

    # -- meta ---------------------------------------------------------------

    async def ok(self, request: Request) -> Response:
        return _json({"ok": True})

    async def info(self, request: Request) -> Response:
        return _json(
            {
                "version": _version("nbruns"),
                "langgraph_py_version": _version("langgraph"),
                "flags": {"assistants": True, "crons": False, "langsmith": False},
                "nbruns": True,
                "graphs": self.ex.graphs.ids(),
            }
        )

    # -- assistants ---------------------------------------------------------

    async def assistant_create(self, request: Request) -> Response:
        b = parse(AssistantCreate, await self.body(request), "assistant")
        record = self.ex.create_assistant(
            b.graph_id,
            assistant_id=b.assistant_id,
            config=b.config,
            context=b.context,
            metadata=b.metadata,
            if_exists=b.if_exists or "raise",
            name=b.name,
            description=b.description,
        )
        return _json(assistant_json(record))

    async def assistant_get(self, request: Request) -> Response:
        return _json(assistant_json(self.ex.resolve_assistant(request.path_params["aid"])))

    async def assistant_patch(self, request: Request) -> Response:
        b = parse(AssistantPatch, await self.body(request), "assistant update")
        record = self.ex.update_assistant(request.path_params["aid"], **b.model_dump())
        return _json(assistant_json(record))

    async def assistant_delete(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        self.ex.store.delete_assistant(record.assistant_id)
        return Response(status_code=204)

    async def assistant_search(self, request: Request) -> Response:
        b = parse(AssistantSearch, await self.body(request), "assistant search")
        found = self.ex.store.search_assistants(
            graph_id=b.graph_id,
            name=b.name,
            metadata=b.metadata,
            limit=b.limit,
            offset=b.offset,
            sort_by=b.sort_by or "created_at",
            sort_order=b.sort_order or "desc",
        )
        return _json([assistant_json(a) for a in found])

    async def assistant_count(self, request: Request) -> Response:
        b = parse(AssistantSearch, await self.body(request), "assistant count")
        found = self.ex.store.search_assistants(
            graph_id=b.graph_id, name=b.name, metadata=b.metadata, limit=10**9
        )
        return _json(len(found))

    async def assistant_graph(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        xray: bool | int = (
            _query_bool(request, "xray")
            if request.query_params.get("xray", "false").lower() in ("true", "false", "0", "1")
            else _query_int(request, "xray", 0)
        )
        graph = self.ex.graphs.get(record.graph_id).get_graph(xray=xray)
        return _json(graph.to_json())

    async def assistant_schemas(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        graph = self.ex.graphs.get(record.graph_id)
        return _json(
            {
                "graph_id": record.graph_id,
                "input_schema": graph.get_input_jsonschema(),
                "output_schema": graph.get_output_jsonschema(),
                "state_schema": graph.get_output_jsonschema(),
                "config_schema": _config_schema(graph),
                "context_schema": graph.get_context_jsonschema(),
            }
        )

    async def assistant_subgraphs(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        graph = self.ex.graphs.get(record.graph_id)
        return _json({ns: {"graph_id": record.graph_id} for ns, _ in graph.get_subgraphs()})

    async def assistant_versions(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        return _json([assistant_json(record)])

    async def assistant_latest(self, request: Request) -> Response:
        return await self.assistant_get(request)

    # -- threads ------------------------------------------------------------

    def _thread(self, record: Any) -> dict[str, Any]:
        return thread_json(self.ex.store, record)

    async def thread_create(self, request: Request) -> Response:
        b = parse(ThreadCreate, await self.body(request), "thread")
        record = self.ex.create_thread(
            thread_id=b.thread_id,
            metadata=b.metadata,
            if_exists=b.if_exists or "raise",
            graph_id=b.graph_id,
        )
        return _json(self._thread(record))

    async def thread_get(self, request: Request) -> Response:
        return _json(self._thread(self.ex.store.get_thread(request.path_params["tid"])))

    async def thread_patch(self, request: Request) -> Response:
        b = parse(ThreadPatch, await self.body(request), "thread update")
        return _json(self._thread(self.ex.update_thread(request.path_params["tid"], b.metadata)))

    async def thread_delete(self, request: Request) -> Response:
        await self.ex.delete_thread(request.path_params["tid"])
        return Response(status_code=204)

    async def thread_search(self, request: Request) -> Response:
        b = parse(ThreadSearch, await self.body(request), "thread search")
        found = self.ex.store.search_threads(
            metadata=b.metadata,
            values=b.values,
            ids=b.ids,
            status=b.status,
            limit=b.limit,
            offset=b.offset,
            sort_by=b.sort_by or "created_at",
            sort_order=b.sort_order or "desc",
        )
        return _json([self._thread(t) for t in found])

    async def thread_count(self, request: Request) -> Response:
        b = parse(ThreadSearch, await self.body(request), "thread count")
        found = self.ex.store.search_threads(
            metadata=b.metadata, ids=b.ids, status=b.status, limit=10**9
        )
        return _json(len(found))

    async def thread_copy(self, request: Request) -> Response:
        return _json(self._thread(await self.ex.copy_thread(request.path_params["tid"])))

    async def _state(self, thread_id: str, checkpoint_id: str | None, subgraphs: bool) -> Response:
        snapshot = await self.ex.get_state(thread_id, checkpoint_id, subgraphs=subgraphs)
        return _json(empty_state_json(thread_id) if snapshot is None else state_json(snapshot))

    async def state_get(self, request: Request) -> Response:
        return await self._state(
            request.path_params["tid"], None, _query_bool(request, "subgraphs")
        )

    async def state_at(self, request: Request) -> Response:
        return await self._state(
            request.path_params["tid"],
            request.path_params["cid"],
            _query_bool(request, "subgraphs"),
        )

    async def state_checkpoint(self, request: Request) -> Response:
        b = parse(StateCheckpointQuery, await self.body(request), "state query")
        return await self._state(
            request.path_params["tid"], b.checkpoint.get("checkpoint_id"), b.subgraphs
        )

    async def state_update(self, request: Request) -> Response:
        b = parse(StateUpdate, await self.body(request), "state update")
        checkpoint_id = b.checkpoint_id or (b.checkpoint or {}).get("checkpoint_id")
        configurable = await self.ex.update_state(
            request.path_params["tid"], b.values, as_node=b.as_node, checkpoint_id=checkpoint_id
        )
        checkpoint = {
            "thread_id": configurable["thread_id"],
            "checkpoint_ns": configurable.get("checkpoint_ns", ""),
            "checkpoint_id": configurable["checkpoint_id"],
        }
        return _json(
            {
                "checkpoint": checkpoint,
                "configurable": checkpoint,
                "checkpoint_id": checkpoint["checkpoint_id"],
            }
        )

    async def history(self, request: Request) -> Response:
        if request.method == "GET":
            raw = dict(request.query_params)
            limit = _query_int(request, "limit", 10, minimum=1)
            b = parse(
                HistoryQuery,
                _serde.dumps({"limit": limit, "before": raw.get("before")}),
                "history query",
            )
        else:
            b = parse(HistoryQuery, await self.body(request), "history query")
        before = (
            b.before.get("configurable", b.before).get("checkpoint_id")
            if isinstance(b.before, dict)
            else b.before
        )
        states = await self.ex.get_history(
            request.path_params["tid"],
            limit=b.limit,
            before=before,
            metadata=b.metadata,
            checkpoint_id=(b.checkpoint or {}).get("checkpoint_id"),
        )
        return _json([state_json(s) for s in states])

    # -- runs ---------------------------------------------------------------

    def _spec(self, b: RunCreate) -> RunSpec:
        if b.command is not None and b.input is not None:
            raise InvalidInput("Invalid run: pass either input or command, not both")
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
            multitask_strategy=b.multitask_strategy or "enqueue",
            if_not_exists=b.if_not_exists or "reject",
            on_completion=b.on_completion or "delete",
            after_seconds=b.after_seconds or 0.0,
            durability=b.durability,
            feedback_keys=b.feedback_keys,
        )

    async def _parse_run(self, request: Request) -> tuple[str | None, RunCreate, RunSpec]:
        thread_id = request.path_params.get("tid")
        b = parse(RunCreate, await self.body(request), "run")
        return thread_id, b, self._spec(b)

    @staticmethod
    def _run_headers(thread_id: str, run_id: str, tail: str) -> dict[str, str]:
        base = f"/threads/{thread_id}/runs/{run_id}"
        return {"Location": base + tail, "Content-Location": base}

    async def run_create(self, request: Request) -> Response:
        thread_id, _, spec = await self._parse_run(request)
        run, _ = self.ex.create_run(thread_id, spec)
        return _json(
            run_json(run),
            headers={"Content-Location": f"/threads/{run.thread_id}/runs/{run.run_id}"},
        )

    async def run_batch(self, request: Request) -> Response:
        try:
            raw = _serde.loads(await self.body(request) or b"[]")
        except ValueError:
            raise InvalidInput(
                "Invalid run batch: the body is not valid JSON; send a JSON list of run payloads"
            ) from None
        if not isinstance(raw, list):
            raise InvalidInput("Invalid run batch: the body must be a JSON list of run payloads")
        specs = [
            self._spec(parse(RunCreate, _serde.dumps(item), f"run batch item {i}"))
            for i, item in enumerate(raw)
        ]
        # all or nothing: every item must be creatable before any run is created
        for spec in specs:
            self.ex.check_run(None, spec)
        return _json([run_json(self.ex.create_run(None, s)[0]) for s in specs])

    async def run_wait(self, request: Request) -> Response:
        thread_id, b, spec = await self._parse_run(request)
        run, _ = self.ex.create_run(thread_id, spec)
        return await self._wait_response(
            run.thread_id,
            run.run_id,
            cancel_on_disconnect=b.on_disconnect == "cancel",
            headers=self._run_headers(run.thread_id, run.run_id, "/join"),
        )

    async def run_stream(self, request: Request) -> Response:
        thread_id, b, spec = await self._parse_run(request)
        run, reader = self.ex.create_run(thread_id, spec, stream_modes=set(spec.stream_mode))
        return StreamingResponse(
            self._sse(
                run.thread_id,
                run.run_id,
                reader,
                resumable=spec.stream_resumable,
                cancel_on_disconnect=b.on_disconnect == "cancel",
            ),
            media_type="text/event-stream",
            headers=self._run_headers(run.thread_id, run.run_id, "/stream"),
        )

    async def run_list(self, request: Request) -> Response:
        status = request.query_params.get("status")
        runs = self.ex.store.list_runs(
            request.path_params["tid"],
            limit=_query_int(request, "limit", 10, minimum=1),
            offset=_query_int(request, "offset", 0),
            status=status,
        )
        return _json([run_json(r) for r in runs])

    async def run_get(self, request: Request) -> Response:
        run = self.ex.store.get_run(request.path_params["tid"], request.path_params["rid"])
        return _json(run_json(run))

    async def run_delete(self, request: Request) -> Response:
        run = self.ex.store.get_run(request.path_params["tid"], request.path_params["rid"])
        if run.phase in ACTIVE:
            raise Conflict(
                f"Run {run.run_id} is still {run.phase}; cancel it (runs.cancel) before deleting it"
            )
        self.ex.store.forget_run(run.run_id)
        return Response(status_code=204)

    async def run_join(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        found = self.ex.store.find_run(rid)
        if found is None or found.thread_id != tid or self.ex.store.was_rolled_back(tid, rid):
            return _json(NO_RUN_BODY)  # the reference answers 200 even for unknown runs
        run = self.ex.store.get_run(tid, rid)
        if run.phase not in ACTIVE:
            return _json(await self.ex.join(tid, rid))
        return await self._wait_response(tid, rid, cancel_on_disconnect=False)

    async def run_join_stream(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        # the SDK sends an empty stream_mode when none was chosen
        modes = [m for m in request.query_params.getlist("stream_mode") if m] or None
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else None
        reader = self.ex.reader(tid, rid, set(modes) if modes else None, after)
        run = self.ex.store.get_run(tid, rid)
        return StreamingResponse(
            self._sse(
                tid,
                rid,
                reader,
                resumable=bool(run.kwargs.get("resumable")),
                cancel_on_disconnect=_query_bool(request, "cancel_on_disconnect"),
                metadata=False,
            ),
            media_type="text/event-stream",
            headers=self._run_headers(tid, rid, "/stream"),
        )

    async def run_cancel(self, request: Request) -> Response:
        tid, rid = request.path_params["tid"], request.path_params["rid"]
        action = _query_action(request)
        wait = _query_bool(request, "wait")
        self.ex.cancel(tid, rid, action)
        if not wait:
            return Response(status_code=202)
        body, _ = await self.ex.outcome(rid)
        return _json({} if body is NO_RUN_BODY else body)

    async def run_cancel_many(self, request: Request) -> Response:
        action = _query_action(request)
        b = parse(CancelMany, await self.body(request), "cancel request")
        if b.run_ids is not None and b.status is not None:
            raise InvalidInput(
                "Invalid cancel request: pass run_ids (with thread_id) or status, not both"
            )
        self.ex.cancel_many(
            thread_id=b.thread_id, run_ids=b.run_ids, status=b.status, action=action
        )
        return Response(status_code=204)

    # -- nbruns extensions for views ----------------------------------------

    async def timeline(self, request: Request) -> Response:
        thread_id = request.query_params.get("thread_id")
        return _json([timeline_json(e) for e in self.ex.store.timeline(thread_id)])

    async def all_runs(self, request: Request) -> Response:
        thread_id = request.query_params.get("thread_id")
        runs = [
            r for r in self.ex.store.runs.values() if thread_id is None or r.thread_id == thread_id
        ]
        return _json([run_json(r) for r in runs if run_json(r)["status"] is not None])

    # -- bodies that wait ---------------------------------------------------

    async def _wait_response(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """The run's final body; a plain response when it comes within a heartbeat interval
        (the common case), else a streamed one that keeps the connection alive meanwhile."""
        join = self.ex.outcome_future(run_id)  # shared: wait on it, never cancel it
        if not cancel_on_disconnect:
            # waiting here cannot notice a disconnect, so only when nobody asked to
            done, _ = await asyncio.wait({join}, timeout=_HEARTBEAT_SECONDS)
            if done:
                return _json(_final_body(*join.result()), headers=headers)
        return StreamingResponse(
            self._wait_body(thread_id, run_id, join, cancel_on_disconnect=cancel_on_disconnect),
            media_type="application/json",
            headers=headers,
        )

    async def _wait_body(
        self,
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
                    body = _final_body(*join.result())
                    yield body if isinstance(body, bytes) else _serde.dumps(body)
                    return
                yield b"\n"  # keeps proxies from timing out an idle response; JSON allows it
        finally:
            # the caller left before the run ended (the shared future stays untouched)
            if not join.done() and cancel_on_disconnect:
                _cancel_quietly(self.ex, thread_id, run_id)

    async def _sse(
        self,
        thread_id: str,
        run_id: str,
        reader: AsyncIterator[tuple[int, str, bytes]] | None,
        *,
        resumable: bool,
        cancel_on_disconnect: bool,
        metadata: bool = True,
    ) -> AsyncIterator[bytes]:
        finished = False
        try:
            if metadata:
                yield sse_frame("metadata", _serde.dumps({"run_id": run_id, "attempt": 1}))
            if reader is not None:
                async for event_id, event, data in reader:
                    yield sse_frame(event, data, event_id if resumable else None)
            finished = True
        finally:
            if reader is not None:
                await reader.aclose()  # type: ignore[attr-defined]
            if not finished and cancel_on_disconnect:
                _cancel_quietly(self.ex, thread_id, run_id)


def _config_schema(graph: Any) -> Any:
    # LangGraph 1.x deprecates config schemas in favour of context schemas, but the
    # reference still reports one; keep the deprecation out of users' warning filters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return graph.get_config_jsonschema()


def _final_body(body: Any, last_values: Any) -> Any:
    if body is NO_RUN_BODY:
        # rolled back under the caller: like the reference, answer with the last
        # values the run produced rather than an error
        return last_values if last_values is not None else {}
    return body


def _cancel_quietly(executor: Executor, thread_id: str, run_id: str) -> None:
    try:
        executor.cancel(thread_id, run_id, "interrupt")
    except NbrunsError:
        pass  # already finished: nothing to cancel


def _version(dist: str) -> str:
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return "unknown"


_ID_PARAMS = {"tid": "thread", "rid": "run"}


def _check_ids(request: Request) -> None:
    for param, what in _ID_PARAMS.items():
        value = request.path_params.get(param)
        if value is not None and not is_uuid(value):
            raise InvalidInput(f"Invalid {what} ID: must be a UUID (got {value!r:.60})")


def _guard(handler: Callable[[Request], Any], api_key: str | None) -> Callable[[Request], Any]:
    """Turn nbruns errors into `{"detail"}` responses; check the API key and ids first."""

    async def endpoint(request: Request) -> Response:
        try:
            if api_key is not None:
                given = request.headers.get("x-api-key", "")
                if not hmac.compare_digest(given.encode(), api_key.encode()):
                    raise Unauthorized(
                        "Missing or wrong x-api-key header: this server was started with --api-key"
                    )
            _check_ids(request)
            return await handler(request)  # type: ignore[no-any-return]
        except NbrunsError as exc:
            return _error(exc.status_code, exc.detail)

    return endpoint


def create_app(
    executor: Executor,
    *,
    api_key: str | None = None,
    max_body_bytes: int | None = None,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    api = _Api(executor, max_body_bytes=max_body_bytes)
    table: list[tuple[str, Callable[[Request], Any], list[str]]] = [
        # the hot paths first: Starlette tries routes in order
        ("/threads/{tid}/runs", api.run_create, ["POST"]),
        ("/threads/{tid}/runs/wait", api.run_wait, ["POST"]),
        ("/threads/{tid}/runs/stream", api.run_stream, ["POST"]),
        ("/threads/{tid}/runs/{rid}/join", api.run_join, ["GET"]),
        ("/threads/{tid}/runs/{rid}", api.run_get, ["GET"]),
        ("/ok", api.ok, ["GET"]),
        ("/info", api.info, ["GET"]),
        ("/assistants", api.assistant_create, ["POST"]),
        ("/assistants/search", api.assistant_search, ["POST"]),
        ("/assistants/count", api.assistant_count, ["POST"]),
        ("/assistants/{aid}", api.assistant_get, ["GET"]),
        ("/assistants/{aid}", api.assistant_patch, ["PATCH"]),
        ("/assistants/{aid}", api.assistant_delete, ["DELETE"]),
        ("/assistants/{aid}/graph", api.assistant_graph, ["GET"]),
        ("/assistants/{aid}/schemas", api.assistant_schemas, ["GET"]),
        ("/assistants/{aid}/subgraphs", api.assistant_subgraphs, ["GET"]),
        ("/assistants/{aid}/versions", api.assistant_versions, ["POST"]),
        ("/assistants/{aid}/latest", api.assistant_latest, ["POST"]),
        ("/threads", api.thread_create, ["POST"]),
        ("/threads/search", api.thread_search, ["POST"]),
        ("/threads/count", api.thread_count, ["POST"]),
        ("/threads/{tid}", api.thread_get, ["GET"]),
        ("/threads/{tid}", api.thread_patch, ["PATCH"]),
        ("/threads/{tid}", api.thread_delete, ["DELETE"]),
        ("/threads/{tid}/copy", api.thread_copy, ["POST"]),
        ("/threads/{tid}/state", api.state_get, ["GET"]),
        ("/threads/{tid}/state", api.state_update, ["POST"]),
        ("/threads/{tid}/state/checkpoint", api.state_checkpoint, ["POST"]),
        ("/threads/{tid}/state/{cid}", api.state_at, ["GET"]),
        ("/threads/{tid}/history", api.history, ["GET", "POST"]),
        ("/threads/{tid}/runs", api.run_list, ["GET"]),
        ("/threads/{tid}/runs/{rid}", api.run_delete, ["DELETE"]),
        ("/threads/{tid}/runs/{rid}/stream", api.run_join_stream, ["GET"]),
        ("/threads/{tid}/runs/{rid}/cancel", api.run_cancel, ["POST"]),
        ("/runs", api.run_create, ["POST"]),
        ("/runs/wait", api.run_wait, ["POST"]),
        ("/runs/stream", api.run_stream, ["POST"]),
        ("/runs/batch", api.run_batch, ["POST"]),
        ("/runs/cancel", api.run_cancel_many, ["POST"]),
        ("/nbruns/timeline", api.timeline, ["GET"]),
        ("/nbruns/runs", api.all_runs, ["GET"]),
    ]
    routes = [Route(path, _guard(fn, api_key), methods=methods) for path, fn, methods in table]
    routes.extend(extra_routes or [])

    async def openapi(request: Request) -> Response:
        return _json(
            openapi_document(
                routes, graph_ids=executor.graphs.ids(), api_key_required=api_key is not None
            )
        )

    routes.append(Route("/openapi.json", _guard(openapi, api_key), methods=["GET"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, f"Not found: {request.method} {request.url.path} is not an nbruns route")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _error(405, f"Method {request.method} is not allowed on {request.url.path}")

    async def crashed(request: Request, exc: Exception) -> Response:
        return _error(500, f"nbruns failed unexpectedly: {type(exc).__name__}: {exc}")

    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed, Exception: crashed},
    )
