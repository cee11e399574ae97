"""langgraph.json on every target: a graph factory called with each run's config, and a
graph's description on its system assistant."""

from __future__ import annotations

from typing import Any

import pytest


async def test_a_factory_graph_follows_each_runs_config(drv: Any) -> None:
    outs = []
    for suffix in ("one", "two"):
        thread = await drv.thread()
        outs.append(
            await drv.client.runs.wait(
                thread, "said", input={"text": "x"}, config={"configurable": {"suffix": suffix}}
            )
        )
        state = await drv.client.threads.get_state(thread)
        assert state["values"] == outs[-1]
        assert state["next"] == []
    assert outs == [{"text": "x one"}, {"text": "x two"}]
    stateless = await drv.client.runs.wait(None, "said", input={"text": "y"})
    assert stateless == {"text": "y (none)"}


async def test_a_factory_graph_has_schemas_and_a_drawing(drv: Any) -> None:
    (said,) = await drv.client.assistants.search(graph_id="said", metadata={"created_by": "system"})
    schemas = await drv.client.assistants.get_schemas(said["assistant_id"])
    assert schemas["graph_id"] == "said"
    assert schemas["state_schema"]["properties"]["text"]["type"] == "string"
    drawing = await drv.client.assistants.get_graph(said["assistant_id"])
    assert {node["id"] for node in drawing["nodes"]} == {"__start__", "say", "__end__"}


async def test_the_description_shows_on_the_system_assistant(drv: Any) -> None:
    (said,) = await drv.client.assistants.search(graph_id="said", metadata={"created_by": "system"})
    assert said["description"] == "Says the run's suffix"
    assert said["name"] == "said"


async def test_cors_loopback_pages_everywhere_other_origins_only_on_the_reference(
    drv: Any,
) -> None:
    if drv.name == "inprocess":
        pytest.skip("no browser page reaches the in-process server")
    local = "http://localhost:3000"
    preflight = await drv.http.options(
        "/threads",
        headers={
            "origin": local,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", local)
    info = await drv.http.get("/info", headers={"origin": local})
    assert info.headers["access-control-allow-origin"] in ("*", local)
    assert "x-pagination-total" in info.headers["access-control-expose-headers"]
    other = await drv.http.get("/info", headers={"origin": "https://elsewhere.example"})
    if drv.is_reference:  # `langgraph dev` allows every origin by default
        assert other.headers["access-control-allow-origin"] == "*"
    else:  # nbruns: only when configured (http.cors, --cors-origin)
        assert "access-control-allow-origin" not in other.headers
