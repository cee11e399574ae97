"""steer and collect against `nbruns serve`, through the official SDK over HTTP.

The graphs are fast and know nothing of the test: holds (nbruns's `/nbruns/holds`)
keep runs at step boundaries, and the test waits for states, never for time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbruns.views._holds import create_hold, release_hold, wait_held

GRAPHS = """
from typing import Annotated, Any, NotRequired

from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def saw(messages):
    return "saw:" + ",".join(m.content for m in messages if m.type == "human")


async def model(state: State) -> dict[str, Any]:
    messages = state["messages"]
    if any(m.type == "tool" for m in messages):
        return {"messages": [AIMessage(content=saw(messages))]}
    call = {"name": "lookup", "args": {}, "id": "call1"}
    return {"messages": [AIMessage(content=saw(messages), tool_calls=[call])]}


async def tools(state: State) -> dict[str, Any]:
    calls = state["messages"][-1].tool_calls
    return {"messages": [ToolMessage(content="found", tool_call_id=c["id"]) for c in calls]}


def route(state: State) -> str:
    return "tools" if state["messages"][-1].tool_calls else END


builder = StateGraph(State)
builder.add_node("model", model)
builder.add_node("tools", tools)
builder.add_edge(START, "model")
builder.add_conditional_edges("model", route, ["tools", END])
builder.add_edge("tools", "model")
react = builder.compile()


async def reply(state: State) -> dict[str, Any]:
    return {"messages": [AIMessage(content=saw(state["messages"]))]}


builder = StateGraph(State)
builder.add_node("reply", reply)
builder.add_edge(START, "reply")
builder.add_edge("reply", END)
chat = builder.compile()
"""


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "merging"
    project.mkdir()
    (project / "graphs.py").write_text(GRAPHS)
    config = {
        "dependencies": ["."],
        "graphs": {"react": "./graphs.py:react", "chat": "./graphs.py:chat"},
    }
    (project / "langgraph.json").write_text(json.dumps(config))
    return project / "langgraph.json"


def _ask(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def _status(client: Any, tid: str, run_id: str) -> str:
    return str((await client.runs.get(tid, run_id))["status"])


async def _timeline(client: Any, tid: str) -> list[dict[str, Any]]:
    return list(await client.http.get("/nbruns/timeline", params={"thread_id": tid}))


async def test_steer_served_waits_for_tool_results(
    serve: Callable[..., Any], sdk: Callable[..., Any], tmp_path: Path
) -> None:
    served = serve("--config", str(_project(tmp_path)))
    client = sdk(served.url)
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, before="tools", times=1)
    r = str((await client.runs.create(tid, "react", input=_ask("q1")))["run_id"])
    await wait_held(client, hold["hold_id"], timeout=10)  # its tool call is open
    s = await client.runs.create(tid, "react", input=_ask("more"), multitask_strategy="steer")
    s_id = str(s["run_id"])
    assert await _status(client, tid, s_id) == "pending"
    await release_hold(client, hold["hold_id"])
    final = await client.runs.join(tid, r)
    answers = [m["content"] for m in final["messages"] if m["type"] == "ai"]
    assert answers == ["saw:q1", "saw:q1,more"]
    assert [m["type"] for m in final["messages"]] == ["human", "ai", "tool", "human", "ai"]
    assert await client.runs.join(tid, s_id) == final
    assert await _status(client, tid, s_id) == "success"
    delivered = [e for e in await _timeline(client, tid) if e["kind"] == "steer_delivered"]
    assert [(e["run_id"], e["runs"], e["after"]) for e in delivered] == [(r, [s_id], ["tools"])]


async def test_collect_served_starts_held_runs_as_one(
    serve: Callable[..., Any], sdk: Callable[..., Any], tmp_path: Path
) -> None:
    served = serve("--config", str(_project(tmp_path)))
    client = sdk(served.url)
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, before="reply", times=1)
    await client.runs.create(tid, "chat", input=_ask("first"))
    await wait_held(client, hold["hold_id"], timeout=10)
    held = [
        str(
            (await client.runs.create(tid, "chat", input=_ask(t), multitask_strategy="collect"))[
                "run_id"
            ]
        )
        for t in ("c1", "c2", "c3")
    ]
    assert {await _status(client, tid, r) for r in held} == {"pending"}
    await release_hold(client, hold["hold_id"])
    final = await client.runs.join(tid, held[0])
    assert final["messages"][-1]["content"] == "saw:first,c1,c2,c3"
    for other in held[1:]:
        assert await client.runs.join(tid, other) == final
        assert await _status(client, tid, other) == "success"
    events = await _timeline(client, tid)
    merged = [(e["run_id"], e["into"], e["how"]) for e in events if e["kind"] == "merged"]
    assert merged == [(o, held[0], "collect") for o in held[1:]]
