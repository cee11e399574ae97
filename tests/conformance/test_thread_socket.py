"""The SDK's thread stream over WebSocket (`threads.stream(..., transport="websocket")`),
and `input.respond` of an interrupt the thread's state is waiting on.

Served (`nbruns serve`) and on the reference, the SDK's documented usage works over a
WebSocket as over SSE. In process there is no WebSocket: the client refuses the
transport when the stream is opened, naming `transport="sse"`, which works.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
import websockets

CHAT_INPUT = {"messages": [{"role": "human", "content": "hi"}]}


def ws_transport(drv: Any) -> bool:
    """Whether the target serves WebSockets; in process, check the refusal instead."""
    if drv.name != "inprocess":
        return True
    with pytest.raises(ValueError, match=r'transport="websocket".*transport="sse"'):
        drv.client.threads.stream(assistant_id="slow", transport="websocket")
    return False


async def test_sdk_values_and_output_over_websocket(drv: Any) -> None:
    if not ws_transport(drv):
        return
    async with drv.client.threads.stream(assistant_id="slow", transport="websocket") as thread:
        await thread.run.start(input={"delay": 0})
        seen = [v.get("log") async for v in thread.values]
        assert seen[-1] == ["a", "b", "c"]
        assert (await thread.output)["log"] == ["a", "b", "c"]
    runs = await drv.client.runs.list(thread.thread_id)
    assert [r["status"] for r in runs] == ["success"]


async def test_sdk_messages_over_websocket(drv: Any) -> None:
    if not ws_transport(drv):
        return
    async with drv.client.threads.stream(assistant_id="chat", transport="websocket") as thread:
        await thread.run.start(input=CHAT_INPUT)
        streams = [m async for m in thread.messages]
        assert len(streams) == 1
        assert await streams[0].text == "hello there"
        await thread.output


async def test_sdk_interrupt_and_respond_over_websocket(drv: Any) -> None:
    if not ws_transport(drv):
        return
    async with drv.client.threads.stream(assistant_id="dyn", transport="websocket") as thread:
        await thread.run.start(input={})
        async for _ in thread.values:
            pass
        assert thread.interrupted
        await thread.run.respond("yes")
        assert (await thread.output)["answer"] == "yes"


def ws_url(drv: Any, path: str) -> str:
    base = drv.http.base_url
    return str(base.copy_with(scheme="ws", path=path))


async def test_socket_frames(drv: Any) -> None:
    """The wire: each frame a command answered by its envelope; a subscription replays
    the events kept after `since`, then sends live ones; bad frames get error envelopes."""
    if not ws_transport(drv):
        return
    t = await drv.thread()
    await drv.client.runs.wait(t, "slow", input={"delay": 0})
    async with websockets.connect(ws_url(drv, f"/threads/{t}/stream/events")) as ws:
        await ws.send("not json")
        bad = orjson.loads(await ws.recv())
        assert (bad["type"], bad["id"], bad["error"]) == ("error", None, "invalid_argument")
        await ws.send(orjson.dumps({"method": "run.start"}).decode())
        assert orjson.loads(await ws.recv())["message"] == (
            "Protocol commands must include an integer id and string method."
        )
        subscribe = {"id": 1, "method": "subscription.subscribe", "params": {"channels": []}}
        await ws.send(orjson.dumps(subscribe).decode())
        refused = orjson.loads(await ws.recv())
        assert (refused["id"], refused["error"]) == (1, "invalid_argument")
        subscribe["params"] = {"channels": ["lifecycle"]}
        subscribe["id"] = 2
        await ws.send(orjson.dumps(subscribe).decode())
        answer = orjson.loads(await ws.recv())
        assert answer["type"] == "success" and answer["id"] == 2
        assert set(answer["result"]) >= {"subscription_id"}
        start = {"id": 3, "method": "run.start", "params": {"assistant_id": "slow", "input": {}}}
        await ws.send(orjson.dumps(start).decode())
        frames = []
        while True:
            frame = orjson.loads(await ws.recv())
            frames.append(frame)
            if frame.get("method") == "lifecycle" and frame["params"]["data"]["event"] in (
                "completed",
                "failed",
            ):
                break
        [started] = [f for f in frames if f.get("id") == 3]
        assert started["type"] == "success" and set(started["result"]) == {"run_id"}
        lifecycle = [f["params"]["data"]["event"] for f in frames if f.get("method")]
        assert lifecycle == ["running", "completed"]
        unsubscribe = {
            "id": 4,
            "method": "subscription.unsubscribe",
            "params": {"subscription_id": str(uuid.uuid4())},
        }
        await ws.send(orjson.dumps(unsubscribe).decode())
        assert orjson.loads(await ws.recv())["error"] == "no_such_subscription"


async def test_respond_to_an_interrupt_the_stream_never_saw(drv: Any) -> None:
    """A thread paused by a plain `runs.create`: `input.respond` answers the interrupt
    its state waits on, though no thread stream was open while the run ran."""
    t = await drv.thread()
    await drv.client.runs.wait(t, "dyn", input={})
    state = await drv.client.threads.get_state(t)
    [interrupt] = state["interrupts"]
    resp = await drv.http.post(
        f"/threads/{t}/commands",
        json={
            "id": 1,
            "method": "input.respond",
            "params": {"interrupt_id": interrupt["id"], "response": "yes"},
        },
    )
    assert resp.json()["type"] == "success", resp.json()
    await drv.wait_thread(t, "idle")
    assert (await drv.client.threads.get_state(t))["values"]["answer"] == "yes"
