"""The HTTP API: LangGraph API server routes mapped onto the executor.

One implementation serves both the in-process client (through the bridge
transport) and `nbruns serve` (through uvicorn), so the two cannot drift.
Handlers validate, call the executor, and shape JSON; they decide nothing.
"""

from __future__ import annotations

import hmac
import warnings
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._core._errors import InvalidInput, NbrunsError, Unauthorized
from .._core._lifecycle import public_status
from .._engine import _serde
from .._engine._executor import Executor
from .._engine._runspec import is_uuid
from ._http import error_response, json_response, query_bool, query_int
from ._openapi import dist_version, openapi_document
from ._requests import (
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    HistoryQuery,
    StateCheckpointQuery,
    StateUpdate,
    ThreadCreate,
    ThreadPatch,
    ThreadSearch,
    parse,
)
from ._runs import RunsApi
from ._wire import (
    assistant_json,
    empty_state_json,
    run_json,
    state_json,
    thread_json,
    timeline_json,
)

__all__ = ["create_app"]


class _Api(RunsApi):
    """Meta, assistants, threads and the views' extensions; runs come from RunsApi."""

    # -- meta ---------------------------------------------------------------

    async def ok(self, request: Request) -> Response:
        return json_response({"ok": True})

    async def info(self, request: Request) -> Response:
        return json_response(
            {
                "version": dist_version("nbruns"),
                "langgraph_py_version": dist_version("langgraph"),
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
        return json_response(assistant_json(record))

    async def assistant_get(self, request: Request) -> Response:
        return json_response(assistant_json(self.ex.resolve_assistant(request.path_params["aid"])))

    async def assistant_patch(self, request: Request) -> Response:
        b = parse(AssistantPatch, await self.body(request), "assistant update")
        record = self.ex.update_assistant(request.path_params["aid"], **b.model_dump())
        return json_response(assistant_json(record))

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
        return json_response([assistant_json(a) for a in found])

    async def assistant_count(self, request: Request) -> Response:
        b = parse(AssistantSearch, await self.body(request), "assistant count")
        found = self.ex.store.search_assistants(
            graph_id=b.graph_id, name=b.name, metadata=b.metadata, limit=10**9
        )
        return json_response(len(found))

    async def assistant_graph(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        xray: bool | int = (
            query_bool(request, "xray")
            if request.query_params.get("xray", "false").lower() in ("true", "false", "0", "1")
            else query_int(request, "xray", 0)
        )
        graph = self.ex.graphs.get(record.graph_id).get_graph(xray=xray)
        return json_response(graph.to_json())

    async def assistant_schemas(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        graph = self.ex.graphs.get(record.graph_id)
        return json_response(
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
        return json_response({ns: {"graph_id": record.graph_id} for ns, _ in graph.get_subgraphs()})

    async def assistant_versions(self, request: Request) -> Response:
        record = self.ex.resolve_assistant(request.path_params["aid"])
        return json_response([assistant_json(record)])

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
        return json_response(self._thread(record))

    async def thread_get(self, request: Request) -> Response:
        return json_response(self._thread(self.ex.store.get_thread(request.path_params["tid"])))

    async def thread_patch(self, request: Request) -> Response:
        b = parse(ThreadPatch, await self.body(request), "thread update")
        return json_response(
            self._thread(self.ex.update_thread(request.path_params["tid"], b.metadata))
        )

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
        return json_response([self._thread(t) for t in found])

    async def thread_count(self, request: Request) -> Response:
        b = parse(ThreadSearch, await self.body(request), "thread count")
        found = self.ex.store.search_threads(
            metadata=b.metadata, values=b.values, ids=b.ids, status=b.status, limit=10**9
        )
        return json_response(len(found))

    async def thread_copy(self, request: Request) -> Response:
        return json_response(self._thread(await self.ex.copy_thread(request.path_params["tid"])))

    async def _state(self, thread_id: str, checkpoint_id: str | None, subgraphs: bool) -> Response:
        snapshot = await self.ex.get_state(thread_id, checkpoint_id, subgraphs=subgraphs)
        return json_response(empty_state_json() if snapshot is None else state_json(snapshot))

    async def state_get(self, request: Request) -> Response:
        return await self._state(request.path_params["tid"], None, query_bool(request, "subgraphs"))

    async def state_at(self, request: Request) -> Response:
        return await self._state(
            request.path_params["tid"],
            request.path_params["cid"],
            query_bool(request, "subgraphs"),
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
        return json_response(
            {
                "checkpoint": checkpoint,
                "configurable": checkpoint,
                "checkpoint_id": checkpoint["checkpoint_id"],
            }
        )

    async def history(self, request: Request) -> Response:
        if request.method == "GET":
            raw = dict(request.query_params)
            limit = query_int(request, "limit", 10, minimum=1)
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
        return json_response([state_json(s) for s in states])

    # -- nbruns extensions for views ----------------------------------------

    async def timeline(self, request: Request) -> Response:
        thread_id = request.query_params.get("thread_id")
        return json_response([timeline_json(e) for e in self.ex.store.timeline(thread_id)])

    async def all_runs(self, request: Request) -> Response:
        thread_id = request.query_params.get("thread_id")
        store = self.ex.store
        runs = store.runs.values() if thread_id is None else store.runs_of(thread_id)
        return json_response([run_json(r) for r in runs if public_status(r) is not None])


def _config_schema(graph: Any) -> Any:
    # LangGraph 1.x deprecates config schemas in favour of context schemas, but the
    # reference still reports one; keep the deprecation out of users' warning filters
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return graph.get_config_jsonschema()


_ID_PARAMS = {"tid": "thread", "rid": "run"}


def _check_ids(request: Request) -> None:
    for param, what in _ID_PARAMS.items():
        value = request.path_params.get(param)
        if value is not None and not is_uuid(value):
            raise InvalidInput(f"Invalid {what} ID: must be a UUID (got {value!r:.60})")


def _guard(handler: Callable[[Request], Any], api_key: str | None) -> Callable[[Request], Any]:
    """Turn nbruns errors into `{"detail"}` responses; check the API key and ids first."""

    expected = None if api_key is None else api_key.encode()

    async def endpoint(request: Request) -> Response:
        try:
            if expected is not None:
                given = request.headers.get("x-api-key", "")
                if not hmac.compare_digest(given.encode(), expected):
                    raise Unauthorized(
                        "Missing or wrong x-api-key header: this server was started with --api-key"
                    )
            _check_ids(request)
            return await handler(request)  # type: ignore[no-any-return]
        except NbrunsError as exc:
            return error_response(exc.status_code, exc.detail)

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
        return json_response(
            openapi_document(
                routes, graph_ids=executor.graphs.ids(), api_key_required=api_key is not None
            )
        )

    routes.append(Route("/openapi.json", _guard(openapi, api_key), methods=["GET"]))

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(
            404, f"Not found: {request.method} {request.url.path} is not an nbruns route"
        )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"Method {request.method} is not allowed on {request.url.path}")

    async def crashed(request: Request, exc: Exception) -> Response:
        return error_response(500, f"nbruns failed unexpectedly: {type(exc).__name__}: {exc}")

    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed, Exception: crashed},
    )
