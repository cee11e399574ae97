"""The SDK's thread stream (`client.threads.stream`, SSE) on every target: the SDK's
documented usage (start a run, iterate values and messages, answer an interrupt) and
the command envelopes, as LangGraph's server answers them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson

CHAT_INPUT = {"messages": [{"role": "human", "content": "hi"}]}
ALL = ["values", "updates", "messages", "tools", "lifecycle", "input", "checkpoints", "tasks"]


async def read_events(drv: Any, thread_id: str, body: dict[str, Any], until: str) -> list[Any]:
    """Protocol events from the thread's event stream, up to the lifecycle event `until`."""
    events: list[Any] = []
    async with asyncio.timeout(drv.DEADLINE):
        async with drv.http.stream(
            "POST", f"/threads/{thread_id}/stream/events", json=body
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            async for line in resp.aiter_lines():
                if not line.startswith("data: "):
                    continue
                event = orjson.loads(line[6:])
                events.append(event)
                data = event["params"]["data"]
                if event["method"] == "lifecycle" and data["event"] == until:
                    return events
    raise AssertionError(events)


async def command(drv: Any, thread_id: str, method: str, params: Any) -> Any:
    resp = await drv.http.post(
        f"/threads/{thread_id}/commands", json={"id": 7, "method": method, "params": params}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_sdk_values_and_output(drv: Any) -> None:
    async with drv.client.threads.stream(assistant_id="slow") as thread:
        started = await thread.run.start(input={"delay": 0})
        assert set(started) == {"run_id"}
        seen = [v.get("log") async for v in thread.values]
        assert seen[-1] == ["a", "b", "c"]
        assert (await thread.output)["log"] == ["a", "b", "c"]
    # the thread was created by run.start, and its run is a normal run
    runs = await drv.client.runs.list(thread.thread_id)
    assert [r["status"] for r in runs] == ["success"]


async def test_sdk_messages(drv: Any) -> None:
    async with drv.client.threads.stream(assistant_id="chat") as thread:
        await thread.run.start(input=CHAT_INPUT)
        streams = [m async for m in thread.messages]
        assert len(streams) == 1
        assert await streams[0].text == "hello there"
        await thread.output


async def test_sdk_interrupt_and_respond(drv: Any) -> None:
    async with drv.client.threads.stream(assistant_id="dyn") as thread:
        await thread.run.start(input={})
        async for _ in thread.values:
            pass
        assert thread.interrupted
        [pending] = thread.interrupts
        assert pending["namespace"] == []
        await thread.run.respond("yes")
        assert (await thread.output)["answer"] == "yes"


async def test_wire_events_and_replay(drv: Any) -> None:
    t = str(uuid.uuid4())  # no such thread yet: run.start makes it
    started = await command(drv, t, "run.start", {"assistant_id": "chat", "input": CHAT_INPUT})
    assert started["type"] == "success" and started["id"] == 7
    assert started["meta"] == {"applied_through_seq": 0}
    events = await read_events(drv, t, {"channels": ALL}, "completed")
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["type"] == "event" and e["params"]["namespace"] == [] for e in events)
    first, last = events[0]["params"]["data"], events[-1]["params"]["data"]
    assert first == {"event": "running", "graph_name": "chat"}
    assert last == {"event": "completed", "graph_name": "chat"}
    kinds = [e["params"]["data"]["event"] for e in events if e["method"] == "messages"]
    assert kinds[:2] == ["message-start", "content-block-start"]
    assert kinds[-2:] == ["content-block-finish", "message-finish"]
    deltas = [
        e["params"]["data"]["delta"]["text"]
        for e in events
        if e["method"] == "messages" and e["params"]["data"]["event"] == "content-block-delta"
    ]
    assert "".join(deltas) == "hello there"
    assert events[-2]["method"] == "values"
    assert events[-2]["params"]["data"]["log"] == ["reply"]
    # a reader asking for fewer channels gets the same seqs and event ids; `since` skips
    only = await read_events(drv, t, {"channels": ["lifecycle"], "since": 1}, "completed")
    assert [e["event_id"] for e in only] == [events[-1]["event_id"]]
    assert only[0]["seq"] == events[-1]["seq"]


async def test_wire_interrupt(drv: Any) -> None:
    t = str(uuid.uuid4())
    await command(drv, t, "run.start", {"assistant_id": "dyn", "input": {}})
    events = await read_events(drv, t, {"channels": ["lifecycle", "input"]}, "interrupted")
    [asked] = [e for e in events if e["method"] == "input.requested"]
    data = asked["params"]["data"]
    assert data["payload"] == {"question": "ok?"}
    wrong = await command(drv, t, "input.respond", {"interrupt_id": "nope", "response": 1})
    assert wrong["type"] == "error" and wrong["error"] == "no_such_interrupt"
    ok = await command(
        drv, t, "input.respond", {"interrupt_id": data["interrupt_id"], "response": "yes"}
    )
    assert ok["type"] == "success" and ok["result"] == {}
    await drv.wait_thread(t, "idle")
    assert (await drv.client.threads.get_state(t))["values"]["answer"] == "yes"


async def test_command_envelopes(drv: Any) -> None:
    t = str(uuid.uuid4())
    resp = await drv.http.post(f"/threads/{t}/commands", json={"method": "run.start"})
    assert resp.status_code == 400
    body = resp.json()
    if not drv.is_reference:  # nbruns: an HTTP error has its `detail` too, the same text
        assert body.pop("detail") == body["message"]
    assert body == {
        "type": "error",
        "id": None,
        "error": "invalid_argument",
        "message": "Protocol commands must include an integer id and string method.",
    }
    no_assistant = await command(drv, t, "run.start", {})
    assert no_assistant["error"] == "invalid_argument"
    assert no_assistant["message"] == "run.start requires an assistant_id."
    unknown = await command(drv, t, "run.start", {"assistant_id": "nope"})
    assert unknown["error"] == "unknown_error" and "nope" in unknown["message"]
    bogus = await command(drv, t, "bogus", {})
    assert bogus["error"] == "unknown_command"
    assert bogus["message"] == "Unknown protocol command: bogus"
    for method in ("agent.getTree", "subscription.reconnect"):
        answer = await command(drv, t, method, {})
        assert answer["error"] == "no_such_run", answer
    subscribed = await command(drv, t, "subscription.subscribe", {"channels": ["values"]})
    assert subscribed["type"] == "success"
    assert subscribed["result"]["replayed_events"] == 0
    bad = await command(drv, t, "subscription.subscribe", {"channels": ["bogus"]})
    assert bad["error"] == "invalid_argument"
    unsub = await command(drv, t, "subscription.unsubscribe", {})
    assert unsub["message"] == "subscription.unsubscribe requires a subscription_id."
    # nothing was created by any of these
    assert await drv.client.threads.search(ids=[t]) == []


async def test_event_stream_bad_input(drv: Any) -> None:
    t = await drv.thread()
    resp = await drv.http.post(f"/threads/{t}/stream/events", json={"channels": ["bogus"]})
    assert resp.status_code == 400
    assert "unsupported entries: bogus" in resp.json()["detail"]
    resp = await drv.http.post(f"/threads/{t}/stream/events", json={})
    assert resp.status_code == 400
    assert resp.json() == {"detail": "channels is required and must be a non-empty array"}
