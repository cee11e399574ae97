"""What the views read: runs, timeline events and checkpoints, through any SDK client.

Every function here takes a `langgraph_sdk` async client and uses only what it
offers, so the views work against nbruns in this process, `nbruns serve`, or
any LangGraph API server. nbruns answers `GET /nbruns/runs` and
`GET /nbruns/timeline`; other servers answer 404, and then runs come from
`threads.search` + `runs.list` and the timeline is derived from the runs
(`created` at `created_at`, `finished` at `updated_at`), with nothing invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

__all__ = [
    "TERMINAL_STATUSES",
    "derived_events",
    "fetch_events",
    "fetch_history",
    "fetch_runs",
    "parse_time",
]

TERMINAL_STATUSES = frozenset({"success", "error", "timeout", "interrupted"})
_PAGE = 100


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


async def _all_thread_ids(client: LangGraphClient) -> list[str]:
    ids: list[str] = []
    offset = 0
    while True:
        page = await client.threads.search(limit=_PAGE, offset=offset)
        ids.extend(t["thread_id"] for t in page)
        if len(page) < _PAGE:
            return ids
        offset += _PAGE


async def _runs_of(client: LangGraphClient, thread_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await client.runs.list(thread_id, limit=_PAGE, offset=offset)
        runs.extend(dict(r) for r in page)
        if len(page) < _PAGE:
            return runs
        offset += _PAGE


async def fetch_runs(
    client: LangGraphClient, thread_ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The runs (wire dicts) of `thread_ids` (None: every thread), oldest first.

    On nbruns each run carries `started_at`, `ended_at`, `superseded_by` and
    `cancel_reason`; other servers' runs carry whatever they carry.
    """
    runs: list[dict[str, Any]] = []
    for thread_id in [None] if thread_ids is None else thread_ids:
        got = await _nbruns_get(client, "/nbruns/runs", thread_id)
        if got is None:  # not nbruns: the standard endpoints
            runs = []
            tids = await _all_thread_ids(client) if thread_ids is None else list(thread_ids)
            for tid in tids:
                runs.extend(await _runs_of(client, tid))
            break
        runs.extend(got)
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
    events: list[dict[str, Any]] = []
    for thread_id in [None] if thread_ids is None else thread_ids:
        got = await _nbruns_get(client, "/nbruns/timeline", thread_id)
        if got is None and thread_id is not None:
            # nbruns answers 404 for an unknown thread; other servers for the path
            if await _nbruns_get(client, "/nbruns/runs", thread_id) is not None:
                continue
        if got is None:
            if runs is None:
                runs = await fetch_runs(client, thread_ids)
            return derived_events(runs)
        events.extend(got)
    if thread_ids is not None and len(thread_ids) > 1:
        events.sort(key=lambda e: (_at_key(e.get("at")), e.get("seq") or 0))
    return events


async def fetch_history(
    client: LangGraphClient, thread_id: str, *, limit: int
) -> list[dict[str, Any]]:
    """Up to `limit` checkpoints of a thread, newest first (as the API returns them)."""
    return [dict(s) for s in await client.threads.get_history(thread_id, limit=limit)]
