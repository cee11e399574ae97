"""The Playground's strategies and its options area, and the frames' new columns.

Widget-level: no front end, trait values asserted; the server is real (in process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient

from nbruns.views._playground_options import read_policy
from nbruns.views._playground_tables import runs_table
from nbruns.views.frames import RUN_COLUMNS, runs_frame, runs_to_frame
from nbruns.views.widgets import Playground
from tests.views.test_frames import PlainServer

EIGHT = ("reject", "interrupt", "rollback", "enqueue", "steer", "collect", "debounce", "latest")


@pytest.fixture
async def pg(client: Any) -> AsyncIterator[Playground]:
    playground = Playground(client)
    yield playground
    await playground.aclose()


@pytest.fixture
async def plain(client: Any) -> AsyncIterator[LangGraphClient]:
    transport = PlainServer(client.http.client._transport)
    async with LangGraphClient(httpx.AsyncClient(transport=transport, base_url="http://x")) as c:
        yield c


async def test_the_eight_strategies_come_from_the_servers_openapi(pg: Playground) -> None:
    assert pg.strategy.options == EIGHT[:4]  # the SDK's four until the server is asked
    await pg.ready()
    assert pg.strategy.options == EIGHT
    assert pg.strategy.value == "enqueue"


async def test_the_options_area_shows_on_nbruns_only(pg: Playground, plain: Any) -> None:
    assert pg.options.area.layout.display == "none"
    await pg.ready()
    assert pg.options.area.layout.display is None
    other = Playground(plain)
    try:
        await other.ready()
        assert other.options.area.layout.display == "none"
    finally:
        await other.aclose()


async def test_apply_sets_the_threads_policy_and_says_so(pg: Playground, client: Any) -> None:
    await pg.ready()
    pg.options.fields["quiet_s"].value = "0.5"
    pg.options.fields["max_pending"].value = " 2 "
    pg.options.overflow.value = "drop_oldest"
    assert await pg.apply_options() is True  # no thread yet: it makes one
    thread = await client.threads.get(pg.thread_picker.value)
    assert thread["metadata"]["multitask"] == {
        "quiet_s": 0.5,
        "max_pending": 2,
        "overflow": "drop_oldest",
    }
    assert thread["metadata"]["name"] == "thread 1"
    assert pg.status.value.startswith("options for thread 1 (thread ") and pg.status.value.endswith(
        "): quiet_s=0.5, max_pending=2, overflow=drop_oldest"
    )
    # from code, and emptied fields unset their keys
    assert await pg.apply_options({"run_timeout_s": 30}) is True
    thread = await client.threads.get(pg.thread_picker.value)
    assert thread["metadata"]["multitask"] == {"run_timeout_s": 30}
    assert pg.options.fields["quiet_s"].value == "" and pg.options.overflow.value == ""


async def test_a_bad_value_shows_the_servers_detail(pg: Playground, client: Any) -> None:
    await pg.ready()
    await pg.new_thread()
    assert await pg.apply_options({"quiet_s": "soon"}) is False
    assert pg.status.value.startswith("options not applied to thread 1 (422): ")
    assert "quiet_s" in pg.status.value
    thread = await client.threads.get(pg.thread_picker.value)
    assert "multitask" not in thread["metadata"]  # nothing changed


def test_read_policy_leaves_empty_fields_unset_and_passes_bad_text_on() -> None:
    fields = {"quiet_s": "", "max_wait_s": "12", "max_pending": "x", "pending_ttl_s": " 1.5 "}
    assert read_policy(fields, "") == {"max_wait_s": 12, "max_pending": "x", "pending_ttl_s": 1.5}
    assert read_policy({}, "reject_newest") == {"overflow": "reject_newest"}


def test_runs_frame_and_table_have_merged_into() -> None:
    runs = [
        {
            "run_id": "r1",
            "thread_id": "t",
            "status": "success",
            "created_at": "2024-06-05T19:00:00Z",
        },
        {
            "run_id": "r2-carried-0000",
            "thread_id": "t",
            "status": "success",
            "created_at": "2024-06-05T19:00:01Z",
            "multitask_strategy": "steer",
            "merged_into": "r1-carrier-00000",
        },
    ]
    frame = runs_to_frame(runs)
    assert tuple(frame.columns) == RUN_COLUMNS
    i, j = RUN_COLUMNS.index("cancel_source"), RUN_COLUMNS.index("merged_into")
    assert RUN_COLUMNS[i - 1] == "cancel_reason" and j == i + 2  # beside superseded_by
    assert frame["merged_into"].tolist() == [None, "r1-carrier-00000"]
    assert "<th>merged into</th>" in runs_table(runs, {}) and "<td>r1-carri</td>" in runs_table(
        runs, {}
    )


async def test_other_servers_have_no_merged_into(plain: Any, client: Any, ask: Any) -> None:
    thread = await client.threads.create()
    await client.runs.wait(thread["thread_id"], "agent", input=ask())
    frame = await runs_frame(plain, thread["thread_id"])
    assert frame["merged_into"].tolist() == [None]
    assert frame["cancel_source"].tolist() == [None]
    mine = await runs_frame(client, thread["thread_id"])
    assert mine["merged_into"].tolist() == [None] and mine["status"].tolist() == ["success"]
