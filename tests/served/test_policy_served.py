"""Multitask policies and the choose hook over HTTP, against `nbruns serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from langgraph_sdk.errors import UnprocessableEntityError

from tests.helpers import wait_for_status

HELLO = {"messages": [{"role": "human", "content": "hello"}]}


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}]}


async def test_policies_and_the_hook_are_honoured_over_http(serve: Any, sdk: Any) -> None:
    served = serve("--choose", "nbruns.policies:by_message")
    client = sdk(served.url)

    # a thread's policy beats the hook: this "hello" interrupts
    policy = {"multitask": {"strategy": "interrupt"}}
    tid = (await client.threads.create(metadata=policy))["thread_id"]
    slow = await client.runs.create(tid, "slow", input=HELLO)
    await wait_for_status(client, tid, slow["run_id"], "running")
    fast = await client.runs.create(tid, "reply", input=HELLO)
    assert fast["multitask_strategy"] == "interrupt"
    await client.runs.join(tid, fast["run_id"])
    assert (await client.runs.get(tid, slow["run_id"]))["status"] == "interrupted"

    # no policy: --choose decides, from the words
    other = (await client.threads.create())["thread_id"]
    held = await client.runs.create(other, "slow", input=HELLO)
    assert held["multitask_strategy"] == "enqueue"
    await wait_for_status(client, other, held["run_id"], "running")
    correction = await client.runs.create(other, "reply", input=said("actually, never mind"))
    assert correction["multitask_strategy"] == "interrupt"
    await client.runs.join(other, correction["run_id"])
    assert (await client.runs.get(other, held["run_id"]))["status"] == "interrupted"

    # a bad policy is a 422 naming the key, and nothing is created
    before = await client.threads.count()
    with pytest.raises(UnprocessableEntityError) as info:
        await client.threads.create(metadata={"multitask": {"max_pending": 0}})
    assert "max_pending" in info.value.response.json()["detail"]
    with pytest.raises(UnprocessableEntityError):
        await client.runs.create(other, "reply", input=HELLO, metadata=policy | {"multitask": 1})
    assert await client.threads.count() == before
    assert len(await client.runs.list(other)) == 2


def test_a_choose_hook_that_does_not_import_stops_start_up() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nbruns", "serve", "--port", "1"],
        env={**os.environ, "NBRUNS_CHOOSE": "nbruns.policies:nope"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "NBRUNS_CHOOSE" in done.stderr and "has no attribute 'nope'" in done.stderr
