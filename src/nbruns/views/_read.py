"""What the views read: runs, timeline events and checkpoints, through any SDK client.

Every function here takes a `langgraph_sdk` async client (or `_sync`'s adapter
of the sync one) and uses only what it offers, so the views work against
nbruns in this process, `nbruns serve`, or any LangGraph API server. nbruns
answers `GET /nbruns/runs` and `GET /nbruns/timeline`; other servers answer
404, and then runs come from `threads.search` + `runs.list` and the timeline
is derived from the runs (`created` at `created_at`, `finished` at
`updated_at`), with nothing invented.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from ._sync import origin_client

__all__ = [
    "TERMINAL_STATUSES",
    "derived_events",
    "fetch_events",
    "fetch_history",
    "fetch_runs",
    "nbruns_only",
    "parse_time",
]

# rolled_back: nbruns lists rolled-back runs in /nbruns/runs, and they have ended too
TERMINAL_STATUSES = frozenset({"success", "error", "timeout", "interrupted", "rolled_back"})
_PAGE = 100
_NO_THREAD = "00000000-0000-0000-0000-000000000000"
# client -> whether its server has nbruns's /nbruns/* endpoints, once a request showed it
_HAS_NBRUNS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _knows_nbruns(client: LangGraphClient) -> bool | None:
    return _HAS_NBRUNS.get(origin_client(client))


def _learn_nbruns(client: LangGraphClient, has: bool) -> None:
    _HAS_NBRUNS[origin_client(client)] = has


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from an ISO string or a datetime (naive means UTC); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value)
    else:
        raise TypeError(f"expected an ISO timestamp or a datetime, got {value!r}")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _is_404(exc: httpx.HTTPStatusError) -> bool:
    return exc.response.status_code == 404


async def _nbruns_get(
    client: LangGraphClient, path: str, thread_id: str | None
) -> list[dict[str, Any]] | None:
    """GET an nbruns-only list endpoint; None when the server answers 404."""
    params = None if thread_id is None else {"thread_id": thread_id}
    try:
        return list(await client.http.get(path, params=params))
    except httpx.HTTPStatusError as exc:
        if _is_404(exc):
            return None
        raise


async def _has_nbruns(client: LangGraphClient) -> bool:
    known = _knows_nbruns(client)
    if known is None:
        # nbruns answers [] for a thread it does not know; other servers 404 on the path
        known = await _nbruns_get(client, "/nbruns/runs", _NO_THREAD) is not None
        _learn_nbruns(client, known)
    return known


async def nbruns_only(client: LangGraphClient, call: Awaitable[Any], unsupported: Exception) -> Any:
    """Await a call to an nbruns-only endpoint; raise `unsupported` if the server is not
    nbruns (a 404 from nbruns itself names the missing thread, run or hold, and stays)."""
    try:
        return await call
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404 and not await _has_nbruns(client):
            raise unsupported from None
        raise


async def _paged(page: Callable[[int], Awaitable[Sequence[Any]]]) -> list[Any]:
    items: list[Any] = []
    offset = 0
    while True:
        got = await page(offset)
        items.extend(got)
        if len(got) < _PAGE:
            return items
        offset += _PAGE


async def _standard_runs(
    client: LangGraphClient, thread_ids: Sequence[str] | None
) -> list[dict[str, Any]]:
    """Runs through the endpoints every LangGraph server has."""
    if thread_ids is None:
        threads = await _paged(lambda o: client.threads.search(limit=_PAGE, offset=o))
        thread_ids = [t["thread_id"] for t in threads]
    runs: list[dict[str, Any]] = []
    for tid in thread_ids:
        runs.extend(dict(r) for r in await _paged(functools.partial(_runs_page, client, tid)))
    return runs


def _runs_page(client: LangGraphClient, thread_id: str, offset: int) -> Awaitable[Any]:
    return client.runs.list(thread_id, limit=_PAGE, offset=offset)


async def fetch_runs(
    client: LangGraphClient, thread_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The runs (wire dicts) of `thread_ids` (None: every thread), oldest first.

    On nbruns each run carries `started_at`, `ended_at`, `superseded_by`,
    `cancel_reason` and `error`, and rolled-back runs are listed (status
    `rolled_back`); other servers' runs carry whatever they carry.
    """
    runs: list[dict[str, Any]] = []
    if _knows_nbruns(client) is not False:
        for thread_id in [None] if thread_ids is None else thread_ids:
            got = await _nbruns_get(client, "/nbruns/runs", thread_id)
            _learn_nbruns(client, got is not None)  # it never 404s on nbruns
            if got is None:
                break
            runs.extend(got)
    if _knows_nbruns(client) is False:
        runs = await _standard_runs(client, thread_ids)
    return sorted(runs, key=_created_key)


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _at_key(value: Any) -> datetime:
    return parse_time(value) or _EPOCH


def _created_key(run: dict[str, Any]) -> tuple[datetime, str]:
    return _at_key(run.get("created_at")), run["run_id"]


def derived_events(runs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline events that plain runs prove: `created`, and `finished` for ended runs."""
    events: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for run in runs:
        base = {"seq": None, "thread_id": run.get("thread_id"), "run_id": run["run_id"]}
        created = parse_time(run.get("created_at"))
        if created is not None:
            event = {
                **base,
                "at": run["created_at"],
                "kind": "created",
                "strategy": run.get("multitask_strategy"),
            }
            events.append((created, 0, run["run_id"], event))
        updated = parse_time(run.get("updated_at"))
        if run.get("status") in TERMINAL_STATUSES and updated is not None:
            event = {**base, "at": run["updated_at"], "kind": "finished", "status": run["status"]}
            events.append((updated, 1, run["run_id"], event))
    events.sort(key=lambda e: e[:3])
    return [e[3] for e in events]


async def fetch_events(
    client: LangGraphClient,
    thread_ids: Sequence[str] | None = None,
    *,
    runs: Sequence[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Timeline events of `thread_ids` (None: every thread) in order.

    From `GET /nbruns/timeline` on nbruns; elsewhere `derived_events` of the
    runs (pass `runs` if you already fetched them). An unknown thread has none.
    """
    if not await _has_nbruns(client):
        return derived_events(runs if runs is not None else await fetch_runs(client, thread_ids))
    events: list[dict[str, Any]] = []
    for thread_id in [None] if thread_ids is None else thread_ids:
        got = await _nbruns_get(client, "/nbruns/timeline", thread_id)
        events.extend(got or ())  # None: a thread nbruns does not know has no events
    if thread_ids is not None and len(thread_ids) > 1:
        events.sort(key=lambda e: (_at_key(e.get("at")), e.get("seq") or 0))
    return events


async def fetch_history(
    client: LangGraphClient, thread_id: str, *, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` checkpoints of a thread, newest first (as the API returns them)."""
    return [dict(s) for s in await client.threads.get_history(thread_id, limit=limit)]
