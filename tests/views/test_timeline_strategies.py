"""The timeline's marks for nbruns's strategies, from hand-made run and event dicts.

Merged runs (steer, collect, debounce) are arrivals with an arrow into their carrier,
never bars; debounce waits, replaced/dropped runs, TTL and run-timeout endings and
restores each say what happened. `test_strategies_picture` saves
`test-artifacts/timeline-strategies.svg` to look at.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from nbruns.views._timeline import build
from tests.views.test_timeline_marks import legend_keys
from tests.views.test_timeline_svg import A, B, at, bars, classed, draw, event, run
from tests.views.test_timeline_zoom import tooltip

C = "cccccccc-0000-0000-0000-000000000003"
D = "dddddddd-0000-0000-0000-000000000004"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def merged(run_id: str, thread_id: str, into: str, created: float, status: str, **kw: Any):
    """A merged run as /nbruns/runs lists it: its status follows its carrier's."""
    found = run(run_id, thread_id, status, created, None, None, **kw)
    return {**found, "merged_into": into}


def steer_scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Thread A: s2 steered into r1 at r1's step boundary; r1 succeeded."""
    runs = [
        run("r1", A, "success", 0.0, 0.0, 3.0),
        merged("s2", A, "r1", 0.8, "success", strategy="steer"),
    ]
    events = [
        event(1, 0.0, A, "r1", "created", strategy="enqueue"),
        event(2, 0.0, A, "r1", "started"),
        event(3, 0.8, A, "s2", "created", strategy="steer"),
        event(4, 1.2, A, "r1", "step", nodes=["agent"]),
        event(5, 1.2, A, "s2", "merged", into="r1", how="steer"),
        event(6, 1.2, A, "r1", "steer_delivered", runs=["s2"], after=["agent"], before=["tools"]),
        event(7, 3.0, A, "r1", "finished", status="success"),
        event(8, 3.0, A, "s2", "finished", status="success"),
    ]
    return runs, events


def test_a_steered_run_is_an_arrival_with_an_arrow_into_its_carrier_not_a_bar() -> None:
    runs, events = steer_scenario()
    root = draw(runs, events)
    assert set(bars(root)) == {"r1"}  # s2 never ran on its own: no bar of running time
    (arrival,) = classed(root, "merged-run")
    assert arrival.get("data-run-id") == "s2"
    assert len(classed(arrival, "merge-arrow")) == 1 and len(classed(arrival, "arrival")) == 1
    words = tooltip(arrival)
    assert "merged (steer) into run r1: it never ran on its own" in words
    assert "status (its carrier's): success" in words
    assert "arrived +0.800 s, merged +1.200 s" in words
    # the arrow ends in r1's bar at the merge time, and starts where s2's wait ended
    (wait,) = classed(arrival, "merge-wait")
    assert float(wait.get("x2") or 0) > float(wait.get("x1") or 0)
    carrier = next(g for g in classed(root, "run") if g.get("data-run-id") == "r1")
    assert "carries the input of run s2" in tooltip(carrier)
    assert "merged-into" in legend_keys(root)


def test_without_a_merged_event_the_arrow_points_at_the_carriers_start() -> None:
    """Other helpers' servers (or a trimmed timeline) may only have `merged_into`."""
    runs = [
        run("r1", A, "success", 0.0, 0.0, 1.0),
        run("c2", A, "success", 0.2, 1.0, 2.0, strategy="collect"),
        merged("c3", A, "c2", 0.4, "success", strategy="collect"),
        merged("c4", A, "c2", 0.6, "success", strategy="collect"),
    ]
    root = draw(runs, [])
    assert set(bars(root)) == {"r1", "c2"}
    arrivals = {g.get("data-run-id"): g for g in classed(root, "merged-run")}
    assert set(arrivals) == {"c3", "c4"}
    assert "merged +1.000 s" in tooltip(arrivals["c3"])  # c2 started at 1.0
    assert "merged into run c2" in tooltip(arrivals["c4"])


def test_debounce_waits_replaced_dropped_and_timeouts_say_why() -> None:
    runs = [
        run("d1", A, "success", 0.0, 1.5, 2.5, strategy="debounce"),
        merged("d2", A, "d1", 0.5, "success", strategy="debounce"),
        run("l1", B, "running", 0.0, 0.0, None),
        {
            **run("l2", B, "interrupted", 0.5, None, 1.0, strategy="latest", superseded_by="l3"),
            "cancel_reason": "replaced by run l3 (latest)",
            "cancel_source": "replaced",
        },
        run("l3", B, "pending", 1.0, None, None, strategy="latest"),
        {
            **run("t1", C, "timeout", 0.0, None, 2.0),
            "cancel_reason": "waited longer than pending_ttl_s=2.0",
            "cancel_source": "pending_ttl",
        },
        {
            **run("t2", C, "timeout", 0.1, 0.1, 3.0),
            "cancel_reason": "ran longer than run_timeout_s=2.9",
            "cancel_source": "run_timeout",
        },
        run("q1", D, "running", 0.0, 0.0, None),
        run("q2", D, "interrupted", 0.2, None, 0.4),
        run("q3", D, "pending", 0.4, None, None),
    ]
    events = [
        event(1, 0.0, A, "d1", "debounce_wait", until=at(1.0), deadline=at(10.0)),
        event(2, 0.5, A, "d1", "debounce_wait", until=at(1.5), deadline=at(10.0)),
        event(3, 1.5, A, "d2", "merged", into="d1", how="debounce"),
        event(4, 1.0, B, "l2", "replaced", by="l3"),
        event(5, 0.4, D, "q2", "dropped", reason="dropped for run q3: max_pending=1"),
    ]
    root = draw(runs, events, now=at(3.0))
    waits = classed(root, "debounce-wait")
    assert len(waits) == 2
    assert "waits for quiet from +0.500 s until +1.500 s (at the latest +10.000 s)" in tooltip(
        waits[1]
    )
    groups = {g.get("data-run-id"): g for g in classed(root, "run") if g.get("data-run-id")}
    assert "replaced by run l3" in tooltip(groups["l2"])
    assert "cancel_source: replaced" in tooltip(groups["l2"])
    assert "reason: dropped for run q3: max_pending=1" in tooltip(groups["q2"])
    assert "cancel_source: pending_ttl" in tooltip(groups["t1"])
    assert "reason: waited longer than pending_ttl_s=2.0" in tooltip(groups["t1"])
    assert "cancel_source: run_timeout" in tooltip(groups["t2"])
    keys = legend_keys(root)
    assert "debounce-wait" in keys and "merged-into" in keys and "restored" not in keys


def test_a_restore_is_marked_on_the_rolled_back_run_and_only_then_in_the_legend() -> None:
    runs = [
        run("r1", A, "rolled_back", 0.0, 0.0, 1.0, superseded_by="r2"),
        run("r2", A, "success", 1.0, 1.0, 2.0, strategy="rollback"),
    ]
    events = [event(1, 3.0, A, "r1", "restored", checkpoint_id="1ef-abc")]
    root = draw(runs, events)
    (mark,) = classed(root, "restored-mark")
    assert "restored at +3.000 s: run r1's state put back (checkpoint 1ef-abc)" in tooltip(mark)
    assert "restored" in legend_keys(root)
    assert "restored" not in legend_keys(draw(runs, []))
    assert "merged-into" not in legend_keys(draw(runs, []))


def test_strategies_picture() -> None:
    runs, events = steer_scenario()
    more = [
        run("c1", B, "success", 0.0, 0.0, 1.0),
        run("c2", B, "success", 0.2, 1.0, 2.0, strategy="collect"),
        *(merged(f"c{i}", B, "c2", 0.2 + i / 10, "success", strategy="collect") for i in (3, 4)),
    ]
    picture = build([*runs, *more], events, now=None, width=720, labels={A: "steer", B: "collect"})
    root = ET.fromstring(picture.svg)
    assert len(classed(root, "merged-run")) == 3
    ARTIFACTS.mkdir(exist_ok=True)
    picture.save(ARTIFACTS / "timeline-strategies.svg")
