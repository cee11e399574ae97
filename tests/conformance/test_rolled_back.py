"""Rollback you can undo (nbruns only) through the SDK client: in process and under
`nbruns serve` a run held before `b` of the `slow` graph (a -> b -> c) is rolled back,
listed with the state it had got to, and restored; LangGraph's reference server keeps
nothing, and the helpers say so with `RolledBackUnsupported` instead of a bare 404."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk.errors import NotFoundError

from nbruns.views._holds import create_hold, wait_held
from nbruns.views._rolled_back import RolledBackUnsupported, restore, rolled_back_frame


async def test_a_rolled_back_run_is_restored(drv: Any) -> None:
    t = await drv.thread()
    if drv.is_reference:
        with pytest.raises(RolledBackUnsupported, match="needs an nbruns server"):
            await rolled_back_frame(drv.client, t)
        return
    hold = await create_hold(drv.client, t, before="b", times=1)
    first = await drv.create(t, input={"log": ["first"]})
    await wait_held(drv.client, hold["hold_id"], timeout=10)
    held = await drv.client.threads.get_state(t)
    await drv.client.runs.cancel(t, first, action="rollback", wait=True)
    with pytest.raises(NotFoundError):
        await drv.client.runs.get(t, first)
    assert (await drv.client.threads.get_state(t))["values"] == {}
    frame = await rolled_back_frame(drv.client, t)
    assert list(frame["run_id"]) == [first]
    assert frame["values"][0] == held["values"]
    assert held["values"]["log"] == ["first", "a"]
    state = await restore(drv.client, t, first)
    assert (state["values"], state["next"]) == (held["values"], ["b"])
    assert (await drv.client.threads.get_state(t))["values"] == held["values"]
