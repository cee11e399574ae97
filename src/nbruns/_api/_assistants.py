"""Assistants: a served graph with its configuration. Graphs are fixed at startup."""

from __future__ import annotations

from starlette.responses import Response

from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import json_response
from ._params import GraphParams
from ._requests import AssistantCreate, AssistantPatch, AssistantSearch
from ._shapes import Assistant, AssistantSchemas, Count, Graph, Subgraph
from ._wire import assistant_json, schemas_json, subgraphs_json

__all__ = ["endpoint"]

endpoint = Endpoints("assistants")
_PATH = "/assistants/{assistant_id}"


@endpoint(
    "POST",
    "/assistants",
    "Create an assistant for a served graph (graphs are fixed at startup; "
    "an unknown graph_id is a 404 listing them)",
    ok=Reply("The assistant", Assistant),
    body=json_body(AssistantCreate, "assistant", required=True),
    errors=(404, 409),
)
async def create(api: Api, call: Call[AssistantCreate, None]) -> Response:
    b = await call.body()
    record = api.ex.create_assistant(
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


@endpoint(
    "POST",
    "/assistants/search",
    "Search assistants",
    ok=Reply("Matching assistants", list[Assistant]),
    body=json_body(AssistantSearch, "assistant search"),
)
async def search(api: Api, call: Call[AssistantSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.store.search_assistants(
        graph_id=b.graph_id,
        name=b.name,
        metadata=b.metadata,
        limit=b.limit,
        offset=b.offset,
        sort_by=b.sort_by or "created_at",
        sort_order=b.sort_order or "desc",
    )
    return json_response([assistant_json(a) for a in found])


@endpoint(
    "POST",
    "/assistants/count",
    "Count assistants",
    ok=Reply("How many match", Count),
    body=json_body(AssistantSearch, "assistant count"),
)
async def count(api: Api, call: Call[AssistantSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.store.search_assistants(
        graph_id=b.graph_id, name=b.name, metadata=b.metadata, limit=10**9
    )
    return json_response(len(found))


@endpoint("GET", _PATH, "Get an assistant", ok=Reply("The assistant", Assistant), errors=(404,))
async def get(api: Api, call: Call[None, None]) -> Response:
    return json_response(assistant_json(api.ex.resolve_assistant(call.path["assistant_id"])))


@endpoint(
    "PATCH",
    _PATH,
    "Update an assistant",
    ok=Reply("The updated assistant", Assistant),
    body=json_body(AssistantPatch, "assistant update"),
    errors=(404,),
)
async def patch(api: Api, call: Call[AssistantPatch, None]) -> Response:
    changes = await call.body()
    record = api.ex.update_assistant(call.path["assistant_id"], **changes.model_dump())
    return json_response(assistant_json(record))


@endpoint("DELETE", _PATH, "Delete an assistant", ok={204: Reply("Done; no body")}, errors=(404,))
async def delete(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    api.ex.store.delete_assistant(record.assistant_id)
    return Response(status_code=204)


@endpoint(
    "GET",
    _PATH + "/graph",
    "The assistant's graph (nodes and edges)",
    ok=Reply("The graph", Graph),
    query=GraphParams,
    errors=(404, 422),
)
async def graph(api: Api, call: Call[None, GraphParams]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    xray = call.query.xray
    graph = api.ex.graphs.get(record.graph_id).get_graph(xray=xray)
    return json_response(graph.to_json())  # langchain's drawing, as the reference sends it


@endpoint(
    "GET",
    _PATH + "/schemas",
    "The assistant's JSON schemas",
    ok=Reply("Input, output, state, config and context schemas", AssistantSchemas),
    errors=(404,),
)
async def schemas(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    return json_response(schemas_json(record.graph_id, api.ex.graphs.get(record.graph_id)))


@endpoint(
    "GET",
    _PATH + "/subgraphs",
    "The assistant's subgraphs by namespace",
    ok=Reply("Subgraphs", dict[str, Subgraph]),
    errors=(404,),
)
async def subgraphs(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    return json_response(subgraphs_json(record.graph_id, api.ex.graphs.get(record.graph_id)))


@endpoint(
    "POST",
    _PATH + "/versions",
    "The assistant's versions (nbruns keeps one)",
    ok=Reply("Versions", list[Assistant]),
    errors=(404,),
)
async def versions(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    return json_response([assistant_json(record)])


@endpoint(
    "POST",
    _PATH + "/latest",
    "The assistant's latest version",
    ok=Reply("The assistant", Assistant),
    errors=(404,),
)
async def latest(api: Api, call: Call[None, None]) -> Response:
    return await get(api, call)
