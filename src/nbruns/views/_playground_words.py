"""What the Playground's status line says about a send, in words, from the runs it read.

The facts come from the run dicts of `GET /nbruns/runs` (`superseded_by`,
`started_at`, `ended_at`, `status`, `error`, `held`), read after `runs.create`
returned, when a superseded run has already stopped. Against a server without
them the words say less (which run was created), never something untrue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from ._read import parse_time

__all__ = [
    "boundary_words",
    "failed_words",
    "http_detail",
    "quoted",
    "rejected_words",
    "sent_words",
    "short",
]

_WAITING = frozenset({"pending"})
_INFLIGHT = frozenset({"pending", "running"})


def http_detail(exc: httpx.HTTPStatusError) -> str:
    """The `detail` of an error response (its text if it is not JSON)."""
    try:
        body = exc.response.json()
    except ValueError:
        return exc.response.text
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


def short(value: Any) -> str:
    return value[:8] if isinstance(value, str) else "?"


def quoted(text: str, clip: int = 40) -> str:
    """The message as the status line quotes it: 'whats the weather…'."""
    text = " ".join(text.split())
    return "'" + (text if len(text) <= clip else text[: clip - 1] + "…") + "'"


def boundary_words(before: str | None, after: str | None) -> str:
    """A hold's boundary in words: 'before its first step', 'before tools', 'after agent'."""
    if after:
        return "after its last step" if after == "*" else f"after {after}"
    if not before or before == "*":
        return "before its first step"
    return f"before {before}"


def _seconds(run: Mapping[str, Any]) -> float | None:
    started, ended = parse_time(run.get("started_at")), parse_time(run.get("ended_at"))
    if started is None or ended is None:
        return None
    return (ended - started).total_seconds()


def _fate(old: Mapping[str, Any]) -> str:
    """What became of a run that a new one superseded."""
    rid, status = short(old["run_id"]), old.get("status")
    if status == "rolled_back":
        return f"run {rid} rolled back (its steps deleted)"
    if status == "interrupted":
        took = _seconds(old)
        if old.get("started_at") is None:
            return f"run {rid} interrupted before it started"
        return f"run {rid} interrupted" + (f" after {took:.1f} s" if took is not None else "")
    return f"run {rid} {status}"


def _ahead(run: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The run this pending run waits behind: the newest older in-flight run of its thread."""
    created = parse_time(run.get("created_at"))
    older = [
        r
        for r in runs
        if r["run_id"] != run["run_id"]
        and r.get("status") in _INFLIGHT
        and (created is None or (parse_time(r.get("created_at")) or created) <= created)
    ]
    return older[-1] if older else None


def sent_words(
    text: str,
    strategy: str,
    run: Mapping[str, Any],
    runs: Sequence[Mapping[str, Any]],
    *,
    hold: str | None = None,
) -> str:
    """'nyc' sent with interrupt: run 261be1f6 interrupted after 1.2 s, run a9f7f074 started.

    `runs` are the thread's run dicts read after the create (oldest first);
    `hold` the boundary words of a hold armed for this run, if any.
    """
    head = f"{quoted(text)} sent with {strategy}: "
    rid = run["run_id"]
    mine = next((r for r in runs if r["run_id"] == rid), run)
    if not any("superseded_by" in r for r in runs):  # not nbruns: only what the create said
        return head + f"run {short(rid)} created" + (f", to be held {hold}" if hold else "")
    parts = [_fate(r) for r in runs if r.get("superseded_by") == rid]
    ahead = _ahead(mine, runs) if mine.get("status") in _WAITING else None
    if ahead is not None:
        parts.append(f"run {short(rid)} waits behind run {short(ahead['run_id'])}")
    elif mine.get("status") in _INFLIGHT or mine.get("started_at"):
        parts.append(f"run {short(rid)} started")
    else:
        parts.append(f"run {short(rid)} {mine.get('status', 'created')}")
    if hold:
        parts[-1] += f", to be held {hold} (Release lets it go on)"
    return head + ", ".join(parts)


def rejected_words(text: str, detail: str, runs: Sequence[Mapping[str, Any]] = ()) -> str:
    """'nyc' rejected (409): <the server's detail> (run 1a2b3c4d is running)."""
    busy = [f"run {short(r['run_id'])}" for r in runs if r.get("status") == "running"]
    tail = f" ({', '.join(busy)} {'is' if len(busy) == 1 else 'are'} running)" if busy else ""
    return f"{quoted(text)} rejected (409): {detail}{tail}"


def failed_words(run: Mapping[str, Any]) -> str:
    """run 1a2b3c4d failed: ValueError: node exploded (or just 'failed' without details)."""
    error = run.get("error")
    words = f"run {short(run['run_id'])} failed"
    if isinstance(error, Mapping) and (error.get("error") or error.get("message")):
        kind, message = error.get("error") or "Error", error.get("message") or ""
        return f"{words}: {kind}: {message}" if message else f"{words}: {kind}"
    return words
