"""Holds through the SDK client: keep a thread's runs at a step boundary until released.

nbruns answers `/nbruns/holds` (in process and under `nbruns serve`); other LangGraph
servers have no such thing, and these functions then raise `HoldsUnsupported`.
"""

from __future__ import annotations

from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from ._read import nbruns_only

__all__ = [
    "HoldsUnsupported",
    "create_hold",
    "delete_hold",
    "get_hold",
    "list_holds",
    "release_hold",
    "wait_held",
]


class HoldsUnsupported(RuntimeError):
    """The server has no holds: they need an nbruns server (in process or `nbruns serve`)."""


_UNSUPPORTED = (
    "holds (step breakpoints) need an nbruns server: nbruns.get_client() in process, or "
    "get_client(url=...) of `nbruns serve`; this server answered 404 on /nbruns/holds"
)


async def _call(client: LangGraphClient, coro: Any) -> Any:
    return await nbruns_only(client, coro, HoldsUnsupported(_UNSUPPORTED))


async def create_hold(
    client: LangGraphClient,
    thread_id: str,
    *,
    before: str | None = None,
    after: str | None = None,
    times: int | None = None,
    new_runs_only: bool = False,
) -> dict[str, Any]:
    """Hold runs of `thread_id` before (or after) a step running node `before`/`after`
    (`"*"`: any node; neither: `before="*"`, every step, so the next one with
    `times=1`). `times`: disarm after that many catches (None: until deleted).
    `new_runs_only`: only runs created from now on."""
    body = {
        "thread_id": thread_id,
        "before": before,
        "after": after,
        "times": times,
        "new_runs_only": new_runs_only,
    }
    return dict(await _call(client, client.http.post("/nbruns/holds", json=body)))


async def get_hold(client: LangGraphClient, hold_id: str) -> dict[str, Any]:
    return dict(await _call(client, client.http.get(f"/nbruns/holds/{hold_id}")))


async def list_holds(client: LangGraphClient, thread_id: str | None = None) -> list[dict[str, Any]]:
    params = None if thread_id is None else {"thread_id": thread_id}
    return [dict(h) for h in await _call(client, client.http.get("/nbruns/holds", params=params))]


async def release_hold(client: LangGraphClient, hold_id: str) -> dict[str, Any]:
    """Let the runs held there go on; the hold stays armed if it has catches left."""
    return dict(
        await _call(client, client.http.post(f"/nbruns/holds/{hold_id}/release", json=None))
    )


async def delete_hold(client: LangGraphClient, hold_id: str) -> dict[str, Any]:
    """Disarm the hold and let its runs go on; the hold as it was."""
    answered: list[httpx.Response] = []
    path = f"/nbruns/holds/{hold_id}"
    await _call(client, client.http.delete(path, on_response=answered.append))
    return dict(answered[0].json())


async def wait_held(
    client: LangGraphClient,
    hold_id: str,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (the server waits)
) -> dict[str, Any]:
    """The hold once a run waits at it; `TimeoutError` naming the hold after `timeout` s."""
    hold = dict(
        await _call(
            client, client.http.get(f"/nbruns/holds/{hold_id}/wait", params={"timeout": timeout})
        )
    )
    if not hold["held"]:
        where = f"before {hold['before']!r}" if hold["before"] else f"after {hold['after']!r}"
        raise TimeoutError(
            f"no run of thread {hold['thread_id']} reached hold {hold_id} ({where}) within "
            f"{timeout} s; it caught {hold['hits']} so far"
        )
    return hold
