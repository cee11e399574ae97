"""The SDK's thread stream in process: `run.start` runs are normal runs (they obey
`multitaskStrategy`), and the event stream's `since` replays from a seq."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Any

import orjson
from langgraph.graph import START, StateGraph
from typing_extensions import TypedDict

import nbruns
from tests.helpers import Gates, wait_for_status


class GateState(TypedDict, total=False):
    gate: str
    log: Annotated[list[str], operator.add]


def gated(gates: Gates) -> Any:
    async def step(state: GateState) -> dict[str, Any]:
        if state.get("gate"):
            await gates[state["gate"]].passage()
        return {"log": ["done"]}

    return StateGraph(GateState).add_node("step", step).add_edge(START, "step").compile()


async def _command(http: Any, tid: str, params: dict[str, Any]) -> Any:
    body = {"id": 1, "method": "run.start", "params": params}
    resp = await http.post(f"/threads/{tid}/commands", json=body)
    assert resp.status_code == 200
    return resp.json()


async def test_run_start_obeys_the_multitask_strategy() -> None:
    gates = Gates()
    with nbruns.Server(graphs={"gated": gated(gates)}) as server:
        client = server.client()
        http = client.http.client
        tid = str(uuid.uuid4())
        first = await _command(http, tid, {"assistant_id": "gated", "input": {"gate": "hold"}})
        await gates["hold"].reached()
        refused = await _command(
            http, tid, {"assistant_id": "gated", "input": {}, "multitaskStrategy": "reject"}
        )
        assert refused["type"] == "error" and refused["error"] == "unknown_error"
        assert refused["message"].startswith("409: ")
        gates["go"].open()
        second = await _command(
            http,
            tid,
            {"assistant_id": "gated", "input": {"gate": "go"}, "multitaskStrategy": "interrupt"},
        )
        assert second["type"] == "success"
        await wait_for_status(client, tid, second["result"]["run_id"], "success")
        old = await client.runs.get(tid, first["result"]["run_id"])
        assert old["status"] == "interrupted"
        # the event stream tells of both: the first ended interrupted, the second completed
        phases = []
        async with http.stream(
            "POST", f"/threads/{tid}/stream/events", json={"channels": ["lifecycle"]}
        ) as resp:
            async for line in resp.aiter_lines():
                if line.startswith("data: "):
                    phases.append(orjson.loads(line[6:])["params"]["data"]["event"])
                    if len(phases) == 4:
                        break
        assert phases == ["running", "interrupted", "running", "completed"]
        gates.open_all()


async def test_event_stream_of_an_unknown_thread_is_404() -> None:
    with nbruns.Server() as server:
        http = server.client().http.client
        resp = await http.post(
            f"/threads/{uuid.uuid4()}/stream/events", json={"channels": ["values"]}
        )
        assert resp.status_code == 404
        assert "not found" in resp.json()["detail"]
