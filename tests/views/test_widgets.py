"""The Playground widget, driven with no front end: clicks, awaits, trait values."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from typing import Any

import pytest

import nbruns
from nbruns.views.widgets import Playground

REJECTED = (
    "'whats the weather in sf?' rejected (409): Thread is already running a task. "
    "Wait for it to finish or choose a different multitask strategy. (run {} is running)"
)


@pytest.fixture
async def pg(client: Any) -> AsyncIterator[Playground]:
    playground = Playground(client)
    yield playground
    await playground.aclose()


def svg_of(html: str) -> ET.Element:
    match = re.search(r"<svg.*</svg>", html, re.S)
    assert match, html[:200]
    return ET.fromstring(match.group(0))


def bar_statuses(html: str) -> list[str]:
    root = svg_of(html)
    classes = [(e.get("class") or "").split() for e in root.iter()]
    return sorted(c[1].removeprefix("status-") for c in classes if c[:1] == ["run-bar"])


async def click_and_wait_running(pg: Playground, client: Any, until: Any, wait_status: Any) -> str:
    """Send a slow run by clicking; wait until it runs; return its id."""
    before = len(pg.runs)
    pg.sleep.value = 5.0
    pg.send_button.click()

    async def created() -> bool:
        return len(pg.runs) > before

    await until(created, "the click's run to be created")
    run = pg.runs[-1]
    await wait_status(run["thread_id"], run["run_id"], "running")
    return str(run["run_id"])


def test_repr_is_short_and_stable(server: nbruns.Server) -> None:
    pg = Playground(server.client(), graph="agent")
    assert repr(pg) == "<nbruns Playground graph='agent'>"
    assert pg.strategy.value == "enqueue" and pg.sleep.value == 3.0
    assert pg.strategy.options == ("reject", "interrupt", "rollback", "enqueue")
    assert "no runs yet" in pg.timeline_html.value
    bundle = pg._repr_mimebundle_()
    assert bundle["text/plain"] == repr(pg)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].startswith('<div class="nbruns-playground-static">')
    assert "no runs yet" in bundle["text/html"]


async def test_the_demo_agent_gets_the_sleep_slider(pg: Playground) -> None:
    assert pg.sleep.layout.display == "none"  # until the graph's input schema is read
    await pg.ready()
    assert pg.sleep.layout.display is None  # the demo agent's input has a `sleep` key
    assert [label for label, _ in pg.hold_at.options] == [
        "before its first step",
        "before agent",
        "after agent",
        "before tools",
        "after tools",
    ]


def test_a_click_without_a_running_loop_says_so(server: nbruns.Server) -> None:
    pg = Playground(server.client())
    pg.send_button.click()
    assert pg.status.value.startswith("no running event loop")


async def test_double_text_with_interrupt_by_clicks(
    pg: Playground, client: Any, until: Any, wait_status: Any, capsys: Any
) -> None:
    first = await click_and_wait_running(pg, client, until, wait_status)
    pg.message.value = "whats the weather in nyc?"
    pg.strategy.value = "interrupt"
    pg.sleep.value = 0.0
    pg.send_button.click()
    await pg.wait_idle()

    assert len(pg.threads) == 1 and pg.thread_picker.value == pg.threads[0]
    runs = await client.runs.list(pg.threads[0])
    statuses = {r["run_id"]: r["status"] for r in runs}
    second = pg.runs[1]["run_id"]
    assert statuses == {first: "interrupted", second: "success"}
    assert bar_statuses(pg.timeline_html.value) == ["interrupted", "success"]
    arrows = [
        e for e in svg_of(pg.timeline_html.value).iter() if e.get("class") == "supersede-arrow"
    ]
    assert len(arrows) == 1
    assert "interrupted" in pg.runs_html.value and first[:8] in pg.runs_html.value
    assert "sunny in New York." in pg.messages_html.value
    assert re.fullmatch(
        rf"'whats the weather in nyc\?' sent with interrupt: run {first[:8]} interrupted "
        rf"after \d+\.\d s, run {second[:8]} started",
        pg.status.value,
    ), pg.status.value
    assert pg._live is None or pg._live.done()  # the refresh task ends when all is idle
    assert capsys.readouterr() == ("", "")  # nothing printed from the background


async def test_reject_shows_the_409_detail(
    pg: Playground, client: Any, until: Any, wait_status: Any
) -> None:
    first = await click_and_wait_running(pg, client, until, wait_status)
    pg.strategy.value = "reject"
    pg.send_button.click()

    async def rejected() -> bool:
        return "rejected" in pg.status.value

    await until(rejected, "the rejection to show")
    assert pg.status.value == REJECTED.format(first[:8])
    assert len(pg.runs) == 1
    await client.runs.cancel(pg.threads[0], first)
    await pg.wait_idle()
    assert pg.status.value == REJECTED.format(first[:8])
    crosses = [e for e in svg_of(pg.timeline_html.value).iter() if e.get("class") == "rejected"]
    assert len(crosses) == 1
    assert bar_statuses(pg.timeline_html.value) == ["interrupted"]


async def test_send_and_new_thread_from_code(pg: Playground, client: Any) -> None:
    run = await pg.send("whats the weather in london?", "enqueue", 0)
    assert run is not None and run["multitask_strategy"] == "enqueue"
    pg.new_thread_button.click()
    await pg.wait_idle()
    assert len(pg.threads) == 2 and pg.thread_picker.value == pg.threads[1]
    assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "success"
    assert "Messages</b>: none yet" in pg.messages_html.value  # the new thread is empty
    pg.thread_picker.value = pg.threads[0]
    await pg.refresh()
    assert "overcast in London." in pg.messages_html.value
    assert bar_statuses(pg.timeline_html.value) == ["success"]


async def test_rollback_by_code_draws_the_rolled_back_run(
    pg: Playground, client: Any, until: Any, wait_status: Any
) -> None:
    await click_and_wait_running(pg, client, until, wait_status)
    assert await pg.send("nyc?", "rollback", 0) is not None
    await pg.wait_idle()
    assert bar_statuses(pg.timeline_html.value) == ["rolled_back", "success"]
    assert len(await client.runs.list(pg.threads[0])) == 1
