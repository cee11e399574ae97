"""Streaming runs over SSE, on every target: event names, order, payloads, headers."""

from __future__ import annotations

from typing import Any

import pytest


async def collect(stream: Any) -> list[tuple[str, Any]]:
    return [(p.event, p.data) async for p in stream]


async def test_stream_values(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(drv.client.runs.stream(t, "slow", input={"delay": 0}))
    assert [e for e, _ in parts] == ["metadata", "values", "values", "values", "values"]
    meta = parts[0][1]
    assert set(meta) == {"run_id", "attempt"} and meta["attempt"] == 1
    assert [d["log"] for _, d in parts[1:]] == [[], ["a"], ["a", "b"], ["a", "b", "c"]]
    runs = await drv.client.runs.list(t)
    assert [r["run_id"] for r in runs] == [meta["run_id"]]
    assert runs[0]["status"] == "success"


async def test_stream_values_and_updates(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(
        drv.client.runs.stream(t, "slow", input={"delay": 0}, stream_mode=["values", "updates"])
    )
    assert [e for e, _ in parts] == ["metadata", "values"] + ["updates", "values"] * 3
    updates = [d for e, d in parts if e == "updates"]
    assert updates == [{"a": {"log": ["a"]}}, {"b": {"log": ["b"]}}, {"c": {"log": ["c"]}}]


async def test_stream_headers(drv: Any) -> None:
    t = await drv.thread()
    async with drv.http.stream(
        "POST", f"/threads/{t}/runs/stream", json={"assistant_id": "slow", "input": {}}
    ) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        text = (await resp.aread()).decode()
    run_id = (await drv.client.runs.list(t))[0]["run_id"]
    assert resp.headers["content-location"] == f"/threads/{t}/runs/{run_id}"
    assert resp.headers["location"] == f"/threads/{t}/runs/{run_id}/stream"
    # SSE allows either line ending (the reference sends CRLF, nbruns LF)
    assert text.replace("\r\n", "\n").startswith("event: metadata\ndata: {")


async def test_stream_messages_tuple(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(
        drv.client.runs.stream(
            t,
            "chat",
            input={"messages": [{"role": "user", "content": "hi"}]},
            stream_mode="messages-tuple",
        )
    )
    events = [e for e, _ in parts]
    assert events[0] == "metadata"
    assert events[1:] and set(events[1:]) == {"messages"}
    chunks = [d for e, d in parts if e == "messages"]
    for chunk in chunks:
        message, metadata = chunk  # a (message chunk, metadata) pair
        assert message["type"] == "AIMessageChunk"
        assert metadata["langgraph_node"] == "reply"
    assert "".join(m["content"] for m, _ in chunks) == "hello there"


async def test_stream_custom(drv: Any) -> None:
    t = await drv.thread()
    parts = await collect(drv.client.runs.stream(t, "slow", input={}, stream_mode="custom"))
    assert parts[0][0] == "metadata"
    assert parts[1:] == [("custom", {"node": n}) for n in "abc"]


async def test_stream_cut_by_interrupt(drv: Any) -> None:
    t = await drv.thread()
    events: list[str] = []
    r2 = None
    async for part in drv.client.runs.stream(t, "slow", input={"delay": 1.5}):
        events.append(part.event)
        if events.count("values") == 2 and r2 is None:  # node a is done, b sleeps
            r2 = await drv.create(t, "slow", input={"delay": 0}, multitask_strategy="interrupt")
    # the interrupted run's stream just closes: no end or error event
    assert events == ["metadata", "values", "values"]
    assert r2 is not None
    assert (await drv.client.runs.join(t, r2))["log"] == ["a", "a", "b", "c"]


@pytest.mark.parametrize("mode", ["tools", "lifecycle"])
async def test_unsupported_stream_modes(drv: Any, mode: str) -> None:
    t = await drv.thread()
    resp = await drv.http.post(
        f"/threads/{t}/runs/wait", json={"assistant_id": "slow", "input": {}, "stream_mode": mode}
    )
    # "tools" and "lifecycle" are not run stream modes on the reference (schema 422);
    # nbruns refuses both with a 422 that says so, never a silently empty stream
    # ("events" is served: tests/conformance/test_thread_streams.py)
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert isinstance(detail, str) and detail
    if not drv.is_reference:
        assert "not supported" in detail
    assert await drv.client.runs.list(t) == []
