"""How the Playground builds a graph's input from the text: schema, dict or function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import nbruns
from nbruns.views._playground_input import InputBuilder, InputProblem
from nbruns.views.widgets import Playground
from tests.views.playground_graphs import fast_graph, topic_graph

CHAT = {"properties": {"messages": {"type": "array"}, "sleep": {"type": "number"}}}
TWO = {"properties": {"a": {"type": "integer"}, "b": {"type": "array"}}}


@pytest.mark.parametrize(
    ("spec", "schema", "text", "expected"),
    [
        pytest.param(
            None, CHAT, "hi", {"messages": [{"role": "human", "content": "hi"}]}, id="messages"
        ),
        pytest.param(
            None, None, "hi", {"messages": [{"role": "human", "content": "hi"}]}, id="no-schema"
        ),
        pytest.param(
            None, {"properties": {"q": {"type": "string"}}}, "hi", {"q": "hi"}, id="one-string"
        ),
        pytest.param(
            None,
            {"properties": {"q": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "n": {}}},
            "hi",
            {"q": "hi"},
            id="optional-string",
        ),
        pytest.param({"x": 1}, TWO, "ignored", {"x": 1}, id="dict-as-is"),
        pytest.param(
            {"messages": [{"role": "system", "content": "be brief"}], "k": 2},
            CHAT,
            "hi",
            {
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "human", "content": "hi"},
                ],
                "k": 2,
            },
            id="dict-with-messages",
        ),
        pytest.param(lambda t: {"a": len(t)}, TWO, "four", {"a": 4}, id="function"),
    ],
)
def test_inputs(spec: Any, schema: Any, text: str, expected: dict[str, Any]) -> None:
    assert InputBuilder(spec, schema).build(text) == expected


def test_sleep_only_when_the_graph_reads_it() -> None:
    assert InputBuilder(None, CHAT).build("hi", sleep=2)["sleep"] == 2.0
    assert "sleep" not in InputBuilder(None, {"properties": {"messages": {}}}).build("hi", sleep=2)


@pytest.mark.parametrize(
    ("spec", "schema", "text", "problem"),
    [
        (None, CHAT, "  ", "empty message: nothing sent (type a message first)"),
        (lambda t: {"a": t}, TWO, "", "empty message: nothing sent (type a message first)"),
        (
            None,
            TWO,
            "hi",
            "graph 'g' takes a, b: pass Playground(..., input={...}) or input=lambda text: {...}",
        ),
        (lambda t: [t], TWO, "hi", "input(text) must return a dict, got list"),
    ],
)
def test_problems(spec: Any, schema: Any, text: str, problem: str) -> None:
    with pytest.raises(InputProblem) as caught:
        InputBuilder(spec, schema, graph="graph 'g'").build(text)
    assert str(caught.value) == problem


def test_a_dict_without_messages_may_be_sent_with_no_text() -> None:
    assert InputBuilder({"a": 1}, TWO).build("") == {"a": 1}


@pytest.fixture
def server() -> Iterator[nbruns.Server]:
    srv = nbruns.Server(graphs={"mine": fast_graph(), "topic": topic_graph()})
    yield srv
    srv.close()


async def sent_input(client: Any, pg: Playground, text: str) -> Any:
    try:
        run = await pg.send(text, "enqueue")
        assert run is not None, pg.status.value
        await pg.wait_idle()
        return (await client.runs.get(run["thread_id"], run["run_id"]))["kwargs"]["input"]
    finally:
        await pg.aclose()


async def test_a_graph_with_one_string_key_gets_the_text(client: Any) -> None:
    pg = Playground(client, graph="topic")
    assert await sent_input(client, pg, "owls") == {"topic": "owls"}
    state = await client.threads.get_state(pg.threads[0])
    assert state["values"]["result"] == "about owls"


async def test_a_function_builds_the_input(client: Any) -> None:
    pg = Playground(client, graph="topic", input=lambda text: {"topic": text.upper()})
    assert await sent_input(client, pg, "owls") == {"topic": "OWLS"}


async def test_a_dict_gets_the_text_appended_to_its_messages(client: Any) -> None:
    system = {"role": "system", "content": "be brief"}
    pg = Playground(client, graph="mine", input={"messages": [system]})
    got = await sent_input(client, pg, "hi")
    assert got == {"messages": [system, {"role": "human", "content": "hi"}]}
