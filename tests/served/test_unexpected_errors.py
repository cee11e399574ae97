"""Under `nbruns serve`, an unexpected error in a handler is a 500 with a JSON `detail`,
and the keep-alive connection it came on serves the next request; a method nbruns does
not serve on an existing path is a 404 saying so (issue #12, item 2 and 3)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

# A graph whose state cannot be read: the honest way to make a real handler fail.
BROKEN_GRAPH = """
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    n: int


class StateReadFails(CompiledStateGraph):
    async def aget_state(self, config, *, subgraphs=False):
        raise RuntimeError("the state store is unreachable")


builder = StateGraph(State)
builder.add_node("one", lambda state: {"n": 1})
builder.add_edge(START, "one")
builder.add_edge("one", END)
broken = builder.compile()
broken.__class__ = StateReadFails
"""


def _local_port(response: httpx.Response) -> int:
    """The client's port of the connection that carried `response`."""
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


def _broken_config(tmp_path: Path) -> Path:
    (tmp_path / "broken_graph.py").write_text(BROKEN_GRAPH)
    config = tmp_path / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"broken": "./broken_graph.py:broken"}}))
    return config


def test_a_500_keeps_the_keep_alive_connection_usable(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    served = serve("--config", str(_broken_config(tmp_path)))
    with httpx.Client(base_url=served.url, timeout=30) as http:
        created = http.post("/threads", json={"graph_id": "broken"})
        thread_id = created.json()["thread_id"]

        failed = http.get(f"/threads/{thread_id}/state")
        assert failed.status_code == 500
        assert failed.headers["content-type"] == "application/json"
        assert failed.json() == {
            "detail": "nbruns failed unexpectedly: RuntimeError: the state store is unreachable"
        }

        after = http.get(f"/threads/{thread_id}")  # the same connection: no reset
        assert after.status_code == 200, after.text
        assert after.json()["thread_id"] == thread_id
        assert _local_port(created) == _local_port(failed) == _local_port(after)

        again = http.post(f"/threads/{thread_id}/history", json={"limit": 1})
        assert again.status_code == 200  # the history does not read the state snapshot
        assert _local_port(again) == _local_port(created)
    assert "RuntimeError: the state store is unreachable" in served.tail(80)  # logged


def test_an_unserved_method_is_404_and_the_connection_stays(serve: Callable[..., Any]) -> None:
    served = serve()
    with httpx.Client(base_url=served.url, timeout=30) as http:
        thread_id = http.post("/threads", json={}).json()["thread_id"]
        refused = http.delete(f"/threads/{thread_id}/history")
        assert refused.status_code == 404
        assert refused.json() == {
            "detail": f"nbruns does not serve DELETE /threads/{thread_id}/history "
            "(it serves GET, POST there)"
        }
        unknown = http.get("/no/such/route")
        assert unknown.status_code == 404
        detail = unknown.json()["detail"]
        assert detail == "Not found: GET /no/such/route is not an nbruns route"
        ok = http.get(f"/threads/{thread_id}")
        assert ok.status_code == 200
        assert _local_port(refused) == _local_port(unknown) == _local_port(ok)
