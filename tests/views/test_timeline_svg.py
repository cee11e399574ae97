"""The timeline picture, drawn from hand-built runs and events (no server)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nbruns.views._timeline import STATUS_COLOURS, TimelineSVG, build, render_timeline

T0 = datetime(2024, 6, 5, 19, 0, tzinfo=UTC)
SVG = "{http://www.w3.org/2000/svg}"
A, B = "aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"


def at(seconds: float | None) -> str | None:
    return None if seconds is None else (T0 + timedelta(seconds=seconds)).isoformat()


def run(
    run_id: str,
    thread_id: str,
    status: str,
    created: float,
    started: float | None,
    ended: float | None,
    *,
    strategy: str = "enqueue",
    superseded_by: str | None = None,
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "thread_id": thread_id,
        "status": status,
        "multitask_strategy": strategy,
        "created_at": at(created),
        "started_at": at(started),
        "ended_at": at(ended),
        "updated_at": at(ended or started or created),
        "superseded_by": superseded_by,
        "cancel_reason": None,
    }


def event(seq: int, seconds: float, thread_id: str, run_id: str | None, kind: str, **detail: Any):
    return {
        "seq": seq,
        "at": at(seconds),
        "thread_id": thread_id,
        "run_id": run_id,
        "kind": kind,
        **detail,
    }


def interrupt_scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Thread A: r1 interrupted by r2 (with a rejected attempt between); thread B: r3
    running and r4 queued behind it."""
    runs = [
        run("r1", A, "interrupted", 0.0, 0.0, 1.0, superseded_by="r2"),
        run("r2", A, "success", 0.8, 1.1, 2.0, strategy="interrupt"),
        run("r3", B, "running", 0.5, 0.5, None),
        run("r4", B, "pending", 1.0, None, None),
    ]
    events = [
        event(1, 0.0, A, "r1", "created", strategy="enqueue"),
        event(2, 0.0, A, "r1", "started"),
        event(3, 0.5, B, "r3", "created", strategy="enqueue"),
        event(4, 0.5, B, "r3", "started"),
        event(5, 0.6, A, None, "rejected", strategy="reject"),
        event(6, 0.8, A, "r2", "created", strategy="interrupt"),
        event(7, 0.8, A, "r1", "superseded", action="interrupt", by="r2", reason="superseded"),
        event(8, 1.0, A, "r1", "finished", status="interrupted"),
        event(9, 1.0, B, "r4", "created", strategy="enqueue"),
        event(10, 1.1, A, "r2", "started"),
        event(11, 1.5, A, "r2", "step", nodes=["agent"]),
        event(12, 1.8, A, "r2", "step", nodes=["tools"]),
        event(13, 2.0, A, "r2", "finished", status="success"),
    ]
    return runs, events


def classed(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def bars(root: ET.Element) -> dict[str, ET.Element]:
    return {e.get("data-run-id") or "": e for e in classed(root, "run-bar")}


def group(root: ET.Element, run_id: str) -> ET.Element:
    (found,) = [g for g in classed(root, "run") if g.get("data-run-id") == run_id]
    return found


def draw(runs: list[dict[str, Any]], events: list[dict[str, Any]], **kw: Any) -> ET.Element:
    kw.setdefault("now", T0 + timedelta(seconds=2.5))
    kw.setdefault("width", 720)
    return ET.fromstring(render_timeline(runs, events, **kw))


def test_one_bar_per_run_coloured_by_status() -> None:
    root = draw(*interrupt_scenario())
    assert root.tag == f"{SVG}svg" and root.get("width") == "720"
    found = bars(root)
    assert sorted(found) == ["r1", "r2", "r3", "r4"]
    expected = {"r1": "interrupted", "r2": "success", "r3": "running", "r4": "pending"}
    for run_id, status in expected.items():
        assert found[run_id].get("fill") == STATUS_COLOURS[status]
        assert f"status-{status}" in found[run_id].get("class", "")
    assert len(classed(root, "lane")) == 2
    labels = [e.find(f"{SVG}title") for e in classed(root, "lane-label")]
    assert [(t.text, t.tail) for t in labels if t is not None] == [
        (f"thread {A}", "aaaaaaaa"),
        (f"thread {B}", "bbbbbbbb"),
    ]


def test_bars_follow_the_clock() -> None:
    root = draw(*interrupt_scenario())
    found = bars(root)

    def span(run_id: str) -> tuple[float, float]:
        x, w = float(found[run_id].get("x", 0)), float(found[run_id].get("width", 0))
        return x, x + w

    assert span("r1")[1] <= span("r2")[0]  # r2 starts after r1 ended
    assert span("r3")[1] == max(span(r)[1] for r in found)  # running: up to now
    # r2 waited from 0.8 s to 1.1 s: a queue-wait segment ending where its bar begins
    (wait, *_) = classed(group(root, "r2"), "queue-wait")
    assert float(wait.get("x", 0)) + float(wait.get("width", 0)) == pytest.approx(span("r2")[0])
    assert not classed(group(root, "r1"), "queue-wait")
    # r4 never started: its whole bar is hatched
    assert classed(group(root, "r4"), "never-started")


def test_steps_rejections_and_supersede_arrow() -> None:
    root = draw(*interrupt_scenario())
    ticks = classed(group(root, "r2"), "step-tick")
    assert [t.find(f"{SVG}title").text for t in ticks] == [  # type: ignore[union-attr]
        "step: agent at +1.500 s",
        "step: tools at +1.800 s",
    ]
    assert len(classed(root, "step-tick")) == 2
    (cross,) = classed(root, "rejected")
    assert "multitask_strategy=reject" in (cross.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    (arrow,) = classed(root, "supersede-arrow")
    assert "run r1 superseded by run r2" in (arrow.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    assert arrow.get("marker-end", "").endswith("-arrow)")


def test_rolled_back_runs_come_from_the_timeline() -> None:
    runs = [run("r2", A, "success", 0.5, 0.6, 1.0, strategy="rollback")]
    events = [
        event(1, 0.0, A, "r1", "created", strategy="enqueue"),
        event(2, 0.0, A, "r1", "started"),
        event(3, 0.5, A, "r2", "created", strategy="rollback"),
        event(4, 0.5, A, "r1", "superseded", action="rollback", by="r2", reason="x"),
        event(5, 0.55, A, "r1", "rolled_back"),
        event(6, 0.6, A, "r2", "started"),
        event(7, 1.0, A, "r2", "finished", status="success"),
    ]
    root = draw(runs, events)
    found = bars(root)
    assert sorted(found) == ["r1", "r2"]
    assert "status-rolled_back" in found["r1"].get("class", "")
    assert classed(group(root, "r1"), "strike")
    assert len(classed(root, "supersede-arrow")) == 1
    assert repr(build(runs, events, now=None, width=720)) == "<nbruns timeline: 1 thread, 2 runs>"


def test_created_events_without_a_run_or_rollback_are_not_drawn() -> None:
    events = [event(1, 0.0, A, "gone", "created", strategy="enqueue")]
    root = draw([], events)
    assert not bars(root)


def test_text_is_escaped() -> None:
    nasty = '<script>alert("x")</script>&\''
    runs = [run(nasty, nasty, "success", 0.0, 0.0, 1.0, strategy=nasty)]
    events = [event(1, 0.5, nasty, None, "rejected", strategy=nasty)]
    svg = render_timeline(runs, events, now=None, width=900)
    assert "<script>" not in svg
    root = ET.fromstring(svg)  # well-formed XML despite the data
    assert list(bars(root)) == [nasty]
    texts = "".join(root.itertext())
    assert nasty[:8] in texts and nasty in texts
    # labels, node names, errors and holds from the data are escaped too
    failed = {**runs[0], "status": "error", "error": {"error": nasty, "message": nasty}}
    held = {"hold_id": nasty, "after": [nasty], "before": [nasty], "since": at(0.5)}
    more = [failed, {**run("r2", nasty, "running", 0.2, 0.2, None), "held": held}]
    steps = [event(2, 0.5, nasty, nasty, "step", nodes=[nasty])]
    svg = render_timeline(more, steps, now=None, width=900, labels={nasty: nasty})
    assert "<script>" not in svg
    assert nasty in "".join(ET.fromstring(svg).itertext())


def test_output_is_deterministic_and_now_only_moves_open_runs() -> None:
    runs, events = interrupt_scenario()
    first = render_timeline(runs, events, now=T0 + timedelta(seconds=2.5), width=720)
    assert first == render_timeline(runs, events, now=T0 + timedelta(seconds=2.5), width=720)
    later = draw(runs, events, now=T0 + timedelta(seconds=5))
    earlier = bars(ET.fromstring(first))
    assert float(bars(later)["r3"].get("width", 0)) > float(earlier["r3"].get("width", 0))
    done = [r for r in runs if r["status"] in ("success", "interrupted")]
    fixed = render_timeline(done, events[:2], now=T0 + timedelta(hours=1), width=720)
    assert fixed == render_timeline(done, events[:2], now=None, width=720)


def test_axis_counts_seconds_from_the_first_event() -> None:
    root = draw(*interrupt_scenario())
    (axis,) = classed(root, "axis")
    labels = [e.text for e in axis.iter(f"{SVG}text")]
    assert labels[0] == "0.0 s" and labels[-2] == "2.5 s"  # the last is the caption
    assert labels[-1] == "seconds since the first event, 19:00:00 UTC"


def test_empty_input_and_the_wrapper() -> None:
    root = draw([], [])
    assert not bars(root) and "no runs yet" in "".join(root.itertext())
    picture = build([], [], now=None, width=400)
    assert isinstance(picture, TimelineSVG)
    assert repr(picture) == "<nbruns timeline: 0 threads, 0 runs>"
    assert picture._repr_svg_() == picture.svg and picture.svg in picture._repr_html_()
    assert ET.fromstring(picture.svg).get("width") == "400"
    assert not classed(root, "legend")  # nothing drawn, nothing to explain


@pytest.mark.parametrize("length", [0.01, 1.5])
def test_a_failed_run_always_shows_its_error_mark_however_short(length: float) -> None:
    # a run that failed at once has no room for the mark inside its bar: it goes after it
    runs = [
        run("ok", A, "success", 0.0, 0.0, 2.0),
        {**run("bad", B, "error", 0.0, 0.0, length), "error": {"error": "ValueError"}},
    ]
    events = [event(1, 0.0, A, "ok", "started"), event(2, 0.0, B, "bad", "started")]
    root = draw(runs, events)
    (mark,) = classed(group(root, "bad"), "error-mark")
    assert "ValueError" in (mark.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    assert classed(group(root, "ok"), "error-mark") == []
