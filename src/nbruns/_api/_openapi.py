"""The OpenAPI 3.1 document of the routes nbruns serves (`GET /openapi.json`).

Built from the app's route table, so a route is never served without being
described: each (method, path) gets its operation from `_OPERATIONS`; a route
missing there still appears, with a loose operation saying so (and
`tests/served/test_openapi.py` fails until it is described).

Request bodies are the pydantic models of `_requests` (their `$defs` hoisted
into `components/schemas`), narrowed where a validator is stricter than the
type (stream modes nbruns supports, `webhook` always null, UUID thread ids).
Response bodies are loose but truthful: the keys `_wire` always sends are
required, extra keys are allowed. Every error body is `{"detail": string}`.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata as _metadata
from typing import Any

from pydantic import BaseModel

from .._core._types import (
    CANCEL_ACTIONS,
    MULTITASK_STRATEGIES,
    STREAM_MODES,
    SUPPORTED_STREAM_MODES,
)
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
)

__all__ = ["dist_version", "openapi_document"]

Json = dict[str, Any]

# Starlette path parameter -> OpenAPI name (the reference server's names)
_PATH_PARAM_NAMES = {
    "tid": "thread_id",
    "rid": "run_id",
    "aid": "assistant_id",
    "cid": "checkpoint_id",
}

_RUN_STATUSES = ["pending", "running", "error", "success", "timeout", "interrupted"]
_THREAD_STATUSES = ["idle", "busy", "interrupted", "error"]

_ERROR_TEXT = {
    400: "The request's fields are each valid but do not fit together",
    401: "Missing or wrong x-api-key header (the server was started with --api-key)",
    404: "An id in the request names nothing (thread, run, assistant or graph)",
    409: "The request is valid but the thread's runs forbid it",
    413: "The body is larger than the server's --max-body-bytes",
    422: "A field, query parameter or the body has a wrong value or type; the detail says what "
    "is allowed",
}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Json) -> Json:
    return {"anyOf": [schema, {"type": "null"}]}


_STR = {"type": "string"}
_ANY: Json = {}
_OBJ = {"type": "object"}
_UUID = {"type": "string", "format": "uuid"}


# -- response schemas ---------------------------------------------------------------

_CHECKPOINT = {
    "type": "object",
    "required": ["thread_id", "checkpoint_ns", "checkpoint_id"],
    "properties": {
        "thread_id": _nullable(_STR),
        "checkpoint_ns": _STR,
        "checkpoint_id": _nullable(_STR),
        "checkpoint_map": _OBJ,
    },
}

_SSE_EVENT = {
    "description": "One server-sent event (OpenAPI 3.1 has no stream schema: this schema "
    "describes each event, as OpenAPI 3.2's itemSchema does)",
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {
            "type": "string",
            "description": "metadata, a stream mode (values, updates, messages, custom, ...; "
            "with `|namespace` for subgraphs), error, or end",
        },
        "data": {"type": "string", "contentMediaType": "application/json"},
        "id": {"type": "string", "description": "The event id, for resumable streams"},
    },
}

_RESPONSE_SCHEMAS: dict[str, Json] = {
    "Error": {
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    },
    "Assistant": {
        "type": "object",
        "required": [
            "assistant_id",
            "graph_id",
            "config",
            "metadata",
            "name",
            "version",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "assistant_id": _STR,
            "graph_id": _STR,
            "config": _nullable(_OBJ),
            "context": _ANY,
            "metadata": _nullable(_OBJ),
            "name": _nullable(_STR),
            "description": _nullable(_STR),
            "version": {"type": "integer"},
            "created_at": _STR,
            "updated_at": _STR,
        },
    },
    "Thread": {
        "type": "object",
        "required": ["thread_id", "created_at", "updated_at", "metadata", "status", "values"],
        "properties": {
            "thread_id": _STR,
            "created_at": _STR,
            "updated_at": _STR,
            "state_updated_at": _nullable(_STR),
            "metadata": _nullable(_OBJ),
            "config": _ANY,
            "status": {"type": "string", "enum": _THREAD_STATUSES},
            "values": _ANY,
            "interrupts": _ANY,
            "error": _ANY,
        },
    },
    "Checkpoint": _CHECKPOINT,
    "ThreadState": {
        "type": "object",
        "required": [
            "values",
            "next",
            "tasks",
            "metadata",
            "created_at",
            "checkpoint",
            "parent_checkpoint",
            "interrupts",
            "checkpoint_id",
            "parent_checkpoint_id",
        ],
        "properties": {
            "values": _ANY,
            "next": {"type": "array", "items": _STR},
            "tasks": {"type": "array", "items": _OBJ},
            "metadata": _nullable(_OBJ),
            "created_at": _nullable(_STR),
            "checkpoint": _nullable(_ref("Checkpoint")),
            "parent_checkpoint": _nullable(_ref("Checkpoint")),
            "interrupts": {"type": "array"},
            "checkpoint_id": _nullable(_STR),
            "parent_checkpoint_id": _nullable(_STR),
        },
    },
    "StateUpdated": {
        "type": "object",
        "required": ["checkpoint", "configurable", "checkpoint_id"],
        "properties": {
            "checkpoint": _ref("Checkpoint"),
            "configurable": _ref("Checkpoint"),
            "checkpoint_id": _STR,
        },
    },
    "Run": {
        "type": "object",
        "required": [
            "run_id",
            "thread_id",
            "assistant_id",
            "created_at",
            "updated_at",
            "status",
            "metadata",
            "kwargs",
            "multitask_strategy",
        ],
        "properties": {
            "run_id": _UUID,
            "thread_id": _STR,
            "assistant_id": _STR,
            "created_at": _STR,
            "updated_at": _STR,
            "status": {"type": "string", "enum": _RUN_STATUSES},
            "metadata": _OBJ,
            "kwargs": _OBJ,
            "multitask_strategy": {"type": "string", "enum": list(MULTITASK_STRATEGIES)},
            "cancel_reason": _nullable(_STR),
            "started_at": _nullable(_STR),
            "ended_at": _nullable(_STR),
            "superseded_by": _nullable(_STR),
        },
    },
    "TimelineEvent": {
        "type": "object",
        "required": ["seq", "at", "thread_id", "run_id", "kind"],
        "properties": {
            "seq": {"type": "integer"},
            "at": _STR,
            "thread_id": _STR,
            "run_id": _nullable(_STR),
            "kind": _STR,
        },
    },
    "Info": {
        "type": "object",
        "required": ["version", "flags"],
        "properties": {
            "version": _STR,
            "langgraph_py_version": _STR,
            "flags": _OBJ,
            "nbruns": {"type": "boolean"},
            "graphs": {"type": "array", "items": _STR},
        },
    },
    "StreamEvent": _SSE_EVENT,
    "RunOutput": {
        "description": "The run's final values; a failed run's is "
        '{"__error__": {"error": ..., "message": ...}}; {} when it was rolled back',
    },
    "AssistantSchemas": {
        "type": "object",
        "required": ["graph_id", "input_schema", "output_schema", "state_schema"],
        "properties": {
            "graph_id": _STR,
            "input_schema": _ANY,
            "output_schema": _ANY,
            "state_schema": _ANY,
            "config_schema": _ANY,
            "context_schema": _ANY,
        },
    },
    "Graph": {
        "type": "object",
        "required": ["nodes", "edges"],
        "properties": {
            "nodes": {"type": "array", "items": _OBJ},
            "edges": {"type": "array", "items": _OBJ},
        },
    },
}


# -- request body schemas -------------------------------------------------------------


def _narrow(schema: Any) -> Any:
    """Make pydantic's schema as strict as the validators: only supported stream modes."""
    if isinstance(schema, dict):
        out = {k: _narrow(v) for k, v in schema.items()}
        if out.get("enum") and sorted(out["enum"]) == sorted(STREAM_MODES):
            out["enum"] = list(SUPPORTED_STREAM_MODES)
        return out
    if isinstance(schema, list):
        return [_narrow(v) for v in schema]
    return schema


def _model_schema(model: type[BaseModel], components: dict[str, Json]) -> Json:
    if model.__name__ in components:  # several routes share a body model: build it once
        return _ref(model.__name__)
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in schema.pop("$defs", {}).items():
        components.setdefault(name, _narrow(sub))
    schema = _narrow(schema)
    props = schema.get("properties", {})
    if model is RunCreate:
        props["webhook"] = {"type": "null", "description": "webhooks are not supported"}
    if model is ThreadCreate:
        props["thread_id"] = _nullable(_UUID)
    components[model.__name__] = schema
    return _ref(model.__name__)


# -- operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    summary: str
    tag: str
    ok: Mapping[int, Json]  # status -> response object
    body: type[BaseModel] | str | None = None  # a model, "RunBatch", or None
    query: Sequence[Json] = ()
    headers: Sequence[Json] = ()
    errors: Sequence[int] = ()
    body_required: bool = False


def _json_response(description: str, schema: Json, headers: Json | None = None) -> Json:
    out: Json = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _array(name: str) -> Json:
    return {"type": "array", "items": _ref(name)}


_SSE = {
    "description": "Server-sent events: `metadata` first, then one event per chunk of each "
    "requested stream mode, `error` if the run failed",
    "content": {"text/event-stream": {"schema": _ref("StreamEvent")}},
}

_NO_CONTENT = {"description": "Done; no body"}


def _header(description: str) -> Json:
    return {"description": description, "required": True, "schema": _STR}


_CONTENT_LOCATION = {"Content-Location": _header("`/threads/{thread_id}/runs/{run_id}`")}
_RUN_LOCATIONS = {
    "Location": _header("Where to join the run (`.../join` or `.../stream`)"),
    "Content-Location": _header("`/threads/{thread_id}/runs/{run_id}`"),
}


def _q(name: str, schema: Json, description: str, **extra: Any) -> Json:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
        **extra,
    }


_BOOL_Q = {"type": "boolean"}
_LIMIT = _q("limit", {"type": "integer", "minimum": 1, "default": 10}, "Page size")
_OFFSET = _q("offset", {"type": "integer", "minimum": 0, "default": 0}, "Rows to skip")
_ACTION = _q(
    "action",
    {"type": "string", "enum": list(CANCEL_ACTIONS), "default": "interrupt"},
    "interrupt: keep the run's completed steps; rollback: delete the run and its checkpoints",
)
_SUBGRAPHS = _q("subgraphs", _BOOL_Q, "Include subgraph states")

_RUN_ERRORS = (400, 404, 409, 413, 422)
_BODY_ERRORS = (413, 422)


def _run_create(summary: str) -> _Op:
    return _Op(
        summary,
        "runs",
        {200: _json_response("The run, pending", _ref("Run"), _CONTENT_LOCATION)},
        body=RunCreate,
        body_required=True,
        errors=_RUN_ERRORS,
    )


def _run_wait(summary: str) -> _Op:
    return _Op(
        summary + " (whitespace heartbeats precede the JSON while the run is going)",
        "runs",
        {200: _json_response("The run's output", _ref("RunOutput"), _RUN_LOCATIONS)},
        body=RunCreate,
        body_required=True,
        errors=_RUN_ERRORS,
    )


def _run_stream(summary: str) -> _Op:
    return _Op(
        summary,
        "runs",
        {200: {**_SSE, "headers": _RUN_LOCATIONS}},
        body=RunCreate,
        body_required=True,
        errors=_RUN_ERRORS,
    )


_OPERATIONS: dict[tuple[str, str], _Op] = {
    ("GET", "/ok"): _Op(
        "Health check",
        "meta",
        {
            200: _json_response(
                "The server is up",
                {"type": "object", "required": ["ok"], "properties": {"ok": {"const": True}}},
            )
        },
    ),
    ("GET", "/info"): _Op(
        "Server versions, flags and served graph ids",
        "meta",
        {200: _json_response("Server information", _ref("Info"))},
    ),
    ("GET", "/openapi.json"): _Op(
        "This document", "meta", {200: _json_response("OpenAPI 3.1 document", _OBJ)}
    ),
    # assistants
    ("POST", "/assistants"): _Op(
        "Create an assistant for a served graph (graphs are fixed at startup; "
        "an unknown graph_id is a 404 listing them)",
        "assistants",
        {200: _json_response("The assistant", _ref("Assistant"))},
        body=AssistantCreate,
        body_required=True,
        errors=(404, 409, *_BODY_ERRORS),
    ),
    ("POST", "/assistants/search"): _Op(
        "Search assistants",
        "assistants",
        {200: _json_response("Matching assistants", _array("Assistant"))},
        body=AssistantSearch,
        errors=_BODY_ERRORS,
    ),
    ("POST", "/assistants/count"): _Op(
        "Count assistants",
        "assistants",
        {200: _json_response("How many match", {"type": "integer", "minimum": 0})},
        body=AssistantSearch,
        errors=_BODY_ERRORS,
    ),
    ("GET", "/assistants/{aid}"): _Op(
        "Get an assistant",
        "assistants",
        {200: _json_response("The assistant", _ref("Assistant"))},
        errors=(404,),
    ),
    ("PATCH", "/assistants/{aid}"): _Op(
        "Update an assistant",
        "assistants",
        {200: _json_response("The updated assistant", _ref("Assistant"))},
        body=AssistantPatch,
        errors=(404, *_BODY_ERRORS),
    ),
    ("DELETE", "/assistants/{aid}"): _Op(
        "Delete an assistant", "assistants", {204: _NO_CONTENT}, errors=(404,)
    ),
    ("GET", "/assistants/{aid}/graph"): _Op(
        "The assistant's graph (nodes and edges)",
        "assistants",
        {200: _json_response("The graph", _ref("Graph"))},
        query=(
            _q(
                "xray",
                {"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 0}]},
                "Include subgraphs (true, or how many levels deep)",
            ),
        ),
        errors=(404, 422),
    ),
    ("GET", "/assistants/{aid}/schemas"): _Op(
        "The assistant's JSON schemas",
        "assistants",
        {
            200: _json_response(
                "Input, output, state, config and context schemas", _ref("AssistantSchemas")
            )
        },
        errors=(404,),
    ),
    ("GET", "/assistants/{aid}/subgraphs"): _Op(
        "The assistant's subgraphs by namespace",
        "assistants",
        {200: _json_response("Subgraphs", _OBJ)},
        errors=(404,),
    ),
    ("POST", "/assistants/{aid}/versions"): _Op(
        "The assistant's versions (nbruns keeps one)",
        "assistants",
        {200: _json_response("Versions", _array("Assistant"))},
        errors=(404,),
    ),
    ("POST", "/assistants/{aid}/latest"): _Op(
        "The assistant's latest version",
        "assistants",
        {200: _json_response("The assistant", _ref("Assistant"))},
        errors=(404,),
    ),
    # threads
    ("POST", "/threads"): _Op(
        "Create a thread",
        "threads",
        {200: _json_response("The thread", _ref("Thread"))},
        body=ThreadCreate,
        errors=(404, 409, *_BODY_ERRORS),
    ),
    ("POST", "/threads/search"): _Op(
        "Search threads",
        "threads",
        {200: _json_response("Matching threads", _array("Thread"))},
        body=ThreadSearch,
        errors=_BODY_ERRORS,
    ),
    ("POST", "/threads/count"): _Op(
        "Count threads",
        "threads",
        {200: _json_response("How many match", {"type": "integer", "minimum": 0})},
        body=ThreadSearch,
        errors=_BODY_ERRORS,
    ),
    ("GET", "/threads/{tid}"): _Op(
        "Get a thread",
        "threads",
        {200: _json_response("The thread", _ref("Thread"))},
        errors=(404,),
    ),
    ("PATCH", "/threads/{tid}"): _Op(
        "Update a thread's metadata",
        "threads",
        {200: _json_response("The updated thread", _ref("Thread"))},
        body=ThreadPatch,
        errors=(404, *_BODY_ERRORS),
    ),
    ("DELETE", "/threads/{tid}"): _Op(
        "Delete a thread (its in-flight runs are cancelled first)",
        "threads",
        {204: _NO_CONTENT},
        errors=(404,),
    ),
    ("POST", "/threads/{tid}/copy"): _Op(
        "Copy a thread with its checkpoints",
        "threads",
        {200: _json_response("The copy", _ref("Thread"))},
        errors=(404, 409),
    ),
    ("GET", "/threads/{tid}/state"): _Op(
        "The thread's current state",
        "threads",
        {
            200: _json_response(
                "The state (empty for a thread with no checkpoint)", _ref("ThreadState")
            )
        },
        query=(_SUBGRAPHS,),
        errors=(404, 422),
    ),
    ("POST", "/threads/{tid}/state"): _Op(
        "Update the thread's state",
        "threads",
        {200: _json_response("The new checkpoint", _ref("StateUpdated"))},
        body=StateUpdate,
        errors=(400, 404, 409, *_BODY_ERRORS),
    ),
    ("POST", "/threads/{tid}/state/checkpoint"): _Op(
        "The thread's state at a checkpoint",
        "threads",
        {200: _json_response("The state", _ref("ThreadState"))},
        body=StateCheckpointQuery,
        errors=(404, *_BODY_ERRORS),
    ),
    ("GET", "/threads/{tid}/state/{cid}"): _Op(
        "The thread's state at a checkpoint id",
        "threads",
        {200: _json_response("The state (empty for an unknown checkpoint)", _ref("ThreadState"))},
        query=(_SUBGRAPHS,),
        errors=(404, 422),
    ),
    ("GET", "/threads/{tid}/history"): _Op(
        "The thread's checkpoints, newest first",
        "threads",
        {200: _json_response("States", _array("ThreadState"))},
        query=(
            _q(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 10000, "default": 10},
                "How many states",
            ),
            _q("before", _STR, "Only checkpoints before this checkpoint id"),
        ),
        errors=(404, 422),
    ),
    ("POST", "/threads/{tid}/history"): _Op(
        "The thread's checkpoints, newest first",
        "threads",
        {200: _json_response("States", _array("ThreadState"))},
        body=HistoryQuery,
        errors=(404, *_BODY_ERRORS),
    ),
    # runs on a thread
    ("POST", "/threads/{tid}/runs"): _run_create("Create a run on the thread"),
    ("GET", "/threads/{tid}/runs"): _Op(
        "List the thread's runs, newest first",
        "runs",
        {200: _json_response("Runs", _array("Run"))},
        query=(
            _LIMIT,
            _OFFSET,
            _q("status", {"type": "string", "enum": _RUN_STATUSES}, "Only runs with this status"),
        ),
        errors=(404, 422),
    ),
    ("POST", "/threads/{tid}/runs/wait"): _run_wait("Create a run and wait for its output"),
    ("POST", "/threads/{tid}/runs/stream"): _run_stream("Create a run and stream its events"),
    ("GET", "/threads/{tid}/runs/{rid}"): _Op(
        "Get a run", "runs", {200: _json_response("The run", _ref("Run"))}, errors=(404,)
    ),
    ("DELETE", "/threads/{tid}/runs/{rid}"): _Op(
        "Delete a finished run", "runs", {204: _NO_CONTENT}, errors=(404, 409)
    ),
    ("GET", "/threads/{tid}/runs/{rid}/join"): _Op(
        "Wait for a run's output (200 with an `__error__` body for an unknown run, "
        "like the reference)",
        "runs",
        {200: _json_response("The run's output", _ref("RunOutput"))},
        errors=(404,),
    ),
    ("GET", "/threads/{tid}/runs/{rid}/stream"): _Op(
        "Join a run's event stream",
        "runs",
        {200: {**_SSE, "headers": _RUN_LOCATIONS}},
        query=(
            _q(
                "stream_mode",
                {
                    "type": "array",
                    "items": {"type": "string", "enum": list(SUPPORTED_STREAM_MODES)},
                },
                "Only these stream modes (repeat the parameter)",
                style="form",
                explode=True,
            ),
            _q("cancel_on_disconnect", _BOOL_Q, "Cancel the run if this stream is closed"),
        ),
        headers=(
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "schema": _STR,
                "description": "Resume a resumable stream after this event id",
            },
        ),
        errors=(404, 422),
    ),
    ("POST", "/threads/{tid}/runs/{rid}/cancel"): _Op(
        "Cancel a run",
        "runs",
        {
            202: {"description": "Cancellation requested (wait=false); no body"},
            200: _json_response("wait=true: the run's output once it stopped", _ref("RunOutput")),
        },
        query=(_q("wait", _BOOL_Q, "Answer once the run has stopped"), _ACTION),
        errors=(404, 409, 422),
    ),
    # stateless runs and many runs
    ("POST", "/runs"): _run_create("Create a run on a new temporary thread"),
    ("POST", "/runs/wait"): _run_wait("Create a stateless run and wait for its output"),
    ("POST", "/runs/stream"): _run_stream("Create a stateless run and stream its events"),
    ("POST", "/runs/batch"): _Op(
        "Create several stateless runs, all or nothing",
        "runs",
        {200: _json_response("The runs, pending", _array("Run"))},
        body="RunBatch",
        body_required=True,
        errors=_RUN_ERRORS,
    ),
    ("POST", "/runs/cancel"): _Op(
        "Cancel runs by id (with thread_id) or by status",
        "runs",
        {204: _NO_CONTENT},
        body=CancelMany,
        query=(_ACTION,),
        errors=(404, *_BODY_ERRORS),
    ),
    # nbruns extensions
    ("GET", "/nbruns/timeline"): _Op(
        "nbruns only: lifecycle events in order",
        "nbruns",
        {200: _json_response("Events", _array("TimelineEvent"))},
        query=(_q("thread_id", _STR, "Only this thread's events"),),
        errors=(404,),
    ),
    ("GET", "/nbruns/runs"): _Op(
        "nbruns only: every visible run, all threads",
        "nbruns",
        {200: _json_response("Runs", _array("Run"))},
        query=(_q("thread_id", _STR, "Only this thread's runs"),),
    ),
}

_UNDESCRIBED = _Op(
    "Served by nbruns but not yet described in nbruns/_openapi.py",
    "undescribed",
    {200: {"description": "Undescribed response"}},
)


# -- assembly --------------------------------------------------------------------------


def _route_rows(routes: Iterable[Any]) -> list[tuple[str, list[str]]]:
    """(path, methods) of Starlette routes."""
    rows = []
    for route in routes:
        path, methods = getattr(route, "path", None), getattr(route, "methods", None)
        if path is None or not methods:
            continue  # mounts, websockets: nothing nbruns serves
        rows.append((path, sorted(m for m in methods if m != "HEAD")))
    return rows


def _openapi_path(path: str) -> tuple[str, list[str]]:
    names: list[str] = []

    def rename(match: re.Match[str]) -> str:
        raw = match.group(1).split(":", 1)[0]  # drop a Starlette convertor
        name = _PATH_PARAM_NAMES.get(raw, raw)
        names.append(name)
        return "{" + name + "}"

    return re.sub(r"\{([^}]+)\}", rename, path), names


def _path_parameter(name: str, graph_ids: Sequence[str]) -> Json:
    if name == "assistant_id":
        schema: Json = {"type": "string", "format": "uuid"}
        if graph_ids:
            schema = {"anyOf": [schema, {"type": "string", "enum": list(graph_ids)}]}
        description = "An assistant id (UUID) or the id of a served graph"
    elif name in ("thread_id", "run_id"):
        schema, description = dict(_UUID), f"The {name.split('_')[0]}'s UUID"
    elif name == "checkpoint_id":
        schema, description = dict(_STR), "A checkpoint id"
    else:
        schema, description = dict(_STR), name
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _error_responses(codes: Iterable[int]) -> Json:
    return {
        str(code): {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for code in sorted(set(codes))
    }


def openapi_document(
    routes: Iterable[Any],
    *,
    graph_ids: Sequence[str] = (),
    api_key_required: bool = False,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for `routes` (Starlette routes).

    `graph_ids` lets `assistant_id` path parameters name a served graph;
    `api_key_required` adds the `x-api-key` security scheme and a 401 to every
    operation (nbruns checks the key before anything else, on every route).
    """
    components: dict[str, Json] = copy.deepcopy(_RESPONSE_SCHEMAS)
    batch = {"type": "array", "items": _model_schema(RunCreate, components)}
    components["RunBatch"] = batch
    paths: dict[str, Json] = {}
    for path, methods in _route_rows(routes):
        api_path, params = _openapi_path(path)
        item = paths.setdefault(api_path, {})
        for method in methods:
            op = _OPERATIONS.get((method, path), _UNDESCRIBED)
            operation: Json = {
                "summary": op.summary,
                "operationId": _operation_id(method, api_path),
                "tags": [op.tag],
            }
            parameters = [_path_parameter(n, graph_ids) for n in params]
            parameters += [copy.deepcopy(q) for q in (*op.query, *op.headers)]
            if parameters:
                operation["parameters"] = parameters
            errors = set(op.errors)
            if {"thread_id", "run_id"} & set(params):
                errors |= {404, 422}  # unknown id; malformed (not a UUID) id
            if op.body is not None:
                ref = (
                    _ref(op.body)
                    if isinstance(op.body, str)
                    else _model_schema(op.body, components)
                )
                operation["requestBody"] = {
                    "required": op.body_required,
                    "content": {"application/json": {"schema": ref}},
                }
                errors |= {413, 422}
            if api_key_required:
                errors.add(401)
            responses: Json = {str(status): copy.deepcopy(r) for status, r in op.ok.items()}
            responses.update(_error_responses(errors))
            operation["responses"] = responses
            item[method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "nbruns",
            "version": dist_version("nbruns"),
            "description": "LangGraph API server behaviour (threads, runs, multitask "
            'strategies) served by nbruns. Error bodies are {"detail": string}.',
        },
        "paths": paths,
        "components": {"schemas": components},
    }
    if api_key_required:
        document["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}
        }
        document["security"] = [{"ApiKey": []}]
    return document


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[{}]", "", path).strip("/").replace("/", "_").replace(".", "_") or "root"
    return f"{method.lower()}_{words}"


@functools.cache
def dist_version(dist: str) -> str:
    """An installed distribution's version ("unknown" if absent); fixed for the process."""
    try:
        return _metadata.version(dist)
    except _metadata.PackageNotFoundError:
        return "unknown"
