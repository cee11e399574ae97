"""The views with the sync SDK client: the frame itself, no coroutine, no event loop needed."""

from __future__ import annotations

import asyncio
import re
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pandas as pd
import pytest
from langgraph_sdk.client import SyncLangGraphClient

import nbruns
import nbruns.demo
from nbruns.views import TimelineSVG, timeline
from nbruns.views._sync import accepts_sync_client, run_to_end
from nbruns.views.frames import (
    RUN_COLUMNS,
    history_frame,
    messages_frame_for,
    runs_frame,
    timeline_frame,
)

ASK: dict[str, Any] = {
    "messages": [{"role": "human", "content": "whats the weather in sf?"}],
    "sleep": 0,
}


@pytest.fixture
def sync_client(server: nbruns.Server) -> Iterator[SyncLangGraphClient]:
    c = server.sync_client()
    yield c
    c.http.client.close()


def every_view(client: Any, thread_id: str) -> dict[str, Any]:
    return {
        "runs": runs_frame(client, thread_id),
        "all runs": runs_frame(client),
        "timeline": timeline_frame(client, thread_id),
        "messages": messages_frame_for(client, thread_id),
        "history": history_frame(client, thread_id, limit=3),
        "picture": timeline(client, thread_id),
    }


def check_views(views: dict[str, Any], thread_id: str, run_id: str) -> None:
    picture = views.pop("picture")
    assert isinstance(picture, TimelineSVG) and f'data-run-id="{run_id}"' in str(picture.svg)
    for name, frame in views.items():
        assert isinstance(frame, pd.DataFrame), name
    assert list(views["runs"]["run_id"]) == [run_id]
    assert tuple(views["runs"].columns) == RUN_COLUMNS
    assert run_id in set(views["all runs"]["run_id"])
    assert list(views["timeline"]["kind"])[:2] == ["created", "started"]
    assert list(views["messages"]["type"]) == ["human", "ai", "tool", "ai"]
    assert set(views["messages"]["run_id"]) == {run_id}
    assert len(views["history"]) == 3


def test_sync_client_in_a_plain_thread(sync_client: SyncLangGraphClient) -> None:
    tid = sync_client.threads.create()["thread_id"]
    run = sync_client.runs.create(tid, "agent", input=ASK)
    sync_client.runs.join(tid, run["run_id"])
    found: dict[str, Any] = {}

    def read() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a "never awaited" coroutine would fail here
            found.update(every_view(sync_client, tid))

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    check_views(found, tid, run["run_id"])


async def test_sync_client_inside_a_running_loop(sync_client: SyncLangGraphClient) -> None:
    """As in a notebook cell: the sync views run to their end on the cell's loop thread."""
    tid = sync_client.threads.create()["thread_id"]
    run: Any = sync_client.runs.wait(tid, "agent", input=ASK)
    assert len(run["messages"]) == 4
    asyncio.get_running_loop()  # a loop is running here, and the views do not need it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        views = every_view(sync_client, tid)
    runs = views["runs"]
    check_views(views, tid, runs["run_id"].iloc[0])
    assert list(runs["status"]) == ["success"]


def test_nbruns_get_sync_client() -> None:
    client = nbruns.get_sync_client(graphs={"c13_sync_agent": nbruns.demo.make_agent(latency=0)})
    tid = client.threads.create()["thread_id"]
    run = client.runs.create(tid, "c13_sync_agent", input=ASK)
    client.runs.join(tid, run["run_id"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_views(every_view(client, tid), tid, run["run_id"])


async def test_the_async_client_still_awaits(client: Any, sync_client: SyncLangGraphClient) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.runs.wait(tid, "agent", input=ASK)
    pending = runs_frame(client, tid)
    assert asyncio.iscoroutine(pending)
    frame = await pending
    assert frame.equals(runs_frame(sync_client, tid))


async def test_other_clients_are_refused(client: Any) -> None:
    message = (
        "runs_frame() takes a langgraph_sdk client: the async LangGraphClient "
        "(nbruns.get_client(), langgraph_sdk.get_client()) or the sync SyncLangGraphClient "
        "(nbruns.get_sync_client(), langgraph_sdk.get_sync_client()) as its first argument, "
        "not InProcessAsyncClient"
    )
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        runs_frame(client.http.client)
    with pytest.raises(TypeError, match=r"^history_frame\(\) takes .* not str$"):
        history_frame("http://localhost:2024", "t")  # type: ignore[call-overload]


def test_a_view_that_suspends_is_refused(sync_client: SyncLangGraphClient) -> None:
    @accepts_sync_client
    async def sleepy(client: Any) -> int:
        await asyncio.sleep(0)  # something other than the client: it would need a loop
        return 1

    with pytest.raises(TypeError, match="waited for something other than the sync client"):
        sleepy(sync_client)


def test_errors_from_the_sync_client_surface_where_awaited(
    sync_client: SyncLangGraphClient,
) -> None:
    with pytest.raises(httpx.HTTPStatusError) as caught:
        history_frame(sync_client, "00000000-0000-0000-0000-0000000000aa")
    assert caught.value.response.status_code == 404

    async def seven() -> int:
        return 7

    assert run_to_end(seven()) == 7


# -- another LangGraph server, through the sync client ------------------------------


class PlainSyncServer(httpx.BaseTransport):
    """Makes nbruns look like another LangGraph server: 404 for /nbruns, plain runs."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/nbruns/"):
            return httpx.Response(404, json={"detail": "Not Found"})
        response = self.inner.handle_request(request)
        if not re.fullmatch(r"/threads/[^/]+/runs(/[^/]+)?", request.url.path):
            return response
        body = orjson.loads(response.read())
        for run in body if isinstance(body, list) else [body]:
            for key in ("started_at", "ended_at", "superseded_by", "cancel_reason", "error"):
                run.pop(key, None)
        return httpx.Response(response.status_code, json=body)


def test_sync_client_of_another_server(sync_client: SyncLangGraphClient) -> None:
    tid = sync_client.threads.create()["thread_id"]
    run: Any = sync_client.runs.wait(tid, "agent", input=ASK)
    transport = PlainSyncServer(sync_client.http.client._transport)
    with SyncLangGraphClient(httpx.Client(transport=transport, base_url="http://x")) as plain:
        runs = runs_frame(plain, tid)
        assert list(runs["status"]) == ["success"] and runs["started_at"].isna().all()
        events = timeline_frame(plain, tid)
        assert list(events["kind"]) == ["created", "finished"] and events["seq"].isna().all()
        assert len(messages_frame_for(plain, tid)) == len(run["messages"])
