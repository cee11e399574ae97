"""Where a new run's strategy and policy come from, and the time limits a policy sets.

For a new run the multitask strategy is, in this order:

1. the call's `multitask_strategy`, if the client sent one;
2. else the effective policy's `strategy` (`metadata={"multitask": {...}}` of the
   call, over its thread's, over its assistant's, key by key: `_core/_policy.py`);
3. else the server's `choose(new_input, thread)` hook, if it has one;
4. else "enqueue".

The policy in force for a run is the one effective when it was created. It is kept
on the run, as `kwargs["multitask_policy"]` (only the keys some level set; absent when
none did), so every part of the engine reads the same one, after a restart too:

- `pending_ttl_s`: a run still pending that long after its creation ends `timeout`
  (`cancel_source="pending_ttl"`): one loop timer per such run, cancelled when the run
  starts or ends otherwise, and on shutdown; re-armed by `Executor.recover` after a
  restart of a durable server (`rearm`: one that ran out while down ends at once);
- `run_timeout_s`: `run_limit` gives a run its own time limit in place of the
  server's; `RunBody` drives the graph under it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any, cast

from .._core._errors import InvalidInput
from .._core._policy import Policy, effective_policy, policy_of
from .._core._records import AssistantRecord, RunRecord, ThreadRecord
from .._core._store import MemoryStore
from .._core._types import NBRUNS_STRATEGIES, NbrunsStrategy
from . import _serde
from ._run_body import end_run
from ._run_policy import POLICY_KWARG, kept_policy
from ._runspec import RunSpec
from ._runstream import RunStream

__all__ = ["POLICY_KWARG", "Choose", "Policies", "checked_hook", "thread_view"]

Choose = Callable[[Any, dict[str, Any]], Any]
"""The server's hook: `choose(new_input, thread) -> strategy name | None`."""


def checked_hook(choose: Any) -> Choose | None:
    """`choose` if it can be the server's choose hook (None: no hook); TypeError if not."""
    if choose is None:
        return None
    if not callable(choose):
        raise TypeError(
            f"choose={choose!r:.80}: expected a function (new_input, thread) -> a strategy "
            "name or None"
        )
    if inspect.iscoroutinefunction(choose):
        raise TypeError(
            "choose= must be a plain function, not an async one: a run's strategy is "
            "decided at once, as the run is created"
        )
    return cast("Choose", choose)


def thread_view(store: MemoryStore, thread: ThreadRecord) -> dict[str, Any]:
    """The thread as the SDK shows it (`threads.get`), for the choose hook."""
    tid = thread.thread_id
    status = store.thread_status(tid)
    error = None
    if status == "error":
        ended = [r for r in store.status_runs(tid) if r.ended_seq is not None]
        last = max(ended, key=lambda r: r.ended_seq or 0, default=None)
        error = None if last is None or last.error is None else dict(last.error)
    return {
        "thread_id": tid,
        "created_at": _serde.iso(thread.created_at),
        "updated_at": _serde.iso(thread.updated_at),
        "state_updated_at": _serde.iso(thread.state_updated_at),
        "metadata": dict(thread.metadata),
        "config": dict(thread.config),
        "status": status,
        "values": None if thread.head.values is None else _serde.loads(thread.head.values),
        "interrupts": dict(thread.head.interrupts),
        "error": error,
    }


def _new_thread_view(thread_id: str | None, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What the hook sees of a thread the run is about to create (stateless, or
    `if_not_exists="create"`): an idle thread with no values yet."""
    return {
        "thread_id": thread_id,
        "created_at": None,
        "updated_at": None,
        "state_updated_at": None,
        "metadata": dict(metadata),
        "config": {},
        "status": "idle",
        "values": None,
        "interrupts": {},
        "error": None,
    }


def _hook_name(choose: Choose) -> str:
    module = getattr(choose, "__module__", None)
    name = getattr(choose, "__qualname__", None) or type(choose).__name__
    return f"{module}:{name}" if module else str(name)


class Policies:
    """Resolves new runs' strategies and policies, and expires runs that waited too long.

    `pending_ended` is the executor's: a pending run just ended, so close its stream,
    answer its waiters and start its thread's next run.
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        clock: Callable[[], float],
        streams: Mapping[str, RunStream],
        pending_ended: Callable[[RunRecord], None],
        choose: Choose | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.choose = choose
        self._streams = streams
        self._pending_ended = pending_ended
        self._ttl_timers: dict[str, asyncio.TimerHandle] = {}  # run id -> its expiry

    # -- where a new run's strategy comes from --------------------------------

    def resolve(
        self, thread_id: str | None, spec: RunSpec, assistant: AssistantRecord
    ) -> tuple[NbrunsStrategy, Policy]:
        """The strategy and policy of a run about to be created; called before anything
        changes, so a bad policy or a failing hook leaves nothing behind (422)."""
        thread = None if thread_id is None else self.store.threads.get(thread_id)
        # a thread the run creates takes the run's metadata: its policy is the call's
        policy = effective_policy(
            spec.metadata, None if thread is None else thread.metadata, assistant.metadata
        )
        if spec.multitask_strategy is not None:
            return spec.multitask_strategy, policy
        if policy.strategy is not None:
            return cast("NbrunsStrategy", policy.strategy), policy
        if self.choose is None:
            return "enqueue", policy
        if thread is None:
            view = _new_thread_view(thread_id, spec.metadata)
        else:
            view = thread_view(self.store, thread)
        return self._ask(self.choose, spec, view), policy

    def _ask(self, choose: Choose, spec: RunSpec, thread: dict[str, Any]) -> NbrunsStrategy:
        name = _hook_name(choose)
        new_input = spec.input if spec.command is None else dict(spec.command)
        try:
            chosen = choose(new_input, thread)
        except Exception as exc:
            raise InvalidInput(
                f"The multitask choose hook {name} raised {type(exc).__name__}: {exc}; "
                "no run was created"
            ) from exc
        if inspect.isawaitable(chosen):
            if inspect.iscoroutine(chosen):
                chosen.close()  # never awaited: say so here rather than in a warning
            raise InvalidInput(
                f"The multitask choose hook {name} returned an awaitable; it must be a plain "
                "(not async) function returning a strategy name or None; no run was created"
            )
        if chosen is None:
            return "enqueue"
        if not isinstance(chosen, str) or chosen not in NBRUNS_STRATEGIES:
            raise InvalidInput(
                f"The multitask choose hook {name} returned {chosen!r:.80}; it must return "
                f"one of {', '.join(NBRUNS_STRATEGIES)}, or None for enqueue; no run was created"
            )
        return cast("NbrunsStrategy", chosen)

    @staticmethod
    def check_call(spec: RunSpec) -> None:
        """422 for a bad `metadata["multitask"]` on the call."""
        policy_of(spec.metadata, where="run")

    @staticmethod
    def with_policy(kwargs: dict[str, Any], policy: Policy) -> dict[str, Any]:
        """The run's kwargs, keeping the policy in force (when some level set one)."""
        kept = policy.as_json()
        if kept:
            kwargs[POLICY_KWARG] = kept
        return kwargs

    # -- pending_ttl_s ------------------------------------------------------------

    def arm(self, run_id: str) -> None:
        """Start the run's expiry timer, if it is still pending and its policy sets a TTL."""
        run = self.store.runs.get(run_id)
        if run is None or run.phase != "pending":
            return
        ttl = kept_policy(run).pending_ttl_s
        if ttl is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, run.created_at + ttl - self.clock())
        self._ttl_timers[run_id] = loop.call_later(delay, self._expire, run_id)

    def rearm(self, run_id: str) -> None:
        """After a restart: a pending run whose TTL ran out while the server was down
        ends `timeout` now (as its timer would have ended it); the others' timers go on
        from their creation time, as armed before the restart."""
        run = self.store.runs.get(run_id)
        if run is None or run.phase != "pending":
            return
        ttl = kept_policy(run).pending_ttl_s
        if ttl is not None and run.created_at + ttl <= self.clock():
            self._expire(run_id)
        else:
            self.arm(run_id)

    def forget(self, run_id: str) -> None:
        """The run started or ended: it can no longer expire."""
        timer = self._ttl_timers.pop(run_id, None)
        if timer is not None:
            timer.cancel()

    def close(self) -> None:
        """Shutdown: no expiry fires any more."""
        for timer in self._ttl_timers.values():
            timer.cancel()
        self._ttl_timers.clear()

    def _expire(self, run_id: str) -> None:
        self._ttl_timers.pop(run_id, None)
        run = self.store.runs.get(run_id)
        if run is None or run.phase != "pending":  # started, merged or ended meanwhile
            return
        ttl = kept_policy(run).pending_ttl_s or 0.0
        reason = (
            f"not started within {ttl:g} s of its creation (its multitask policy's "
            "pending_ttl_s); it never ran"
        )
        error = {"error": "TimeoutError", "message": reason}
        stream = self._streams.get(run_id)
        if stream is not None:
            stream.publish("error", "error", error)
        end_run(
            self.store,
            run,
            "timeout",
            self.clock(),
            cancel_reason=reason,
            cancel_source="pending_ttl",
            error=error,
            result=_serde.dumps({"__error__": error}),
        )
        self._pending_ended(run)
