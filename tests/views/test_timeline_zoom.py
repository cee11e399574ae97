"""Reading a long session: chosen lanes, labels, a highlighted thread, zoom windows."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest

from nbruns.views._timeline_labels import thread_labels
from nbruns.views._timeline_window import fit_to_recent, fit_to_thread
from tests.views.test_timeline_svg import (
    SVG,
    T0,
    A,
    B,
    bars,
    classed,
    draw,
    event,
    group,
    interrupt_scenario,
    run,
)

C = "cccccccc-0000-0000-0000-000000000003"


def tooltip(element: ET.Element) -> str:
    found = element.find(f"{SVG}title")
    assert found is not None, ET.tostring(element)
    return found.text or ""


def lane_labels(root: ET.Element) -> list[str]:
    return ["".join(e.itertext())[len(tooltip(e)) :] for e in classed(root, "lane-label")]


def x_span(element: ET.Element) -> tuple[float, float]:
    x = float(element.get("x", 0))
    return x, x + float(element.get("width", 0))


def test_lanes_follow_thread_ids_and_leave_other_threads_out() -> None:
    root = draw(*interrupt_scenario(), thread_ids=[B, C])
    assert lane_labels(root) == ["bbbbbbbb", "cccccccc"]
    assert sorted(bars(root)) == ["r3", "r4"]  # thread A's runs are not drawn
    assert "no runs" in "".join(root.itertext())  # C's lane is there, empty
    assert root.get("aria-label") == "nbruns timeline: 2 threads, 2 runs"


def test_labels_name_the_lanes_and_long_ones_are_cut_with_the_whole_text_in_the_tooltip() -> None:
    long = "the thread where I asked about the weather in every city I know"
    root = draw(*interrupt_scenario(), labels={A: "weather in sf", B: long})
    shown = lane_labels(root)
    assert shown[0] == "weather in sf"
    assert shown[1].endswith("…") and long.startswith(shown[1][:-1]) and len(shown[1]) < 30
    tips = [tooltip(e) for e in classed(root, "lane-label")]
    assert tips == [f"thread {A}: weather in sf", f"thread {B}: {long}"]


def test_highlight_bands_one_lane_and_dims_the_others() -> None:
    root = draw(*interrupt_scenario(), highlight=B)
    lanes = classed(root, "lane")
    assert ["highlighted" in (e.get("class") or "") for e in lanes] == [False, True]
    assert lanes[1].get("fill") != lanes[0].get("fill")
    groups = {g.get("data-thread-id"): g for g in classed(root, "lane-runs")}
    assert groups[A].get("opacity") == "0.4" and "dimmed" in (groups[A].get("class") or "")
    assert groups[B].get("opacity") is None
    labels = classed(root, "lane-label")
    assert labels[1].get("font-weight") == "bold" and labels[0].get("font-weight") is None
    plain = draw(*interrupt_scenario())
    assert not classed(plain, "dimmed") and not classed(plain, "highlighted")


def test_a_window_clips_bars_at_its_edges_and_drops_those_outside() -> None:
    runs = [
        run("early", A, "success", 0.0, 0.0, 10.0),  # wholly before the window
        run("across", A, "success", 15.0, 15.0, 30.0),  # begins before, ends inside
        run("inside", B, "success", 22.0, 22.0, 28.0),
        run("late", B, "running", 29.0, 29.0, None),  # goes on past the window's end
        run("after", B, "success", 50.0, 50.0, 55.0),  # wholly after it
    ]
    events = [
        event(1, 25.0, A, "across", "step", nodes=["agent"]),
        event(2, 12.0, A, "across", "step", nodes=["tools"]),  # before the window: no tick
        event(3, 5.0, A, None, "rejected", strategy="reject"),  # before the window
    ]
    window = (T0 + timedelta(seconds=20), T0 + timedelta(seconds=35))
    root = draw(runs, events, now=T0 + timedelta(seconds=60), window=window)
    found = bars(root)
    assert sorted(found) == ["across", "inside", "late"]
    (axis,) = classed(root, "axis")
    grid = classed(root, "grid")
    left, right = float(grid[0].get("x1", 0)), float(axis[0].get("x2", 0))
    assert x_span(found["across"])[0] == left  # cut at the window's start
    assert x_span(found["late"])[1] == right  # and at its end
    assert [len(classed(group(root, r), "clipped-left")) for r in found] == [1, 0, 0]
    assert [len(classed(group(root, r), "clipped-right")) for r in found] == [0, 0, 1]
    assert [tooltip(t) for t in classed(root, "step-tick")] == ["step: agent at +5.000 s"]
    assert not classed(root, "rejected")
    labels = [e.text for e in axis.iter(f"{SVG}text")]
    assert labels[0] == "+0 s" and labels[1] == "+5 s" and labels[-2] == "+15 s"
    assert labels[-1] == "seconds since 19:00:20 UTC (the window's start)"
    assert "legend-clipped" in (classed(root, "legend-entry")[-1].get("class") or "")


def test_a_window_over_an_hour_counts_minutes() -> None:
    runs = [run("r1", A, "success", 0.0, 0.0, 3600.0)]
    root = draw(runs, [], now=None, window=(T0, T0 + timedelta(hours=1)))
    (axis,) = classed(root, "axis")
    labels = [e.text for e in axis.iter(f"{SVG}text")]
    assert labels[:3] == ["+0 min", "+10 min", "+20 min"] and labels[-2] == "+60 min"
    assert labels[-1].startswith("minutes since")


def test_an_empty_or_backwards_window_is_refused() -> None:
    with pytest.raises(ValueError, match="end after start"):
        draw(*interrupt_scenario(), window=(T0 + timedelta(seconds=2), T0))


def test_fit_to_thread_spans_that_thread_only() -> None:
    runs, events = interrupt_scenario()
    now = T0 + timedelta(seconds=2.5)
    start, end = fit_to_thread(runs, events, A, now=now)
    # thread A: from r1's creation (0 s) to r2's end (2 s), with a 3% margin
    assert start == T0 - timedelta(seconds=0.06) and end == T0 + timedelta(seconds=2.06)
    start, end = fit_to_thread(runs, events, B, now=now)  # r3 still running: up to now
    assert start < T0 + timedelta(seconds=0.5) and end > now
    empty = fit_to_thread(runs, events, C, now=now)
    assert empty == (now - timedelta(seconds=10), now)


def test_fit_to_recent_spans_the_last_runs_and_zooms_the_picture() -> None:
    runs = [run(f"r{i}", A, "success", 10.0 * i, 10.0 * i, 10.0 * i + 2) for i in range(10)]
    start, end = fit_to_recent(runs, [], now=None, runs_back=3)
    assert start < T0 + timedelta(seconds=70) < T0 + timedelta(seconds=92) < end
    assert end - start < timedelta(seconds=25)
    root = draw(runs, [], now=None, window=(start, end))
    assert sorted(bars(root)) == ["r7", "r8", "r9"]
    with pytest.raises(ValueError, match="runs_back"):
        fit_to_recent(runs, [], now=None, runs_back=0)


def test_thread_labels_come_from_metadata() -> None:
    threads: list[dict[str, Any]] = [
        {"thread_id": "t1", "metadata": {"name": "  weather\nin sf "}},
        {"thread_id": "t2", "metadata": {"title": "", "label": "second"}},
        {"thread_id": "t3", "metadata": {"graph_id": "agent"}},
        {"thread_id": "t4", "metadata": None},
        {"thread_id": "t5", "metadata": {"name": 42, "title": "numbers are no names"}},
    ]
    assert thread_labels(threads) == {
        "t1": "weather in sf",
        "t2": "second",
        "t5": "numbers are no names",
    }
