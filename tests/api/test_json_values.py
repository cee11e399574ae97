"""Values JSON can carry that orjson cannot encode: integers beyond 64 bits.

nbruns keeps them exactly wherever it stores them itself (thread and assistant
metadata, assistant and run context) and refuses them with a 422 where they would
reach LangGraph's checkpoints (the bad-input table in `test_bad_input.py`). The
reference server turns integers beyond 2**64 - 1 into floats; nbruns is exact.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

import nbruns

WIDE = [2**64, -(2**63) - 1, 10**400 + 7, -(10**30)]


def wide_body(**fields: Any) -> bytes:
    """JSON with each wide integer written out in digits (httpx's json= would do the same)."""
    import json

    return json.dumps(fields).encode()


def numbers_in(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"-?\d{19,}", text)]


async def post(http: httpx.AsyncClient, method: str, path: str, **fields: Any) -> httpx.Response:
    response = await http.request(
        method, path, content=wide_body(**fields), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    return response


async def test_thread_metadata_round_trips_exactly() -> None:
    with nbruns.Server() as server:
        http = server.client().http.client
        created = await post(http, "POST", "/threads", metadata={"n": WIDE})
        tid = created.json()["thread_id"]
        assert numbers_in(created.text) == WIDE
        assert numbers_in((await http.get(f"/threads/{tid}")).text) == WIDE

        patched = await post(http, "PATCH", f"/threads/{tid}", metadata={"m": 2**70})
        assert numbers_in(patched.text) == [*WIDE, 2**70]

        found = await post(http, "POST", "/threads/search", metadata={"m": 2**70})
        assert [t["thread_id"] for t in found.json()] == [tid]
        counted = await post(http, "POST", "/threads/count", metadata={"m": 2**70})
        assert counted.json() == 1
        other = await post(http, "POST", "/threads/search", metadata={"m": 2**70 + 1})
        assert other.json() == []


async def test_assistant_metadata_and_context_round_trip_exactly() -> None:
    with nbruns.Server() as server:
        http = server.client().http.client
        created = await post(
            http,
            "POST",
            "/assistants",
            graph_id="agent",
            metadata={"n": WIDE[0]},
            context={"c": WIDE[1]},
        )
        aid = created.json()["assistant_id"]
        body = (await http.get(f"/assistants/{aid}")).content
        from pydantic_core import from_json

        assert from_json(body)["metadata"] == {"n": WIDE[0]}
        assert from_json(body)["context"] == {"c": WIDE[1]}


async def test_wide_context_reaches_the_graph_and_the_run_succeeds() -> None:
    seen: list[Any] = []

    from langgraph.graph import END, START, StateGraph
    from langgraph.runtime import Runtime
    from typing_extensions import TypedDict

    class State(TypedDict, total=False):
        x: int

    def node(state: State, runtime: Runtime[dict[str, Any]]) -> State:
        seen.append(runtime.context)
        return {"x": 1}

    builder = StateGraph(State, context_schema=dict)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    with nbruns.Server(graphs={"g": builder.compile()}) as server:
        http = server.client().http.client
        tid = (await post(http, "POST", "/threads")).json()["thread_id"]
        done = await post(
            http,
            "POST",
            f"/threads/{tid}/runs/wait",
            assistant_id="g",
            input={},
            context={"k": WIDE[2]},
        )
        assert done.json() == {"x": 1}
    assert seen == [{"k": WIDE[2]}]


@pytest.mark.parametrize("width", [2**64, -(2**63) - 1])
async def test_metadata_survives_a_restart_exactly(tmp_path: Path, width: int) -> None:
    path = tmp_path / "db.sqlite"
    with nbruns.Server(path=path) as server:
        http = server.client().http.client
        tid = (await post(http, "POST", "/threads", metadata={"n": width})).json()["thread_id"]
        aid = (
            await post(http, "POST", "/assistants", graph_id="agent", metadata={"n": width})
        ).json()["assistant_id"]
    with nbruns.Server(path=path) as server:
        http = server.client().http.client
        assert numbers_in((await http.get(f"/threads/{tid}")).text) == [width]
        assert numbers_in((await http.get(f"/assistants/{aid}")).text) == [width]


def test_encoder_is_exact_and_leaves_64_bit_values_on_the_fast_path() -> None:
    from nbruns._engine import _serde

    assert (
        _serde.dumps({"a": [2**64 - 1, -(2**63)]})
        == b'{"a":[18446744073709551615,-9223372036854775808]}'
    )
    assert _serde.dumps({"a": (2**64, {"b": -(2**63) - 1})}) == (
        b'{"a":[18446744073709551616,{"b":-9223372036854775809}]}'
    )
    assert _serde.loads(b"[18446744073709551616]") == [2**64]
    assert _serde.jsonable({"n": 10**30}) == {"n": 10**30}
