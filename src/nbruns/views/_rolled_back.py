"""Rolled-back runs you can take back, through the SDK client.

A rollback deletes its run, as on LangGraph's server; nbruns keeps the run's
checkpoints as a hidden branch for its `keep_rolled_back_s` (default an hour) and
answers `/nbruns/threads/{thread_id}/rolled_back` (in process and under `nbruns
serve`). Other LangGraph servers keep nothing: these functions then raise
`RolledBackUnsupported`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langgraph_sdk.client import LangGraphClient

from ._read import nbruns_only
from ._sync import accepts_sync_client

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ROLLED_BACK_COLUMNS",
    "RolledBackUnsupported",
    "restore",
    "rolled_back_frame",
    "rolled_back_to_frame",
]

ROLLED_BACK_COLUMNS = (
    "run_id",
    "rolled_back_at",
    "expires_at",
    "superseded_by",
    "cancel_reason",
    "checkpoints",
    "values",
)


class RolledBackUnsupported(RuntimeError):
    """The server keeps no rolled-back runs: that needs an nbruns server (in process or
    `nbruns serve`)."""


_UNSUPPORTED = (
    "restoring rolled-back runs needs an nbruns server: nbruns.get_client() in process, "
    "or get_client(url=...) of `nbruns serve`; this server answered 404 on "
    "/nbruns/threads/{thread_id}/rolled_back"
)


async def _call(client: LangGraphClient, coro: Any) -> Any:
    return await nbruns_only(client, coro, RolledBackUnsupported(_UNSUPPORTED))


def rolled_back_to_frame(branches: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The frame of rolled-back runs as the API lists them (see `rolled_back_frame`)."""
    import pandas

    rows = list(branches)
    frame = pandas.DataFrame(
        {c: pandas.Series([r.get(c) for r in rows], dtype=object) for c in ROLLED_BACK_COLUMNS},
        columns=list(ROLLED_BACK_COLUMNS),
    )
    for column in ("rolled_back_at", "expires_at"):
        frame[column] = pandas.to_datetime(frame[column], utc=True, format="ISO8601").astype(
            "datetime64[us, UTC]"
        )
    frame["checkpoints"] = frame["checkpoints"].astype("int64")
    return frame


@accepts_sync_client
async def rolled_back_frame(client: LangGraphClient, thread_id: str) -> pd.DataFrame:
    """One row per rolled-back run of `thread_id` still restorable, newest first.

    `client`: async (await the result) or sync (the frame comes back directly).
    Columns: run_id, rolled_back_at and expires_at (UTC timestamps; after
    `expires_at` the run's checkpoints are gone for good), superseded_by (the run
    whose rollback strategy replaced it, if any), cancel_reason, checkpoints (how
    many it had written) and values (the state it had got to). `nbruns.restore`
    puts a row's values back. Raises `RolledBackUnsupported` on servers other than
    nbruns.
    """
    path = f"/nbruns/threads/{thread_id}/rolled_back"
    return rolled_back_to_frame(await _call(client, client.http.get(path)))


@accepts_sync_client
async def restore(client: LangGraphClient, thread_id: str, run_id: str) -> dict[str, Any]:
    """Put `thread_id`'s state back to where rolled-back run `run_id` had got to.

    The state is written as a new checkpoint on top of the thread's (its history
    keeps everything, and the branch stays restorable until it expires); the answer
    is the thread's state after, as `client.threads.get_state` gives it. The SDK's
    `ConflictError` (409) while the thread has a run pending or running, its
    `NotFoundError` (404) for a run not kept for that thread (never rolled back
    there, or expired). Async client: await it; sync client: it returns the state.
    """
    path = f"/nbruns/threads/{thread_id}/rolled_back/{run_id}/restore"
    return dict(await _call(client, client.http.post(path, json=None)))
