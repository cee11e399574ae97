"""Schemas of a graph made by a factory: made from the assistant's config, as the reference does."""

from __future__ import annotations

from typing import Any

from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

import nbruns


class Small(TypedDict, total=False):
    a: str


class Large(TypedDict, total=False):
    a: str
    b: int


def factory(config: dict[str, Any]) -> Any:
    """A graph whose state depends on the config it is made with."""
    state = Large if config["configurable"].get("large") else Small
    builder = StateGraph(state)
    builder.add_node("n", lambda s: {})
    builder.add_edge(START, "n")
    return builder.compile()


async def test_a_factorys_schemas_come_from_the_assistants_config() -> None:
    with nbruns.Server(graphs={"made": factory}) as server:
        client = server.client()
        small = await client.assistants.get_schemas("made")
        assert small["graph_id"] == "made"
        assert list(small["input_schema"]["properties"]) == ["a"]
        assert small["state_schema"]["title"] == "made_state"
        large = await client.assistants.create("made", config={"configurable": {"large": True}})
        schemas = await client.assistants.get_schemas(large["assistant_id"])
        assert list(schemas["input_schema"]["properties"]) == ["a", "b"]
        assert await client.assistants.get_subgraphs(large["assistant_id"]) == {}
