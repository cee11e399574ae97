"""What the Playground asks the server once: the strategies it takes, the graph's input and nodes.

The strategies come from the server's OpenAPI document (every enum of a
`multitask_strategy` property), so strategies nbruns adds show up by
themselves; a server that does not describe them gets the SDK's four.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, get_args

from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import MultitaskStrategy

__all__ = ["STRATEGIES", "input_schema", "server_strategies"]

STRATEGIES: tuple[str, ...] = get_args(MultitaskStrategy)


def _enums(node: Any) -> Iterator[list[Any]]:
    """Every enum list under a `multitask_strategy` property, anywhere in a JSON document."""
    if isinstance(node, dict):
        prop = node.get("properties", {}).get("multitask_strategy")
        if isinstance(prop, dict):
            stack = [prop]
            while stack:
                part = stack.pop()
                if isinstance(part.get("enum"), list):
                    yield part["enum"]
                stack.extend(p for p in part.get("anyOf", ()) if isinstance(p, dict))
        for value in node.values():
            yield from _enums(value)
    elif isinstance(node, list):
        for value in node:
            yield from _enums(value)


async def server_strategies(client: LangGraphClient) -> tuple[str, ...]:
    """The multitask strategies the server declares, in its order; the SDK's four otherwise."""
    try:
        doc = await client.http.get("/openapi.json")
    except Exception:  # any server: one that does not describe itself gets the SDK's list
        return STRATEGIES
    found: list[str] = []
    for enum in _enums(doc):
        found += [s for s in enum if isinstance(s, str) and s not in found]
    return tuple(found) or STRATEGIES


async def input_schema(client: LangGraphClient, graph: str) -> dict[str, Any] | None:
    """The graph's input JSON schema, or None if the server has none for it."""
    try:
        schemas = await client.assistants.get_schemas(graph)
    except Exception:  # no schema: the Playground falls back to a `messages` input
        return None
    found = schemas.get("input_schema") if isinstance(schemas, dict) else None
    return found if isinstance(found, dict) else None
