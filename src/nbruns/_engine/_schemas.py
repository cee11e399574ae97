"""A graph's JSON schemas, as the reference server reports them, and never an exception.

Each schema is computed on its own: one that cannot be made (a `typing.TypedDict`
state on Python < 3.12, a type pydantic cannot describe) reads as null and the
others still come back.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.utils.pydantic import create_model_v2
from langgraph.pregel import Pregel
from pydantic import TypeAdapter

from .._core._errors import InvalidInput
from ._factories import GraphFactory

__all__ = ["graph_schemas", "subgraph_schemas"]

# configurable keys LangGraph fills in itself: not part of what a user configures
_INTERNAL_CONFIGURABLE = (
    "__pregel_checkpointer",
    "__pregel_store",
    "checkpoint_id",
    "checkpoint_ns",
    "thread_id",
)
_DEFAULT_NAME = "LangGraph"  # a graph nobody named


AnyGraph = Pregel[Any, Any, Any, Any] | GraphFactory


def graph_schemas(
    graph_id: str, graph: AnyGraph, config: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`GET /assistants/{id}/schemas`: the graph id and its five schemas; a factory makes
    the graph from `config` (the assistant's), as the reference's does."""
    graph = _made(graph, config)
    if graph.name == _DEFAULT_NAME:
        # an unnamed graph is named after its id, which titles its state schema
        graph = graph.copy(update={"name": graph_id})
    return {"graph_id": graph_id, **_schemas(graph)}


def subgraph_schemas(
    graph: AnyGraph,
    config: Mapping[str, Any] | None = None,
    *,
    namespace: str | None,
    recurse: bool,
) -> dict[str, dict[str, Any]]:
    """`GET /assistants/{id}/subgraphs[/{namespace}]`: namespace -> that subgraph's schemas."""
    try:
        found = list(_made(graph, config).get_subgraphs(namespace=namespace, recurse=recurse))
    except NotImplementedError:
        raise InvalidInput("The graph does not support listing its subgraphs") from None
    return {ns: _schemas(subgraph) for ns, subgraph in found}


def _made(graph: AnyGraph, config: Mapping[str, Any] | None) -> Pregel[Any, Any, Any, Any]:
    return graph.build_now(config) if isinstance(graph, GraphFactory) else graph


def _schemas(graph: Any) -> dict[str, Any]:  # a Pregel, or what get_subgraphs yields
    return {
        "input_schema": _or_none(graph.get_input_jsonschema),
        "output_schema": _or_none(graph.get_output_jsonschema),
        "state_schema": _or_none(lambda: _state_schema(graph)),
        "config_schema": _or_none(lambda: _configurable_schema(graph)),
        "context_schema": _or_none(graph.get_context_jsonschema),
    }


def _or_none(make: Callable[[], Any]) -> Any:
    # a schema that cannot be made is reported as missing, not as a failed request
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LangGraph 1.x deprecates config schemas
        try:
            return make()
        except Exception:
            return None


def _state_schema(graph: Pregel[Any, Any, Any, Any]) -> dict[str, Any]:
    """The channels a client sees in `values`, each typed by what it accepts, all optional."""
    fields: dict[str, Any] = {}
    for key in graph.stream_channels_list:
        channel: Any = graph.channels[key]
        update_type = channel.UpdateType
        fields[key] = (update_type if _describable(update_type) else Any, None)
    model = create_model_v2(graph.get_name("State"), field_definitions=fields)
    return model.model_json_schema()


def _describable(annotation: Any) -> bool:
    try:
        TypeAdapter(annotation).json_schema()
    except Exception:
        return False
    return True


def _configurable_schema(graph: Pregel[Any, Any, Any, Any]) -> dict[str, Any]:
    """Only the `configurable` part of the graph's config schema, without LangGraph's keys."""
    config_model = graph.config_schema()
    fields: dict[str, Any] = getattr(config_model, "model_fields", None) or {}
    if "configurable" not in fields:
        return {}
    configurable: Any = fields["configurable"].annotation
    schema: dict[str, Any] = TypeAdapter(configurable).json_schema()
    if schema:
        for key in _INTERNAL_CONFIGURABLE:
            schema.get("properties", {}).pop(key, None)
        config_type = getattr(graph, "config_type", None)
        if config_type is not None and hasattr(config_type, "__name__"):
            schema["title"] = config_type.__name__  # pydantic loses the type's own name
    return schema
