"""A run held at a step boundary answers every strategy and cancel as a busy run would.

A three-node graph (a -> b -> c, each node appending "<tag>:<node>") has a run held
before or after each node; a second run then arrives with each of the eight strategies
(or the held run is cancelled). What the thread ends with, each run's status and what
the held run kept are checked against what a run busy in that step gives: a stop keeps
the steps finished before the boundary (an interrupt) or none (a rollback), the
strategies that wait let the held run finish first, and a steer goes into the held run
at that very boundary, so the next node already sees the steered input (its tag).
So does a steer at a run held before the second node of a step that runs two.

A ReAct graph (model -> tools -> model, a `langchain_core` fake chat model and
LangGraph's `ToolNode`) checks where a steer is delivered when the boundary is unsafe:
held after the model asked for a tool, the steer waits for the tool's answer.
(`tests/properties/test_breakpoint_property.py` compares held runs with gated ones.)

Orders come from holds and statuses, never from time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns._core._types import NBRUNS_STRATEGIES
from nbruns.testing import wait_idle
from nbruns.views._holds import create_hold, release_hold, wait_held
from tests.log_graphs import fan_out, three_nodes

NODES = ("a", "b", "c")
# (before|after, node): every place a run of a -> b -> c can be held
WHERE = [(side, node) for node in NODES for side in ("before", "after")]
# debounce with no quiet window: it still waits for the busy thread, and never for time
DEBOUNCE_NOW = {"multitask": {"quiet_s": 0}}


@pytest.fixture
def nbruns_graphs() -> dict[str, Any]:
    """The graphs of nbruns's pytest plugin's server (`nbruns_client`): this suite uses
    the plugin as a user would, and it fails a test that leaves a run going."""
    return {"three": three_nodes(), "fan": fan_out()}


@pytest.fixture
def client(nbruns_client: Any) -> Any:
    return nbruns_client


def _input(tag: str) -> dict[str, Any]:
    return {"log": [f"{tag}:in"], "tag": tag}


def _done_at(side: str, node: str) -> list[str]:
    """The nodes a run held at (side, node) has finished."""
    index = NODES.index(node)
    return list(NODES[: index + 1] if side == "after" else NODES[:index])


def _whole(tag: str) -> list[str]:
    return [f"{tag}:in", *(f"{tag}:{n}" for n in NODES)]


def expected(side: str, node: str, strategy: str) -> tuple[list[str | None], list[str]]:
    """What a run busy at (side, node) gives: both runs' statuses (None: refused; "gone":
    rolled back) and the thread's final log."""
    done = _done_at(side, node)
    kept = ["1:in", *(f"1:{n}" for n in done)]
    if strategy == "reject":
        return ["success", None], _whole("1")
    if strategy == "interrupt":
        return ["interrupted", "success"], kept + _whole("2")
    if strategy == "rollback":
        return ["gone", "success"], _whole("2")
    if strategy == "steer" and len(done) < len(NODES):
        # delivered at the boundary: the next node already runs with the steered tag
        rest = [f"2:{n}" for n in NODES[len(done) :]]
        return ["success", "success"], [*kept, "2:in", *rest]
    # enqueue, collect, debounce, latest, and a steer with no boundary left: after it
    return ["success", "success"], _whole("1") + _whole("2")


async def _status(client: Any, tid: str, run_id: str) -> str:
    try:
        return str((await client.runs.get(tid, run_id))["status"])
    except NotFoundError:
        return "gone"


async def _kept_by(client: Any, tid: str, run_id: str) -> int:
    """How many of the thread's checkpoints the run wrote."""
    history = await client.threads.get_history(tid, limit=100)
    return sum(1 for state in history if state["metadata"].get("run_id") == run_id)


async def _held(client: Any, graph: str, side: str, node: str) -> tuple[str, str, str]:
    """A thread whose first run is held at (side, node): its id, the run's, the hold's."""
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, times=1, **{side: node})
    first = await client.runs.create(tid, graph, input=_input("1"))
    held = await wait_held(client, hold["hold_id"], timeout=10)
    assert [h["run_id"] for h in held["held"]] == [first["run_id"]]
    assert await _status(client, tid, first["run_id"]) == "running"
    return tid, str(first["run_id"]), str(hold["hold_id"])


@pytest.mark.parametrize("strategy", NBRUNS_STRATEGIES)
@pytest.mark.parametrize(("side", "node"), WHERE)
async def test_a_held_run_answers_a_strategy_as_a_busy_run(
    client: Any, side: str, node: str, strategy: str
) -> None:
    tid, first, hold_id = await _held(client, "three", side, node)
    metadata = DEBOUNCE_NOW if strategy == "debounce" else None
    second: str | None = None
    try:
        run = await client.runs.create(
            tid, "three", input=_input("2"), multitask_strategy=strategy, metadata=metadata
        )
        second = str(run["run_id"])
    except ConflictError:
        assert strategy == "reject"
    if second is not None and strategy not in ("interrupt", "rollback"):
        assert await _status(client, tid, second) == "pending"  # nothing moved yet
        assert await _status(client, tid, first) == "running"
    await release_hold(client, hold_id)
    last = second if second is not None else first
    await client.runs.join(tid, last)
    statuses, log = expected(side, node, strategy)
    seen = [await _status(client, tid, first)]
    seen.append(None if second is None else await _status(client, tid, second))
    assert seen == statuses
    assert (await client.threads.get_state(tid))["values"]["log"] == log
    # what the held run kept: its input, its start and each step it finished (a
    # rollback: nothing)
    kept = {"interrupt": 2 + len(_done_at(side, node)), "rollback": 0}.get(strategy, 5)
    assert await _kept_by(client, tid, first) == kept
    if strategy == "steer" and second is not None and (side, node) != ("after", "c"):
        # merged into the held run: it answers with its carrier's final state
        assert await client.runs.join(tid, second) == await client.runs.join(tid, first)
        delivered = [
            e
            for e in await client.http.get("/nbruns/timeline", params={"thread_id": tid})
            if e["kind"] == "steer_delivered"
        ]
        done = _done_at(side, node)
        assert [(e["after"], e["before"]) for e in delivered] == [(done[-1:], [NODES[len(done)]])]


@pytest.mark.parametrize("wait", [True, False])
@pytest.mark.parametrize("action", ["interrupt", "rollback"])
@pytest.mark.parametrize(("side", "node"), WHERE)
async def test_a_held_run_is_cancelled_as_a_busy_run(
    client: Any, side: str, node: str, action: str, wait: bool
) -> None:
    tid, first, hold_id = await _held(client, "three", side, node)
    await client.runs.cancel(tid, first, wait=wait, action=action)
    await wait_idle(client, [tid], timeout=10)
    done = _done_at(side, node)
    if action == "interrupt":
        assert await _status(client, tid, first) == "interrupted"
        assert (await client.threads.get_state(tid))["values"]["log"] == [
            "1:in",
            *(f"1:{n}" for n in done),
        ]
        assert await _kept_by(client, tid, first) == 2 + len(done)
    else:
        assert await _status(client, tid, first) == "gone"
        assert (await client.threads.get_state(tid))["values"] == {}
        assert await _kept_by(client, tid, first) == 0
    hold = await client.http.get(f"/nbruns/holds/{hold_id}")
    assert hold["held"] == []  # the stop let go of the hold too


# -- a step of two nodes: a hold naming the second one --------------------------------


@pytest.mark.parametrize("node", ["b", "c"])
async def test_a_steer_reaches_a_run_held_before_either_node_of_a_parallel_step(
    client: Any, node: str
) -> None:
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, before=node)  # until deleted: never twice here
    first = str((await client.runs.create(tid, "fan", input=_input("1")))["run_id"])
    await wait_held(client, hold["hold_id"], timeout=10)
    steer = await client.runs.create(tid, "fan", input=_input("2"), multitask_strategy="steer")
    assert await _status(client, tid, steer["run_id"]) == "pending"
    await release_hold(client, hold["hold_id"])
    final = await client.runs.join(tid, first)
    # delivered before the step: both its nodes ran with the steered tag
    assert final["log"][:3] == ["1:in", "1:a", "2:in"]
    assert sorted(final["log"][3:]) == ["2:b", "2:c"]
    assert await _status(client, tid, steer["run_id"]) == "success"
    hold_now = await client.http.get(f"/nbruns/holds/{hold['hold_id']}")
    assert hold_now["hits"] == 1  # driven again from the boundary: not caught again


# -- a ReAct agent: where a steer may go in -------------------------------------------


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


@tool
def lookup(q: str) -> str:
    """Look something up."""
    return f"found {q}"


def _asks(call_id: str) -> AIMessage:
    return AIMessage(
        content="",
        id=f"ai-{call_id}",
        tool_calls=[{"name": "lookup", "args": {"q": "x"}, "id": call_id}],
    )


def react_agent(seen: list[list[str]]) -> Any:
    """model -> tools -> model; the fake model asks for one lookup, then answers.
    `seen` gets the human messages each model call was given."""
    model = GenericFakeChatModel(
        messages=iter(
            [
                _asks("call1"),
                AIMessage(content="answer 1", id="ai-answer1"),
                _asks("call2"),
                AIMessage(content="answer 2", id="ai-answer2"),
            ]
        )
    )

    async def call_model(state: Chat) -> dict[str, Any]:
        seen.append([str(m.content) for m in state["messages"] if m.type == "human"])
        return {"messages": [await model.ainvoke(state["messages"])]}

    def route(state: Chat) -> str:
        last = state["messages"][-1]
        return "tools" if getattr(last, "tool_calls", None) else END

    builder = StateGraph(Chat)
    builder.add_node("model", call_model)
    builder.add_node("tools", ToolNode([lookup]))
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", route, ["tools", END])
    builder.add_edge("tools", "model")
    return builder.compile()


@pytest.fixture
async def react_client() -> AsyncIterator[tuple[Any, list[list[str]]]]:
    seen: list[list[str]] = []
    server = nbruns.Server(graphs={"react": react_agent(seen)})
    c = server.client()
    yield c, seen
    await c.aclose()
    await server.aclose()


def _says(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.mark.parametrize(
    ("where", "delivered_at", "model_saw"),
    [
        # the start is safe: the first model call sees both
        ({"before": "model"}, ([], ["model"]), [["q1", "more"], ["q1", "more"]]),
        # the model asked for a tool: unsafe until the tool has answered
        ({"after": "model"}, (["tools"], ["model"]), [["q1"], ["q1", "more"]]),
        ({"before": "tools"}, (["tools"], ["model"]), [["q1"], ["q1", "more"]]),
        # the tool answered: safe, delivered right there
        ({"after": "tools"}, (["tools"], ["model"]), [["q1"], ["q1", "more"]]),
    ],
)
async def test_a_steer_waits_at_a_held_boundary_only_while_a_tool_call_is_open(
    react_client: tuple[Any, list[list[str]]],
    where: dict[str, str],
    delivered_at: tuple[list[str], list[str]],
    model_saw: list[list[str]],
) -> None:
    client, seen = react_client
    tid = str((await client.threads.create())["thread_id"])
    hold = await create_hold(client, tid, times=1, **where)
    first = str((await client.runs.create(tid, "react", input=_says("q1")))["run_id"])
    await wait_held(client, hold["hold_id"], timeout=10)
    steer = await client.runs.create(tid, "react", input=_says("more"), multitask_strategy="steer")
    await release_hold(client, hold["hold_id"])
    final = await client.runs.join(tid, first)
    assert [(m["type"], m["content"]) for m in final["messages"]] == [
        ("human", "q1"),
        *([("human", "more")] if delivered_at[0] == [] else []),
        ("ai", ""),
        ("tool", "found x"),
        *([("human", "more")] if delivered_at[0] != [] else []),
        ("ai", "answer 1"),
    ]
    assert seen == model_saw
    assert await client.runs.join(tid, steer["run_id"]) == final
    events = await client.http.get("/nbruns/timeline", params={"thread_id": tid})
    delivered = [(e["after"], e["before"]) for e in events if e["kind"] == "steer_delivered"]
    assert delivered == [delivered_at]


async def test_a_steer_at_a_run_held_at_its_end_runs_on_its_own(
    react_client: tuple[Any, list[list[str]]],
) -> None:
    client, seen = react_client
    tid = str((await client.threads.create())["thread_id"])
    at_tools = await create_hold(client, tid, before="tools", times=1)
    first = str((await client.runs.create(tid, "react", input=_says("q1")))["run_id"])
    await wait_held(client, at_tools["hold_id"], timeout=10)
    # its next boundary after the model is its end: the model answers, no tool call
    hold = await create_hold(client, tid, after="model", times=1)
    await release_hold(client, at_tools["hold_id"])
    held = await wait_held(client, hold["hold_id"], timeout=10)
    assert (held["held"][0]["after"], held["held"][0]["before"]) == (["model"], [])
    steer = await client.runs.create(tid, "react", input=_says("more"), multitask_strategy="steer")
    assert await _status(client, tid, steer["run_id"]) == "pending"
    await release_hold(client, hold["hold_id"])
    assert [m["content"] for m in (await client.runs.join(tid, first))["messages"]] == [
        "q1",
        "",
        "found x",
        "answer 1",
    ]
    second = await client.runs.join(tid, steer["run_id"])
    assert [m["content"] for m in second["messages"]][-4:] == ["more", "", "found x", "answer 2"]
    assert seen == [["q1"], ["q1"], ["q1", "more"], ["q1", "more"]]
    assert await _status(client, tid, steer["run_id"]) == "success"  # a run of its own
