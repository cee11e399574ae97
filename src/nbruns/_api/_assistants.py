"""Assistants: a served graph with its configuration. Graphs are fixed at startup."""

from __future__ import annotations

from starlette.responses import Response

from .._engine._schemas import graph_schemas, subgraph_schemas
from ._auth import visible
from ._declare import Api, Call, Endpoints, Reply, json_body
from ._http import PAGE_HEADERS, PAGE_NEXT_HEADER, json_response, page_of
from ._params import GraphParams, SubgraphParams
from ._requests import (
    AssistantCreate,
    AssistantPatch,
    AssistantSearch,
    AssistantVersionChange,
    AssistantVersionsSearch,
)
from ._shapes import Assistant, AssistantSchemas, AssistantVersion, Count, Graph, Subgraph
from ._wire import assistant_json, assistant_version_json

__all__ = ["endpoint"]

endpoint = Endpoints("assistants")
_PATH = "/assistants/{assistant_id}"
_EVERY = 10**9  # a search's matches, all of them: the page is cut after counting


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
    ok=Reply(
        "Matching assistants",
        list[Assistant],
        headers=PAGE_HEADERS,
        optional_headers=PAGE_NEXT_HEADER,
    ),
    body=json_body(AssistantSearch, "assistant search"),
)
async def search(api: Api, call: Call[AssistantSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.store.search_assistants(
        graph_id=b.graph_id,
        name=b.name,
        metadata=b.metadata,
        limit=_EVERY,
        offset=0,
        sort_by=b.sort_by or "created_at",
        sort_order=b.sort_order or "desc",
        where=visible(call.request),
    )
    page, headers = page_of(found, b.offset, b.limit)
    return json_response([assistant_json(a) for a in page], headers=headers)


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
        graph_id=b.graph_id,
        name=b.name,
        metadata=b.metadata,
        limit=_EVERY,
        where=visible(call.request),
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
    api.ex.crons.forget_assistant(record.assistant_id)  # first: none may fire on a gone assistant
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
    "The assistant's JSON schemas (each null when it cannot be made from the graph)",
    ok=Reply("Input, output, state, config and context schemas", AssistantSchemas),
    errors=(404,),
)
async def schemas(api: Api, call: Call[None, None]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    graph = api.ex.graphs.get(record.graph_id)
    return json_response(graph_schemas(record.graph_id, graph, record.config))


async def _subgraphs(api: Api, call: Call[None, SubgraphParams]) -> Response:
    record = api.ex.resolve_assistant(call.path["assistant_id"])
    graph = api.ex.graphs.get(record.graph_id)
    namespace = call.path.get("namespace")
    found = subgraph_schemas(graph, record.config, namespace=namespace, recurse=call.query.recurse)
    return json_response(found)


@endpoint(
    "GET",
    _PATH + "/subgraphs",
    "The assistant's subgraphs: namespace -> that subgraph's schemas",
    ok=Reply("Subgraphs", dict[str, Subgraph]),
    query=SubgraphParams,
    errors=(404, 422),
)
async def subgraphs(api: Api, call: Call[None, SubgraphParams]) -> Response:
    return await _subgraphs(api, call)


@endpoint(
    "GET",
    _PATH + "/subgraphs/{namespace}",
    "The assistant's subgraphs under one namespace (`parent|child` for a nested one; "
    "with recurse, the ones below it too)",
    ok=Reply("Subgraphs", dict[str, Subgraph]),
    query=SubgraphParams,
    errors=(404, 422),
)
async def subgraphs_in(api: Api, call: Call[None, SubgraphParams]) -> Response:
    return await _subgraphs(api, call)


@endpoint(
    "POST",
    _PATH + "/versions",
    "The assistant's versions, newest first (an update makes a new one)",
    ok=Reply("Versions", list[AssistantVersion]),
    body=json_body(AssistantVersionsSearch, "version search"),
    errors=(404,),
)
async def versions(api: Api, call: Call[AssistantVersionsSearch, None]) -> Response:
    b = await call.body()
    found = api.ex.assistants.versions(
        call.path["assistant_id"], metadata=b.metadata, limit=b.limit, offset=b.offset
    )
    return json_response([assistant_version_json(v) for v in found])


@endpoint(
    "POST",
    _PATH + "/latest",
    "Make one of the assistant's versions the one runs use",
    ok=Reply("The assistant at that version", Assistant),
    body=json_body(AssistantVersionChange, "version change", required=True),
    errors=(404,),
)
async def latest(api: Api, call: Call[AssistantVersionChange, None]) -> Response:
    b = await call.body()
    record = api.ex.assistants.set_latest(call.path["assistant_id"], b.version)
    return json_response(assistant_json(record))
