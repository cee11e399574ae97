"""A breakpoint never changes the outcome a strategy produces, only when it happens.

Hypothesis draws a boundary of a -> b -> c (before or after one of its nodes) and one
of the eight strategies, and plays one scenario twice, each on a fresh thread of one
in-process server:

- held: run 1 is held at the boundary by a breakpoint (`nbruns.testing.pause`), run 2
  is sent with the strategy, the breakpoint is released;
- gated: the same, with run 1 stopped instead by a `tests.helpers.Gate` inside the
  graph at the equivalent point, which the test opens.

Then everything is waited for (`nbruns.testing.wait_idle`), and the outcomes (both
runs' statuses, the thread's final values, how many checkpoints each run kept, the
steers delivered) must be equal.

The equivalent point is where a run busy in a step is what the boundary stands for:

- for every strategy but steer, and for a cancel, the start of the node after the
  boundary, before it does anything: a stop there keeps exactly the steps finished
  before the boundary;
- for steer (which goes in at the next step boundary), the end of the node before the
  boundary, its work done but not yet returned: the next boundary is the same one.

Two points have no such node, and the difference is then stated exactly:

- the run's start under steer: gated at the start of `a`, the steer goes in one step
  later, after `a`; the same runs merge, and the same nodes run;
- the run's end under interrupt: gated at the end of `c`, the stop loses `c`'s step,
  which a run held after its last step has finished and keeps.

Hypothesis also draws both runs' durability (the default, "sync" or "exit": with
"exit" a held run's finished steps are written only once it ends or is stopped, as a
busy run's are), whether run 1 is then cancelled (interrupt or rollback) before it goes
on, and the server's clock (real or virtual). NBRUNS_HYPOTHESIS_BREAKPOINT_EXAMPLES
sets the examples (default 150 of the 864 scenarios; 1000 plays them all, in ~50 s).
Orders come from holds, gates and joins, never from time.
"""

from __future__ import annotations

import asyncio
import operator
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.graph import END, START, StateGraph
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns
from nbruns._core._types import NBRUNS_STRATEGIES
from nbruns.testing import pause, wait_idle
from tests.helpers import Gates

EXAMPLES = int(os.environ.get("NBRUNS_HYPOTHESIS_BREAKPOINT_EXAMPLES", "150"))
EXAMPLE_WAIT = 30.0  # bound on one example; never used to order anything
NODES = ("a", "b", "c")
BOUNDARIES = [(side, node) for node in NODES for side in ("before", "after")]
DURABILITIES = (None, "sync", "exit")  # None: the default ("async")
CANCELS = (None, "interrupt", "rollback")
CLOCKS = ("real", "virtual")
# debounce with no quiet window: it still waits for the busy thread, never for time
DEBOUNCE_NOW = {"multitask": {"quiet_s": 0}}
GATE_KEYS = ("gate", "gate_at")


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    tag: str
    gate: str  # the name of the Gate...
    gate_at: str  # ...and where a node waits at it: "start:<node>" or "end:<node>"


def three_nodes(gates: Gates) -> Any:
    def step(name: str) -> Any:
        async def node(state: State) -> dict[str, Any]:
            if state.get("gate_at") == f"start:{name}":
                await gates[state["gate"]].passage()
            written = {"log": [f"{state.get('tag', '')}:{name}"]}
            if state.get("gate_at") == f"end:{name}":
                await gates[state["gate"]].passage()
            return written

        return node

    builder = StateGraph(State)
    for name in NODES:
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


@dataclass(frozen=True)
class Scenario:
    side: str  # "before" or "after"...
    node: str  # ...this node: the boundary run 1 is held at
    strategy: str  # run 2's
    durability: str | None  # both runs' (None: the server's default)
    cancel: str | None  # then run 1 is cancelled with this action (None: it is not)
    clock: str  # the server's: "real" or "virtual"

    @property
    def k(self) -> int:
        """The boundary is after NODES[:k] (0: the run's start, 3: its end)."""
        return NODES.index(self.node) + (self.side == "after")

    def gate_point(self) -> str:
        """Where a gated run is busy as a run held here is (see the docstring)."""
        stops = self.strategy != "steer" or self.cancel is not None
        if self.k == 0 or (stops and self.k < len(NODES)):
            return f"start:{NODES[self.k]}"
        return f"end:{NODES[self.k - 1]}"

    def create(self, tag: str, **more: str) -> dict[str, Any]:
        """runs.create's keywords for a run of this scenario."""
        kwargs: dict[str, Any] = {"input": {"log": [f"{tag}:in"], "tag": tag, **more}}
        if self.durability is not None:
            kwargs["durability"] = self.durability
        return kwargs


async def _status(client: Any, tid: str, run_id: str | None) -> str | None:
    if run_id is None:
        return None  # refused
    try:
        return str((await client.runs.get(tid, run_id))["status"])
    except NotFoundError:
        return "gone"  # rolled back


async def _second(client: Any, tid: str, scenario: Scenario) -> str | None:
    """Run 2, sent with the strategy; None if refused."""
    strategy = scenario.strategy
    metadata = DEBOUNCE_NOW if strategy == "debounce" else None
    try:
        run = await client.runs.create(
            tid,
            "three",
            multitask_strategy=strategy,
            metadata=metadata,
            **scenario.create("2", gate_at=""),
        )
    except ConflictError:
        return None
    return str(run["run_id"])


async def _cancel(client: Any, tid: str, run_id: str, scenario: Scenario) -> str | None:
    """Cancel run 1 as the scenario says; how the server answered."""
    if scenario.cancel is None:
        return None
    try:
        await client.runs.cancel(tid, run_id, wait=True, action=scenario.cancel)
    except Exception as exc:  # the same refusal either way (a run already stopped)
        return type(exc).__name__
    return "ok"


async def _outcome(client: Any, tid: str, first: str, second: str | None) -> dict[str, Any]:
    """Everything waited for, what the thread and its runs ended with."""
    await wait_idle(client, [tid], timeout=EXAMPLE_WAIT)
    history = await client.threads.get_history(tid, limit=100)
    values = (await client.threads.get_state(tid))["values"] or {}
    events = await client.http.get("/nbruns/timeline", params={"thread_id": tid})
    return {
        "statuses": [await _status(client, tid, first), await _status(client, tid, second)],
        "values": {k: v for k, v in values.items() if k not in GATE_KEYS},
        "kept": [
            sum(1 for s in history if s["metadata"].get("run_id") == run_id)
            for run_id in (first, second)
        ],
        "steered": [
            (len(e["runs"]), e["after"], e["before"])
            for e in events
            if e["kind"] == "steer_delivered"
        ],
    }


async def held(client: Any, scenario: Scenario) -> dict[str, Any]:
    tid = str((await client.threads.create())["thread_id"])
    bp = await pause(client, tid, times=1, **{scenario.side: scenario.node})
    first = str((await client.runs.create(tid, "three", **scenario.create("1")))["run_id"])
    hit = await bp.reached(timeout=EXAMPLE_WAIT)
    assert hit.run_id == first
    second = await _second(client, tid, scenario)
    cancelled = await _cancel(client, tid, first, scenario)
    await bp.release()
    return {**await _outcome(client, tid, first, second), "cancel": cancelled}


async def gated(client: Any, gates: Gates, scenario: Scenario) -> dict[str, Any]:
    tid = str((await client.threads.create())["thread_id"])
    gate = f"{tid}:{scenario.gate_point()}"
    run = await client.runs.create(
        tid, "three", **scenario.create("1", gate=gate, gate_at=scenario.gate_point())
    )
    await gates[gate].reached(within=EXAMPLE_WAIT)
    second = await _second(client, tid, scenario)
    cancelled = await _cancel(client, tid, str(run["run_id"]), scenario)
    gates[gate].open()
    return {**await _outcome(client, tid, str(run["run_id"]), second), "cancel": cancelled}


def _without_tags(outcome: dict[str, Any]) -> dict[str, Any]:
    """The outcome, the log read as which steps ran, not whose input they saw."""
    values = dict(outcome["values"])
    values["log"] = sorted(entry.split(":")[1] for entry in values.get("log", []))
    values.pop("tag", None)
    steered = [(count, None, None) for count, _after, _before in outcome["steered"]]
    return {**outcome, "values": values, "steered": steered}


async def _play(scenario: Scenario) -> tuple[dict[str, Any], dict[str, Any]]:
    gates = Gates()
    server = nbruns.Server(graphs={"three": three_nodes(gates)}, clock=scenario.clock)
    client = server.client()
    try:
        async with asyncio.timeout(EXAMPLE_WAIT):
            at_hold = await held(client, scenario)
            at_gate = await gated(client, gates, scenario)
    finally:
        gates.open_all()
        await client.aclose()
        await server.aclose()
    return at_hold, at_gate


@pytest.mark.timeout(600)
@settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=EXAMPLE_WAIT),
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(
    boundary=st.sampled_from(BOUNDARIES),
    strategy=st.sampled_from(NBRUNS_STRATEGIES),
    durability=st.sampled_from(DURABILITIES),
    cancel=st.sampled_from(CANCELS),
    clock=st.sampled_from(CLOCKS),
)
def test_a_breakpoint_changes_when_an_outcome_happens_not_what_it_is(
    boundary: tuple[str, str],
    strategy: str,
    durability: str | None,
    cancel: str | None,
    clock: str,
) -> None:
    scenario = Scenario(*boundary, strategy, durability, cancel, clock)
    at_hold, at_gate = asyncio.run(_play(scenario))
    interrupted = "interrupt" in (strategy, cancel)
    if strategy == "steer" and cancel is None and scenario.k == 0:
        # gated in `a`, the steer goes in after it: one step later, the same merge
        assert at_hold["steered"] == [(1, [], ["a"])]
        assert at_gate["steered"] == [(1, ["a"], ["b"])]
        assert _without_tags(at_hold) == _without_tags(at_gate), scenario
    elif interrupted and scenario.k == len(NODES) and "1:c" in at_hold["values"].get("log", []):
        # held after its last step, the run keeps it; gated in that step, it loses it
        assert at_hold["values"]["log"][:4] == ["1:in", "1:a", "1:b", "1:c"]
        assert at_gate["values"]["log"][:3] == ["1:in", "1:a", "1:b"]
        assert "1:c" not in at_gate["values"]["log"]
        # (with durability "exit" a run writes one checkpoint however far it got)
        extra = 0 if durability == "exit" else 1
        assert at_hold["kept"] == [at_gate["kept"][0] + extra, at_gate["kept"][1]]
        lost = [e for e in at_hold["values"]["log"] if e != "1:c"]
        without_c = {**at_hold, "values": {**at_hold["values"], "log": lost}}
        assert {**without_c, "kept": None} == {**at_gate, "kept": None}, scenario
    else:
        assert at_hold == at_gate, scenario
