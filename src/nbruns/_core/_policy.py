"""Multitask policies: the options that say how a thread's runs share it (pure).

A policy is set at three levels, each as `metadata={"multitask": {...}}`: on a run
(the call), on its thread, on its assistant. The most specific level that sets a key
wins, key by key. `nbruns.Policy` builds and checks the same dict in Python.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._errors import InvalidInput
from ._types import NBRUNS_STRATEGIES, OVERFLOWS

__all__ = ["POLICY_KEY", "Policy", "effective_policy", "policy_of"]

POLICY_KEY = "multitask"
"""The metadata key a policy lives under, on runs, threads and assistants."""

_OVERFLOWS = OVERFLOWS


def _seconds(key: str, value: Any, *, positive: bool, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"Invalid {where}: '{key}' must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0):
        bound = "more than 0" if positive else "0 or more"
        raise InvalidInput(f"Invalid {where}: '{key}' must be {bound} seconds, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Policy:
    """How runs of a thread share it, beyond the call's `multitask_strategy`.

    Every field is optional; an unset one is taken from a less specific level (call,
    then thread, then assistant), else its default.

    - `strategy`: the multitask strategy when the call names none: one of "reject",
      "interrupt", "rollback", "enqueue" (LangGraph's four) or "steer", "collect",
      "debounce", "latest" (nbruns's).
    - `quiet_s` (default 1.0): debounce starts the merged run once no message has
      arrived for this long...
    - `max_wait_s` (default 10.0): ...and at the latest this long after the first.
    - `max_pending` (default: no limit): how many runs may wait on the thread.
    - `overflow` (default "reject_newest"): past `max_pending`, refuse the new run
      with 409 ("reject_newest"), or end the oldest waiting run as interrupted
      ("drop_oldest").
    - `pending_ttl_s` (default: none): a run not started within this long ends as
      `timeout`, its reason saying so.
    - `run_timeout_s` (default: none): a run running longer is stopped and ends as
      `timeout`, its finished steps kept.

    `Policy(...)` checks its values (a bad one raises `InvalidInput`, a ValueError,
    naming the key and what is allowed); `as_metadata()` gives the dict to pass as
    `metadata=` to `runs.create`, `threads.create`/`update` or
    `assistants.create`/`update`.
    """

    strategy: str | None = None
    quiet_s: float | None = None
    max_wait_s: float | None = None
    max_pending: int | None = None
    overflow: str | None = None
    pending_ttl_s: float | None = None
    run_timeout_s: float | None = None

    def __post_init__(self) -> None:
        self._check("policy")

    def _check(self, where: str) -> None:
        if self.strategy is not None and self.strategy not in NBRUNS_STRATEGIES:
            raise InvalidInput(
                f"Invalid {where}: 'strategy' must be one of {', '.join(NBRUNS_STRATEGIES)}; "
                f"got {self.strategy!r}"
            )
        for key in ("quiet_s", "max_wait_s", "pending_ttl_s", "run_timeout_s"):
            value = _seconds(key, getattr(self, key), positive=key != "quiet_s", where=where)
            object.__setattr__(self, key, value)
        pending = self.max_pending
        if pending is not None and (
            isinstance(pending, bool) or not isinstance(pending, int) or pending < 1
        ):
            raise InvalidInput(
                f"Invalid {where}: 'max_pending' must be a whole number 1 or more (use "
                f"strategy 'reject' for none), got {pending!r}"
            )
        if self.overflow is not None and self.overflow not in _OVERFLOWS:
            raise InvalidInput(
                f"Invalid {where}: 'overflow' must be one of {', '.join(_OVERFLOWS)}; "
                f"got {self.overflow!r}"
            )

    @classmethod
    def from_json(cls, value: Any, *, where: str = "policy") -> Policy:
        """The policy a JSON object describes; `InvalidInput` naming a bad or unknown key."""
        if not isinstance(value, Mapping):
            raise InvalidInput(f"Invalid {where}: expected an object, got {value!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise InvalidInput(
                f"Invalid {where}: unknown key {unknown[0]!r}; the keys are "
                f"{', '.join(f.name for f in dataclasses.fields(cls))}"
            )
        policy = cls.__new__(cls)  # checked below, naming `where` rather than "policy"
        for name in known:
            object.__setattr__(policy, name, value.get(name))
        policy._check(where)
        return policy

    def as_json(self) -> dict[str, Any]:
        """The keys this policy sets (unset ones left out)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def as_metadata(self) -> dict[str, Any]:
        """`{"multitask": {...}}`, to pass (or merge into) `metadata=`."""
        return {POLICY_KEY: self.as_json()}

    def merged_over(self, fallback: Policy) -> Policy:
        """This policy, with the keys it leaves unset taken from `fallback`."""
        mine = self.as_json()
        return dataclasses.replace(fallback, **mine) if mine else fallback

    # the defaults, for keys no level sets
    @property
    def quiet(self) -> float:
        return 1.0 if self.quiet_s is None else self.quiet_s

    @property
    def max_wait(self) -> float:
        return 10.0 if self.max_wait_s is None else self.max_wait_s

    @property
    def overflow_rule(self) -> str:
        return self.overflow or "reject_newest"


def policy_of(metadata: Mapping[str, Any] | None, *, where: str) -> Policy:
    """The policy in `metadata["multitask"]` (an empty one if absent)."""
    if not metadata or metadata.get(POLICY_KEY) is None:
        return Policy()
    return Policy.from_json(metadata[POLICY_KEY], where=f"{where} metadata.{POLICY_KEY}")


def effective_policy(
    call: Mapping[str, Any] | None,
    thread: Mapping[str, Any] | None,
    assistant: Mapping[str, Any] | None,
) -> Policy:
    """The policy for a new run: its own over its thread's over its assistant's."""
    return (
        policy_of(call, where="run")
        .merged_over(policy_of(thread, where="thread"))
        .merged_over(policy_of(assistant, where="assistant"))
    )
