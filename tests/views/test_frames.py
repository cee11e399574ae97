"""DataFrames of runs, lifecycle events, messages and checkpoints, from known scenarios."""

from __future__ import annotations

import re
from typing import Any

import httpx
import orjson
import pandas as pd
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError

import nbruns
from nbruns.views.frames import (
    HISTORY_COLUMNS,
    MESSAGE_COLUMNS,
    RUN_COLUMNS,
    TIMELINE_COLUMNS,
    history_frame,
    messages_frame,
    messages_frame_for,
    runs_frame,
    timeline_frame,
)

SEARCH = "tavily_search_results_json"


async def interrupted_pair(client: Any, ask: Any, wait_status: Any) -> tuple[str, str, str]:
    """A slow run, then an `interrupt` double-text; return (thread, first, second)."""
    tid = (await client.threads.create())["thread_id"]
    first = await client.runs.create(tid, "agent", input=ask(sleep=5))
    await wait_status(tid, first["run_id"], "running")
    second = await client.runs.create(
        tid, "agent", input=ask("whats the weather in nyc?"), multitask_strategy="interrupt"
    )
    await client.runs.join(tid, second["run_id"])
    return tid, first["run_id"], second["run_id"]


async def test_interrupt_runs_frame(client: Any, ask: Any, wait_status: Any) -> None:
    tid, first, second = await interrupted_pair(client, ask, wait_status)
    df = await runs_frame(client, tid)
    assert tuple(df.columns) == RUN_COLUMNS
    assert len(df) == 2
    assert list(df["run_id"]) == [first, second]
    assert set(df["status"]) == {"interrupted", "success"}
    assert list(df["multitask_strategy"]) == ["enqueue", "interrupt"]
    rows = df.set_index("run_id")
    assert rows.loc[first, "superseded_by"] == second
    assert rows.loc[first, "cancel_reason"].startswith(f"superseded by run {second}")
    assert rows.loc[first, "cancel_source"] == "superseded"
    assert pd.isna(rows.loc[second, "cancel_source"])
    assert pd.isna(rows.loc[second, "superseded_by"])
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert df["queue_wait"].notna().all() and (df["queue_wait"] >= pd.Timedelta(0)).all()
    assert (df["duration"] >= pd.Timedelta(0)).all()
    # the successor starts only once the interrupted run has ended
    assert rows.loc[second, "started_at"] >= rows.loc[first, "ended_at"]
    assert len(await runs_frame(client)) == 2  # every thread


async def test_reject_is_a_timeline_row(client: Any, ask: Any, wait_status: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    slow = await client.runs.create(tid, "agent", input=ask(sleep=5))
    await wait_status(tid, slow["run_id"], "running")
    with pytest.raises(ConflictError):
        await client.runs.create(tid, "agent", input=ask("nyc?"), multitask_strategy="reject")
    await client.runs.cancel(tid, slow["run_id"], wait=True)
    df = await timeline_frame(client, tid)
    assert tuple(df.columns) == TIMELINE_COLUMNS
    rejected = df[df["kind"] == "rejected"]
    assert len(rejected) == 1
    assert rejected["run_id"].isna().all() and list(rejected["strategy"]) == ["reject"]
    assert list(df["kind"]) == ["created", "started", "rejected", "cancelled", "finished"]
    assert df["seq"].is_monotonic_increasing and df["at"].is_monotonic_increasing
    assert len(await runs_frame(client, tid)) == 1  # a rejected attempt makes no run


async def test_rollback_lists_the_rolled_back_run(client: Any, ask: Any, wait_status: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = (await client.runs.create(tid, "agent", input=ask(sleep=5)))["run_id"]
    await wait_status(tid, first, "running")
    second = await client.runs.create(
        tid, "agent", input=ask("nyc?"), multitask_strategy="rollback"
    )
    await client.runs.join(tid, second["run_id"])
    runs = await runs_frame(client, tid)
    assert list(runs["run_id"]) == [first, second["run_id"]]
    assert list(runs["status"]) == ["rolled_back", "success"]
    gone = runs.iloc[0]
    assert (gone["superseded_by"], gone["cancel_source"]) == (second["run_id"], "superseded")
    assert pd.notna(gone["ended_at"]) and pd.isna(gone["error"])
    assert first in set((await runs_frame(client))["run_id"])
    with pytest.raises(httpx.HTTPStatusError) as caught:  # the SDK's endpoints: gone
        await client.runs.get(tid, first)
    assert caught.value.response.status_code == 404
    # its messages went with it: every message left came from the second run
    messages = await messages_frame_for(client, tid)
    assert set(messages["run_id"]) == {second["run_id"]}
    assert messages["content"].iloc[0] == "nyc?"
    events = await timeline_frame(client, tid)
    mine = events[events["run_id"] == first]
    assert list(mine["kind"]) == ["created", "started", "superseded", "rolled_back"]
    superseded = mine[mine["kind"] == "superseded"].iloc[0]
    assert (superseded["action"], superseded["by"]) == ("rollback", second["run_id"])
    steps = events[events["kind"] == "step"]
    assert set(steps["run_id"]) == {second["run_id"]}
    assert [n for nodes in steps["nodes"] for n in nodes] == ["agent", "tools", "agent"]


def state_call_blocks(state: Any) -> int:
    """How many AI messages carry their tool call in content as well as in tool_calls."""
    return sum(
        1
        for m in state["values"]["messages"]
        if m.get("tool_calls")
        and isinstance(m["content"], list)
        and {b.get("id") for b in m["content"]} == {c["id"] for c in m["tool_calls"]}
    )


async def test_enqueue_messages_and_history(client: Any, ask: Any, wait_status: Any) -> None:
    tid = (await client.threads.create())["thread_id"]
    first = (await client.runs.create(tid, "agent", input=ask(sleep=1)))["run_id"]
    await wait_status(tid, first, "running")
    second = await client.runs.create(
        tid, "agent", input=ask("whats the weather in nyc?"), multitask_strategy="enqueue"
    )
    await client.runs.join(tid, second["run_id"])

    df = await messages_frame_for(client, tid)
    assert tuple(df.columns) == MESSAGE_COLUMNS
    assert list(df["position"]) == list(range(8))
    assert list(df["type"]) == ["human", "ai", "tool", "ai"] * 2
    assert list(df["run_id"]) == [first] * 4 + [second["run_id"]] * 4
    call = df.iloc[1]
    # the call is in the message's content (a tool_use block) and its tool_calls: shown once
    assert state_call_blocks(await client.threads.get_state(tid)) == 2
    assert call["content"] == ""
    assert call["tool_calls"] == [f'{SEARCH}(query="weather in san francisco")']
    assert not df["content"].str.contains("tool_use").any()
    state = await client.threads.get_state(tid)
    tool = df.iloc[2]
    assert tool["name"] == SEARCH
    assert tool["tool_call_id"] == state["values"]["messages"][1]["tool_calls"][0]["id"]
    assert df.iloc[3]["content"].endswith("partly cloudy in San Francisco.")
    assert df.iloc[7]["content"].endswith("in New York.") and df.iloc[7]["tool_calls"] == []
    assert df["id"].notna().all() and df["id"].is_unique

    plain = messages_frame(state)
    assert plain["run_id"].isna().all()
    assert plain.drop(columns="run_id").equals(df.drop(columns="run_id"))
    assert (
        messages_frame(state["values"]).drop(columns="run_id").equals(plain.drop(columns="run_id"))
    )

    history = await history_frame(client, tid)
    assert tuple(history.columns) == HISTORY_COLUMNS
    assert list(history["step"]) == list(range(-1, len(history) - 1))
    assert list(history["source"]) == ["input"] + ["loop"] * 4 + ["input"] + ["loop"] * 4
    assert list(history["run_id"]) == [first] * 5 + [second["run_id"]] * 5
    assert history["n_messages"].is_monotonic_increasing and history["n_messages"].iloc[-1] == 8
    assert history["next"].iloc[0] == ("__start__",) and history["next"].iloc[-1] == ()
    assert history["created_at"].is_monotonic_increasing
    assert history["checkpoint_id"].is_unique
    assert list((await history_frame(client, tid, limit=3))["step"]) == [6, 7, 8]


async def test_truncated_history_leaves_the_oldest_messages_unattributed(
    client: Any, ask: Any
) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.wait(tid, "agent", input=ask())
    assert len(run["messages"]) == 4
    df = await messages_frame_for(client, tid, limit=2)
    # the last two checkpoints: messages 0-2 were already there, so who added them is unknown
    assert df["run_id"].isna().tolist() == [True, True, True, False]


async def test_empty_inputs_give_empty_frames_with_columns(client: Any) -> None:
    for frame, columns in [
        (await runs_frame(client), RUN_COLUMNS),
        (await timeline_frame(client), TIMELINE_COLUMNS),
        (messages_frame({}), MESSAGE_COLUMNS),
        (messages_frame([]), MESSAGE_COLUMNS),
    ]:
        assert frame.empty and tuple(frame.columns) == columns
    tid = (await client.threads.create())["thread_id"]
    assert (await history_frame(client, tid)).empty
    assert (await messages_frame_for(client, tid)).empty
    assert (await runs_frame(client, tid)).empty
    assert str((await runs_frame(client))["started_at"].dtype) == "datetime64[us, UTC]"


def test_message_content_flattening() -> None:
    df = messages_frame(
        [
            {
                "type": "ai",
                "id": "a",
                "content": [
                    {"type": "text", "text": "Let me look."},
                    {"type": "tool_use", "name": "search", "input": {"q": "sf", "n": 2}},
                    {"type": "image", "source": {}},
                ],
            },
            {"role": "user", "content": "hi"},
        ]
    )
    assert df["content"].tolist() == ['Let me look.\ntool_use:search(q="sf", n=2)\n[image]', "hi"]
    assert df["type"].tolist() == ["ai", "user"]
    assert df["tool_calls"].tolist() == [[], []]


def test_tool_calls_shown_once() -> None:
    call = {"name": "search", "args": {"q": "sf"}, "id": "call_1"}
    df = messages_frame(
        [
            {  # Anthropic style: the call in content and in tool_calls
                "type": "ai",
                "content": [
                    {"type": "text", "text": "Looking."},
                    {"type": "tool_use", "id": "call_1", "name": "search", "input": {"q": "sf"}},
                    {"type": "tool_use", "id": "call_2", "name": "other", "input": {}},
                ],
                "tool_calls": [call],
            },
            {  # an id-less block that repeats a call by name and arguments
                "type": "ai",
                "content": [{"type": "tool_use", "name": "search", "input": {"q": "sf"}}],
                "tool_calls": [call],
            },
            {"type": "ai", "content": "", "tool_calls": [call]},  # OpenAI style
        ]
    )
    assert df["content"].tolist() == ["Looking.\ntool_use:other()", "", ""]
    assert df["tool_calls"].tolist() == [['search(q="sf")']] * 3


def exploding_graph() -> Any:
    from langgraph.graph import END, START, MessagesState, StateGraph

    def explode(state: MessagesState) -> dict[str, Any]:
        raise ValueError("node exploded")

    builder = StateGraph(MessagesState)
    builder.add_node("explode", explode)
    builder.add_edge(START, "explode")
    builder.add_edge("explode", END)
    return builder.compile()


async def test_failed_run_has_error_and_traceback(make_server: Any, ask: Any) -> None:
    server = make_server({"boom": exploding_graph(), "agent": nbruns.demo.make_agent(latency=0)})
    client = server.client()
    try:
        tid = (await client.threads.create())["thread_id"]
        failed = await client.runs.create(tid, "boom", input=ask())
        await client.runs.join(tid, failed["run_id"])
        fine = await client.runs.wait(tid, "agent", input=ask())
        assert len(fine["messages"]) == 5
        df = await runs_frame(client, tid)
    finally:
        await client.aclose()
    assert list(df["status"]) == ["error", "success"]
    bad, good = df.iloc[0], df.iloc[1]
    assert bad["error"] == "ValueError: node exploded"
    assert bad["traceback"].startswith("Traceback (most recent call last):")
    assert 'raise ValueError("node exploded")' in bad["traceback"]
    assert "\nValueError: node exploded\n" in bad["traceback"]
    assert pd.isna(good["error"]) and pd.isna(good["traceback"])


# -- any other LangGraph server: no /nbruns endpoints, no nbruns run fields ---------

_EXTRAS = ("started_at", "ended_at", "superseded_by", "cancel_reason", "cancel_source", "error")


class PlainServer(httpx.AsyncBaseTransport):
    """Makes nbruns look like another LangGraph server: 404 for /nbruns, plain runs."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/nbruns/"):
            return httpx.Response(404, json={"detail": "Not Found"})
        response = await self.inner.handle_async_request(request)
        if not re.fullmatch(r"/threads/[^/]+/runs(/[^/]+)?", request.url.path):
            return response
        body = orjson.loads(await response.aread())
        for run in body if isinstance(body, list) else [body]:
            for key in _EXTRAS:
                run.pop(key, None)
        return httpx.Response(response.status_code, json=body)


async def test_other_servers_leave_unknown_columns_empty(
    server: nbruns.Server, client: Any, ask: Any, wait_status: Any
) -> None:
    tid, first, second = await interrupted_pair(client, ask, wait_status)
    transport = PlainServer(client.http.client._transport)
    async with LangGraphClient(
        httpx.AsyncClient(transport=transport, base_url="http://x")
    ) as plain:
        for df in (await runs_frame(plain, tid), await runs_frame(plain)):
            assert list(df["run_id"]) == [first, second]
            assert list(df["status"]) == ["interrupted", "success"]
            assert df["created_at"].notna().all()
            for column in ("started_at", "ended_at", "queue_wait", "duration"):
                assert df[column].isna().all(), column
            assert df["superseded_by"].isna().all() and df["cancel_reason"].isna().all()
            assert df["error"].isna().all() and df["traceback"].isna().all()
        events = await timeline_frame(plain, tid)
        assert list(events["kind"]) == ["created", "created", "finished", "finished"]
        assert list(events["run_id"]) == [first, second, first, second]
        assert list(events["status"].iloc[2:]) == ["interrupted", "success"]
        assert events["seq"].isna().all()
        assert (await timeline_frame(plain)).equals(events)
