"""In process, an unexpected error in a handler is a 500 with a JSON `detail`, and the
client goes on working (issue #12, item 2); served: tests/served/test_unexpected_errors.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from typing_extensions import TypedDict

import nbruns


class State(TypedDict, total=False):
    n: int


class StateReadFails(CompiledStateGraph):  # type: ignore[type-arg]
    async def aget_state(self, config: Any, *, subgraphs: bool = False) -> Any:
        raise RuntimeError("the state store is unreachable")


def broken_graph() -> Any:
    builder = StateGraph(State)
    builder.add_node("one", lambda state: {"n": 1})
    builder.add_edge(START, "one")
    builder.add_edge("one", END)
    graph = builder.compile()
    graph.__class__ = StateReadFails
    return graph


async def test_a_crash_is_a_500_with_a_detail_and_the_client_goes_on(
    make_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    server: nbruns.Server = make_server({"broken": broken_graph()})
    client = server.client()
    try:
        thread = await client.threads.create(graph_id="broken")
        with pytest.raises(httpx.HTTPStatusError) as err:
            await client.threads.get_state(thread["thread_id"])
        assert err.value.response.status_code == 500
        assert err.value.response.json() == {
            "detail": "nbruns failed unexpectedly: RuntimeError: the state store is unreachable"
        }
        again = await client.threads.get(thread["thread_id"])
        assert again["thread_id"] == thread["thread_id"]
        assert any(
            r.exc_info and "the state store is unreachable" in str(r.exc_info[1])
            for r in caplog.records
        )  # logged with its traceback, where Starlette's own handler would have
    finally:
        await client.aclose()
