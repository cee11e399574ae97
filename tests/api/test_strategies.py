"""The four multitask strategies through the official async SDK client.

First the how-to's four scenarios with the demo agent, then the same
strategies on small gated graphs, where the order of events is forced by
gates rather than by timing.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage, convert_to_messages
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns.demo import make_agent
from tests.helpers import wait_for_status, wait_for_thread_status, wait_until

REJECT_DETAIL = (
    "Thread is already running a task. Wait for it to finish or choose a different "
    "multitask strategy."
)
SF = {"messages": [{"role": "human", "content": "whats the weather in sf?"}]}
NYC = {"messages": [{"role": "human", "content": "whats the weather in nyc?"}]}
SLOW_SF = {**SF, "sleep": 60}  # cancelled long before it ends


# -- graphs ------------------------------------------------------------------------


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    gate: str  # name of the gate node b waits on; "" for none


def log_graph(gates: Any) -> Any:
    """a -> b -> c; each appends "<tag>:<node>"; b waits on the gate its input names."""

    def step(name: str) -> Any:
        async def node(state: LogState) -> dict[str, Any]:
            if name == "b" and state.get("gate"):
                await gates[state["gate"]].passage()
            return {"log": [f"{state.get('tag', '')}:{name}"]}

        return node

    builder = StateGraph(LogState)
    for name in "abc":
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


def blocking_graph(gates: Any, recorder: Any) -> Any:
    """One sync node that blocks its worker thread on a gate (cancellation cannot stop it)."""

    def work(state: LogState) -> dict[str, Any]:
        tag = state["tag"]
        recorder.add(f"{tag}:start")
        if state.get("gate"):
            gates[state["gate"]].passage_sync()
        recorder.add(f"{tag}:end")
        return {"log": [tag]}

    builder = StateGraph(LogState)
    builder.add_node("work", work)
    builder.add_edge(START, "work")
    builder.add_edge("work", END)
    return builder.compile()


def ask(tag: str, gate: str = "") -> dict[str, Any]:
    return {"tag": tag, "gate": gate}


@pytest.fixture
async def server(start_server: Any, gates: Any, recorder: Any) -> nbruns.Server:
    return start_server(  # type: ignore[no-any-return]
        {
            "agent": make_agent(latency=0),
            "log": log_graph(gates),
            "blocking": blocking_graph(gates, recorder),
        }
    )


async def input_checkpointed(client: Any, thread_id: str, text: str) -> None:
    """Wait until the thread's state holds the human message `text` with the agent next."""

    async def probe() -> bool:
        state = await client.threads.get_state(thread_id)
        messages = (state["values"] or {}).get("messages", [])
        return state["next"] == ["agent"] and any(m["content"] == text for m in messages)

    await wait_until(probe, f"the input {text!r} to be checkpointed")


def contents(messages: list[Any]) -> list[Any]:
    return [m.content for m in convert_to_messages(messages)]


# -- the how-to's four scenarios with the demo agent ---------------------------------


async def test_seed_reject(client: Any) -> None:
    # the seed relies on model latency to keep run 1 busy; a long sleep makes it certain
    assistant = await client.assistants.create("agent")
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, assistant["assistant_id"], input=SLOW_SF)
    with pytest.raises(ConflictError) as info:
        await client.runs.create(
            tid, assistant["assistant_id"], input=NYC, multitask_strategy="reject"
        )
    assert info.value.response.status_code == 409
    assert info.value.response.json() == {"detail": REJECT_DETAIL}
    runs = await client.runs.list(tid)
    assert [r["run_id"] for r in runs] == [run["run_id"]]  # nothing was inserted
    assert (await client.runs.get(tid, run["run_id"]))["status"] in ("pending", "running")

    # the rejected attempt did not disturb the first run: it is still the thread's only work
    await client.runs.cancel(tid, run["run_id"], wait=True)
    state = await client.threads.get_state(tid)
    messages = convert_to_messages(state["values"]["messages"])
    assert [m.content for m in messages] == ["whats the weather in sf?"]
    assert all("nyc" not in str(m.content) for m in messages)


async def test_seed_interrupt(client: Any) -> None:
    assistant = await client.assistants.create("agent")
    tid = (await client.threads.create())["thread_id"]
    interrupted = await client.runs.create(tid, assistant["assistant_id"], input=SLOW_SF)
    await input_checkpointed(client, tid, "whats the weather in sf?")
    run = await client.runs.create(
        tid, assistant["assistant_id"], input=NYC, multitask_strategy="interrupt"
    )
    # interrupted at once, as the reference does
    old = await client.runs.get(tid, interrupted["run_id"])
    assert old["status"] == "interrupted"
    assert old["multitask_strategy"] == "enqueue"  # the strategy it was created with

    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    assert (await client.runs.get(tid, interrupted["run_id"]))["status"] == "interrupted"
    state = await client.threads.get_state(tid)
    messages = convert_to_messages(state["values"]["messages"])
    # the interrupted run's completed step (its input) is kept, then the new run's work
    assert [m.content for m in messages[:2]] == [
        "whats the weather in sf?",
        "whats the weather in nyc?",
    ]
    assert [type(m) for m in messages] == [
        HumanMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
        AIMessage,
    ]
    assert "New York" in messages[-1].content
    runs = await client.runs.list(tid)
    assert [(r["run_id"], r["status"]) for r in runs] == [
        (run["run_id"], "success"),
        (interrupted["run_id"], "interrupted"),
    ]
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_seed_rollback(client: Any) -> None:
    assistant = await client.assistants.create("agent")
    tid = (await client.threads.create())["thread_id"]
    rolled_back = await client.runs.create(tid, assistant["assistant_id"], input=SLOW_SF)
    await input_checkpointed(client, tid, "whats the weather in sf?")
    run = await client.runs.create(
        tid, assistant["assistant_id"], input=NYC, multitask_strategy="rollback"
    )
    # deleted at once: GET gives 404 and the list no longer shows it
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, rolled_back["run_id"])
    assert rolled_back["run_id"] not in [r["run_id"] for r in await client.runs.list(tid)]

    await client.runs.join(tid, run["run_id"])
    state = await client.threads.get_state(tid)
    messages = convert_to_messages(state["values"]["messages"])
    assert [type(m) for m in messages] == [HumanMessage, AIMessage, ToolMessage, AIMessage]
    assert messages[0].content == "whats the weather in nyc?"
    assert "New York" in messages[-1].content
    assert [r["run_id"] for r in await client.runs.list(tid)] == [run["run_id"]]
    history = await client.threads.get_history(tid, limit=100)
    assert {h["metadata"]["run_id"] for h in history} == {run["run_id"]}
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, rolled_back["run_id"])


async def test_seed_enqueue(client: Any) -> None:
    assistant = await client.assistants.create("agent")
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, assistant["assistant_id"], input=SF)
    second = await client.runs.create(
        tid, assistant["assistant_id"], input=NYC, multitask_strategy="enqueue"
    )
    assert second["status"] == "pending"
    await client.runs.join(tid, second["run_id"])
    for r in (first, second):
        assert (await client.runs.get(tid, r["run_id"]))["status"] == "success"
    state = await client.threads.get_state(tid)
    messages = convert_to_messages(state["values"]["messages"])
    assert [type(m) for m in messages] == [
        HumanMessage,
        AIMessage,
        ToolMessage,
        AIMessage,
        HumanMessage,
        AIMessage,
        ToolMessage,
        AIMessage,
    ]
    assert messages[0].content == "whats the weather in sf?"
    assert "San Francisco" in messages[3].content
    assert messages[4].content == "whats the weather in nyc?"
    assert "New York" in messages[7].content


async def test_default_strategy_is_enqueue(client: Any, gates: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    second = await client.runs.create(tid, "log", input=ask("r2"))  # no strategy given
    assert second["multitask_strategy"] == "enqueue"
    assert (await client.runs.get(tid, second["run_id"]))["status"] == "pending"
    gates["g1"].open()
    await client.runs.join(tid, second["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "success"
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == ["r1:a", "r1:b", "r1:c", "r2:a", "r2:b", "r2:c"]


# -- gated graphs -----------------------------------------------------------------------


async def test_reject_leaves_first_run_alone(client: Any, gates: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    await gates["g1"].reached()
    for _ in range(2):
        with pytest.raises(ConflictError) as info:
            await client.runs.create(tid, "log", input=ask("r2"), multitask_strategy="reject")
        assert info.value.response.json()["detail"] == REJECT_DETAIL
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "running"
    assert len(await client.runs.list(tid)) == 1
    gates["g1"].open()
    assert (await client.runs.join(tid, first["run_id"]))["log"] == ["r1:a", "r1:b", "r1:c"]
    # once nothing is in flight, reject just runs
    third = await client.runs.create(tid, "log", input=ask("r3"), multitask_strategy="reject")
    await client.runs.join(tid, third["run_id"])
    assert (await client.runs.get(tid, third["run_id"]))["status"] == "success"


async def test_reject_through_stream_and_wait(client: Any, gates: Any) -> None:
    import httpx

    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    with pytest.raises(ConflictError) as info:
        async for _ in client.runs.stream(tid, "log", input=ask("r2"), multitask_strategy="reject"):
            pass
    assert info.value.response.status_code == 409
    with pytest.raises(httpx.HTTPStatusError) as info2:
        await client.runs.wait(tid, "log", input=ask("r2"), multitask_strategy="reject")
    assert info2.value.response.status_code == 409
    assert [r["run_id"] for r in await client.runs.list(tid)] == [first["run_id"]]
    gates["g1"].open()
    await client.runs.join(tid, first["run_id"])


async def test_interrupt_keeps_completed_steps(client: Any, gates: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    old = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    await gates["g1"].reached()  # a is done and checkpointed, b is waiting
    new = await client.runs.create(tid, "log", input=ask("r2"), multitask_strategy="interrupt")
    old_now = await client.runs.get(tid, old["run_id"])
    assert old_now["status"] == "interrupted"
    assert old_now["cancel_reason"] == (
        f"superseded by run {new['run_id']} (multitask_strategy=interrupt)"
    )
    assert (await client.runs.join(tid, new["run_id"]))["log"] == [
        "r1:a",
        "r2:a",
        "r2:b",
        "r2:c",
    ]
    assert (await client.runs.get(tid, new["run_id"]))["status"] == "success"
    # join on the interrupted run once its successor ended: 200 with the thread's values
    # as they read now, as on the reference (it finds no events, and reads the thread)
    assert await client.runs.join(tid, old["run_id"]) == {
        "log": ["r1:a", "r2:a", "r2:b", "r2:c"],
        "tag": "r2",
        "gate": "",
    }
    assert (await client.threads.get(tid))["status"] == "idle"
    assert not gates["g1"].is_open


async def test_rollback_restores_history(client: Any, gates: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    done = await client.runs.create(tid, "log", input=ask("r0"))
    await client.runs.join(tid, done["run_id"])
    before_state = await client.threads.get_state(tid)
    before = await client.threads.get_history(tid, limit=100)

    old = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    await gates["g1"].reached()
    assert len(await client.threads.get_history(tid, limit=100)) > len(before)
    new = await client.runs.create(tid, "log", input=ask("r2"), multitask_strategy="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, old["run_id"])
    assert [r["run_id"] for r in await client.runs.list(tid)] == [new["run_id"], done["run_id"]]

    final = await client.runs.join(tid, new["run_id"])
    assert final["log"] == ["r0:a", "r0:b", "r0:c", "r2:a", "r2:b", "r2:c"]
    after = await client.threads.get_history(tid, limit=100)
    assert all(h["metadata"]["run_id"] != old["run_id"] for h in after)
    kept = [h for h in after if h["metadata"]["run_id"] != new["run_id"]]
    assert [h["checkpoint"]["checkpoint_id"] for h in kept] == [
        h["checkpoint"]["checkpoint_id"] for h in before
    ]
    assert [h["values"] for h in kept] == [h["values"] for h in before]
    assert [h["next"] for h in kept] == [h["next"] for h in before]
    # the new run started from the checkpoint the rolled-back run had started from
    oldest_new = [h for h in after if h["metadata"]["run_id"] == new["run_id"]][-1]
    assert (
        oldest_new["parent_checkpoint"]["checkpoint_id"]
        == (before_state["checkpoint"]["checkpoint_id"])
    )
    # REFERENCE 1.5: runs.join(old) returns HTTP 200 with the "Run not found" error body
    assert await client.runs.join(tid, old["run_id"]) == {
        "__error__": {"error": "HTTPException", "message": "404: Run not found"}
    }


async def test_rollback_original_wait_caller_gets_no_error(client: Any, gates: Any) -> None:
    """REFERENCE 1.5: a runs.wait by the original caller of a rolled-back run returned the
    last values chunk it had seen (with the rolled-back input) and no error."""
    import asyncio

    tid = (await client.threads.create())["thread_id"]
    waiting = asyncio.ensure_future(client.runs.wait(tid, "log", input=ask("r1", "g1")))
    await gates["g1"].reached()
    old = (await client.runs.list(tid))[0]
    new = await client.runs.create(tid, "log", input=ask("r2"), multitask_strategy="rollback")
    body = await asyncio.wait_for(waiting, 10)  # raise_error=True: must not raise
    assert body == {"log": ["r1:a"], "tag": "r1", "gate": "g1"}
    await client.runs.join(tid, new["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, old["run_id"])


async def test_enqueue_three_fifo(client: Any, gates: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    r1 = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    await gates["g1"].reached()
    r2 = await client.runs.create(tid, "log", input=ask("r2", "g2"), multitask_strategy="enqueue")
    r3 = await client.runs.create(tid, "log", input=ask("r3", "g3"), multitask_strategy="enqueue")
    statuses = [(await client.runs.get(tid, r["run_id"]))["status"] for r in (r1, r2, r3)]
    assert statuses == ["running", "pending", "pending"]
    assert (await client.threads.get(tid))["status"] == "busy"

    gates["g1"].open()
    await gates["g2"].reached()
    assert (await client.runs.get(tid, r1["run_id"]))["status"] == "success"
    assert (await client.runs.get(tid, r2["run_id"]))["status"] == "running"
    assert (await client.runs.get(tid, r3["run_id"]))["status"] == "pending"
    assert not gates["g3"].was_reached
    gates["g2"].open()
    gates["g3"].open()
    await client.runs.join(tid, r3["run_id"])
    state = await client.threads.get_state(tid)
    assert state["values"]["log"] == [
        "r1:a",
        "r1:b",
        "r1:c",
        "r2:a",
        "r2:b",
        "r2:c",
        "r3:a",
        "r3:b",
        "r3:c",
    ]
    runs = await client.runs.list(tid)
    assert [r["run_id"] for r in runs] == [r3["run_id"], r2["run_id"], r1["run_id"]]
    assert {r["status"] for r in runs} == {"success"}
    assert (await client.threads.get(tid))["status"] == "idle"


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
async def test_supersede_cancels_queued_runs_too(client: Any, gates: Any, strategy: str) -> None:
    tid = (await client.threads.create())["thread_id"]
    r1 = await client.runs.create(tid, "log", input=ask("r1", "g1"))
    await gates["g1"].reached()
    r2 = await client.runs.create(tid, "log", input=ask("r2"))
    r3 = await client.runs.create(tid, "log", input=ask("r3"))
    r4 = await client.runs.create(tid, "log", input=ask("r4"), multitask_strategy=strategy)
    old = (r1, r2, r3)
    if strategy == "interrupt":
        for r in old:
            assert (await client.runs.get(tid, r["run_id"]))["status"] == "interrupted"
    else:
        for r in old:
            with pytest.raises(NotFoundError):
                await client.runs.get(tid, r["run_id"])
    final = await client.runs.join(tid, r4["run_id"])
    if strategy == "interrupt":
        assert final["log"] == ["r1:a", "r4:a", "r4:b", "r4:c"]
        listed = [(r["run_id"], r["status"]) for r in await client.runs.list(tid)]
        assert listed == [
            (r4["run_id"], "success"),
            (r3["run_id"], "interrupted"),
            (r2["run_id"], "interrupted"),
            (r1["run_id"], "interrupted"),
        ]
    else:
        assert final["log"] == ["r4:a", "r4:b", "r4:c"]
        assert [r["run_id"] for r in await client.runs.list(tid)] == [r4["run_id"]]
    assert (await client.threads.get(tid))["status"] == "idle"


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
async def test_successor_never_overlaps_blocking_node(
    client: Any, gates: Any, recorder: Any, strategy: str
) -> None:
    tid = (await client.threads.create())["thread_id"]
    old = await client.runs.create(tid, "blocking", input=ask("r1", "g1"))
    await gates["g1"].reached()  # the sync node is blocking a worker thread now
    new = await client.runs.create(tid, "blocking", input=ask("r2"), multitask_strategy=strategy)
    if strategy == "interrupt":
        assert (await client.runs.get(tid, old["run_id"]))["status"] == "interrupted"
    else:
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, old["run_id"])
    # the old node cannot return before the gate opens, so the successor must wait
    assert (await client.runs.get(tid, new["run_id"]))["status"] == "pending"
    assert (await client.threads.get(tid))["status"] == "busy"
    assert recorder.labels() == ["r1:start"]

    gates["g1"].open()
    final = await client.runs.join(tid, new["run_id"])
    assert recorder.at("r2:start") >= recorder.at("r1:end")
    assert recorder.labels() == ["r1:start", "r1:end", "r2:start", "r2:end"]
    # the superseded run's late writes were discarded
    assert final["log"] == ["r2"]
    assert (await client.threads.get_state(tid))["values"]["log"] == ["r2"]
    await wait_for_thread_status(client, tid, "idle")


async def test_interrupt_while_pending_only(client: Any, gates: Any) -> None:
    """after_seconds keeps a run pending; interrupt supersedes it without it ever running."""
    tid = (await client.threads.create())["thread_id"]
    delayed = await client.runs.create(tid, "log", input=ask("r1"), after_seconds=0.3)
    new = await client.runs.create(tid, "log", input=ask("r2"), multitask_strategy="interrupt")
    assert (await client.runs.get(tid, delayed["run_id"]))["status"] == "interrupted"
    assert (await client.runs.join(tid, new["run_id"]))["log"] == ["r2:a", "r2:b", "r2:c"]
    await wait_for_status(client, tid, new["run_id"], "success")
