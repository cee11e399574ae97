"""The OpenAPI 3.1 document of the routes nbruns serves (`GET /openapi.json`).

Built from the app's routes, so a route is never served without being
described: each route made from an `Endpoint` declaration becomes the
operation that declaration describes; any other route still appears, with a
loose operation saying so (and `tests/served/test_openapi.py` fails).

Nothing here is written twice. Request schemas are the pydantic models of
`_requests`; response schemas are derived from the `_shapes` types the wire
builders return; parameters come from the declared query models. Pydantic
makes all of them in one pass, sharing their `$defs`, which become
`components/schemas`. Every error body is `{"detail": string}`.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter

from ._declare import Endpoint, EndpointRoute, Reply
from ._shapes import Error
from ._wire import dist_version

__all__ = ["openapi_document"]

Json = dict[str, Any]

_REF = "#/components/schemas/{model}"
_STR: Json = {"type": "string"}
_UUID: Json = {"type": "string", "format": "uuid"}
# path parameters the app checks to be UUIDs (422 when not) before any handler runs
_ID_PARAMS = ("thread_id", "run_id", "cron_id")

_ERROR_TEXT = {
    400: "The request's fields are each valid but do not fit together",
    401: "Missing or wrong x-api-key header (the server was started with --api-key)",
    404: "An id in the request names nothing (thread, run, cron, assistant or graph)",
    409: "The request is valid but the thread's runs forbid it",
    413: "The body is larger than the server's --max-body-bytes",
    422: "A field, query parameter or the body has a wrong value or type; the detail says what "
    "is allowed",
}


# -- schemas -------------------------------------------------------------------------------


class _Schemas:
    """Every body schema of some endpoints, made by pydantic in one pass."""

    def __init__(self, endpoints: Sequence[Endpoint]) -> None:
        # (key, mode, adapter): request bodies validate, answers serialize
        inputs: list[tuple[Any, Any, TypeAdapter[Any]]] = [
            ("error", "serialization", TypeAdapter(Error))
        ]
        for i, e in enumerate(endpoints):
            if e.body is not None:
                inputs.append(((i, "body"), "validation", TypeAdapter(e.body.shape)))
            for status, reply in e.ok.items():
                if reply.shape is not None:
                    inputs.append(((i, status), "serialization", TypeAdapter(reply.shape)))
        by_key, top = TypeAdapter.json_schemas(inputs, ref_template=_REF)
        self._by_key = {key: schema for (key, _mode), schema in by_key.items()}
        self.components: dict[str, Json] = top.get("$defs", {})

    def error(self) -> Json:
        return self._by_key["error"]

    def body(self, i: int) -> Json:
        return self._by_key[(i, "body")]

    def reply(self, i: int, status: int) -> Json:
        return self._by_key[(i, status)]


@functools.cache
def _schemas(endpoints: tuple[Endpoint, ...]) -> _Schemas:
    # the declarations are fixed once imported: make their schemas once per process
    return _Schemas(endpoints)


# -- parameters ----------------------------------------------------------------------------


def _path_parameter(name: str, graph_ids: Sequence[str]) -> Json:
    if name == "assistant_id":
        schema: Json = dict(_UUID)
        if graph_ids:
            schema = {"anyOf": [schema, {"type": "string", "enum": list(graph_ids)}]}
        description = "An assistant id (UUID) or the id of a served graph"
    elif name in _ID_PARAMS:
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


@functools.cache
def _query_parameters(model: type[BaseModel]) -> tuple[Json, ...]:
    """A query model's fields as parameters, each field's description the parameter's.

    Leaving a parameter out is how a client says "none" or "off", so neither null
    nor a default of null or false is documented.
    """
    model_schema = model.model_json_schema(ref_template=_REF)
    required = set(model_schema.get("required", ()))
    parameters = []
    for name, field in model_schema["properties"].items():
        schema = {k: v for k, v in field.items() if k not in ("title", "description")}
        default = schema.get("default", ...)
        if default is None or default is False:  # not 0: a page offset of 0 is worth saying
            del schema["default"]
        branches = [b for b in schema.pop("anyOf", ()) if b != {"type": "null"}]
        if len(branches) == 1:
            schema.update(branches[0])
        elif branches:
            schema["anyOf"] = branches
        parameter: Json = {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": schema,
            "description": field.get("description", name),
        }
        if schema.get("type") == "array":
            parameter |= {"style": "form", "explode": True}  # ?stream_mode=a&stream_mode=b
        parameters.append(parameter)
    return tuple(parameters)


def _header_parameter(name: str, description: str) -> Json:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": dict(_STR),
        "description": description,
    }


# -- operations ----------------------------------------------------------------------------


def _reply(reply: Reply, schema: Json | None) -> Json:
    out: Json = {"description": reply.description}
    if schema is not None:
        out["content"] = {reply.media_type: {"schema": schema}}
    headers = {name: (text, True) for name, text in reply.headers.items()}
    headers |= {name: (text, False) for name, text in reply.optional_headers.items()}
    if headers:
        out["headers"] = {
            name: {"description": text, "required": required, "schema": dict(_STR)}
            for name, (text, required) in headers.items()
        }
    return out


def _errors(codes: Iterable[int], schema: Json) -> Json:
    return {
        str(code): {
            "description": _ERROR_TEXT[code],
            "content": {"application/json": {"schema": schema}},
        }
        for code in sorted(set(codes))
    }


def _operation(
    i: int,
    e: Endpoint,
    schemas: _Schemas,
    *,
    graph_ids: Sequence[str],
    api_key_required: bool,
) -> Json:
    path_params = re.findall(r"\{([^}:]+)", e.path)
    operation: Json = {
        "summary": e.summary,
        "operationId": _operation_id(e.method, e.path),
        "tags": [e.tag],
    }
    parameters = [_path_parameter(n, graph_ids) for n in path_params]
    if e.query is not None:
        parameters += _query_parameters(e.query)
    parameters += [_header_parameter(n, text) for n, text in e.headers.items()]
    if parameters:
        operation["parameters"] = parameters
    errors = set(e.errors)
    if set(_ID_PARAMS) & set(path_params):
        errors |= {404, 422}  # unknown id; malformed (not a UUID) id
    if e.body is not None:
        operation["requestBody"] = {
            "required": e.body.required,
            "content": {"application/json": {"schema": schemas.body(i)}},
        }
        errors |= {413, 422}
    if api_key_required:
        errors.add(401)
    responses: Json = {
        str(status): _reply(reply, None if reply.shape is None else schemas.reply(i, status))
        for status, reply in e.ok.items()
    }
    responses.update(_errors(errors, schemas.error()))
    operation["responses"] = responses
    return operation


def _undescribed(
    method: str, path: str, graph_ids: Sequence[str], api_key_required: bool, schemas: _Schemas
) -> Json:
    """A loose operation for a route made without a declaration."""
    operation: Json = {
        "summary": "Served by nbruns but not declared as an Endpoint (nbruns/_api/_declare.py)",
        "operationId": _operation_id(method, path),
        "tags": ["undescribed"],
        "responses": {"200": {"description": "Undescribed response"}},
    }
    names = re.findall(r"\{([^}:]+)", path)
    if names:
        operation["parameters"] = [_path_parameter(n, graph_ids) for n in names]
    if api_key_required:
        operation["responses"].update(_errors({401}, schemas.error()))
    return operation


def _operation_id(method: str, path: str) -> str:
    words = re.sub(r"[{}]", "", path).strip("/").replace("/", "_").replace(".", "_") or "root"
    return f"{method.lower()}_{words}"


# -- the document --------------------------------------------------------------------------


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
    # mounts and websockets have no methods: nothing nbruns serves
    served = [r for r in routes if getattr(r, "path", None) and getattr(r, "methods", None)]
    declared = tuple(r.declared for r in served if isinstance(r, EndpointRoute))
    schemas = _schemas(declared)
    paths: dict[str, Json] = {}
    for route in served:
        path = re.sub(r"\{([^}:]+):[^}]*\}", r"{\1}", route.path)  # drop Starlette convertors
        item = paths.setdefault(path, {})
        if isinstance(route, EndpointRoute):
            e = route.declared
            item[e.method.lower()] = _operation(
                declared.index(e),
                e,
                schemas,
                graph_ids=graph_ids,
                api_key_required=api_key_required,
            )
            continue
        for method in sorted(m for m in route.methods if m != "HEAD"):
            item[method.lower()] = _undescribed(method, path, graph_ids, api_key_required, schemas)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "nbruns",
            "version": dist_version("nbruns"),
            "description": "LangGraph API server behaviour (threads, runs, multitask "
            'strategies) served by nbruns. Error bodies are {"detail": string}.',
        },
        "paths": paths,
        "components": {"schemas": schemas.components},
    }
    if api_key_required:
        document["components"]["securitySchemes"] = {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}
        }
        document["security"] = [{"ApiKey": []}]
    return copy.deepcopy(document)  # its schemas are cached: callers get their own
