"""The wire vocabulary, spelled exactly as `langgraph_sdk.schema` spells it.

Keeping these as `Literal` aliases means JSON bodies, DataFrames and the SDK
client all use the same words, and a typo is a type error.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "CANCEL_ACTIONS",
    "CANCEL_SOURCES",
    "MULTITASK_STRATEGIES",
    "NBRUNS_STRATEGIES",
    "OVERFLOWS",
    "STREAM_MODES",
    "SUPPORTED_STREAM_MODES",
    "CancelAction",
    "CancelSource",
    "IfNotExists",
    "MultitaskStrategy",
    "NbrunsStrategy",
    "OnCompletion",
    "Overflow",
    "RunStatus",
    "StreamMode",
    "ThreadStatus",
]

RunStatus = Literal["pending", "running", "error", "success", "timeout", "interrupted"]
"""Public status of a run.

- pending: created, waiting for its thread (or for `after_seconds`)
- running: its graph is executing
- error: its graph raised
- success: its graph finished (possibly paused at a human-in-the-loop breakpoint)
- timeout: it ran past the server's run timeout
- interrupted: it was cancelled (multitask `interrupt` or `runs.cancel`), never a breakpoint
"""

ThreadStatus = Literal["idle", "busy", "interrupted", "error"]
"""Status of a thread, always derived from its runs and its last checkpoint.

- idle: nothing pending or running, and the graph has nothing left to do
- busy: at least one run on it is pending or running
- interrupted: nothing running, but the last checkpoint has next tasks (breakpoint or cancel)
- error: the last run to finish raised
"""

MultitaskStrategy = Literal["reject", "interrupt", "rollback", "enqueue"]
"""What to do with a new run on a thread that has pending or running runs.

- reject: refuse the new run with 409
- interrupt: cancel the in-flight runs, keep their completed steps, start the new run
- rollback: cancel and delete the in-flight runs and their checkpoints, then start
- enqueue: run after the runs already on the thread (the default)
"""

NbrunsStrategy = Literal[
    "reject", "interrupt", "rollback", "enqueue", "steer", "collect", "debounce", "latest"
]
"""LangGraph's four strategies and nbruns's four (see `docs/strategies.md`).

- steer: deliver the new run's input into the running run at its next safe step boundary
- collect: while the thread is busy, hold new runs; then start them as one run
- debounce: as collect, once no new run has arrived for `quiet_s` (at most `max_wait_s`)
- latest: keep at most one waiting run; a new one replaces it
"""

Overflow = Literal["reject_newest", "drop_oldest"]
"""What a thread whose waiting runs reach its policy's `max_pending` does with one more:
refuse it (409), or end the oldest waiting run as interrupted."""

CancelAction = Literal["interrupt", "rollback"]
"""How `runs.cancel` stops a run: keep its completed steps, or delete it and them."""

CancelSource = Literal[
    "superseded",
    "client",
    "shutdown",
    "run_timeout",
    "crashed",
    "replaced",
    "dropped",
    "pending_ttl",
]
"""Who or what stopped a run, for programs; `cancel_reason` says it in words (nbruns's own).

- superseded: a newer run on its thread came with multitask_strategy interrupt or rollback
- client: a client cancelled it (`runs.cancel`, `runs.cancel_many`) or deleted its thread
- shutdown: the server closed, or the event loop running it was torn down
- run_timeout: it ran past the server's run timeout or its policy's `run_timeout_s`
  (it ends as `timeout`)
- crashed: its task ended with an exception nbruns did not expect (Ctrl-C in a node)
- replaced: it was waiting and a newer run came with multitask_strategy latest
- dropped: it was the oldest waiting run of a full queue (max_pending, drop_oldest)
- pending_ttl: it waited longer than its policy's `pending_ttl_s` (it ends as `timeout`)
"""

StreamMode = Literal[
    "values",
    "messages",
    "updates",
    "events",
    "tasks",
    "checkpoints",
    "debug",
    "custom",
    "messages-tuple",
    "tools",
    "lifecycle",
]
"""Every stream mode the SDK can ask for."""

IfNotExists = Literal["create", "reject"]
"""What `runs.create` does with an unknown thread id: create it, or answer 404."""

OnCompletion = Literal["delete", "keep"]
"""What happens to the temporary thread of a stateless run once it ends."""

MULTITASK_STRATEGIES: tuple[str, ...] = get_args(MultitaskStrategy)
NBRUNS_STRATEGIES: tuple[str, ...] = get_args(NbrunsStrategy)
OVERFLOWS: tuple[str, ...] = get_args(Overflow)
CANCEL_ACTIONS: tuple[str, ...] = get_args(CancelAction)
CANCEL_SOURCES: tuple[str, ...] = get_args(CancelSource)
STREAM_MODES: tuple[str, ...] = get_args(StreamMode)
# "tools" and "lifecycle" are not run stream modes on the reference either (its schema
# refuses them); asking for them gets a 422 that says so rather than a silent empty stream.
SUPPORTED_STREAM_MODES: tuple[str, ...] = (
    "values",
    "messages",
    "updates",
    "events",
    "tasks",
    "checkpoints",
    "debug",
    "custom",
    "messages-tuple",
)
