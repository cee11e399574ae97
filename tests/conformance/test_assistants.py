"""Assistant versions, schemas and subgraphs, on every target.

Graphs: `reference_app/assistant_graphs.py`. The reference accepts only assistant UUIDs
on the schema and subgraph endpoints, so the tests use the system assistants' ids.
Where nbruns deliberately differs (`set_latest` restores the whole version; a context
is not copied into `config.configurable`), each side's answer is asserted.
"""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk.errors import NotFoundError

SCHEMA_KEYS = {"input_schema", "output_schema", "state_schema", "config_schema", "context_schema"}
INNER = {
    "properties": {
        "log": {"items": {"type": "string"}, "title": "Log", "type": "array"},
        "depth": {"title": "Depth", "type": "integer"},
    },
    "title": "Inner",
    "type": "object",
}
INNER_STATE = {
    "properties": {
        "log": {"default": None, "items": {"type": "string"}, "title": "Log", "type": "array"},
        "depth": {"default": None, "title": "Depth", "type": "integer"},
    },
    "title": "LangGraphState",
    "type": "object",
}
SUBGRAPH = {
    "input_schema": INNER,
    "output_schema": INNER,
    "state_schema": INNER_STATE,
    "config_schema": {},
    "context_schema": None,
}


async def system_id(drv: Any, graph_id: str) -> str:
    found = await drv.client.assistants.search(graph_id=graph_id, metadata={"created_by": "system"})
    assert len(found) == 1, found
    return str(found[0]["assistant_id"])


# -- schemas --------------------------------------------------------------------------


async def test_schemas_of_a_typing_typeddict_state(drv: Any) -> None:
    """Pydantic cannot describe a `typing.TypedDict` on 3.11: those schemas read null."""
    schemas = await drv.client.assistants.get_schemas(await system_id(drv, "typed_state"))
    assert schemas == {
        "graph_id": "typed_state",
        "input_schema": None,
        "output_schema": None,
        "state_schema": {
            "properties": {
                "log": {
                    "default": None,
                    "items": {"type": "string"},
                    "title": "Log",
                    "type": "array",
                },
                "topic": {"default": None, "title": "Topic", "type": "string"},
            },
            "title": "typed_state_state",
            "type": "object",
        },
        "config_schema": {},
        "context_schema": None,
    }


async def test_schemas_report_input_output_state_and_context(drv: Any) -> None:
    schemas = await drv.client.assistants.get_schemas(await system_id(drv, "io_schemas"))
    assert schemas["graph_id"] == "io_schemas"
    assert set(schemas) == SCHEMA_KEYS | {"graph_id"}
    assert schemas["input_schema"]["title"] == "Question"
    assert schemas["input_schema"]["required"] == ["question"]
    # the output schema is the graph's output schema, not its state
    assert schemas["output_schema"] == {
        "properties": {"answer": {"title": "Answer", "type": "string"}},
        "required": ["answer"],
        "title": "Answer",
        "type": "object",
    }
    state = schemas["state_schema"]
    assert state["title"] == "io_schemas_state"
    assert list(state["properties"]) == ["question", "answer", "scratch"]
    settings = {
        "properties": {"model": {"title": "Model", "type": "string"}},
        "title": "Settings",
        "type": "object",
    }
    assert schemas["context_schema"] == settings
    assert schemas["config_schema"] == settings


# -- subgraphs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "recurse", "expected"),
    [
        (None, False, ["child"]),
        (None, True, ["child", "child|inner"]),
        ("child", False, ["child"]),
        ("child", True, ["child"]),
        ("child|inner", False, []),
        ("child|inner", True, ["child|inner"]),
        ("other", True, []),  # a node, not a subgraph
        ("nope", False, []),
    ],
)
async def test_subgraphs(drv: Any, namespace: str | None, recurse: bool, expected: Any) -> None:
    aid = await system_id(drv, "nested")
    found = await drv.client.assistants.get_subgraphs(aid, namespace=namespace, recurse=recurse)
    assert found == {ns: SUBGRAPH for ns in expected}


async def test_subgraphs_of_a_graph_without_any(drv: Any) -> None:
    aid = await system_id(drv, "io_schemas")
    assert await drv.client.assistants.get_subgraphs(aid, recurse=True) == {}


# -- versions -------------------------------------------------------------------------


async def test_update_makes_versions_and_set_latest_switches(drv: Any) -> None:
    assistants = drv.client.assistants
    made = await assistants.create(
        "io_schemas",
        config={"tags": ["t1"]},
        context={"model": "m1"},
        metadata={"k": 1, "keep": "x"},
        name="first",
        description="d1",
    )
    aid = made["assistant_id"]
    assert made["version"] == 1
    if drv.is_reference:  # the reference copies the context into the config
        assert made["config"] == {"tags": ["t1"], "configurable": {"model": "m1"}}
    else:
        assert made["config"] == {"tags": ["t1"]}

    second = await assistants.update(aid, context={"model": "m2"}, metadata={"k": 2})
    assert second["version"] == 2
    assert second["context"] == {"model": "m2"}
    assert second["metadata"] == {"k": 2, "keep": "x"}  # merged
    if drv.is_reference:
        assert second["config"] == {"configurable": {"model": "m2"}}  # tags dropped
    else:
        assert second["config"] == {"tags": ["t1"]}
    third = await assistants.update(aid, graph_id="nested", name="third")
    assert (third["version"], third["graph_id"], third["name"]) == (3, "nested", "third")

    versions = await assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert set(versions[0]) == {
        "assistant_id",
        "version",
        "graph_id",
        "config",
        "context",
        "metadata",
        "created_at",
        "name",
        "description",
    }
    assert [v["graph_id"] for v in versions] == ["nested", "io_schemas", "io_schemas"]
    assert versions[2]["created_at"] == made["created_at"]
    assert versions[0]["created_at"] == third["updated_at"]
    assert [v["version"] for v in await assistants.get_versions(aid, metadata={"k": 1})] == [1]
    assert [v["version"] for v in await assistants.get_versions(aid, limit=1, offset=1)] == [2]

    back = await assistants.set_latest(aid, 1)
    assert back["version"] == 1
    assert back["config"] == made["config"]
    assert back["metadata"] == made["metadata"]
    assert (back["name"], back["description"]) == ("first", "d1")
    assert back["created_at"] == made["created_at"]
    assert back["updated_at"] > third["updated_at"]
    if drv.is_reference:  # the reference keeps the current graph and context
        assert (back["graph_id"], back["context"]) == ("nested", {"model": "m2"})
    else:
        assert (back["graph_id"], back["context"]) == ("io_schemas", {"model": "m1"})
    assert await assistants.get(aid) == back
    assert [v["version"] for v in await assistants.get_versions(aid)] == [3, 2, 1]

    # the next update numbers on from the highest version, from the one now latest
    fourth = await assistants.update(aid, metadata={"z": 1})
    assert fourth["version"] == 4
    assert fourth["metadata"] == {"k": 1, "keep": "x", "z": 1}


async def test_runs_use_the_latest_version(drv: Any) -> None:
    assistants = drv.client.assistants
    aid = (await assistants.create("io_schemas", context={"model": "m1"}))["assistant_id"]
    await assistants.update(aid, context={"model": "m2"})
    answer = await drv.client.runs.wait(None, aid, input={"question": "q"})
    assert answer["answer"] == "m2:q"
    await assistants.set_latest(aid, 1)
    answer = await drv.client.runs.wait(None, aid, input={"question": "q"})
    # the reference's set_latest keeps version 2's context, which its runs then use
    assert answer["answer"] == ("m2:q" if drv.is_reference else "m1:q")


async def test_a_run_answers_the_output_schema_and_the_thread_keeps_the_state(drv: Any) -> None:
    t = await drv.thread()
    # a waiter there when the run ends gets the graph's output (its output schema's keys)
    answer = await drv.client.runs.wait(t, "io_schemas", input={"question": "q"})
    assert answer == {"answer": "none:q"}
    # a join after the run ended gets the thread, which keeps the whole state
    (run,) = await drv.client.runs.list(t)
    whole = {"question": "q", "answer": "none:q", "scratch": ["s"]}
    assert await drv.client.runs.join(t, run["run_id"]) == whole
    assert (await drv.client.threads.get_state(t))["values"] == whole


async def test_unknown_version_and_assistant(drv: Any, new_uuid: Any) -> None:
    aid = (await drv.client.assistants.create("io_schemas"))["assistant_id"]
    with pytest.raises(NotFoundError) as info:
        await drv.client.assistants.set_latest(aid, 9)
    assert info.value.response.json()["detail"] == f"Version 9 not found for assistant {aid}"
    assert (await drv.client.assistants.get(aid))["version"] == 1
    unknown = new_uuid()
    for call in (
        drv.client.assistants.get_versions(unknown),
        drv.client.assistants.set_latest(unknown, 1),
    ):
        with pytest.raises(NotFoundError) as info:
            await call
        assert unknown in info.value.response.json()["detail"]


async def test_bad_version_requests(drv: Any) -> None:
    aid = (await drv.client.assistants.create("io_schemas"))["assistant_id"]
    for body in ({"version": "1"}, {"version": 1.5}):
        resp = await drv.http.post(f"/assistants/{aid}/latest", json=body)
        assert resp.status_code == 422, resp.text
    resp = await drv.http.post(f"/assistants/{aid}/latest", json={})
    if drv.is_reference:
        assert resp.status_code == 404, resp.text  # "Version None not found ..."
    else:
        assert resp.status_code == 422, resp.text
        assert "version" in resp.json()["detail"]
    for body in ({"limit": 0}, {"limit": 1001}, {"offset": -1}):
        resp = await drv.http.post(f"/assistants/{aid}/versions", json=body)
        assert resp.status_code == 422, (body, resp.text)
    assert (await drv.client.assistants.get(aid))["version"] == 1


async def test_system_assistant_versions(drv: Any) -> None:
    assistants = drv.client.assistants
    aid = await system_id(drv, "nested")
    before = await assistants.get(aid)
    assert (before["name"], before["metadata"]) == ("nested", {"created_by": "system"})
    updated = await assistants.update(aid, metadata={"note": "x"})
    assert updated["metadata"] == {"created_by": "system", "note": "x"}
    versions = await assistants.get_versions(aid)
    assert versions[-1]["version"] == 1
    assert versions[-1]["metadata"] == {"created_by": "system"}
    restored = await assistants.set_latest(aid, 1)
    assert restored["metadata"] == {"created_by": "system"}
    assert restored["version"] == 1


async def test_new_assistant_is_untitled(drv: Any) -> None:
    made = await drv.client.assistants.create("io_schemas")
    assert made["name"] == "Untitled"
    assert [v["name"] for v in await drv.client.assistants.get_versions(made["assistant_id"])] == [
        "Untitled"
    ]


async def test_both_configurable_and_context_is_400(drv: Any) -> None:
    resp = await drv.http.post(
        "/assistants",
        json={
            "graph_id": "io_schemas",
            "config": {"configurable": {"model": "a"}},
            "context": {"model": "b"},
        },
    )
    assert resp.status_code == 400, resp.text
    assert "context" in resp.json()["detail"]
    aid = (await drv.client.assistants.create("io_schemas"))["assistant_id"]
    resp = await drv.http.patch(
        f"/assistants/{aid}",
        json={"config": {"configurable": {"model": "a"}}, "context": {"model": "b"}},
    )
    assert resp.status_code == 400, resp.text
    assert [v["version"] for v in await drv.client.assistants.get_versions(aid)] == [1]


async def test_versions_keep_their_own_timestamps(drv: Any) -> None:
    aid = (await drv.client.assistants.create("io_schemas"))["assistant_id"]
    for n in range(3):
        await drv.client.assistants.update(aid, metadata={"n": n})
    stamps = [v["created_at"] for v in await drv.client.assistants.get_versions(aid)]
    assert stamps == sorted(stamps, reverse=True)


async def test_configurable_alone_gives_the_context(drv: Any) -> None:
    made = await drv.client.assistants.create("io_schemas", config={"configurable": {"model": "c"}})
    assert made["context"] == {"model": "c"}
    answer = await drv.client.runs.wait(None, made["assistant_id"], input={"question": "q"})
    assert answer["answer"] == "c:q"


async def test_an_assistant_id_must_be_a_uuid_so_no_graph_name_is_taken_over(drv: Any) -> None:
    # `assistant_id="io_schemas"` would otherwise make the graph id name this assistant:
    # every later run asking for the graph by name would run the other graph instead
    resp = await drv.http.post(
        "/assistants", json={"graph_id": "nested", "assistant_id": "io_schemas"}
    )
    assert resp.status_code == 422, resp.text
    assert "must be a UUID" in resp.text
    found = await drv.client.assistants.search(graph_id="nested", limit=1000)
    assert all(a["assistant_id"] != "io_schemas" for a in found)
    answer = await drv.client.runs.wait(None, "io_schemas", input={"question": "q"})
    assert answer == {"answer": "none:q"}  # still the io_schemas graph
