"""`wait_idle`: return once no run of some threads is pending or running.

It waits on the server, not on a clock: it lists the runs still going, joins each
(`runs.join` answers when the run ends), then lists again, since runs may have been
queued meanwhile. Under a virtual clock time moves only while a request waits on the
server, so the joins are what let it move. The timeout is the wall clock's, kept on
this side (`_wall.wall_timeout`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from ..views._read import fetch_runs
from ._breakpoints import require_async_client
from ._wall import wall_timeout

__all__ = ["RunsStillGoing", "going_runs", "wait_idle"]

_GOING = frozenset({"pending", "running"})
_LAST_LOOK_WITHIN = 5.0  # seconds to list the runs for the timeout's message


def going_runs(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs still pending or running, or (on nbruns) told to stop but still cleaning
    up; a run merged into another (steer, collect, debounce) goes while the run
    carrying its input goes."""
    by_id = {r["run_id"]: r for r in runs}

    def goes(run: dict[str, Any]) -> bool:
        carrier = by_id.get(run.get("merged_into") or "")
        if run.get("status") in _GOING or run.get("stopping"):  # nbruns: still cleaning up
            return True
        return carrier is not None and goes(carrier)

    return [r for r in runs if goes(r)]


def _where(run: dict[str, Any]) -> str:
    held = run.get("held")
    if held:
        nodes = held.get("before") or held.get("after") or []
        side = "before" if held.get("before") else "after"
        named = ", ".join(repr(n) for n in nodes)
        return f"held {side} {named}: release the breakpoint"
    if run.get("merged_into"):
        return f"merged into {run['merged_into']}"
    if run.get("stopping"):
        return "told to stop: a node of it is still finishing"
    return ""


class RunsStillGoing(TimeoutError):
    """Raised by `wait_idle` when runs were still pending or running at its timeout.

    `runs`: those runs (wire dicts, as `/nbruns/runs` or `runs.list` gave them).
    """

    def __init__(self, runs: Sequence[dict[str, Any]], timeout: float) -> None:
        self.runs = list(runs)
        self.timeout = timeout
        super().__init__(self._message())

    def _message(self) -> str:
        header = ("run", "thread", "status", "strategy", "")
        rows = [
            (
                str(r.get("run_id")),
                str(r.get("thread_id")),
                str(r.get("status")),
                str(r.get("multitask_strategy") or ""),
                _where(r),
            )
            for r in self.runs
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in [header, *rows]
        ]
        many = "runs were" if len(rows) != 1 else "run was"
        return f"{len(rows)} {many} still going after {self.timeout} s:\n  " + "\n  ".join(lines)


async def _join(client: LangGraphClient, run: dict[str, Any]) -> None:
    try:
        await client.runs.join(run["thread_id"], run.get("merged_into") or run["run_id"])
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:  # 404: rolled back meanwhile, so gone
            raise


async def wait_idle(
    client: LangGraphClient,
    thread_ids: str | Sequence[str] | None = None,
    *,
    timeout: float = 30.0,  # noqa: ASYNC109 (a wall-clock bound, not the loop's)
) -> None:
    """Return once no run of `thread_ids` (a thread id, several, or None: every thread)
    is pending or running; on nbruns, also once a stopped run has finished deleting or
    trimming its checkpoints, so the thread then reads as the stop leaves it.

    Raises `RunsStillGoing` (a `TimeoutError`) after `timeout` s of wall-clock time,
    with a table of the runs still going; a run held by a breakpoint never ends by
    itself, and the table says so. Works against any LangGraph server.
    """
    require_async_client(client, "wait_idle")
    ids = [thread_ids] if isinstance(thread_ids, str) else thread_ids
    going: list[dict[str, Any]] = []
    try:
        async with wall_timeout(timeout):
            while going := going_runs(await fetch_runs(client, ids)):
                for run in going:
                    await _join(client, run)
        return
    except TimeoutError:
        pass
    try:  # the table names where they are now (a held run, say)
        async with wall_timeout(_LAST_LOOK_WITHIN):
            going = going_runs(await fetch_runs(client, ids))
    except (TimeoutError, httpx.HTTPError):
        raise RunsStillGoing(going, timeout) from None  # the last list seen will do
    if going:  # else they all ended just now
        raise RunsStillGoing(going, timeout)
