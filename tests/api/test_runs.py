"""Runs through the official async SDK client: create/get/list/delete, join/wait,
streaming, cancel, batch, stateless runs, scheduling options and breakpoints."""

from __future__ import annotations

import asyncio
import itertools
import operator
import time
import uuid
from datetime import datetime
from typing import Annotated, Any

import httpx
import pytest
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns.demo import make_agent
from tests.helpers import wait_for_status, wait_for_thread_status, wait_until

WAIT = 10.0  # upper bound when waiting for a state; never used for ordering

# -- graphs ------------------------------------------------------------------------


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    gate: str  # name of the gate node b waits on; "" for none
    fail: bool  # node b raises ValueError("boom") when set


def chain(nodes: dict[str, Any]) -> Any:
    builder = StateGraph(LogState)
    names = list(nodes)
    for name, fn in nodes.items():
        builder.add_node(name, fn)
    builder.add_edge(START, names[0])
    for left, right in itertools.pairwise(names):
        builder.add_edge(left, right)
    builder.add_edge(names[-1], END)
    return builder.compile()


def log_graph(gates: Any) -> Any:
    """a -> b -> c; each appends "<tag>:<node>"; b waits on its input's gate, or fails."""

    def step(name: str) -> Any:
        async def node(state: LogState) -> dict[str, Any]:
            if name == "b":
                if state.get("gate"):
                    await gates[state["gate"]].passage()
                if state.get("fail"):
                    raise ValueError("boom")
            return {"log": [f"{state.get('tag', '')}:{name}"]}

        return node

    return chain({n: step(n) for n in "abc"})


def ask_graph() -> Any:
    """a -> ask (dynamic interrupt) -> c."""

    async def a(state: LogState) -> dict[str, Any]:
        return {"log": ["a"]}

    async def ask_name(state: LogState) -> dict[str, Any]:
        answer = interrupt("what is your name?")
        return {"log": [f"hello {answer}"]}

    async def c(state: LogState) -> dict[str, Any]:
        return {"log": ["c"]}

    return chain({"a": a, "ask": ask_name, "c": c})


def custom_graph() -> Any:
    async def work(state: LogState) -> dict[str, Any]:
        write = get_stream_writer()
        write({"progress": 1})
        write({"progress": 2})
        return {"log": ["work"]}

    return chain({"work": work})


def ask(tag: str, gate: str = "", **extra: Any) -> dict[str, Any]:
    return {"tag": tag, "gate": gate, "fail": False, **extra}


def full(tag: str) -> list[str]:
    return [f"{tag}:a", f"{tag}:b", f"{tag}:c"]


@pytest.fixture
async def server(start_server: Any, gates: Any) -> nbruns.Server:
    return start_server(  # type: ignore[no-any-return]
        {
            "agent": make_agent(latency=0),
            "log": log_graph(gates),
            "ask": ask_graph(),
            "custom": custom_graph(),
        }
    )


async def new_thread(client: Any, **kwargs: Any) -> str:
    return (await client.threads.create(**kwargs))["thread_id"]  # type: ignore[no-any-return]


def ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


# -- create / get / list / delete ------------------------------------------------------


async def test_create_get_join(client: Any) -> None:
    tid = await new_thread(client)
    system = await client.assistants.get("log")
    run = await client.runs.create(tid, "log", input=ask("t"), metadata={"k": "v"})
    assert run["thread_id"] == tid
    assert run["assistant_id"] == system["assistant_id"]
    assert run["status"] == "pending"
    assert run["multitask_strategy"] == "enqueue"
    assert run["metadata"] == {"k": "v"}
    assert run["kwargs"]["input"] == ask("t")
    assert run["kwargs"]["stream_mode"] == ["values"]
    body = await client.runs.join(tid, run["run_id"])
    assert body == {"log": full("t"), **ask("t")}
    got = await client.runs.get(tid, run["run_id"])
    assert got["status"] == "success"
    assert got["run_id"] == run["run_id"]
    # joining a finished run again gives the same body
    assert await client.runs.join(tid, run["run_id"]) == body


async def test_list_limit_offset_status(client: Any, gates: Any) -> None:
    tid = await new_thread(client)
    ids = []
    for i in range(3):
        r = await client.runs.create(tid, "log", input=ask(f"r{i}"))
        await client.runs.join(tid, r["run_id"])
        ids.append(r["run_id"])
    running = await client.runs.create(tid, "log", input=ask("r3", "g"))
    await gates["g"].reached()
    pending = await client.runs.create(tid, "log", input=ask("r4"))
    ids += [running["run_id"], pending["run_id"]]
    newest_first = list(reversed(ids))

    assert [r["run_id"] for r in await client.runs.list(tid)] == newest_first
    assert [r["run_id"] for r in await client.runs.list(tid, limit=2)] == newest_first[:2]
    assert [r["run_id"] for r in await client.runs.list(tid, limit=2, offset=1)] == newest_first[
        1:3
    ]
    assert await client.runs.list(tid, offset=5) == []
    assert [r["run_id"] for r in await client.runs.list(tid, status="success")] == newest_first[2:]
    assert [r["run_id"] for r in await client.runs.list(tid, status="running")] == [
        running["run_id"]
    ]
    assert [r["run_id"] for r in await client.runs.list(tid, status="pending")] == [
        pending["run_id"]
    ]
    assert await client.runs.list(tid, status="error") == []
    assert [
        r["run_id"] for r in await client.runs.list(tid, status="success", limit=1, offset=1)
    ] == [newest_first[3]]
    gates["g"].open()
    await client.runs.join(tid, pending["run_id"])


async def test_delete_finished_run(client: Any) -> None:
    tid = await new_thread(client)
    first = await client.runs.wait(tid, "log", input=ask("r1"))
    assert first["log"] == full("r1")
    runs = await client.runs.list(tid)
    await client.runs.delete(tid, runs[0]["run_id"])
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, runs[0]["run_id"])
    assert await client.runs.list(tid) == []
    with pytest.raises(NotFoundError):
        await client.runs.delete(tid, runs[0]["run_id"])
    # as on the reference, the run's checkpoints go with it: the state rewinds to before it
    assert (await client.threads.get_state(tid))["values"] == {}
    assert await client.threads.get_history(tid) == []
    assert (await client.threads.get(tid))["values"] is None


# -- join / wait outcomes -----------------------------------------------------------------


async def test_join_and_wait_on_error(client: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("t", fail=True))
    body = await client.runs.join(tid, run["run_id"])
    assert body == {"__error__": {"error": "ValueError", "message": "boom"}}
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "error"

    with pytest.raises(Exception, match=r"^ValueError: boom$"):
        await client.runs.wait(tid, "log", input=ask("t2", fail=True))
    body = await client.runs.wait(tid, "log", input=ask("t3", fail=True), raise_error=False)
    assert body == {"__error__": {"error": "ValueError", "message": "boom"}}


async def test_failing_run_then_recovery(client: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("t", fail=True))
    await client.runs.join(tid, run["run_id"])
    thread = await client.threads.get(tid)
    assert thread["status"] == "error"
    assert thread["error"] is not None
    assert "boom" in str(thread["error"])
    assert "ValueError" in str(thread["error"])
    # the step before the failure was kept
    assert (await client.threads.get_state(tid))["values"]["log"] == ["t:a"]

    ok = await client.runs.create(tid, "log", input=ask("u"))
    assert (await client.runs.join(tid, ok["run_id"]))["log"] == ["t:a", *full("u")]
    assert (await client.runs.get(tid, ok["run_id"]))["status"] == "success"
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert not thread["error"]


async def test_join_interrupted_run(client: Any, gates: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("t", "g"))
    await gates["g"].reached()
    joined = asyncio.ensure_future(client.runs.join(tid, run["run_id"]))
    await client.runs.cancel(tid, run["run_id"])
    body = await asyncio.wait_for(joined, WAIT)
    assert body == {"log": ["t:a"], **ask("t", "g")}
    assert await client.runs.join(tid, run["run_id"]) == body
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"


async def test_wait_returns_final_values(client: Any) -> None:
    tid = await new_thread(client)
    created: list[Any] = []
    body = await client.runs.wait(tid, "log", input=ask("w"), on_run_created=created.append)
    assert body == {"log": full("w"), **ask("w")}
    assert len(created) == 1
    assert created[0]["thread_id"] == tid
    run = await client.runs.get(tid, created[0]["run_id"])
    assert run["status"] == "success"


# -- streaming ------------------------------------------------------------------------


async def collect(stream: Any) -> list[Any]:
    return [part async for part in stream]


async def test_stream_values(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(client.runs.stream(tid, "log", input=ask("s"), stream_mode="values"))
    assert [p.event for p in parts] == ["metadata", "values", "values", "values", "values"]
    runs = await client.runs.list(tid)
    assert parts[0].data == {"run_id": runs[0]["run_id"], "attempt": 1}
    assert [p.data.get("log") for p in parts[1:]] == [
        [],
        ["s:a"],
        ["s:a", "s:b"],
        full("s"),
    ]
    assert runs[0]["status"] == "success"


async def test_stream_updates(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(client.runs.stream(tid, "log", input=ask("s"), stream_mode="updates"))
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates"]
    assert [p.data for p in parts[1:]] == [
        {"a": {"log": ["s:a"]}},
        {"b": {"log": ["s:b"]}},
        {"c": {"log": ["s:c"]}},
    ]


async def test_stream_several_modes(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(
        client.runs.stream(tid, "log", input=ask("s"), stream_mode=["updates", "values"])
    )
    assert parts[0].event == "metadata"
    assert [p.event for p in parts].count("updates") == 3
    assert [p.event for p in parts].count("values") == 4
    assert {p.event for p in parts} == {"metadata", "updates", "values"}


async def test_stream_custom(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(client.runs.stream(tid, "custom", input={}, stream_mode="custom"))
    assert [(p.event, p.data) for p in parts[1:]] == [
        ("custom", {"progress": 1}),
        ("custom", {"progress": 2}),
    ]
    assert parts[0].event == "metadata"


async def test_stream_messages_tuple(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(
        client.runs.stream(
            tid,
            "agent",
            input={"messages": [{"role": "human", "content": "whats the weather in sf?"}]},
            stream_mode="messages-tuple",
        )
    )
    assert parts[0].event == "metadata"
    assert len(parts) > 2
    assert {p.event for p in parts[1:]} == {"messages"}
    for p in parts[1:]:
        message, metadata = p.data
        assert isinstance(message, dict) and "content" in message and "type" in message
        assert metadata["langgraph_node"] in ("agent", "tools")
    ai_text = "".join(
        p.data[0]["content"]
        for p in parts[1:]
        if p.data[1]["langgraph_node"] == "agent" and isinstance(p.data[0]["content"], str)
    )
    assert "San Francisco" in ai_text


async def test_stream_debug(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(client.runs.stream(tid, "log", input=ask("s"), stream_mode="debug"))
    assert parts[0].event == "metadata"
    assert {p.event for p in parts[1:]} == {"debug"}
    types = [p.data["type"] for p in parts[1:]]
    assert {"checkpoint", "task", "task_result"} <= set(types)
    results = [p.data["payload"] for p in parts[1:] if p.data["type"] == "task_result"]
    assert [r["name"] for r in results] == ["a", "b", "c"]


async def test_stream_error_event(client: Any) -> None:
    tid = await new_thread(client)
    parts = await collect(client.runs.stream(tid, "log", input=ask("s", fail=True)))
    assert parts[0].event == "metadata"
    assert parts[-1].event == "error"
    assert parts[-1].data == {"error": "ValueError", "message": "boom"}


async def test_stream_ends_with_an_error_event_when_the_server_shuts_down(
    server: nbruns.Server, client: Any, gates: Any
) -> None:
    """Without it the SDK would see a clean close on a run it believes is running and
    go off reconnecting to a server that is gone."""
    tid = await new_thread(client)
    gate = gates["g"]
    parts: list[Any] = []
    async for part in client.runs.stream(tid, "log", input=ask("s", "g"), stream_mode="values"):
        parts.append(part)
        if part.event == "values" and part.data.get("log") == ["s:a"]:
            await gate.reached()
            await server.aclose("the test stopped the server")
    assert [p.event for p in parts] == ["metadata", "values", "values", "error"]
    assert parts[-1].data == {"error": "ServerShutdown", "message": "the test stopped the server"}
    assert not gate.is_open  # the run was stopped, not let through


async def test_stream_is_incremental(client: Any, gates: Any) -> None:
    """The first values event arrives while the run is still blocked on its gate."""
    tid = await new_thread(client)
    gate = gates["g"]
    seen: list[Any] = []
    async for part in client.runs.stream(tid, "log", input=ask("s", "g"), stream_mode="values"):
        seen.append(part)
        if part.event == "values" and part.data.get("log") == ["s:a"]:
            assert not gate.is_open  # proof: received before anything let b through
            await gate.reached()
            run_id = seen[0].data["run_id"]
            assert (await client.runs.get(tid, run_id))["status"] == "running"
            gate.open()
    assert gate.is_open, "never received the values event written before the gate"
    assert seen[-1].data["log"] == full("s")


@pytest.mark.parametrize(
    "modes",
    [
        pytest.param({}, id="sdk-default-stream-mode"),
        pytest.param({"stream_mode": "values"}, id="values"),
    ],
)
async def test_join_stream(client: Any, gates: Any, modes: dict[str, Any]) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("j", "g"), stream_mode=["values"])
    await gates["g"].reached()
    connected = asyncio.Event()

    async def on_response(response: httpx.Response) -> None:
        if response.request.method == "GET" and response.request.url.path.endswith(
            f"/runs/{run['run_id']}/stream"
        ):
            connected.set()

    client.http.client.event_hooks["response"].append(on_response)
    reading = asyncio.ensure_future(collect(client.runs.join_stream(tid, run["run_id"], **modes)))
    await asyncio.wait_for(connected.wait(), WAIT)  # subscribed: nothing after this is missed
    gates["g"].open()
    parts = await asyncio.wait_for(reading, WAIT)
    values = [p.data for p in parts if p.event == "values"]
    assert [v["log"] for v in values] == [["j:a", "j:b"], full("j")]
    assert {p.event for p in parts} <= {"values", "metadata"}
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"


# -- cancel ------------------------------------------------------------------------------


async def finished_run(client: Any, tid: str, tag: str) -> str:
    r = await client.runs.create(tid, "log", input=ask(tag))
    await client.runs.join(tid, r["run_id"])
    return r["run_id"]  # type: ignore[no-any-return]


def history_key(history: list[Any]) -> list[Any]:
    return [(h["checkpoint"]["checkpoint_id"], h["values"], h["next"]) for h in history]


@pytest.mark.parametrize("wait", [False, True])
async def test_cancel_running_interrupt(client: Any, gates: Any, wait: bool) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("t", "g"))
    await gates["g"].reached()
    await client.runs.cancel(tid, run["run_id"], wait=wait, action="interrupt")
    got = await client.runs.get(tid, run["run_id"])
    assert got["status"] == "interrupted"
    assert got["cancel_reason"]
    thread = (
        await client.threads.get(tid)
        if wait
        else await wait_for_thread_status(client, tid, "interrupted")
    )
    assert thread["status"] == "interrupted"  # cancelled mid-graph: next is non-empty
    state = await client.threads.get_state(tid)
    assert state["next"] == ["b"]
    assert state["values"]["log"] == ["t:a"]
    assert not gates["g"].is_open
    # and the thread is usable afterwards
    assert (await client.runs.wait(tid, "log", input=ask("u")))["log"] == ["t:a", *full("u")]


@pytest.mark.parametrize("wait", [False, True])
async def test_cancel_running_rollback(client: Any, gates: Any, wait: bool) -> None:
    tid = await new_thread(client)
    await finished_run(client, tid, "r0")
    before = await client.threads.get_history(tid, limit=100)
    before_state = await client.threads.get_state(tid)
    run = await client.runs.create(tid, "log", input=ask("t", "g"))
    await gates["g"].reached()
    await client.runs.cancel(tid, run["run_id"], wait=wait, action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, run["run_id"])
    assert run["run_id"] not in [r["run_id"] for r in await client.runs.list(tid)]
    # not stuck busy (a reference bug nbruns fixes)
    if wait:
        assert (await client.threads.get(tid))["status"] == "idle"
    else:
        await wait_for_thread_status(client, tid, "idle")
    assert history_key(await client.threads.get_history(tid, limit=100)) == history_key(before)
    after_state = await client.threads.get_state(tid)
    assert after_state["values"] == before_state["values"]
    assert after_state["checkpoint"] == before_state["checkpoint"]
    assert (await client.threads.get(tid))["values"]["log"] == full("r0")


@pytest.mark.parametrize("wait", [False, True])
@pytest.mark.parametrize("action", ["interrupt", "rollback"])
async def test_cancel_pending_run(client: Any, gates: Any, action: str, wait: bool) -> None:
    tid = await new_thread(client)
    r1 = await client.runs.create(tid, "log", input=ask("r1", "g"))
    await gates["g"].reached()
    r2 = await client.runs.create(tid, "log", input=ask("r2"))
    await client.runs.cancel(tid, r2["run_id"], action=action, wait=wait)
    if action == "interrupt":
        assert (await client.runs.get(tid, r2["run_id"]))["status"] == "interrupted"
    else:
        with pytest.raises(NotFoundError):
            await client.runs.get(tid, r2["run_id"])
    # r1 still runs, and the thread is still busy (the reference wrongly says idle)
    assert (await client.runs.get(tid, r1["run_id"]))["status"] == "running"
    assert (await client.threads.get(tid))["status"] == "busy"
    gates["g"].open()
    await client.runs.join(tid, r1["run_id"])
    await wait_for_thread_status(client, tid, "idle")
    # the cancelled run never executed
    assert (await client.threads.get_state(tid))["values"]["log"] == full("r1")


async def test_cancel_finished_run_is_404(client: Any) -> None:
    tid = await new_thread(client)
    rid = await finished_run(client, tid, "r")
    for action in ("interrupt", "rollback"):
        with pytest.raises(NotFoundError) as info:
            await client.runs.cancel(tid, rid, action=action)
        assert info.value.response.status_code == 404
        assert "No matching runs to cancel" in info.value.response.json()["detail"]
    assert (await client.runs.get(tid, rid))["status"] == "success"


async def test_cancel_many_by_run_ids(client: Any, gates: Any) -> None:
    tid = await new_thread(client)
    r1 = await client.runs.create(tid, "log", input=ask("r1", "g"))
    await gates["g"].reached()
    r2 = await client.runs.create(tid, "log", input=ask("r2"))
    r3 = await client.runs.create(tid, "log", input=ask("r3"))
    r4 = await client.runs.create(tid, "log", input=ask("r4"))
    await client.runs.cancel_many(thread_id=tid, run_ids=[r2["run_id"], r3["run_id"]])
    statuses = {r["run_id"]: r["status"] for r in await client.runs.list(tid)}
    assert statuses == {
        r1["run_id"]: "running",
        r2["run_id"]: "interrupted",
        r3["run_id"]: "interrupted",
        r4["run_id"]: "pending",
    }
    gates["g"].open()
    await client.runs.join(tid, r4["run_id"])
    assert (await client.threads.get_state(tid))["values"]["log"] == [*full("r1"), *full("r4")]


async def test_cancel_many_by_status(client: Any, gates: Any) -> None:
    threads = [await new_thread(client) for _ in range(2)]
    running, pending = [], []
    for i, tid in enumerate(threads):
        running.append(await client.runs.create(tid, "log", input=ask(f"run{i}", f"g{i}")))
        await gates[f"g{i}"].reached()
        pending.append(await client.runs.create(tid, "log", input=ask(f"pend{i}")))

    await client.runs.cancel_many(status="pending")
    for tid, run, pend in zip(threads, running, pending, strict=True):
        assert (await client.runs.get(tid, pend["run_id"]))["status"] == "interrupted"
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "running"

    await client.runs.cancel_many(status="running", action="interrupt")
    for tid, run in zip(threads, running, strict=True):
        assert (await client.runs.get(tid, run["run_id"]))["status"] == "interrupted"
        await wait_for_thread_status(client, tid, "interrupted")
        assert (await client.threads.get_state(tid))["values"]["log"] == [
            f"{run['kwargs']['input']['tag']}:a"
        ]


async def test_cancel_many_rollback_by_run_ids(client: Any, gates: Any) -> None:
    tid = await new_thread(client)
    r1 = await client.runs.create(tid, "log", input=ask("r1", "g"))
    await gates["g"].reached()
    await client.runs.cancel_many(thread_id=tid, run_ids=[r1["run_id"]], action="rollback")
    with pytest.raises(NotFoundError):
        await client.runs.get(tid, r1["run_id"])
    await wait_for_thread_status(client, tid, "idle")
    assert (await client.threads.get_state(tid))["values"] == {}


# -- batch and stateless runs ----------------------------------------------------------


async def test_create_batch(client: Any) -> None:
    runs = await client.runs.create_batch(
        [
            {"assistant_id": "log", "input": ask("b1"), "on_completion": "keep"},
            {"assistant_id": "log", "input": ask("b2"), "on_completion": "keep"},
        ]
    )
    assert len(runs) == 2
    assert len({r["thread_id"] for r in runs}) == 2
    assert len({r["run_id"] for r in runs}) == 2
    for run, tag in zip(runs, ("b1", "b2"), strict=True):
        assert run["kwargs"]["input"] == ask(tag)
        assert (await client.runs.join(run["thread_id"], run["run_id"]))["log"] == full(tag)
        assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "success"


async def test_stateless_wait_deletes_its_thread(client: Any) -> None:
    created: list[Any] = []
    body = await client.runs.wait(None, "log", input=ask("s"), on_run_created=created.append)
    assert body == {"log": full("s"), **ask("s")}
    tid = created[0]["thread_id"]

    async def gone() -> bool:
        try:
            await client.threads.get(tid)
        except NotFoundError:
            return True
        return False

    await wait_until(gone, "the temporary thread to be deleted")


async def test_stateless_keep(client: Any) -> None:
    run = await client.runs.create(None, "log", input=ask("k"), on_completion="keep")
    tid = run["thread_id"]
    assert (await client.runs.join(tid, run["run_id"]))["log"] == full("k")
    await wait_for_status(client, tid, run["run_id"], "success")
    assert (await client.threads.get(tid))["thread_id"] == tid
    assert [r["run_id"] for r in await client.runs.list(tid)] == [run["run_id"]]


async def test_stateless_stream(client: Any) -> None:
    parts = await collect(client.runs.stream(None, "log", input=ask("s"), stream_mode="updates"))
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates"]


# -- scheduling options ----------------------------------------------------------------


async def test_if_not_exists(client: Any) -> None:
    tid = str(uuid.uuid4())
    before = await client.threads.count()
    with pytest.raises(NotFoundError) as info:
        await client.runs.create(tid, "log", input=ask("x"))
    assert info.value.response.json()["detail"] == "Thread or assistant not found."
    with pytest.raises(NotFoundError):
        await client.runs.create(tid, "log", input=ask("x"), if_not_exists="reject")
    assert await client.threads.count() == before
    run = await client.runs.create(tid, "log", input=ask("x"), if_not_exists="create")
    assert run["thread_id"] == tid
    assert (await client.runs.join(tid, run["run_id"]))["log"] == full("x")
    assert (await client.threads.get(tid))["thread_id"] == tid
    assert await client.threads.count() == before + 1


async def test_after_seconds_pending_counts_for_reject(client: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("d"), after_seconds=0.3)
    assert run["status"] == "pending"
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "pending"
    with pytest.raises(ConflictError) as info:
        await client.runs.create(tid, "log", input=ask("x"), multitask_strategy="reject")
    assert "already running a task" in info.value.response.json()["detail"]
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "pending"
    assert (await client.threads.get(tid))["status"] == "busy"
    await wait_for_status(client, tid, run["run_id"], "success")
    got = await client.runs.get(tid, run["run_id"])
    assert ts(got["started_at"]) - ts(got["created_at"]) >= 0.3 - 0.01
    assert [r["run_id"] for r in await client.runs.list(tid)] == [run["run_id"]]


async def test_after_seconds_lets_later_runs_go_first(client: Any) -> None:
    tid = await new_thread(client)
    delayed = await client.runs.create(tid, "log", input=ask("late"), after_seconds=0.3)
    prompt = await client.runs.create(tid, "log", input=ask("now"))
    await client.runs.join(tid, prompt["run_id"])
    await wait_for_status(client, tid, delayed["run_id"], "success")
    assert (await client.threads.get_state(tid))["values"]["log"] == [*full("now"), *full("late")]


async def test_checkpoint_id_fork(client: Any) -> None:
    tid = await new_thread(client)
    first = await client.runs.create(tid, "log", input=ask("f"))
    await client.runs.join(tid, first["run_id"])
    history = await client.threads.get_history(tid, limit=100)
    fork = next(h for h in history if h["next"] == ["b"])
    assert fork["values"]["log"] == ["f:a"]
    fork_id = fork["checkpoint"]["checkpoint_id"]

    second = await client.runs.create(tid, "log", input=None, checkpoint_id=fork_id)
    body = await client.runs.join(tid, second["run_id"])
    assert body["log"] == full("f")  # b and c re-ran on top of the fork's ["f:a"]
    after = await client.threads.get_history(tid, limit=100)
    # the old branch's checkpoints are all still there
    old_ids = [h["checkpoint"]["checkpoint_id"] for h in history]
    assert [h["checkpoint"]["checkpoint_id"] for h in after[-len(history) :]] == old_ids
    branch = after[: len(after) - len(history)]
    assert branch and {h["metadata"]["run_id"] for h in branch} == {second["run_id"]}
    assert after[0]["values"]["log"] == full("f")
    assert after[0]["next"] == []
    # the new branch grows from the fork checkpoint
    assert branch[-1]["parent_checkpoint"]["checkpoint_id"] == fork_id
    assert (await client.threads.get_state(tid))["checkpoint"] == after[0]["checkpoint"]
    # the old branch is untouched
    old_head = await client.threads.get_state(
        tid, checkpoint_id=history[0]["checkpoint"]["checkpoint_id"]
    )
    assert old_head["values"]["log"] == full("f")


async def test_interrupt_before_and_resume(client: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "log", input=ask("h"), interrupt_before=["b"])
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert thread["interrupts"] == {}
    state = await client.threads.get_state(tid)
    assert state["next"] == ["b"]
    assert state["values"]["log"] == ["h:a"]

    resumed = await client.runs.create(tid, "log", input=None)
    assert (await client.runs.join(tid, resumed["run_id"]))["log"] == full("h")
    assert (await client.threads.get(tid))["status"] == "idle"
    assert (await client.threads.get_state(tid))["next"] == []


async def test_dynamic_interrupt_and_command_resume(client: Any) -> None:
    tid = await new_thread(client)
    run = await client.runs.create(tid, "ask", input={})
    body = await client.runs.join(tid, run["run_id"])
    assert [i["value"] for i in body["__interrupt__"]] == ["what is your name?"]
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert len(thread["interrupts"]) == 1
    [(_task_id, interrupts)] = thread["interrupts"].items()
    assert [i["value"] for i in interrupts] == ["what is your name?"]
    assert interrupts[0]["id"]
    state = await client.threads.get_state(tid)
    assert state["next"] == ["ask"]
    assert [i["value"] for i in state["interrupts"]] == ["what is your name?"]

    resumed = await client.runs.create(tid, "ask", command={"resume": "bob"})
    assert (await client.runs.join(tid, resumed["run_id"]))["log"] == ["a", "hello bob", "c"]
    thread = await client.threads.get(tid)
    assert thread["status"] == "idle"
    assert thread["interrupts"] == {}


# -- the sync client inside a running event loop -------------------------------------------


async def test_sync_client_inside_running_loop(server: nbruns.Server) -> None:
    asyncio.get_running_loop()  # we are inside the test's loop and block it below
    if server.loop_choice == "current":
        # the server runs on this very loop: blocking it would deadlock, so it refuses
        with pytest.raises(
            RuntimeError,
            match=r"would deadlock the server; use the async client there, "
            r"or a server with loop='thread'",
        ):
            server.sync_client().threads.create()
        assert await server.client().threads.search() == []  # and nothing was created
        return
    sync = server.sync_client()
    try:
        started = time.monotonic()
        tid = sync.threads.create()["thread_id"]
        run = sync.runs.create(tid, "log", input=ask("s"))
        assert sync.runs.join(tid, run["run_id"])["log"] == full("s")
        assert sync.runs.get(tid, run["run_id"])["status"] == "success"
        parts = list(sync.runs.stream(tid, "log", input=ask("t"), stream_mode="updates"))
        assert [p.event for p in parts] == ["metadata", "updates", "updates", "updates"]
        assert sync.runs.wait(tid, "log", input=ask("u"))["log"][-3:] == full("u")
        assert time.monotonic() - started < WAIT
    finally:
        sync.close()
