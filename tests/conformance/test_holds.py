"""Holds (nbruns only) through the SDK client: in process and under `nbruns serve` a run
of the `slow` graph (a -> b -> c, no delay) is kept before `b`, double-texted with
`interrupt`, and its successor runs; LangGraph's reference server has no holds, and the
client helpers say so with `HoldsUnsupported` instead of a bare 404."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns.views._holds import HoldsUnsupported, create_hold, release_hold, wait_held


async def test_a_held_run_is_double_texted_like_a_busy_one(drv: Any) -> None:
    t = await drv.thread()
    if drv.is_reference:
        with pytest.raises(HoldsUnsupported, match="need an nbruns server"):
            await create_hold(drv.client, t, before="b")
        return
    hold = await create_hold(drv.client, t, before="b", times=1)
    first = await drv.create(t, input={"log": ["first"]})
    held = (await wait_held(drv.client, hold["hold_id"], timeout=10))["held"][0]
    assert (held["run_id"], held["after"], held["before"]) == (first, ["a"], ["b"])
    state = await drv.client.threads.get_state(t)
    assert state["values"]["log"] == ["first", "a"] and state["next"] == ["b"]
    second = await drv.create(t, input={"log": ["second"]}, multitask_strategy="interrupt")
    assert (await drv.client.runs.get(t, first))["status"] == "interrupted"
    assert (await drv.client.runs.join(t, second))["log"] == ["first", "a", "second", "a", "b", "c"]
    await release_hold(drv.client, hold["hold_id"])  # nothing is held now: a no-op
