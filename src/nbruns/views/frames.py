"""pandas DataFrames of runs, lifecycle events, messages and checkpoints.

Each view takes a `langgraph_sdk` client first, async (`nbruns.get_client()`:
the view returns a coroutine to await) or sync (`nbruns.get_sync_client()`:
it returns the frame), and reads only through it, so the frames work against
any LangGraph API server. nbruns adds
`GET /nbruns/runs` and `GET /nbruns/timeline`; elsewhere the columns those
provide (`started_at`, `ended_at`, `superseded_by`, ...) stay empty (NaT or
None) and the timeline holds only what runs prove. pandas is imported on first
use. Column order is fixed (the `*_COLUMNS` tuples) and an empty input gives an
empty frame with those columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langgraph_sdk.client import LangGraphClient

from ._message_text import call_text, content_text, field, messages_of
from ._read import fetch_events, fetch_history, fetch_runs
from ._sync import accepts_sync_client

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "HISTORY_COLUMNS",
    "MESSAGE_COLUMNS",
    "RUN_COLUMNS",
    "TIMELINE_COLUMNS",
    "first_runs",
    "history_frame",
    "messages_frame",
    "messages_frame_for",
    "runs_frame",
    "runs_to_frame",
    "timeline_frame",
    "timeline_to_frame",
]

RUN_COLUMNS = (
    "thread_id",
    "run_id",
    "assistant_id",
    "multitask_strategy",
    "status",
    "created_at",
    "started_at",
    "ended_at",
    "queue_wait",
    "duration",
    "cancel_reason",
    "cancel_source",
    "superseded_by",
    "merged_into",
    "error",
    "traceback",
)
TIMELINE_COLUMNS = (
    "seq",
    "at",
    "thread_id",
    "run_id",
    "kind",
    "status",
    "strategy",
    "action",
    "by",
    "reason",
    "nodes",
    "after_seconds",
    "as_node",
    "detail",
)
MESSAGE_COLUMNS = (
    "position",
    "type",
    "name",
    "content",
    "tool_calls",
    "tool_call_id",
    "id",
    "run_id",
)
HISTORY_COLUMNS = (
    "step",
    "source",
    "run_id",
    "next",
    "n_messages",
    "created_at",
    "checkpoint_id",
)


def _pandas() -> Any:
    import pandas

    return pandas


def _frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame whose columns are object-typed (None for missing) in `columns` order."""
    pd = _pandas()
    rows = list(rows)
    return pd.DataFrame(
        {c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns},
        columns=list(columns),
    )


def _utc(frame: pd.DataFrame, *columns: str) -> None:
    pd = _pandas()
    for c in columns:
        frame[c] = pd.to_datetime(frame[c], utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )


# -- runs ---------------------------------------------------------------------


def _error_columns(run: Mapping[str, Any]) -> dict[str, Any]:
    """`error` ("ValueError: node exploded") and `traceback` of nbruns' run `error` field."""
    found = run.get("error")
    if isinstance(found, str):
        return {"error": found or None, "traceback": None}
    if not isinstance(found, Mapping):
        return {"error": None, "traceback": None}
    kind, message = found.get("error"), found.get("message")
    error = ": ".join(str(p) for p in (kind, message) if p not in (None, "")) or None
    return {"error": error, "traceback": found.get("traceback") or None}


def runs_to_frame(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The runs frame of run dicts as the API sends them (see `runs_frame`)."""
    frame = _frame([{**r, **_error_columns(r)} for r in runs], RUN_COLUMNS)
    _utc(frame, "created_at", "started_at", "ended_at")
    frame["queue_wait"] = frame["started_at"] - frame["created_at"]
    frame["duration"] = frame["ended_at"] - frame["started_at"]
    frame = frame.sort_values(["created_at", "run_id"], kind="stable", na_position="first")
    return frame.reset_index(drop=True)


@accepts_sync_client
async def runs_frame(client: LangGraphClient, thread_id: str | None = None) -> pd.DataFrame:
    """One row per run of `thread_id` (default: every thread), oldest first.

    `client`: async (await the result) or sync (the frame comes back directly).
    Columns: thread_id, run_id, assistant_id, multitask_strategy (the strategy
    the run was created with), status, created_at, started_at, ended_at
    (UTC timestamps), queue_wait (started_at - created_at), duration
    (ended_at - started_at), cancel_reason, cancel_source (why it was stopped:
    superseded, client, shutdown, run_timeout, crashed, replaced, dropped or
    pending_ttl), superseded_by (the run that interrupted, rolled back or
    replaced it), merged_into (for a run merged by steer, collect or debounce:
    the run that carries its input; its status follows that run), error ("ValueError: node
    exploded" for a run that failed) and traceback (its full text). On nbruns,
    runs deleted by a rollback are here with status `rolled_back` (the SDK's
    own endpoints no longer find them). On servers other than nbruns
    started_at, ended_at, queue_wait, duration, cancel_reason, cancel_source,
    superseded_by, merged_into, error and traceback are empty unless the server sends them,
    and rolled-back runs are absent.
    """
    return runs_to_frame(await fetch_runs(client, None if thread_id is None else [thread_id]))


# -- timeline -----------------------------------------------------------------

_KNOWN_EVENT_KEYS = frozenset(TIMELINE_COLUMNS)


def timeline_to_frame(events: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The timeline frame of event dicts as `GET /nbruns/timeline` sends them."""
    rows = []
    for e in events:
        row = dict(e)
        if isinstance(row.get("nodes"), list):
            row["nodes"] = tuple(row["nodes"])
        extra = {k: v for k, v in e.items() if k not in _KNOWN_EVENT_KEYS}
        row["detail"] = extra or None
        rows.append(row)
    frame = _frame(rows, TIMELINE_COLUMNS)
    frame["seq"] = frame["seq"].astype("Int64")
    frame["after_seconds"] = frame["after_seconds"].astype("Float64")
    _utc(frame, "at")
    return frame


@accepts_sync_client
async def timeline_frame(client: LangGraphClient, thread_id: str | None = None) -> pd.DataFrame:
    """One row per lifecycle event of `thread_id` (default: every thread), in order.

    `client`: async (await the result) or sync (the frame comes back directly).
    Columns: seq, at (UTC), thread_id, run_id, kind, status, strategy, action,
    by, reason, nodes, after_seconds, as_node, detail (any other keys). Kinds:
    `created` (strategy, after_seconds), `started`, `step` (nodes: tuple of
    node names), `superseded` (action, by, reason), `cancelled` (action,
    reason), `finished` (status), `rolled_back`, `rejected` (strategy; run_id
    is None: no run was made), `state_updated` (as_node). On servers other
    than nbruns only `created` (at created_at) and `finished` (at updated_at)
    rows exist, derived from the runs; seq is empty.
    """
    ids = None if thread_id is None else [thread_id]
    return timeline_to_frame(await fetch_events(client, ids))


# -- messages -----------------------------------------------------------------


def messages_frame(
    state_or_values: Any, *, run_ids: Mapping[str, str | None] | None = None
) -> pd.DataFrame:
    """One row per message of a thread state (`threads.get_state`), its `values`, or a list.

    Columns: position (0-based), type (human, ai, tool, ...), name, content
    (text; list content flattened, `tool_use` blocks as `tool_use:name(args)`
    unless they repeat one of the message's tool_calls), tool_calls (list of
    "name(args)"), tool_call_id, id, run_id (from
    `run_ids`, message id -> run id; `messages_frame_for` computes it).
    """
    rows = []
    for position, m in enumerate(messages_of(state_or_values)):
        calls = field(m, "tool_calls") or []
        message_id = field(m, "id")
        rows.append(
            {
                "position": position,
                "type": field(m, "type") or field(m, "role"),
                "name": field(m, "name"),
                "content": content_text(field(m, "content"), calls),
                "tool_calls": [call_text(field(c, "name"), field(c, "args")) for c in calls],
                "tool_call_id": field(m, "tool_call_id"),
                "id": message_id,
                "run_id": (run_ids or {}).get(message_id) if message_id is not None else None,
            }
        )
    frame = _frame(rows, MESSAGE_COLUMNS)
    frame["position"] = frame["position"].astype("int64")
    return frame


def first_runs(history: Sequence[Mapping[str, Any]]) -> dict[str, str | None]:
    """Message id -> run_id of the oldest checkpoint in `history` (newest first) holding it.

    If the history does not reach the thread's first checkpoint, the messages
    already in its oldest checkpoint map to None: who added them is unknown.
    """
    found: dict[str, str | None] = {}
    for state in reversed(history):
        run_id = (state.get("metadata") or {}).get("run_id")
        for m in messages_of(state):
            message_id = field(m, "id")
            if message_id is not None and message_id not in found:
                found[message_id] = run_id
    if history and history[-1].get("parent_checkpoint_id"):
        for m in messages_of(history[-1]):
            if field(m, "id") is not None:
                found[field(m, "id")] = None
    return found


@accepts_sync_client
async def messages_frame_for(
    client: LangGraphClient, thread_id: str, *, limit: int = 200
) -> pd.DataFrame:
    """`messages_frame` of a thread's current state, with run_id from its history.

    `client`: async (await the result) or sync (the frame comes back directly).
    Walks up to `limit` checkpoints of `threads.get_history`; each message's
    run_id is the `metadata.run_id` of the first checkpoint that holds it.
    """
    history = await fetch_history(client, thread_id, limit=limit)
    # newest first: the first entry is the current state (one request, and no checkpoint
    # can land between reading the state and reading its history)
    return messages_frame(history[0] if history else {}, run_ids=first_runs(history))


# -- history ------------------------------------------------------------------


@accepts_sync_client
async def history_frame(client: LangGraphClient, thread_id: str, limit: int = 100) -> pd.DataFrame:
    """One row per checkpoint of a thread (up to `limit` newest), oldest first.

    `client`: async (await the result) or sync (the frame comes back directly).
    Columns: step, source (input, loop, update, fork), run_id (of the run that
    wrote it; None for `threads.update_state`), next (tuple of node names),
    n_messages (empty if the state has no `messages`), created_at (UTC),
    checkpoint_id.
    """
    rows = []
    for state in reversed(await fetch_history(client, thread_id, limit=limit)):
        metadata = state.get("metadata") or {}
        values = state.get("values")
        messages = values.get("messages") if isinstance(values, Mapping) else None
        rows.append(
            {
                "step": metadata.get("step"),
                "source": metadata.get("source"),
                "run_id": metadata.get("run_id"),
                "next": tuple(state.get("next") or ()),
                "n_messages": len(messages) if isinstance(messages, list) else None,
                "created_at": state.get("created_at"),
                "checkpoint_id": state.get("checkpoint_id")
                or (state.get("checkpoint") or {}).get("checkpoint_id"),
            }
        )
    frame = _frame(rows, HISTORY_COLUMNS)
    frame["step"] = frame["step"].astype("Int64")
    frame["n_messages"] = frame["n_messages"].astype("Int64")
    _utc(frame, "created_at")
    return frame
