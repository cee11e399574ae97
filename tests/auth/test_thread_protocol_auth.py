"""The SDK's thread stream under custom auth: a user cannot start runs on, answer the
interrupts of, or read the events of another user's thread (`protected`, `owner`: conftest)."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from langgraph.graph import START, StateGraph
from langgraph_sdk import Auth

ALICE, BOB = "token-alice", "token-bob"


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


async def _step(state: LogState) -> dict[str, Any]:
    return {"log": ["done"]}


GRAPH = StateGraph(LogState).add_node("step", _step).add_edge(START, "step").compile()


async def test_a_user_cannot_use_another_users_thread_stream(protected: Any, owner: Auth) -> None:
    server = protected(owner, {"logger": GRAPH})
    alice, bob = server.connect(ALICE), server.connect(BOB)
    async with alice.threads.stream(assistant_id="logger") as thread:
        await thread.run.start(input={})
        assert (await thread.output)["log"] == ["done"]
    tid = thread.thread_id
    assert (await alice.threads.get(tid))["metadata"]["owner"] == "alice"
    runs_before = await alice.runs.list(tid)

    start = {"id": 1, "method": "run.start", "params": {"assistant_id": "logger", "input": {}}}
    respond = {"id": 2, "method": "input.respond", "params": {"interrupt_id": "x"}}
    for body in (start, respond):
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await bob.http.post(f"/threads/{tid}/commands", json=body)
        assert caught.value.response.status_code == 404
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await bob.http.post(f"/threads/{tid}/stream/events", json={"channels": ["values"]})
    assert caught.value.response.status_code == 404
    assert await alice.runs.list(tid) == runs_before
