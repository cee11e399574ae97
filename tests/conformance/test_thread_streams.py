"""stream_mode="events", a thread's stream, prune and the SDK's thread stream, on every target."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

CHAT_INPUT = {"messages": [{"role": "user", "content": "hi"}]}


async def collect(stream: Any) -> list[tuple[str, Any]]:
    return [(p.event, p.data) async for p in stream]


def kinds(parts: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    return [(d["event"], d["name"]) for e, d in parts if e == "events"]


async def test_events_of_a_chat_model(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(drv.client.runs.stream(t, "chat", input=CHAT_INPUT, stream_mode="events"))
    assert parts[0][0] == "metadata"
    assert {e for e, _ in parts[1:]} == {"events"}
    run_id = parts[0][1]["run_id"]
    model = "GenericFakeChatModel"
    assert kinds(parts) == [
        ("on_chain_start", "chat"),  # the root run carries the graph's id and the run's id
        ("on_chain_start", "reply"),
        ("on_chat_model_start", model),
        *[("on_chat_model_stream", model)] * 3,
        ("on_chat_model_end", model),
        ("on_chain_stream", "reply"),
        ("on_chain_end", "reply"),
        ("on_chain_end", "chat"),
    ]
    events = [d for _, d in parts[1:]]
    assert events[0]["run_id"] == events[-1]["run_id"] == run_id
    assert events[0]["parent_ids"] == [] and events[1]["parent_ids"] == [run_id]
    assert {"event", "name", "run_id", "tags", "metadata", "data", "parent_ids"} <= set(events[0])
    tokens = [d["data"]["chunk"]["content"] for d in events if d["event"] == "on_chat_model_stream"]
    assert "".join(tokens) == "hello there"
    assert events[-1]["data"]["output"]["log"] == ["reply"]
    assert events[2]["metadata"]["langgraph_node"] == "reply"
    assert events[2]["metadata"]["thread_id"] == t


async def test_events_of_a_tool_with_values(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(
        drv.client.runs.stream(t, "tool", input={}, stream_mode=["events", "values"])
    )
    names = [e if e != "events" else f"events:{d['event']}:{d['name']}" for e, d in parts]
    assert names == [
        "metadata",
        "events:on_chain_start:tool",
        "events:on_chain_start:agent",
        "events:on_chain_stream:agent",
        "events:on_chain_end:agent",
        "values",
        "events:on_chain_start:tools",
        "events:on_tool_start:_add",
        "events:on_tool_end:_add",
        "events:on_chain_stream:tools",
        "events:on_chain_end:tools",
        "values",
        "events:on_chain_end:tool",
    ]
    tool_end = next(d for e, d in parts if e == "events" and d["event"] == "on_tool_end")
    assert tool_end["data"]["input"] == {"a": 1, "b": 2}
    assert tool_end["data"]["output"]["content"] == "3"
    state = await drv.client.threads.get_state(t)
    assert [m["type"] for m in state["values"]["messages"]] == ["ai", "tool"]


async def test_events_alone_still_ends_the_run_with_its_values(drv: Any) -> None:
    t = await drv.thread()
    resp = await drv.http.post(
        f"/threads/{t}/runs/wait",
        json={"assistant_id": "slow", "input": {}, "stream_mode": "events"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["log"] == ["a", "b", "c"]


async def _read_until(resp: Any, done: str) -> list[tuple[str, Any, str | None]]:
    """SSE frames of `resp` until a `run_done` for run `done`: (event, data, id)."""
    frames: list[tuple[str, Any, str | None]] = []
    event = data = event_id = None
    async for line in resp.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = orjson.loads(line[6:])
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line == "" and event is not None:
            frames.append((event, data, event_id))
            if event == "metadata" and data == {"status": "run_done", "run_id": done}:
                return frames
            event = data = event_id = None
    raise AssertionError(f"[stream ended before run {done} was done] {frames}")


async def test_thread_stream_follows_the_threads_runs(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.busy(t, delay=0.5)  # running before the stream opens
    async with drv.http.stream("GET", f"/threads/{t}/stream") as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        # queued behind the first, so it starts while the stream is open
        second = await drv.create(t, "slow", input={}, stream_mode=["updates"])
        frames = await _read_until(resp, second)
    events = [(e, d) for e, d, _ in frames]
    first_done = events.index(("metadata", {"status": "run_done", "run_id": first}))
    assert events[first_done + 1 :] == [
        ("metadata", {"run_id": second, "attempt": 1}),
        ("updates", {"a": {"log": ["a"]}}),
        ("updates", {"b": {"log": ["b"]}}),
        ("updates", {"c": {"log": ["c"]}}),
        ("metadata", {"status": "run_done", "run_id": second}),
    ]
    # every event has an id, in the reference's form
    assert all(i and i.split("-")[0].isdigit() for _, _, i in frames)


async def test_thread_stream_sends_state_updates(drv: Any) -> None:
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={})  # the thread gets its graph
    modes = {"stream_modes": "state_update"}
    async with drv.http.stream("GET", f"/threads/{t}/stream", params=modes) as resp:
        assert resp.status_code == 200
        lines = resp.aiter_lines()
        await drv.client.threads.update_state(t, {"log": ["u"]})
        event = data = None
        async for line in lines:
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = orjson.loads(line[6:])
            elif line == "" and event is not None:
                break
    assert event == "state_update"
    assert data["thread_id"] == t
    assert data["state"]["values"]["log"] == ["a", "b", "c", "u"]
    assert data["state"]["next"] == []


async def test_thread_stream_bad_input(drv: Any) -> None:
    t = await drv.thread()
    resp = await drv.http.get(f"/threads/{t}/stream", params={"stream_modes": "bogus"})
    assert resp.status_code == 422
    assert "Invalid stream mode: bogus" in resp.json()["detail"]
    resp = await drv.http.get(f"/threads/{t}/stream", headers={"Last-Event-ID": "abc"})
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("Invalid last-event-id")
    resp = await drv.http.get("/threads/not-a-uuid/stream")
    assert resp.status_code == 422
    assert resp.json()["detail"].startswith("Invalid thread ID: must be a UUID")


async def test_prune_deletes_and_skips_unknown_threads(drv: Any) -> None:
    a, b = await drv.thread(), await drv.thread()
    unknown = str(uuid.uuid4())
    assert await drv.client.threads.prune([a, unknown, a]) == {"pruned_count": 1}
    assert (await drv.http.get(f"/threads/{a}")).status_code == 404
    assert (await drv.http.get(f"/threads/{b}")).status_code == 200
    assert await drv.client.threads.prune([]) == {"pruned_count": 0}


async def test_prune_deletes_a_busy_thread_and_its_runs(drv: Any) -> None:
    t = await drv.thread()
    run_id = await drv.busy(t, delay=5)
    assert await drv.client.threads.prune([t]) == {"pruned_count": 1}
    assert (await drv.http.get(f"/threads/{t}/runs/{run_id}")).status_code == 404


async def test_prune_refusals(drv: Any) -> None:
    t = await drv.thread()
    bodies = [
        {"thread_ids": [t], "strategy": "keep_latest"},
        {"thread_ids": ["x"]},
        {"thread_ids": [t], "strategy": "bogus"},
        {},
        {"thread_ids": "x"},
        [],
    ]
    for body in bodies:
        resp = await drv.http.post("/threads/prune", json=body)
        assert resp.status_code == 422, (body, resp.text)
        assert resp.json()["detail"]
    resp = await drv.http.post(
        "/threads/prune", json={"thread_ids": [t], "strategy": "keep_latest"}
    )
    assert "keep_latest strategy is not supported" in resp.json()["detail"]
    assert (await drv.http.get(f"/threads/{t}")).status_code == 200  # nothing changed
    # keep_latest with nothing to prune answers like delete
    resp = await drv.http.post("/threads/prune", json={"thread_ids": [], "strategy": "keep_latest"})
    assert resp.json() == {"pruned_count": 0}


async def test_sdk_thread_stream_protocol(drv: Any) -> None:
    """`threads.stream` (LangGraph's protocol v2): `run.start` answers a success envelope
    and starts a normal run (tests/conformance/test_thread_protocol.py has the rest)."""
    t = await drv.thread()
    command = {"id": 1, "method": "run.start", "params": {"assistant_id": "slow", "input": {}}}
    resp = await drv.http.post(f"/threads/{t}/commands", json=command)
    assert resp.status_code == 200
    body = resp.json()
    assert body["type"] == "success" and body["id"] == 1 and "run_id" in body["result"]
    await drv.wait_thread(t, "idle")
    [run] = await drv.client.runs.list(t)
    assert run["run_id"] == body["result"]["run_id"] and run["status"] == "success"
