"""In process there is no WebSocket: `threads.stream(transport="websocket")` is refused
when it is called, by the async and the sync client, naming the transport that works;
`transport="sse"` (the default) keeps working on the same client."""

from __future__ import annotations

import pytest
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

import nbruns


class Count(TypedDict, total=False):
    n: int


def add_one(state: Count) -> Count:
    return {"n": state.get("n", 0) + 1}


COUNTER = StateGraph(Count).add_node("add", add_one).add_edge(START, "add").compile()
REFUSAL = r'transport="websocket".*in-process.*use transport="sse"'


async def test_the_async_client_refuses_websocket_and_streams_over_sse() -> None:
    async with nbruns.Server(graphs={"counter": COUNTER}) as server:
        client = server.client()
        with pytest.raises(ValueError, match=REFUSAL):
            client.threads.stream(assistant_id="counter", transport="websocket")
        async with client.threads.stream(assistant_id="counter", transport="sse") as thread:
            await thread.run.start(input={"n": 1})
            assert (await thread.output)["n"] == 2


def test_the_sync_client_refuses_websocket() -> None:
    with nbruns.Server(graphs={"counter": COUNTER}) as server:
        client = server.sync_client()
        with pytest.raises(ValueError, match=REFUSAL):
            client.threads.stream(assistant_id="counter", transport="websocket")
        with client.threads.stream(assistant_id="counter") as thread:
            thread.run.start(input={"n": 1})
            assert thread.output["n"] == 2
