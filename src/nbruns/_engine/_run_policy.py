"""The policy a run was created under, read back from the run (see `_policies`).

Kept apart from `_policies` so that `RunBody` can read a run's time limit without
importing what creates and expires runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from .._core._policy import Policy
from .._core._records import RunRecord

__all__ = ["POLICY_KWARG", "RunLimit", "kept_policy", "run_limit"]

POLICY_KWARG = "multitask_policy"
"""The key of `RunRecord.kwargs` that keeps the run's effective policy (its JSON)."""


class RunLimit(NamedTuple):
    """How long a run may run, and the words its `timeout` is explained with."""

    seconds: float | None
    reason: str


def kept_policy(run: RunRecord) -> Policy:
    """The policy that was in force when `run` was created."""
    kept = run.kwargs.get(POLICY_KWARG)
    return Policy.from_json(kept, where="run policy") if isinstance(kept, Mapping) else Policy()


def run_limit(run: RunRecord, server_limit: float | None) -> RunLimit:
    """The run's time limit: its policy's `run_timeout_s` when set, else the server's."""
    own = kept_policy(run).run_timeout_s
    if own is not None:
        return RunLimit(
            own, f"the run took longer than its multitask policy's run_timeout_s of {own:g} s"
        )
    if server_limit is None:
        return RunLimit(None, "")
    return RunLimit(
        server_limit, f"the run took longer than the server's run timeout of {server_limit:g} s"
    )
