"""Tests for the offline demo agent in ``nbruns.demo``."""

import asyncio
import json
import uuid
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    ToolMessage,
    convert_to_messages,
)
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph

from nbruns import demo
from nbruns.demo import ScriptedWeatherModel, make_agent, search_weather

Graph = CompiledStateGraph[Any, Any, Any, Any]


def attach_saver(graph: Graph) -> Graph:
    """Attach a fresh in-memory checkpointer the way nbruns does."""
    return graph.copy(update={"checkpointer": InMemorySaver()})


def thread() -> dict[str, Any]:
    """Config for a new, empty thread."""
    return {"configurable": {"thread_id": str(uuid.uuid4())}}


def ask(text: str, **extra: Any) -> dict[str, Any]:
    """Input in the shape the how-to notebook sends."""
    return {"messages": [{"role": "human", "content": text}], **extra}


async def wait_until_pending(graph: Graph, config: dict[str, Any]) -> None:
    """Poll (for up to ~5 s) until the thread has a checkpoint with the agent step next."""
    for _ in range(500):
        if (await graph.aget_state(config)).next == ("agent",):
            return
        await asyncio.sleep(0.01)
    pytest.fail("the run never checkpointed its input")


@pytest.fixture
def graph() -> Graph:
    """A fast demo agent with a checkpointer."""
    return attach_saver(make_agent(latency=0))


def test_public_api() -> None:
    assert demo.__all__ == [
        "AgentState",
        "ScriptedWeatherModel",
        "agent",
        "make_agent",
        "search_weather",
    ]
    assert demo.agent.name == "agent"
    assert demo.agent.checkpointer is None
    assert set(demo.agent.nodes) >= {"agent", "tools"}
    assert search_weather.name == "tavily_search_results_json"
    assert ScriptedWeatherModel()._llm_type == "nbruns-scripted-weather"
    assert ScriptedWeatherModel().latency == 0.2


def test_copy_attaches_checkpointer_without_touching_original() -> None:
    original = make_agent(latency=0)
    saver = InMemorySaver()
    copied = original.copy(update={"checkpointer": saver})
    assert copied.checkpointer is saver
    assert original.checkpointer is None
    assert copied.name == "agent"


def test_schemas_build() -> None:
    schema = demo.agent.get_input_jsonschema()
    assert {"messages", "sleep"} <= set(schema["properties"])
    assert schema["properties"]["sleep"]["type"] == "number"


def test_tool_returns_canned_json() -> None:
    out = json.loads(search_weather.invoke({"query": "weather in new york"}))
    assert [r["url"] for r in out] == ["https://www.weatherapi.com/"]
    content = out[0]["content"]
    assert content.startswith("{'location': {'name': 'New York'")
    assert "'temp_c': 24.4, 'temp_f': 75.9" in content
    assert "'text': 'Sunny'" in content
    assert search_weather.invoke({"query": "weather in new york"}) == json.dumps(out)


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("whats the weather in sf?", "weather in san francisco"),
        ("What's the weather in San Francisco?", "weather in san francisco"),
        ("how about NYC", "weather in new york"),
        ("weather in new york please", "weather in new york"),
        ("is it raining in London?", "weather in london"),
        ("paris", "weather in paris"),
        ("TOKYO now", "weather in tokyo"),
        ("what is the weather in Berlin", "weather in berlin"),
        ("whats the weather in Reykjavik?", "weather in reykjavik"),
    ],
)
def test_model_detects_city(question: str, query: str) -> None:
    reply = ScriptedWeatherModel(latency=0).invoke([HumanMessage(question)])
    assert reply.tool_calls[0]["name"] == "tavily_search_results_json"
    assert reply.tool_calls[0]["args"] == {"query": query}
    assert reply.tool_calls[0]["id"].startswith("toolu_")
    assert len(reply.tool_calls[0]["id"]) == len("toolu_") + 24
    assert reply.content == [
        {
            "id": reply.tool_calls[0]["id"],
            "input": {"query": query},
            "name": "tavily_search_results_json",
            "type": "tool_use",
        }
    ]


def test_unknown_city_gets_generic_answer() -> None:
    model = ScriptedWeatherModel(latency=0)
    question = HumanMessage("whats the weather in Reykjavik?")
    call = model.invoke([question]).tool_calls[0]
    result = ToolMessage(search_weather.invoke(call["args"]), tool_call_id=call["id"])
    answer = model.invoke([question, AIMessage("", tool_calls=[call]), result])
    assert "Reykjavik" in answer.text
    assert "°F" in answer.text


def test_sync_stream_splits_final_answer() -> None:
    model = ScriptedWeatherModel(latency=0)
    messages = [HumanMessage("sf?"), ToolMessage(search_weather.invoke("sf"), tool_call_id="x")]
    chunks = list(model.stream(messages))
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == model.invoke(messages).text


async def test_full_conversation_sf(graph: Graph) -> None:
    out = await graph.ainvoke(ask("whats the weather in sf?"), thread())
    human, call, result, answer = convert_to_messages(out["messages"])
    assert isinstance(human, HumanMessage)
    assert isinstance(call, AIMessage)
    assert call.tool_calls == [
        {
            "name": "tavily_search_results_json",
            "args": {"query": "weather in san francisco"},
            "id": call.tool_calls[0]["id"],
            "type": "tool_call",
        }
    ]
    assert isinstance(result, ToolMessage)
    assert result.name == "tavily_search_results_json"
    assert result.tool_call_id == call.tool_calls[0]["id"]
    assert "San Francisco" in result.text
    assert "'temp_c': 16.7, 'temp_f': 62.1" in result.text
    assert isinstance(answer, AIMessage)
    assert not answer.tool_calls
    assert answer.text == "It's 62.1°F (16.7°C) and partly cloudy in San Francisco."


async def test_pretty_print_matches_the_how_to(
    graph: Graph, capsys: pytest.CaptureFixture[str]
) -> None:
    out = await graph.ainvoke(ask("whats the weather in sf?"), thread())
    for message in convert_to_messages(out["messages"]):
        message.pretty_print()
    printed = capsys.readouterr().out
    headers = [line.strip("= ") for line in printed.splitlines() if line.startswith("=====")]
    assert headers == ["Human Message", "Ai Message", "Tool Message", "Ai Message"]
    assert "[{'id': 'toolu_" in printed
    assert "'input': {'query': 'weather in san francisco'}, 'name': 'tavily_search" in printed
    assert "Tool Calls:\n  tavily_search_results_json (toolu_" in printed
    assert "Args:\n    query: weather in san francisco" in printed
    assert "Name: tavily_search_results_json" in printed
    assert '[{"url": "https://www.weatherapi.com/", "content": "{\'location\'' in printed


async def test_full_conversation_nyc(graph: Graph) -> None:
    out = await graph.ainvoke(ask("whats the weather in nyc?"), thread())
    assert len(out["messages"]) == 4
    assert out["messages"][1].tool_calls[0]["args"] == {"query": "weather in new york"}
    assert "New York" in out["messages"][2].text
    assert out["messages"][3].text == "It's 75.9°F (24.4°C) and sunny in New York."


async def test_ids_are_deterministic(graph: Graph) -> None:
    def ids(messages: list[Any]) -> list[Any]:
        return [
            (m.id, [c["id"] for c in m.tool_calls]) if isinstance(m, AIMessage) else m.tool_call_id
            for m in messages
            if isinstance(m, AIMessage | ToolMessage)
        ]

    first = await graph.ainvoke(ask("whats the weather in sf?"), thread())
    second = await graph.ainvoke(ask("whats the weather in sf?"), thread())
    assert ids(first["messages"]) == ids(second["messages"])
    assert first["messages"][1].id.startswith("msg_")
    assert first["messages"][3].id.startswith("msg_")
    # a repeated question later in the same thread gets new ids (no add_messages clash)
    config = thread()
    await graph.ainvoke(ask("sf?"), config)
    out = await graph.ainvoke(ask("sf?"), config)
    assert len(out["messages"]) == 8
    assert len({m.id for m in out["messages"]}) == 8


async def test_sleep_is_ephemeral(graph: Graph) -> None:
    config = thread()
    await graph.ainvoke(ask("whats the weather in sf?", sleep=0.01), config)
    state = await graph.aget_state(config)
    assert "sleep" not in state.values
    assert state.next == ()
    out = await graph.ainvoke(ask("whats the weather in nyc?"), config)
    assert "sleep" not in out
    assert "New York" in out["messages"][-1].text
    history = [s async for s in graph.aget_state_history(config)]  # newest first
    with_sleep = [s for s in history if "sleep" in s.values]
    # Only the checkpoint written by __start__ (step 0: input mapped to channels, agent next)
    # holds the value; the agent step that read it also cleared it.
    assert [(s.metadata["source"], s.metadata["step"]) for s in with_sleep] == [("loop", 0)]
    assert with_sleep[0].values["sleep"] == 0.01
    assert with_sleep[0].values["messages"][0].text == "whats the weather in sf?"
    assert with_sleep[0].next == ("agent",)


async def test_cancel_while_sleeping_then_continue() -> None:
    graph = attach_saver(make_agent(latency=0))
    config = thread()
    task = asyncio.create_task(graph.ainvoke(ask("whats the weather in sf?", sleep=60), config))
    await wait_until_pending(graph, config)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    state = await graph.aget_state(config)
    assert state.next == ("agent",)
    assert [m.text for m in state.values["messages"]] == ["whats the weather in sf?"]
    assert state.values["sleep"] == 60  # still pending: the agent step never finished

    out = await asyncio.wait_for(graph.ainvoke(ask("what about new york?"), config), 10)
    texts = [m.text for m in out["messages"]]
    assert texts[:2] == ["whats the weather in sf?", "what about new york?"]
    assert out["messages"][2].tool_calls[0]["args"] == {"query": "weather in new york"}
    assert texts[-1] == "It's 75.9°F (24.4°C) and sunny in New York."
    # The new input discarded the pending agent task, which also cleared the stale sleep:
    # no checkpoint of the second run carries it.
    history = [s async for s in graph.aget_state_history(config)]  # newest first
    second_run = [s for s in history if s.metadata["step"] >= 1]
    assert [s.metadata["source"] for s in history] == ["loop"] * 4 + ["input", "loop", "input"]
    assert all("sleep" not in s.values for s in second_run)
    assert history[0].next == ()


async def test_model_latency_is_cancellable() -> None:
    graph = attach_saver(make_agent(latency=60))
    config = thread()
    task = asyncio.create_task(graph.ainvoke(ask("sf"), config))
    await wait_until_pending(graph, config)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (await graph.aget_state(config)).next == ("agent",)


async def test_messages_stream_mode_yields_tokens(graph: Graph) -> None:
    chunks: list[AIMessageChunk] = []
    async for message, metadata in graph.astream(
        ask("whats the weather in sf?"), thread(), stream_mode="messages"
    ):
        if isinstance(message, AIMessageChunk):
            assert metadata["langgraph_node"] == "agent"
            chunks.append(message)
    tool_call_chunks = [c for c in chunks if c.tool_call_chunks]
    assert len(tool_call_chunks) == 1
    assert tool_call_chunks[0].tool_call_chunks[0]["name"] == "tavily_search_results_json"
    answer_chunks = [c for c in chunks if not c.tool_call_chunks and c.text]
    assert len(answer_chunks) > 1
    assert len({c.id for c in answer_chunks}) == 1
    text = "".join(c.text for c in answer_chunks)
    assert text == "It's 62.1°F (16.7°C) and partly cloudy in San Francisco."
