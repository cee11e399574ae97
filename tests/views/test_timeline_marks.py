"""What the bars say: node names at step ticks, holds, errors, rolled-back runs, the legend.

`test_example_picture` saves `test-artifacts/timeline-example.svg`: open it in a
browser to look at the picture these tests describe.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path
from typing import Any

from nbruns.views._timeline import build
from nbruns.views._timeline_draw import abbreviate
from tests.views.test_timeline_svg import (
    T0,
    A,
    B,
    at,
    bars,
    classed,
    draw,
    event,
    group,
    interrupt_scenario,
    run,
)
from tests.views.test_timeline_zoom import tooltip

C = "cccccccc-0000-0000-0000-000000000003"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BOOM = {
    "error": "ValueError",
    "message": "node exploded\nsecond line",
    "traceback": "Traceback (most recent call last):\n  ...\nValueError: node exploded",
}


def legend_keys(root: ET.Element) -> list[str]:
    entries = classed(root, "legend-entry")
    return [(e.get("class") or "").split("legend-", 2)[-1] for e in entries]


def session_scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three threads: an interrupt with a hold released, an error then a rollback of a
    run now held, and a long run with a run queued behind it."""
    held = {"hold_id": "1a2b3c4d5e", "after": ["agent"], "before": ["tools"], "since": at(6.0)}
    runs = [
        run("r1", A, "interrupted", 0, 0, 2.0, superseded_by="r2"),
        run("r2", A, "success", 1.9, 2.0, 5.0, strategy="interrupt"),
        {**run("r3", B, "error", 0.5, 0.5, 3.0), "error": BOOM},
        run("r4", B, "rolled_back", 3.5, 3.5, 4.5, superseded_by="r5"),
        {**run("r5", B, "running", 4.4, 4.5, None, strategy="rollback"), "held": held},
        run("r6", C, "success", 1.0, 1.0, 6.0),
        run("r7", C, "pending", 2.0, None, None),
    ]
    steps = [
        (0.9, A, "r1", ["agent"]),
        (3.0, A, "r2", ["agent"]),
        (4.3, A, "r2", ["tools"]),
        (5.0, A, "r2", ["agent"]),
        (2.0, B, "r3", ["retrieve_documents_from_store"]),
        (5.5, B, "r5", ["agent"]),
        (2.5, C, "r6", ["agent"]),
        (4.0, C, "r6", ["tools"]),
        (6.0, C, "r6", ["agent"]),
    ]
    raw: list[tuple[float, str, str | None, str, dict[str, Any]]] = [
        (0.0, A, "r1", "created", {"strategy": "enqueue"}),
        (0.0, A, "r1", "started", {}),
        (1.0, A, None, "rejected", {"strategy": "reject"}),
        (1.9, A, "r2", "created", {"strategy": "interrupt"}),
        (1.9, A, "r1", "superseded", {"action": "interrupt", "by": "r2"}),
        (2.0, A, "r1", "finished", {"status": "interrupted"}),
        (2.0, A, "r2", "started", {}),
        (3.2, A, "r2", "held", {"hold_id": "ffee0011", "after": ["agent"], "before": ["tools"]}),
        (4.0, A, "r2", "released", {"hold_id": "ffee0011"}),
        (5.0, A, "r2", "finished", {"status": "success"}),
        (0.5, B, "r3", "created", {"strategy": "enqueue"}),
        (0.5, B, "r3", "started", {}),
        (3.0, B, "r3", "finished", {"status": "error"}),
        (3.5, B, "r4", "created", {"strategy": "enqueue"}),
        (3.5, B, "r4", "started", {}),
        (4.4, B, "r5", "created", {"strategy": "rollback"}),
        (4.4, B, "r4", "superseded", {"action": "rollback", "by": "r5"}),
        (4.5, B, "r4", "rolled_back", {}),
        (4.5, B, "r5", "started", {}),
        (6.0, B, "r5", "held", {"hold_id": "1a2b3c4d5e", "after": ["agent"], "before": ["tools"]}),
        (1.0, C, "r6", "created", {"strategy": "enqueue"}),
        (1.0, C, "r6", "started", {}),
        (2.0, C, "r7", "created", {"strategy": "enqueue"}),
    ]
    raw += [(t, tid, rid, "step", {"nodes": nodes}) for t, tid, rid, nodes in steps]
    raw.sort(key=lambda e: e[0])
    events = [event(i, t, tid, rid, kind, **d) for i, (t, tid, rid, kind, d) in enumerate(raw)]
    return runs, events


def draw_session(**kw: Any) -> ET.Element:
    return draw(*session_scenario(), now=T0 + timedelta(seconds=7), width=900, **kw)


def test_step_ticks_are_named_by_node_when_there_is_room() -> None:
    root = draw_session()
    named = [e.text for e in classed(group(root, "r6"), "step-label")]
    assert named == ["agent", "tools", "agent"]  # each just before its tick
    # a long node name is abbreviated the same way everywhere, and the tooltip keeps it
    (long_tick,) = classed(group(root, "r3"), "step-tick")
    assert tooltip(long_tick) == "step: retrieve_documents_from_store at +2.000 s"
    assert [e.text for e in classed(group(root, "r3"), "step-label")] == ["retrieve_do…"]
    assert abbreviate(["retrieve_documents_from_store"]) == "retrieve_do…"
    assert abbreviate(["a", "b"]) == "a+b"
    assert abbreviate(["agent", "tools", "summarise"]) == "agent+2"
    narrow = draw(*session_scenario(), now=T0 + timedelta(seconds=7), width=360)
    assert len(classed(narrow, "step-tick")) == 9  # still every tick, with fewer names
    assert len(classed(narrow, "step-label")) < len(classed(root, "step-label"))


def test_the_legend_lists_only_what_the_picture_shows() -> None:
    everything = legend_keys(draw_session())
    assert everything == [
        "success",
        "interrupted",
        "error",
        "running",
        "pending",
        "rolled_back",
        "queue-wait",
        "step",
        "held",
        "rejected",
        "superseded-by",
    ]
    one = draw([run("r1", A, "success", 0.0, 0.0, 1.0)], [])
    assert legend_keys(one) == ["success"]
    runs, events = interrupt_scenario()
    assert legend_keys(draw(runs, events, thread_ids=[B])) == ["running", "pending"]


def test_holds_show_a_pause_mark_with_what_the_run_waits_for() -> None:
    root = draw_session()
    (released,) = classed(group(root, "r2"), "held-mark")
    assert tooltip(released) == "held before tools (hold ffee0011)"
    (now_held,) = classed(group(root, "r5"), "held-mark")
    assert tooltip(now_held) == "held before tools (hold 1a2b3c4d)"
    # a run held now has its mark at the bar's end (its `held` field, no duplicate)
    bar_end = sum(map(float, (bars(root)["r5"].get(k, 0) for k in ("x", "width"))))
    mark_x = float(now_held[1].get("x", 0))
    assert bar_end - 8 < mark_x < bar_end
    assert "held before tools (hold 1a2b3c4d)" in tooltip(group(root, "r5"))
    # without events a held run still shows it; after its last step it is held "after"
    held = {"hold_id": "99", "after": ["agent"], "before": [], "since": at(1.0)}
    alone = draw([{**run("r1", A, "running", 0.0, 0.0, None), "held": held}], [])
    (mark,) = classed(alone, "held-mark")
    assert tooltip(mark) == "held after agent (hold 99)"


def test_error_bars_say_what_went_wrong() -> None:
    root = draw_session()
    r3 = group(root, "r3")
    assert "error: ValueError: node exploded" in tooltip(r3).splitlines()
    (mark,) = classed(r3, "error-mark")
    assert tooltip(mark) == "ValueError: node exploded"
    assert "ValueError" in "".join(mark.itertext())
    # only a traceback: its last line says it
    only_tb = {**run("r1", A, "error", 0.0, 0.0, 1.0), "error": {**BOOM, "message": ""}}
    assert "error: ValueError: node exploded" in tooltip(group(draw([only_tb], []), "r1"))


def test_rolled_back_runs_listed_as_runs_are_drawn_once_and_say_who_superseded_them() -> None:
    root = draw_session()
    assert sorted(bars(root)) == ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]
    r4 = group(root, "r4")
    assert "status-rolled_back" in (bars(root)["r4"].get("class") or "")
    assert classed(r4, "strike")
    assert "rolled back: superseded by run r5" in tooltip(r4).splitlines()
    arrows = [tooltip(a) for a in classed(root, "supersede-arrow")]
    assert arrows == [
        "interrupt: run r1 superseded by run r2",
        "rollback: run r4 superseded by run r5",
    ]


def test_example_picture() -> None:
    """Saved for people to look at (and for GitHub to show): a highlighted, labelled session."""
    runs, events = session_scenario()
    labels = {A: "weather in sf", B: "a thread with a rather long name indeed"}
    now = T0 + timedelta(seconds=7)
    picture = build(runs, events, now=now, width=900, labels=labels, highlight=B)
    ARTIFACTS.mkdir(exist_ok=True)
    saved = picture.save(ARTIFACTS / "timeline-example.svg")
    root = ET.fromstring(saved.read_text(encoding="utf-8").split("\n", 1)[1])
    assert len(bars(root)) == 7 and len(classed(root, "lane")) == 3
