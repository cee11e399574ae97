"""The Playground on the user's own fast graph: hold a run, double-text it, read the words.

Driven from code (`await pg.send(...)`, `await pg.release()`, `await pg.wait_idle()`)
against a real in-process server; a hold keeps the first run at a step boundary, so
no graph sleeps and nothing is ordered by time.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import nbruns
from nbruns.views.widgets import Playground
from tests.helpers import Gates
from tests.views.playground_graphs import failing_graph, fast_graph, streaming_graph, topic_graph

ID = r"[0-9a-f]{8}"


@pytest.fixture
def server(gates: Gates) -> Iterator[nbruns.Server]:
    srv = nbruns.Server(
        graphs={
            "mine": fast_graph(),
            "boom": failing_graph(),
            "words": streaming_graph(lambda: gates["finish"]),
            "topic": topic_graph(),
        }
    )
    yield srv
    srv.close()


@pytest.fixture
async def pg(client: Any) -> AsyncIterator[Playground]:
    playground = Playground(client, graph="mine")
    yield playground
    await playground.aclose()


async def held_first(pg: Playground, client: Any) -> dict[str, Any]:
    """Send 'sf' with a hold before its first step; return the run once it is held."""
    run = await pg.send("sf", "enqueue", hold=True)
    assert run is not None
    hold_id = next(iter(pg.holds))
    from nbruns.views._holds import wait_held

    hold = await wait_held(client, hold_id, timeout=10)
    assert [h["run_id"] for h in hold["held"]] == [run["run_id"]]
    assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "running"
    return run


async def test_a_fast_graph_has_no_sleep_slider_and_offers_its_nodes(pg: Playground) -> None:
    await pg.ready()
    assert pg.sleep.layout.display == "none"
    assert [v for _, v in pg.hold_at.options] == [
        "before:*",
        "before:think",
        "after:think",
        "before:answer",
        "after:answer",
    ]
    assert pg.strategy.options == (  # as the server's OpenAPI document lists them
        *("reject", "interrupt", "rollback", "enqueue"),
        *("steer", "collect", "debounce", "latest"),
    )


@pytest.mark.parametrize(
    ("strategy", "words", "statuses"),
    [
        (
            "interrupt",
            rf"'nyc' sent with interrupt: run {ID} interrupted after \d+\.\d s, run {ID} started",
            ["interrupted", "success"],
        ),
        (
            "rollback",
            rf"'nyc' sent with rollback: run {ID} rolled back \(its steps deleted\), "
            rf"run {ID} started",
            ["success"],
        ),
        ("enqueue", rf"'nyc' sent with enqueue: run {ID} waits behind run {ID}", None),
        (
            "reject",
            r"'nyc' rejected \(409\): Thread is already running a task\. "
            r"Wait for it to finish or choose a different multitask strategy\. "
            rf"\(run {ID} is running\)",
            ["success"],
        ),
    ],
)
async def test_double_text_a_held_run_with_each_strategy(
    pg: Playground, client: Any, strategy: str, words: str, statuses: list[str] | None
) -> None:
    first = await held_first(pg, client)
    assert (
        re.fullmatch(
            rf"'sf' sent with enqueue: run {ID} started, held before its first step "
            r"\(Release lets it go on\)",
            pg.status.value,
        )
        or "to be held" in pg.status.value
    ), pg.status.value
    second = await pg.send("nyc", strategy)
    assert re.fullmatch(words, pg.status.value), pg.status.value
    assert first["run_id"][:8] in pg.status.value
    if second is not None:
        assert second["run_id"][:8] in pg.status.value
    released = await pg.release()
    if strategy in ("enqueue", "reject"):  # the first run was still held: it goes on now
        assert released == f"released run {first['run_id'][:8]} (held before its first step)"
    else:  # it was stopped while held: nothing waits at the hold any more
        assert released == "released: nothing was held"
    await pg.wait_idle()
    runs = await client.runs.list(first["thread_id"])
    if statuses is None:
        statuses = ["success", "success"]
    assert sorted(r["status"] for r in runs) == statuses
    assert "echo: " in pg.messages_html.value


async def test_hold_after_a_named_node(pg: Playground, client: Any) -> None:
    run = await pg.send("sf", "enqueue", hold="after:think")
    assert run is not None and pg.hold.value is False
    from nbruns.views._holds import wait_held

    hold = await wait_held(client, next(iter(pg.holds)), timeout=10)
    assert hold["held"][0]["after"] == ["think"]
    second = await pg.send("nyc", "interrupt")
    assert second is not None
    assert re.fullmatch(
        rf"'nyc' sent with interrupt: run {ID} interrupted after \d+\.\d s, run {ID} started",
        pg.status.value,
    )
    await pg.release()
    await pg.wait_idle()
    # the interrupted run kept its completed step (think) but never answered
    assert pg.messages_html.value.count("echo: ") == 1


async def test_wait_idle_refuses_to_wait_for_a_held_run(pg: Playground, client: Any) -> None:
    run = await held_first(pg, client)
    with pytest.raises(RuntimeError, match=rf"run {run['run_id'][:8]} held: await pg.release"):
        await pg.wait_idle()
    await pg.release()
    await pg.wait_idle()
    assert (await client.runs.get(run["thread_id"], run["run_id"]))["status"] == "success"


async def test_an_unknown_node_is_refused_and_nothing_sent(pg: Playground, client: Any) -> None:
    assert await pg.send("sf", "enqueue", hold="before:nowhere") is None
    assert pg.status.value.startswith("not sent: the hold was refused (422)")
    assert pg.runs == []
    with pytest.raises(ValueError, match="hold='sideways:x'"):
        await pg.send("sf", hold="sideways:x")


async def test_empty_messages_are_refused(pg: Playground, client: Any) -> None:
    assert await pg.send("   ", "enqueue") is None
    assert pg.status.value == "empty message: nothing sent (type a message first)"
    assert pg.runs == [] and pg.threads == []
    assert await client.threads.search() == []


async def test_a_failing_run_says_why(client: Any) -> None:
    pg = Playground(client, graph="boom")
    try:
        run = await pg.send("go", "enqueue")
        assert run is not None
        await pg.wait_idle()
        assert pg.status.value == f"run {run['run_id'][:8]} failed: ValueError: node exploded"
        assert "ValueError: node exploded" in pg.runs_html.value  # the runs table's error column
        shown = await pg.inspect(run["run_id"])
        assert "Traceback (most recent call last)" in shown
        assert "node exploded" in shown and "&quot;go&quot;" in shown  # its input
    finally:
        await pg.aclose()
