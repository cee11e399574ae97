"""The views work through any server's SDK client: in-process, `nbruns serve`, the reference."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import nbruns


async def test_frames_and_timeline_of_an_interrupt(drv: Any) -> None:
    t = await drv.thread()
    r1 = await drv.busy(t, delay=1.5)
    assert await drv.wait_log(t, 1) == ["a"]
    run2 = await drv.client.runs.create(
        t, "slow", input={"delay": 0}, multitask_strategy="interrupt"
    )
    await drv.client.runs.join(t, run2["run_id"])

    runs = await nbruns.runs_frame(drv.client, t)
    assert sorted(runs["run_id"]) == sorted([r1, run2["run_id"]])
    status = dict(zip(runs["run_id"], runs["status"], strict=True))
    assert status == {r1: "interrupted", run2["run_id"]: "success"}
    strategy = dict(zip(runs["run_id"], runs["multitask_strategy"], strict=True))
    assert strategy == {r1: "enqueue", run2["run_id"]: "interrupt"}
    superseded = dict(zip(runs["run_id"], runs["superseded_by"], strict=True))
    if drv.is_reference:
        # the reference does not say who superseded whom: the column stays empty
        assert all(v is None for v in superseded.values())
    else:
        assert superseded[r1] == run2["run_id"]

    history = await nbruns.history_frame(drv.client, t)
    assert set(history["run_id"].dropna()) == {r1, run2["run_id"]}

    picture = await nbruns.timeline(drv.client, t)
    svg = ET.fromstring(picture.svg)
    bars = [el for el in svg.iter() if el.tag.endswith("rect") and "run-bar" in el.get("class", "")]
    classes = sorted(b.get("class", "") for b in bars)
    assert len(bars) == 2
    assert any("status-interrupted" in c for c in classes)
    assert any("status-success" in c for c in classes)
