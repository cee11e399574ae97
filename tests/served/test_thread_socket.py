"""`nbruns serve` and the SDK's thread stream over WebSocket: behind `--api-key` as every
endpoint is (the key goes in the stream's `headers=`), and refused with a reason when the
project has an auth handler (whose rules nbruns applies per HTTP request only).
The protocol itself is checked against the reference in
tests/conformance/test_thread_socket.py."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosedError

KEY = "socket-test-key"
PROJECT = Path(__file__).resolve().parents[1] / "config_project"


def ws_url(url: str, thread_id: str) -> str:
    return url.replace("http://", "ws://") + f"/threads/{thread_id}/stream/events"


async def closed_with(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Connect, subscribe, and return the close code and reason the server ended with."""
    async with websockets.connect(url, additional_headers=headers) as ws:
        params = {"channels": ["lifecycle"]}
        with pytest.raises(ConnectionClosedError) as closed:  # (the send may meet it first)
            await ws.send(
                json.dumps({"id": 1, "method": "subscription.subscribe", "params": params})
            )
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_the_api_key_guards_the_socket(serve: Callable[..., Any], sdk: Any) -> None:
    served = serve("--api-key", KEY, ready_headers={"x-api-key": KEY})
    client = sdk(served.url, api_key=KEY)
    thread = await client.threads.create()
    url = ws_url(served.url, thread["thread_id"])
    for wrong in (None, {"x-api-key": "wrong"}):
        code, reason = await closed_with(url, wrong)
        assert code == 1008 and "x-api-key" in reason
    async with client.threads.stream(
        thread["thread_id"],
        assistant_id="reply",
        transport="websocket",
        headers={"x-api-key": KEY},
    ) as stream:
        await stream.run.start(input={"messages": [{"role": "human", "content": "hi"}]})
        output = await stream.output
    assert [m["content"] for m in output["messages"]] == ["hi", "ok"]


async def test_a_thread_that_is_not_there_closes_the_socket(serve: Callable[..., Any]) -> None:
    served = serve()
    missing = str(uuid.uuid4())
    assert await closed_with(ws_url(served.url, missing)) == (4404, f"Thread {missing} not found.")
    code, reason = await closed_with(ws_url(served.url, "not-a-uuid"))
    assert code == 1008 and "must be a UUID" in reason


async def test_an_auth_handler_refuses_the_socket(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(PROJECT, project)
    config = json.loads((project / "langgraph.json").read_text())
    config["auth"] = {"path": "./auth.py:auth"}
    (project / "langgraph.json").write_text(json.dumps(config))
    served = serve("--config", str(project / "langgraph.json"))
    code, reason = await closed_with(ws_url(served.url, str(uuid.uuid4())), {"x-user": "alice"})
    assert code == 1008 and 'transport="sse"' in reason
