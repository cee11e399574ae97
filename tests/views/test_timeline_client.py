"""`timeline(client, ...)` through a real in-process client and real graphs; `save`.

Runs are kept where the tests want them by gates (tests/helpers.py) and holds,
never by sleeping.
"""

from __future__ import annotations

import operator
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Annotated, Any

import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

from nbruns.views._holds import create_hold, release_hold, wait_held
from nbruns.views._timeline import TimelineSVG, build, timeline
from tests.helpers import Gates, wait_for_status
from tests.views.test_timeline_svg import bars, classed, group, interrupt_scenario
from tests.views.test_timeline_zoom import lane_labels, tooltip


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]
    gate: str  # the gate node b waits on; "" for none
    fail: bool  # node b raises


def log_graph(gates: Gates) -> Any:
    """a -> b -> c; b waits on the gate its input names, or raises when asked to."""

    def step(name: str) -> Any:
        async def node(state: LogState) -> dict[str, Any]:
            if name == "b" and state.get("gate"):
                await gates[state["gate"]].passage()
            if name == "b" and state.get("fail"):
                raise ValueError("node exploded")
            return {"log": [name]}

        return node

    builder = StateGraph(LogState)
    for name in "abc":
        builder.add_node(name, step(name))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    return builder.compile()


@pytest.fixture
async def client(make_server: Any, gates: Gates) -> Any:
    server = make_server({"log": log_graph(gates)})
    c = server.client()
    yield c
    await c.aclose()


def test_save_writes_an_svg_file_or_a_standalone_page(tmp_path: Path) -> None:
    picture = build(*interrupt_scenario(), now=None, width=720)
    svg = picture.save(tmp_path / "t.svg").read_text(encoding="utf-8")
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns=')
    assert len(bars(ET.fromstring(svg.split("\n", 1)[1]))) == 4
    page = picture.save(str(tmp_path / "t.HTML")).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and picture.svg in page
    assert "<title>nbruns timeline: 2 threads, 4 runs</title>" in page
    with pytest.raises(ValueError, match=r"'\.png' \(t\.png\); allowed suffixes: \.svg, \.html"):
        picture.save(tmp_path / "t.png")
    with pytest.raises(ValueError, match="without a suffix"):
        picture.save(tmp_path / "timeline")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.HTML", "t.svg"]


async def test_timeline_reads_runs_labels_and_errors_through_the_client(
    client: Any, gates: Gates
) -> None:
    named = await client.threads.create(metadata={"name": "weather in sf"})
    plain = await client.threads.create()
    t1, t2 = named["thread_id"], plain["thread_id"]
    first = await client.runs.create(t1, "log", input={"gate": "g1"})
    await gates["g1"].reached()
    queued = await client.runs.create(t1, "log", input={}, multitask_strategy="enqueue")
    failed = await client.runs.create(t2, "log", input={"fail": True})
    await wait_for_status(client, t2, failed["run_id"], "error")

    picture = await timeline(client, [t1, t2], highlight=t1)
    assert isinstance(picture, TimelineSVG) and picture.n_threads == 2 and picture.n_runs == 3
    root = ET.fromstring(picture.svg)
    assert lane_labels(root) == ["weather in sf", t2[:8]]  # from the thread's metadata
    assert ["highlighted" in (e.get("class") or "") for e in classed(root, "lane")] == [
        True,
        False,
    ]
    found = bars(root)
    statuses = {r: (found[r].get("class") or "").split()[-1] for r in found}
    assert statuses == {
        first["run_id"]: "status-running",
        queued["run_id"]: "status-pending",
        failed["run_id"]: "status-error",
    }
    (tick,) = classed(group(root, first["run_id"]), "step-tick")
    assert tooltip(tick).startswith("step: a at +")
    (mark,) = classed(group(root, failed["run_id"]), "error-mark")
    assert tooltip(mark) == "ValueError: node exploded"

    gates["g1"].open()
    await wait_for_status(client, t1, queued["run_id"], "success")
    only = ET.fromstring((await timeline(client, t1, window="thread")).svg)
    assert sorted(bars(only)) == sorted([first["run_id"], queued["run_id"]])
    assert lane_labels(only) == ["weather in sf"]
    assert not classed(only, "clipped")  # the window fits the thread
    relabelled = ET.fromstring((await timeline(client, labels={t2: "mine"})).svg)
    assert lane_labels(relabelled) == [t1[:8], "mine"]  # given labels replace metadata
    recent = ET.fromstring((await timeline(client, window="recent")).svg)
    assert len(bars(recent)) == 3
    with pytest.raises(ValueError, match="needs highlight="):
        await timeline(client, window="thread")


async def test_a_held_run_shows_where_it_waits(client: Any) -> None:
    thread = await client.threads.create()
    t = thread["thread_id"]
    hold = await create_hold(client, t, before="b", times=1)
    run = await client.runs.create(t, "log", input={})
    await wait_held(client, hold["hold_id"], timeout=10)
    short = hold["hold_id"][:8]

    held = ET.fromstring((await timeline(client, t)).svg)
    (mark,) = classed(group(held, run["run_id"]), "held-mark")
    assert tooltip(mark) == f"held before b (hold {short})"
    assert "legend-held" in " ".join(e.get("class") or "" for e in classed(held, "legend-entry"))

    await release_hold(client, hold["hold_id"])
    await wait_for_status(client, t, run["run_id"], "success")
    done = ET.fromstring((await timeline(client, t)).svg)
    (mark,) = classed(group(done, run["run_id"]), "held-mark")  # from held/released events
    assert tooltip(mark) == f"held before b (hold {short})"
    assert [tooltip(e).split(" at ")[0] for e in classed(done, "step-tick")] == [
        "step: a",
        "step: b",
        "step: c",
    ]
