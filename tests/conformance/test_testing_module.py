"""`nbruns.testing` through any server's SDK client: breakpoints need nbruns (in process or
`nbruns serve`) and say so elsewhere; `wait_idle` works against LangGraph's own server
too (its runs listed with `threads.search` + `runs.list`)."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns.testing import BreakpointsUnsupported, RunsStillGoing, pause, wait_idle
from nbruns.views._holds import HoldsUnsupported


async def test_breakpoints_need_an_nbruns_server(drv: Any) -> None:
    t = await drv.thread()
    if drv.is_reference:
        with pytest.raises(BreakpointsUnsupported) as err:
            await pause(drv.client, t, before="b")
        assert isinstance(err.value, HoldsUnsupported)
        assert str(err.value).startswith("breakpoints need an nbruns server: nbruns.get_client()")
        return
    async with await pause(drv.client, t, before="b", times=1) as bp:
        first = await drv.create(t, input={"log": ["first"]})
        hit = await bp.reached(timeout=10)
        assert (hit.run_id, hit.after, hit.before) == (first, ("a",), ("b",))
        second = await drv.create(t, input={"log": ["second"]}, multitask_strategy="interrupt")
    await wait_idle(drv.client, t, timeout=30)
    assert (await drv.client.runs.get(t, first))["status"] == "interrupted"
    assert (await drv.client.runs.get(t, second))["status"] == "success"


async def test_wait_idle_waits_for_the_queue_on_any_server(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.create(t, input={"delay": 0.2})
    second = await drv.create(t, input={"delay": 0}, multitask_strategy="enqueue")
    await wait_idle(drv.client, t, timeout=30)
    for run_id in (first, second):
        assert (await drv.client.runs.get(t, run_id))["status"] == "success"


async def test_wait_idle_names_the_runs_still_going_on_any_server(drv: Any) -> None:
    t = await drv.thread()
    first = await drv.busy(t, delay=5.0)
    second = await drv.create(t, input={"delay": 0}, multitask_strategy="enqueue")
    with pytest.raises(RunsStillGoing) as err:
        await wait_idle(drv.client, t, timeout=0.2)
    assert [r["run_id"] for r in err.value.runs] == [first, second]
    lines = str(err.value).splitlines()
    assert lines[0] == "2 runs were still going after 0.2 s:"
    assert lines[2].split() == [first, t, "running", "enqueue"]
    assert lines[3].split() == [second, t, "pending", "enqueue"]
