"""Multitask policies through the official SDK client, in process: where a run's strategy
comes from (call > thread > assistant > choose hook > enqueue), latest, the queue cap,
pending_ttl_s and run_timeout_s, and bad policies refused before anything changes.

Graph nodes wait on gates the test opens; the only waits on the clock are the two
time limits under test (a TTL and a run timeout), never used to order anything.
"""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any

import httpx
import pytest
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import ConflictError
from typing_extensions import TypedDict

import nbruns
from nbruns._core._policy import Policy
from nbruns.policies import by_message
from tests.helpers import Gates, wait_for_status

# -- the graph -------------------------------------------------------------------------


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    messages: Annotated[list[Any], operator.add]
    tag: str
    gate: str  # the gate node b waits on; "" for none


def log_graph(gates: Gates) -> Any:
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


def ask(tag: str, gate: str = "", text: str | None = None) -> dict[str, Any]:
    message = [] if text is None else [{"role": "human", "content": text}]
    return {"tag": tag, "gate": gate, "messages": message}


def policy(**keys: Any) -> dict[str, Any]:
    """`metadata=` holding a multitask policy (`nbruns.Policy` once it is exported)."""
    return Policy(**keys).as_metadata()


@pytest.fixture
def server(make_server: Any, gates: Gates) -> nbruns.Server:
    return make_server({"log": log_graph(gates)})  # type: ignore[no-any-return]


@pytest.fixture
async def client(server: nbruns.Server) -> Any:
    c = server.client()
    yield c
    await c.aclose()


async def running(client: Any, tid: str, tag: str, gates: Gates, **kwargs: Any) -> str:
    """A run held at its gate (node b), started and reached."""
    run = await client.runs.create(tid, "log", input=ask(tag, gate=tag), **kwargs)
    await gates[tag].reached()
    return run["run_id"]  # type: ignore[no-any-return]


async def timeline(client: Any, tid: str) -> list[dict[str, Any]]:
    resp = await client.http.client.get("/nbruns/timeline", params={"thread_id": tid})
    assert resp.status_code == 200
    return resp.json()  # type: ignore[no-any-return]


async def final_log(client: Any, tid: str) -> list[str]:
    return (await client.threads.get_state(tid))["values"]["log"]  # type: ignore[no-any-return]


# -- where the strategy comes from -----------------------------------------------------


async def test_call_beats_thread_beats_assistant(client: Any, gates: Gates) -> None:
    interrupting = await client.assistants.create("log", metadata=policy(strategy="interrupt"))
    aid = interrupting["assistant_id"]

    # the assistant's policy decides when nothing more specific does: interrupt
    t1 = (await client.threads.create())["thread_id"]
    first = (await client.runs.create(t1, aid, input=ask("t1-first", gate="t1-first")))["run_id"]
    await gates["t1-first"].reached()
    second = await client.runs.create(t1, aid, input=ask("t1-second"))
    assert second["multitask_strategy"] == "interrupt"
    await client.runs.join(t1, second["run_id"])
    assert (await client.runs.get(t1, first))["status"] == "interrupted"

    # the thread's beats the assistant's: reject
    t2 = (await client.threads.create(metadata=policy(strategy="reject")))["thread_id"]
    held = (await client.runs.create(t2, aid, input=ask("t2-held", gate="t2-held")))["run_id"]
    await gates["t2-held"].reached()
    with pytest.raises(ConflictError):
        await client.runs.create(t2, aid, input=ask("t2-refused"))
    # the call's metadata beats the thread's: enqueue
    queued = await client.runs.create(
        t2, aid, input=ask("t2-queued"), metadata=policy(strategy="enqueue")
    )
    assert (queued["status"], queued["multitask_strategy"]) == ("pending", "enqueue")
    # the call's multitask_strategy beats its own metadata
    named = await client.runs.create(
        t2,
        aid,
        input=ask("t2-named"),
        metadata=policy(strategy="reject"),
        multitask_strategy="enqueue",
    )
    assert named["status"] == "pending"
    gates["t2-held"].open()
    await client.runs.join(t2, named["run_id"])
    assert (await client.runs.get(t2, held))["status"] == "success"
    assert await final_log(client, t2) == [
        *("t2-held:a", "t2-held:b", "t2-held:c"),
        *("t2-queued:a", "t2-queued:b", "t2-queued:c"),
        *("t2-named:a", "t2-named:b", "t2-named:c"),
    ]


async def test_with_no_policy_and_no_hook_it_is_enqueue(client: Any, gates: Gates) -> None:
    tid = (await client.threads.create())["thread_id"]
    held = await running(client, tid, "held", gates)
    second = await client.runs.create(tid, "log", input=ask("second"))
    assert (second["status"], second["multitask_strategy"]) == ("pending", "enqueue")
    assert "multitask_policy" not in second["kwargs"]  # none set: kwargs as before
    gates["held"].open()
    await client.runs.join(tid, second["run_id"])
    assert (await client.runs.get(tid, held))["status"] == "success"


# -- latest ----------------------------------------------------------------------------


async def test_latest_with_three_arrivals_runs_only_the_newest(client: Any, gates: Gates) -> None:
    tid = (await client.threads.create(metadata=policy(strategy="latest")))["thread_id"]
    first = await running(client, tid, "first", gates)
    arrivals = [
        (await client.runs.create(tid, "log", input=ask(f"L{i}")))["run_id"] for i in (1, 2, 3)
    ]
    l1, l2, l3 = arrivals
    gates["first"].open()
    await client.runs.join(tid, l3)

    runs = {r: await client.runs.get(tid, r) for r in (first, *arrivals)}
    assert [runs[r]["status"] for r in (first, l1, l2, l3)] == [
        "success",
        "interrupted",
        "interrupted",
        "success",
    ]
    assert {runs[r]["multitask_strategy"] for r in arrivals} == {"latest"}
    for replaced, by in ((l1, l2), (l2, l3)):
        assert runs[replaced]["cancel_source"] == "replaced"
        assert runs[replaced]["superseded_by"] == by
        assert (
            runs[replaced]["cancel_reason"] == f"replaced by run {by} (multitask_strategy=latest)"
        )
    assert await final_log(client, tid) == ["first:a", "first:b", "first:c", "L3:a", "L3:b", "L3:c"]

    events = await timeline(client, tid)
    replaced = [(e["run_id"], e["by"]) for e in events if e["kind"] == "replaced"]
    assert replaced == [(l1, l2), (l2, l3)]
    started = [e["run_id"] for e in events if e["kind"] == "started"]
    assert started == [first, l3]


# -- max_pending -----------------------------------------------------------------------


async def test_a_full_queue_refuses_the_newest(client: Any, gates: Gates) -> None:
    tid = (await client.threads.create(metadata=policy(max_pending=1)))["thread_id"]
    await running(client, tid, "held", gates)
    waiting = await client.runs.create(tid, "log", input=ask("waiting"))
    with pytest.raises(ConflictError) as info:
        await client.runs.create(tid, "log", input=ask("refused"))
    detail = info.value.response.json()["detail"]
    assert "max_pending=1" in detail and "reject_newest" in detail
    assert len(await client.runs.list(tid)) == 2  # nothing created
    gates["held"].open()
    await client.runs.join(tid, waiting["run_id"])
    assert (await client.runs.get(tid, waiting["run_id"]))["status"] == "success"


async def test_a_full_queue_drops_the_oldest_waiting_run(client: Any, gates: Gates) -> None:
    cap = policy(max_pending=2, overflow="drop_oldest")
    tid = (await client.threads.create(metadata=cap))["thread_id"]
    held = await running(client, tid, "held", gates)
    p1, p2, p3 = [
        (await client.runs.create(tid, "log", input=ask(tag)))["run_id"]
        for tag in ("p1", "p2", "p3")
    ]
    dropped = await client.runs.get(tid, p1)
    assert (dropped["status"], dropped["cancel_source"]) == ("interrupted", "dropped")
    assert p3 in dropped["cancel_reason"] and "max_pending" in dropped["cancel_reason"]
    assert dropped["superseded_by"] == p3
    assert (await client.runs.get(tid, p2))["status"] == "pending"
    gates["held"].open()
    await client.runs.join(tid, p3)
    statuses = [(await client.runs.get(tid, r))["status"] for r in (held, p2, p3)]
    assert statuses == ["success", "success", "success"]
    assert [tag.split(":")[0] for tag in await final_log(client, tid)][::3] == ["held", "p2", "p3"]
    events = await timeline(client, tid)
    assert [(e["run_id"], e["reason"]) for e in events if e["kind"] == "dropped"] == [
        (p1, dropped["cancel_reason"])
    ]


# -- pending_ttl_s ---------------------------------------------------------------------


async def test_a_run_not_started_in_time_times_out(client: Any, gates: Gates) -> None:
    # the TTL is the feature here: it is the one thing waited on by the clock
    tid = (await client.threads.create(metadata=policy(pending_ttl_s=0.2)))["thread_id"]
    held = await running(client, tid, "held", gates)
    expiring = (await client.runs.create(tid, "log", input=ask("expiring")))["run_id"]
    # a call-level TTL wins over the thread's: this one waits
    patient = await client.runs.create(
        tid, "log", input=ask("patient"), metadata=policy(pending_ttl_s=600)
    )
    assert patient["kwargs"]["multitask_policy"] == {"pending_ttl_s": 600.0}
    joining = asyncio.ensure_future(client.runs.join(tid, expiring))

    expired = await wait_for_status(client, tid, expiring, "timeout")
    assert expired["cancel_source"] == "pending_ttl"
    assert "pending_ttl_s" in expired["cancel_reason"] and "0.2 s" in expired["cancel_reason"]
    joined = await joining  # its waiter is answered
    assert joined["__error__"]["error"] == "TimeoutError"
    assert joined["__error__"]["message"] == expired["cancel_reason"]
    assert (await client.runs.get(tid, held))["status"] == "running"
    assert (await client.runs.get(tid, patient["run_id"]))["status"] == "pending"

    gates["held"].open()
    await client.runs.join(tid, patient["run_id"])
    assert (await client.runs.get(tid, held))["status"] == "success"
    assert (await client.runs.get(tid, patient["run_id"]))["status"] == "success"
    assert [t.split(":")[0] for t in await final_log(client, tid)][::3] == ["held", "patient"]
    finished = [e for e in await timeline(client, tid) if e["kind"] == "finished"]
    assert (finished[0]["run_id"], finished[0]["status"]) == (expiring, "timeout")


async def test_a_run_that_starts_in_time_does_not_expire(client: Any, gates: Gates) -> None:
    # a TTL far longer than the run: it starts at once, and its timer is cancelled
    tid = (await client.threads.create(metadata=policy(pending_ttl_s=600)))["thread_id"]
    run = await client.runs.create(tid, "log", input=ask("quick"))
    await client.runs.join(tid, run["run_id"])
    assert (await client.runs.get(tid, run["run_id"]))["status"] == "success"


# -- run_timeout_s ---------------------------------------------------------------------


async def test_a_run_past_its_run_timeout_ends_timeout(client: Any, gates: Gates) -> None:
    # the run timeout is the feature here: its gate is never opened in time
    tid = (await client.threads.create(metadata=policy(run_timeout_s=0.2)))["thread_id"]
    slow = (await client.runs.create(tid, "log", input=ask("slow", gate="slow")))["run_id"]
    after = await client.runs.create(tid, "log", input=ask("after"))
    joined = await client.runs.join(tid, slow)
    assert joined["__error__"]["error"] == "TimeoutError"
    ended = await client.runs.get(tid, slow)
    assert (ended["status"], ended["cancel_source"]) == ("timeout", "run_timeout")
    assert ended["cancel_reason"] == (
        "the run took longer than its multitask policy's run_timeout_s of 0.2 s"
    )
    await client.runs.join(tid, after["run_id"])
    assert (await client.runs.get(tid, after["run_id"]))["status"] == "success"
    # its completed step (a) is kept; b never finished
    assert await final_log(client, tid) == ["slow:a", "after:a", "after:b", "after:c"]


# -- the choose hook -------------------------------------------------------------------


async def test_the_choose_hook_picks_per_input(make_server: Any, gates: Gates) -> None:
    seen: list[tuple[Any, dict[str, Any]]] = []

    def choose(new_input: Any, thread: dict[str, Any]) -> str | None:
        seen.append((new_input, thread))
        return by_message(new_input, thread)

    server = make_server({"log": log_graph(gates)})
    server.choose = choose
    client = server.client()
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "log", input=ask("first", "first", "weather in sf?"))
    await gates["first"].reached()
    queued = await client.runs.create(tid, "log", input=ask("queued", text="in la too?"))
    assert queued["multitask_strategy"] == "enqueue"
    shown = await client.threads.get(tid)
    correcting = await client.runs.create(tid, "log", input=ask("fix", text="Actually, nyc"))
    assert correcting["multitask_strategy"] == "interrupt"
    await client.runs.join(tid, correcting["run_id"])
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "interrupted"
    # it saw the input as sent, and the thread as the SDK shows it
    new_input, thread = seen[2]
    assert new_input["messages"] == [{"role": "human", "content": "Actually, nyc"}]
    assert thread == shown
    assert (thread["thread_id"], thread["status"]) == (tid, "busy")
    # a policy's strategy comes first: the hook is not asked
    asked = len(seen)
    named = await client.runs.create(
        tid, "log", input=ask("named", text="actually"), metadata=policy(strategy="enqueue")
    )
    assert named["multitask_strategy"] == "enqueue" and len(seen) == asked
    await client.runs.join(tid, named["run_id"])
    await client.aclose()


async def test_a_failing_or_wrong_hook_is_a_422_and_creates_nothing(
    make_server: Any, gates: Gates
) -> None:
    def broken(new_input: Any, thread: dict[str, Any]) -> str:
        raise RuntimeError("no model today")

    server = make_server({"log": log_graph(gates)})
    client = server.client()
    tid = (await client.threads.create())["thread_id"]
    threads_before = await client.threads.count()

    server.choose = broken
    for thread_id in (tid, None):  # a stateless run's thread is not created either
        with pytest.raises(httpx.HTTPStatusError) as info:
            await client.runs.create(thread_id, "log", input=ask("x"))
        assert info.value.response.status_code == 422
        detail = info.value.response.json()["detail"]
        assert "choose hook" in detail and "broken" in detail
        assert "RuntimeError: no model today" in detail

    server.choose = lambda new_input, thread: "fastest"
    with pytest.raises(httpx.HTTPStatusError) as info:
        await client.runs.wait(tid, "log", input=ask("x"))
    assert info.value.response.status_code == 422
    detail = info.value.response.json()["detail"]
    assert "'fastest'" in detail and "steer" in detail and "latest" in detail

    assert await client.runs.list(tid) == []
    assert await client.threads.count() == threads_before
    server.choose = None
    assert (await client.runs.wait(tid, "log", input=ask("fine")))["log"] == [
        "fine:a",
        "fine:b",
        "fine:c",
    ]
    await client.aclose()


def test_an_async_or_uncallable_hook_is_refused_at_once() -> None:
    async def later(new_input: Any, thread: Any) -> str:
        return "enqueue"

    with pytest.raises(TypeError, match="plain function, not an async one"):
        nbruns.Server(choose=later)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected a function"):
        nbruns.Server(choose="nbruns.policies:by_message")  # type: ignore[arg-type]


def test_get_client_sets_the_default_servers_hook(gates: Gates) -> None:
    client = nbruns.get_sync_client(graphs={"policy-log": log_graph(gates)}, choose=by_message)
    server = nbruns.default_server()
    try:
        assert server.choose is by_message
        tid = client.threads.create()["thread_id"]
        run = client.runs.create(tid, "policy-log", input=ask("x", text="btw hello"))
        # nothing runs on the thread: steer with nothing running is an ordinary run
        assert run["multitask_strategy"] == "steer"
        client.runs.join(tid, run["run_id"])
        with pytest.raises(ValueError, match="choose="):
            nbruns.get_client(url="http://127.0.0.1:1", choose=by_message)
    finally:
        server.choose = None


# -- bad policies ----------------------------------------------------------------------

BAD_POLICIES = [
    ({"max_pending": 0}, ["max_pending", "1 or more"]),
    ({"strategy": "fastest"}, ["strategy", "reject", "steer", "debounce", "latest"]),
    ({"overflow": "drop_newest"}, ["overflow", "reject_newest", "drop_oldest"]),
    ({"pending_ttl_s": -1}, ["pending_ttl_s", "more than 0 seconds"]),
    ({"max_queue": 1}, ["unknown key 'max_queue'", "max_pending"]),
    ("enqueue", ["expected an object"]),
]


@pytest.mark.parametrize(("bad", "fragments"), BAD_POLICIES, ids=[str(b) for b, _ in BAD_POLICIES])
async def test_bad_policies_are_422_and_change_nothing(
    client: Any, bad: Any, fragments: list[str]
) -> None:
    metadata = {"multitask": bad}
    tid = (await client.threads.create(metadata={"keep": 1}))["thread_id"]
    aid = (await client.assistants.create("log", metadata={"keep": 1}))["assistant_id"]
    counts = (await client.threads.count(), await client.assistants.count())

    async def refused(call: Any, where: str) -> None:
        with pytest.raises(httpx.HTTPStatusError) as info:
            await call
        assert info.value.response.status_code == 422
        detail = info.value.response.json()["detail"]
        assert detail.startswith(f"Invalid {where} metadata.multitask: "), detail
        for fragment in fragments:
            assert fragment in detail, (fragment, detail)

    await refused(client.runs.create(tid, "log", input=ask("x"), metadata=metadata), "run")
    await refused(client.runs.wait(tid, "log", input=ask("x"), metadata=metadata), "run")
    await refused(client.runs.create(None, "log", input=ask("x"), metadata=metadata), "run")
    stream = client.runs.stream(tid, "log", input=ask("x"), metadata=metadata)
    await refused(stream.__anext__(), "run")
    await refused(client.threads.create(metadata=metadata), "thread")
    await refused(client.threads.update(tid, metadata=metadata), "thread")
    await refused(client.assistants.create("log", metadata=metadata), "assistant")
    await refused(client.assistants.update(aid, metadata=metadata), "assistant")
    await refused(
        client.crons.create_for_thread(tid, "log", schedule="0 0 1 1 *", metadata=metadata),
        "cron",
    )

    assert await client.runs.list(tid) == []
    assert (await client.threads.count(), await client.assistants.count()) == counts
    assert (await client.threads.get(tid))["metadata"] == {"keep": 1}
    assert (await client.assistants.get(aid))["metadata"] == {"keep": 1}
    assert len(await client.assistants.get_versions(aid)) == 1
    assert await client.crons.search() == []


async def test_an_unknown_strategy_name_lists_the_eight(client: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    with pytest.raises(httpx.HTTPStatusError) as info:
        await client.runs.create(tid, "log", input=ask("x"), multitask_strategy="fastest")  # type: ignore[arg-type]
    assert info.value.response.status_code == 422
    detail = info.value.response.json()["detail"]
    for name in ("reject", "interrupt", "rollback", "enqueue", "steer", "collect", "debounce"):
        assert f"'{name}'" in detail
    assert "'latest'" in detail and "fastest" in detail
    assert await client.runs.list(tid) == []
