"""What the Playground shows: lanes, highlight, zoom, clear, inspect, live tokens, saved HTML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import nbruns
from nbruns.views.widgets import Playground
from tests.helpers import Gates, wait_for_status, wait_until
from tests.views.playground_graphs import ANSWER, fast_graph, streaming_graph


@pytest.fixture
def server(gates: Gates) -> Iterator[nbruns.Server]:
    srv = nbruns.Server(
        graphs={"mine": fast_graph(), "words": streaming_graph(lambda: gates["finish"])}
    )
    yield srv
    srv.close()


@pytest.fixture
async def pg(client: Any) -> AsyncIterator[Playground]:
    playground = Playground(client, graph="mine")
    yield playground
    await playground.aclose()


WINDOWED = "(the window&#x27;s start)"  # the axis caption of a zoomed timeline


def svg_of(html: str) -> ET.Element:
    match = re.search(r"<svg.*</svg>", html, re.S)
    assert match, html[:200]
    return ET.fromstring(match.group(0))


def classes(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if name in (e.get("class") or "").split()]


def lane_labels(html: str) -> list[str]:
    """Each lane's label as drawn (its tooltip, a <title> child, left out)."""
    labels = classes(svg_of(html), "lane-label")
    return [((e.text or "") + "".join(c.tail or "" for c in e)).strip() for e in labels]


async def two_threads(pg: Playground) -> tuple[str, str]:
    await pg.send("first", "enqueue")
    await pg.new_thread()
    await pg.send("second", "enqueue")
    await pg.wait_idle()
    return pg.threads[0], pg.threads[1]


async def test_lanes_are_named_and_the_selected_thread_is_highlighted(
    pg: Playground, client: Any
) -> None:
    first, second = await two_threads(pg)
    assert (await client.threads.get(first))["metadata"]["name"] == "thread 1"
    assert [label for label, _ in pg.thread_picker.options] == ["thread 1", "thread 2"]
    assert lane_labels(pg.timeline_html.value)[:2] == ["thread 1", "thread 2"]
    root = svg_of(pg.timeline_html.value)
    dimmed = [e.get("data-thread-id") for e in classes(root, "dimmed")]
    assert dimmed == [first] and len(classes(root, "highlighted")) == 1  # thread 2 is selected
    pg.thread_picker.value = first
    await pg.refresh()
    dimmed = [e.get("data-thread-id") for e in classes(svg_of(pg.timeline_html.value), "dimmed")]
    assert dimmed == [second]


async def test_this_thread_only_and_zoom(pg: Playground) -> None:
    first, _ = await two_threads(pg)
    pg.this_thread_only.value = True
    await pg.refresh()
    assert lane_labels(pg.timeline_html.value) == ["thread 2"]
    assert not classes(svg_of(pg.timeline_html.value), "dimmed")
    pg.this_thread_only.value = False
    assert WINDOWED not in pg.timeline_html.value
    pg.fit_thread_button.click()
    await pg.refresh()
    assert pg.zoom == "thread" and WINDOWED in pg.timeline_html.value
    pg.fit_recent_button.click()
    await pg.refresh()
    assert pg.zoom == "recent" and WINDOWED in pg.timeline_html.value
    pg.fit_all_button.click()
    await pg.refresh()
    assert pg.zoom == "all" and WINDOWED not in pg.timeline_html.value
    assert first in pg.timeline_html.value


async def test_clear_forgets_the_threads_but_keeps_them_on_the_server(
    pg: Playground, client: Any
) -> None:
    first, second = await two_threads(pg)
    await pg.clear()
    await pg.refresh()
    assert pg.threads == [] and pg.thread_picker.value is None
    assert "no runs yet" in pg.timeline_html.value and "none yet" in pg.runs_html.value
    assert {t["thread_id"] for t in await client.threads.search()} == {first, second}
    await pg.send("again", "enqueue")
    await pg.wait_idle()
    assert len(pg.threads) == 1 and pg.thread_picker.options[0][0] == "thread 3"


async def test_inspect_a_run(pg: Playground) -> None:
    run = await pg.send("whats up", "enqueue")
    assert run is not None
    await pg.wait_idle()
    ids = [value for _, value in pg.inspect_picker.options]
    assert ids == [run["run_id"]]
    assert pg.inspect_picker.options[0][0] == f"thread 1 · run {run['run_id'][:8]} · success"
    pg.inspect_picker.value = run["run_id"]  # picking a run shows it

    async def shown() -> bool:
        return run["run_id"] in pg.inspect_html.value

    await wait_until(shown, "the inspected run to show")
    html = pg.inspect_html.value
    assert "Input" in html and "whats up" in html  # kwargs.input
    assert "ai: echo: whats up" in html  # this run's messages
    assert "Thread state now" in html and "echo: whats up" in html


async def test_live_tokens_show_before_the_run_ends(client: Any, gates: Gates) -> None:
    pg = Playground(client, graph="words")
    try:
        run = await pg.send("tell me", "enqueue")
        assert run is not None
        await gates["finish"].reached()  # the model has streamed; the run waits at the gate

        async def streamed() -> bool:
            return ANSWER in pg.live_html.value

        await wait_until(streamed, "the streamed answer")
        assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "running"
        assert 'data-done="false"' in pg.live_html.value and "streaming…" in pg.live_html.value
        assert pg.answer is not None and pg.answer.chunks >= len(ANSWER.split())
        gates["finish"].open()
        await pg.wait_idle()
        await wait_for_status(client, run["thread_id"], run["run_id"], "success")
        assert 'data-done="true"' in pg.live_html.value and ANSWER in pg.live_html.value
    finally:
        await pg.aclose()


async def test_a_saved_notebook_shows_words_timeline_and_runs(pg: Playground) -> None:
    run = await pg.send("nyc", "enqueue")
    assert run is not None
    await pg.wait_idle()
    bundle = pg._repr_mimebundle_()
    page = bundle["text/html"]
    assert bundle["text/plain"] == "<nbruns Playground graph='mine'>"
    assert f"'nyc' sent with enqueue: run {run['run_id'][:8]} started" in page
    root = svg_of(page)
    assert [e.get("data-run-id") for e in classes(root, "run-bar")] == [run["run_id"]]
    assert "<b>Runs</b>" in page and run["run_id"][:8] in page
