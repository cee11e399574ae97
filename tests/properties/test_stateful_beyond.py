"""A stateful property test of the strategies beyond the four, and of the policy options.

A hypothesis state machine drives an in-process nbruns server (one per example)
through the official sync SDK client, over two threads and a ReAct-shaped graph
(model -> tools -> model) with a deterministic fake model: it asks for a tool unless
the last message is a tool result, and then answers. Each node of a thread waits for a
*step permit* of that thread, which only the machine hands out, one at a time.

Rules: send a message with any of the eight strategies, or with none (the thread's
policy, else enqueue, decides), alone or in a burst; set or clear a thread's policy
(`strategy`, `max_pending` 1-3 with either overflow, `quiet_s`, `max_wait_s`,
`run_timeout_s`); let one step of a thread (or of each thread) proceed, or its running
run finish; cancel a run (interrupt or rollback; a merged run refuses, naming its
carrier); restore a rolled-back run (409 while the thread is busy). Every run goes
through an assistant whose policy gives debounce a short quiet window, so windows use
real time but the machine only ever waits for states. A `run_timeout_s` (0.05 s) is
shorter than any held step, so such a run always times out at its first permit, and
the machine waits for that. `pending_ttl_s` is left out: whether a run on a free
thread starts within a short TTL is a matter of timing, not of the rules.

After every rule the machine polls (bounded) until the server has settled: every
released permit taken, every running run waiting for its next permit and not being
stopped, no pending run on a free thread. The invariants, named in every message:

[one-running]  at most one run per thread has a `started` event and no end, and at
               most one unmerged run reads `running`
[merged]       a merged run never has a `started` event, its carrier is a run of the
               same thread, and it reads as its carrier does
[max-pending]  a thread's pending runs never exceed its `max_pending` (a cap set on a
               thread that already had more only stops the queue from growing)
[chat-valid]   no checkpoint of the thread's history has a steered message between an
               AI message with tool calls and their results; any other message there
               only follows a run that was stopped (the graph's affair, as in LangGraph)
[answers]      a create is refused (409) only by reject on a busy thread or a full
               queue; a cancel of a merged run is refused naming its carrier
[restore]      a restore gives exactly the listed branch's values, as get_state then
[teardown]     with every permit given, every run ends (success, timeout, interrupted)
               or is rolled back; none is left pending or running, none errors

NBRUNS_HYPOTHESIS_BEYOND_EXAMPLES sets the examples (default 120),
NBRUNS_HYPOTHESIS_BEYOND_STEPS the rules per example (default 25). Run with -s to see
what the examples exercised.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test
from langchain_core.messages import AIMessage, AnyMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph_sdk.errors import ConflictError, NotFoundError
from typing_extensions import TypedDict

import nbruns

EXAMPLES = int(os.environ.get("NBRUNS_HYPOTHESIS_BEYOND_EXAMPLES", "120"))
STEPS_PER_EXAMPLE = int(os.environ.get("NBRUNS_HYPOTHESIS_BEYOND_STEPS", "25"))
SETTLE = 10.0  # bound on waiting for the server to settle; never used to order anything
POLL = 0.002
CLOSE_WAIT = 15.0
PERMIT_TIMEOUT = 300.0  # a node never waits forever, even if the machine dies
EIGHT = ("reject", "interrupt", "rollback", "enqueue", "steer", "collect", "debounce", "latest")
ENDED = ("success", "error", "timeout", "interrupted")
STATS: Counter[str] = Counter()  # what the examples exercised, printed with -s

# -- step permits ----------------------------------------------------------------------


class Board:
    """Step permits by thread: a node takes one before it does its work.

    A node waits by polling (a cancelled wait takes nothing); `waiting` says which
    run's node is waiting where, so the machine knows a thread is held."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.permits: Counter[str] = Counter()
        self.waiting: dict[str, list[tuple[str, str]]] = {}  # thread -> (run, node)
        self.all_open = False

    def give(self, thread_id: str) -> None:
        with self._lock:
            self.permits[thread_id] += 1

    def open_all(self) -> None:
        with self._lock:
            self.all_open = True

    def held(self, thread_id: str) -> list[tuple[str, str]]:
        with self._lock:
            return list(self.waiting.get(thread_id, []))

    def unused(self, thread_id: str) -> int:
        with self._lock:
            return self.permits[thread_id]

    def _take(self, thread_id: str) -> bool:
        with self._lock:
            if self.all_open:
                return True
            if self.permits[thread_id] > 0:
                self.permits[thread_id] -= 1
                return True
            return False

    async def step(self, thread_id: str, run_id: str, node: str) -> None:
        me = (run_id, node)
        with self._lock:
            self.waiting.setdefault(thread_id, []).append(me)
        deadline = time.monotonic() + PERMIT_TIMEOUT
        try:
            while not self._take(thread_id):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no step permit for {node} of {run_id}")
                await asyncio.sleep(POLL)
        finally:
            with self._lock:
                self.waiting[thread_id].remove(me)


_BOARDS: dict[str, Board] = {}
_BOARDS_LOCK = threading.Lock()
_EXAMPLE_IDS = iter(range(10**9))

# -- the graph -------------------------------------------------------------------------


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    ex: str  # the example whose board holds the permits


def _kind(message: Any) -> str:
    return str(message.get("type") if isinstance(message, dict) else message.type)


def _calls(message: Any) -> list[dict[str, Any]]:
    found = message.get("tool_calls") if isinstance(message, dict) else None
    return list(found or getattr(message, "tool_calls", None) or [])


def _ids(config: RunnableConfig) -> tuple[str, str]:
    configurable = config.get("configurable") or {}
    return str(configurable["thread_id"]), str(configurable["run_id"])


async def model(state: ChatState, config: RunnableConfig) -> dict[str, Any]:
    tid, run_id = _ids(config)
    await _BOARDS[state["ex"]].step(tid, run_id, "model")
    messages = state["messages"]
    n = sum(1 for m in messages if _kind(m) == "ai")
    if _kind(messages[-1]) == "tool":
        return {"messages": [AIMessage(content="answer", id=f"ai-{n}")]}
    call = {"name": "lookup", "args": {}, "id": f"call-{n}"}
    return {"messages": [AIMessage(content="", tool_calls=[call], id=f"ai-{n}")]}


async def tools(state: ChatState, config: RunnableConfig) -> dict[str, Any]:
    tid, run_id = _ids(config)
    await _BOARDS[state["ex"]].step(tid, run_id, "tools")
    asking = next(m for m in reversed(state["messages"]) if _calls(m))
    return {
        "messages": [
            ToolMessage(content="found", tool_call_id=c["id"], id=f"tool-{c['id']}")
            for c in _calls(asking)
        ]
    }


def _route(state: ChatState) -> str:
    return "tools" if _calls(state["messages"][-1]) else END


def _build_graph() -> Any:
    builder = StateGraph(ChatState)
    builder.add_node("model", model)
    builder.add_node("tools", tools)
    builder.add_edge(START, "model")
    builder.add_conditional_edges("model", _route, ["tools", END])
    builder.add_edge("tools", "model")
    return builder.compile()


GRAPH = _build_graph()


def open_tool_calls_broken(messages: Sequence[Any]) -> list[int]:
    """Indexes of the messages that sit between an AI message's tool calls and their
    results (a chat model rejects the sequence)."""
    broken: list[int] = []
    waiting: set[str] = set()
    for i, message in enumerate(messages):
        kind = _kind(message)
        if kind == "tool":
            call_id = message["tool_call_id"] if isinstance(message, dict) else message.tool_call_id
            waiting.discard(call_id)
            continue
        if waiting:
            broken.append(i)
            waiting = set()
        if kind == "ai":
            waiting = {c["id"] for c in _calls(message)}
    return broken


# -- the machine -----------------------------------------------------------------------

_T = st.integers(0, 1)
_STRATEGY = st.sampled_from([None, *EIGHT])
_CAP = st.sampled_from([None, None, 1, 2, 3])
_OVERFLOW = st.sampled_from(["reject_newest", "drop_oldest"])
_QUIET = st.sampled_from([None, 0.01, 0.03, 0.05])
_MAX_WAIT = st.sampled_from([None, 0.05, 0.2])
_RUN_TIMEOUT = st.sampled_from([None, None, None, None, 0.05])  # shorter than any held step
ASSISTANT_POLICY = {"multitask": {"quiet_s": 0.02, "max_wait_s": 0.5}}


class BeyondMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ex = f"b{next(_EXAMPLE_IDS)}"
        self.board = Board()
        with _BOARDS_LOCK:
            _BOARDS[self.ex] = self.board
        self.server = nbruns.Server(graphs={"react": GRAPH})
        self.c: Any = self.server.sync_client()  # untyped: the SDK's TypedDicts get in the way
        self.aid = self.c.assistants.create("react", metadata=ASSISTANT_POLICY)["assistant_id"]
        self.tids = [self.c.threads.create()["thread_id"] for _ in range(2)]
        self.tags: dict[str, str] = {}  # run id -> its tag ("m<k>")
        self.sent: dict[str, str] = {}  # run id -> the thread it was sent to
        self.cancelled: set[str] = set()
        self.policy: dict[str, dict[str, Any]] = {t: {} for t in self.tids}
        self.allowance: dict[str, int | None] = dict.fromkeys(self.tids)
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in self.tids}
        self.events: dict[str, list[dict[str, Any]]] = {t: [] for t in self.tids}
        self.n = 0
        self.broken = False  # a rule or check raised: teardown only cleans up

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.broken = True
        STATS[f"rule {name}"] += 1
        yield
        self.broken = False

    # -- reading the server ------------------------------------------------------

    def read(self, tid: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The thread's runs and timeline; the timeline first, so that the runs read
        at least as late (a run merged between the two reads is merged in both)."""
        events = self.c.http.get("/nbruns/timeline", params={"thread_id": tid})
        rows = self.c.http.get("/nbruns/runs", params={"thread_id": tid})
        return list(rows), list(events)

    def unsettled(self, tid: str, rows: list[dict[str, Any]], events: list[Any]) -> str | None:
        if self.board.unused(tid):
            return "a step permit not taken yet"
        held = {run for run, _ in self.board.held(tid)}
        ended = {e["run_id"] for e in events if e["kind"] in ("finished", "rolled_back")}
        for run_id in self.cancelled:
            if self.sent[run_id] == tid and run_id not in ended:
                return f"cancelled run {self.tags[run_id]} not ended"
        holders = [r for r in rows if r["status"] == "running" and not r["merged_into"]]
        for r in holders:
            if r["run_id"] not in held:
                return f"running run {self.tags.get(r['run_id'])} not waiting for a permit"
            if r["cancel_source"]:
                return f"running run {self.tags.get(r['run_id'])} is being stopped"
            if (r["kwargs"].get("multitask_policy") or {}).get("run_timeout_s"):
                # it runs out of time at its first permit: wait for that, whenever it comes
                return f"running run {self.tags.get(r['run_id'])} under a run_timeout_s"
        if not holders and any(r["status"] == "pending" for r in rows):
            return "a pending run on a free thread"
        return None

    def settle(self, tids: Sequence[str] | None = None) -> None:
        """Poll until every thread is settled and two polls agree, checking the safety
        invariants on every poll; then the settled ones."""
        deadline = time.monotonic() + SETTLE
        previous: Any = None
        while True:
            seen = {t: self.read(t) for t in (tids or self.tids)}
            for tid, (rows, events) in seen.items():
                self.check_safety(tid, rows, events)
            why = next((w for t, s in seen.items() if (w := self.unsettled(t, *s))), None)
            now = {t: (rows, len(events)) for t, (rows, events) in seen.items()}
            if why is None and now == previous:
                break
            previous = now if why is None else None
            if time.monotonic() > deadline:
                raise AssertionError(f"never settled within {SETTLE}s: {why}\n{self.diagnose()}")
            time.sleep(POLL)
        for tid in self.tids:
            rows, events = seen[tid] if tid in seen else self.read(tid)
            for e in events[len(self.events[tid]) :]:
                how = e.get("how") or e.get("status") or ""
                STATS[f"event {e['kind']} {how}".rstrip()] += 1
            self.rows[tid], self.events[tid] = rows, events
            self.check_pending(tid, rows)
            self.check_history(tid, events)

    def diagnose(self) -> str:
        lines = []
        for tid in self.tids:
            rows, events = self.read(tid)
            lines.append(f"thread {tid[-6:]} policy={self.policy[tid]}")
            for e in events:
                extra = {
                    k: v for k, v in e.items() if k not in ("seq", "at", "thread_id", "run_id")
                }
                lines.append(f"  {self.tags.get(e['run_id'], e['run_id'])} {extra}")
            for r in rows:
                lines.append(
                    f"  row {self.tags.get(r['run_id'])} {r['status']} "
                    f"{r['multitask_strategy']} merged_into={self.tags.get(r['merged_into'])}"
                )
            lines.append(f"  waiting: {self.board.held(tid)}")
        return "\n".join(lines)

    # -- invariants --------------------------------------------------------------

    def check_safety(self, tid: str, rows: list[dict[str, Any]], events: list[Any]) -> None:
        started = [e["run_id"] for e in events if e["kind"] == "started"]
        ended = {e["run_id"] for e in events if e["kind"] in ("finished", "rolled_back")}
        open_ = [r for r in started if r not in ended]
        assert len(open_) <= 1, f"[one-running] runs started and not ended: {open_}"
        running = [r["run_id"] for r in rows if r["status"] == "running" and not r["merged_into"]]
        assert len(running) <= 1, f"[one-running] unmerged runs reading running: {running}"
        by_id = {r["run_id"]: r for r in rows}
        merged_events = {e["run_id"]: e for e in events if e["kind"] == "merged"}
        for run_id, e in merged_events.items():
            assert run_id not in started, f"[merged] merged run {run_id} has a started event"
            if run_id in by_id:  # rolled back with its carrier: gone from the listing
                assert by_id[run_id]["merged_into"] == e["into"], f"[merged] {e} vs listing"
        for r in rows:
            carrier_id = r["merged_into"]
            if carrier_id is None:
                continue
            assert r["run_id"] not in started, f"[merged] {r['run_id']} has a started event"
            carrier = by_id.get(carrier_id)
            assert carrier is not None, f"[merged] carrier {carrier_id} is not on the thread"
            assert carrier["thread_id"] == tid == r["thread_id"], "[merged] thread differs"
            assert carrier["merged_into"] is None, "[merged] a carrier is itself merged"

    def check_pending(self, tid: str, rows: list[dict[str, Any]]) -> None:
        """On a settled thread: merged runs read as their carriers; the queue cap holds."""
        by_id = {r["run_id"]: r for r in rows}
        for r in rows:
            if r["merged_into"]:
                carrier = by_id[r["merged_into"]]
                assert r["status"] == carrier["status"], (
                    f"[merged] {self.tags[r['run_id']]} reads {r['status']}, its carrier "
                    f"{self.tags[carrier['run_id']]} {carrier['status']}"
                )
        pending = sum(1 for r in rows if r["status"] == "pending" and not r["merged_into"])
        allowance = self.allowance[tid]
        if allowance is not None:
            assert pending <= allowance, (
                f"[max-pending] {pending} runs pending, policy {self.policy[tid]}\n"
                + self.diagnose()
            )
            self.allowance[tid] = max(self.policy[tid]["max_pending"], pending)

    def check_history(self, tid: str, events: list[dict[str, Any]]) -> None:
        steered = {
            self.tags[e["run_id"]] for e in events if e["kind"] == "merged" and e["how"] == "steer"
        }
        stopped = any(
            (e["kind"] == "finished" and e["status"] != "success") or e["kind"] == "restored"
            for e in events
        )
        for state in self.c.threads.get_history(tid, limit=1000):
            messages = (state["values"] or {}).get("messages", [])
            for i in open_tool_calls_broken(messages):
                shown = [(m["type"], m["id"]) for m in messages]
                tag = str(messages[i]["id"]).removeprefix("h-")
                assert tag not in steered, (
                    f"[chat-valid] steered message {tag} inside open tool calls: {shown}"
                )
                assert stopped and messages[i]["type"] == "human", (
                    f"[chat-valid] message {i} inside open tool calls, no run stopped: {shown}"
                )

    # -- rules -------------------------------------------------------------------

    def inflight(self, tid: str) -> list[dict[str, Any]]:
        return [r for r in self.rows[tid] if r["status"] in ("pending", "running")]

    def full(self, tid: str, strategy: str, pending: int) -> bool:
        """Whether the thread's cap refuses one more waiting run of `strategy`."""
        cap = self.policy[tid].get("max_pending")
        return (
            cap is not None
            and pending >= cap
            and self.policy[tid].get("overflow", "reject_newest") == "reject_newest"
            and strategy not in ("interrupt", "rollback", "latest", "reject")
        )

    @rule(t=_T, strategy=_STRATEGY)
    def send(self, t: int, strategy: str | None) -> None:
        with self.step(f"send {strategy}"):
            self.send_one(self.tids[t], strategy)
            self.settle([self.tids[t]])

    @rule(t=_T, strategy=_STRATEGY, burst=st.integers(2, 4))
    def send_burst(self, t: int, strategy: str | None, burst: int) -> None:
        """Several messages at once, with nothing settling in between."""
        with self.step(f"send_burst {strategy}"):
            for _ in range(burst):
                self.send_one(self.tids[t], strategy, settled=False)
            self.settle([self.tids[t]])

    def send_one(self, tid: str, strategy: str | None, *, settled: bool = True) -> None:
        """Send one message. Right after a settle (`settled`) whether it is refused is
        known; within a burst, a refusal is only checked to be one of the two kinds."""
        tag = f"m{self.n}"
        self.n += 1
        unmerged = [r for r in self.inflight(tid) if not r["merged_into"]]
        pending = sum(1 for r in unmerged if r["status"] == "pending")
        effective = strategy or self.policy[tid].get("strategy") or "enqueue"
        message = {"role": "human", "content": tag, "id": f"h-{tag}"}
        kwargs: dict[str, Any] = {} if strategy is None else {"multitask_strategy": strategy}
        try:
            run = self.c.runs.create(
                tid, self.aid, input={"messages": [message], "ex": self.ex}, **kwargs
            )
        except ConflictError as exc:
            detail = str(exc)
            if settled:
                full = self.full(tid, effective, pending)
                assert (effective == "reject" and unmerged) or full, (
                    f"[answers] {effective} refused on {tid[-6:]}: {exc}\n{self.diagnose()}"
                )
            else:
                full = "max_pending" in detail
                assert effective == "reject" or full, f"[answers] {effective} refused: {exc}"
            STATS[f"refused {effective}{' (full)' if full else ''}"] += 1
            return
        if settled:
            assert not (effective == "reject" and unmerged), "[answers] reject on a busy thread"
            assert not self.full(tid, effective, pending), (
                f"[answers] {effective} accepted with {pending} pending, policy {self.policy[tid]}"
            )
        assert run["multitask_strategy"] == effective, f"[answers] {run['multitask_strategy']}"
        self.tags[run["run_id"]] = tag
        self.sent[run["run_id"]] = tid
        STATS[f"sent {effective}{'' if unmerged or not settled else ' (free thread)'}"] += 1

    @rule(
        t=_T,
        strategy=st.sampled_from([None, None, None, None, *EIGHT]),
        cap=_CAP,
        overflow=_OVERFLOW,
        quiet=_QUIET,
        max_wait=_MAX_WAIT,
        run_timeout=_RUN_TIMEOUT,
    )
    def set_policy(
        self,
        t: int,
        strategy: str | None,
        cap: int | None,
        overflow: str,
        quiet: float | None,
        max_wait: float | None,
        run_timeout: float | None,
    ) -> None:
        tid = self.tids[t]
        with self.step("set_policy"):
            policy = nbruns.Policy(
                strategy=strategy,
                max_pending=cap,
                overflow=overflow if cap else None,
                quiet_s=quiet,
                max_wait_s=max_wait,
                run_timeout_s=run_timeout,
            )
            self.c.threads.update(tid, metadata=policy.as_metadata())
            self.policy[tid] = policy.as_json()
            pending = sum(
                1 for r in self.rows[tid] if r["status"] == "pending" and not r["merged_into"]
            )
            self.allowance[tid] = None if cap is None else max(cap, pending)
            self.settle([tid])

    @precondition(lambda self: any(self.policy.values()))
    @rule(t=_T)
    def clear_policy(self, t: int) -> None:
        tid = self.tids[t]
        with self.step("clear_policy"):
            self.c.threads.update(tid, metadata={"multitask": None})
            self.policy[tid] = {}
            self.allowance[tid] = None
            self.settle([tid])

    def held(self) -> list[str]:
        return [t for t in self.tids if self.board.held(t)]

    @precondition(lambda self: self.held())
    @rule(t=_T)
    def let_one_step_proceed(self, t: int) -> None:
        with self.step("let_one_step_proceed"):
            held = self.held()
            tid = held[t % len(held)]
            STATS[f"stepped past {self.board.held(tid)[0][1]}"] += 1
            self.board.give(tid)
            self.settle([tid])

    @precondition(lambda self: self.held())
    @rule(t=_T)
    def let_the_running_run_finish(self, t: int) -> None:
        """One step at a time until the thread's running run has ended (steers arriving
        before are delivered on the way)."""
        with self.step("let_the_running_run_finish"):
            held = self.held()
            tid = held[t % len(held)]
            run_id = self.board.held(tid)[0][0]
            for _ in range(12):  # a steer adds a model and a tools step; bursts are short
                if run_id not in {r for r, _ in self.board.held(tid)}:
                    break
                self.board.give(tid)
                self.settle([tid])
            else:
                raise AssertionError(f"[one-running] {self.tags[run_id]} never ended")

    @precondition(lambda self: len(self.held()) > 1)
    @rule()
    def let_every_thread_step(self) -> None:
        with self.step("let_every_thread_step"):
            for tid in self.held():
                self.board.give(tid)
            self.settle()

    def cancellable(self) -> list[dict[str, Any]]:
        return [
            r
            for t in self.tids
            for r in self.inflight(t)
            if r["run_id"] not in self.cancelled and r["run_id"] in self.tags
        ]

    @precondition(lambda self: self.cancellable())
    @rule(pick=st.integers(0, 7), action=st.sampled_from(["interrupt", "rollback"]))
    def cancel(self, pick: int, action: str) -> None:
        with self.step(f"cancel {action}"):
            runs = self.cancellable()
            row = runs[pick % len(runs)]
            tid, run_id = row["thread_id"], row["run_id"]
            if row["merged_into"]:
                with pytest.raises(ConflictError) as refused:
                    self.c.runs.cancel(tid, run_id, action=action)
                assert row["merged_into"] in str(refused.value), f"[answers] {refused.value}"
                STATS["cancel of a merged run refused"] += 1
            else:
                self.c.runs.cancel(tid, run_id, action=action)
                self.cancelled.add(run_id)
                STATS[f"cancelled {row['status']} {row['multitask_strategy']} ({action})"] += 1
            self.settle([tid])

    def rolled_back_on(self) -> list[str]:
        """The threads with a run rolled back after it had started (its branch is kept)."""
        found = []
        for tid in self.tids:
            started = {e["run_id"] for e in self.events[tid] if e["kind"] == "started"}
            if any(e["kind"] == "rolled_back" and e["run_id"] in started for e in self.events[tid]):
                found.append(tid)
        return found

    @precondition(lambda self: self.rolled_back_on())
    @rule(t=_T, pick=st.integers(0, 3))
    def restore(self, t: int, pick: int) -> None:
        with self.step("restore"):
            candidates = self.rolled_back_on()
            tid = candidates[t % len(candidates)]
            branches = self.c.http.get(f"/nbruns/threads/{tid}/rolled_back")
            if not branches:  # only pending runs were rolled back: no checkpoints kept
                STATS["restore: nothing kept"] += 1
                return
            branch = branches[pick % len(branches)]
            path = f"/nbruns/threads/{tid}/rolled_back/{branch['run_id']}/restore"
            if self.inflight(tid):
                with pytest.raises(ConflictError):
                    self.c.http.post(path, json=None)
                STATS["restore refused: busy"] += 1
                self.settle([tid])
                return
            state = self.c.http.post(path, json=None)
            assert state["values"] == branch["values"], f"[restore] {state} vs {branch}"
            assert self.c.threads.get_state(tid)["values"] == branch["values"], "[restore] state"
            STATS["restored"] += 1
            self.settle([tid])

    # -- teardown ----------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.broken:
                self.finish()
        finally:
            self.board.open_all()
            self.c.http.client.close()
            try:
                self.close_server()
            except AssertionError:
                if not self.broken:
                    raise
            finally:
                with _BOARDS_LOCK:
                    _BOARDS.pop(self.ex, None)

    def close_server(self) -> None:
        server = self.server
        try:
            server.loop_thread.run(server.executor.aclose("test teardown"), timeout=CLOSE_WAIT)
        except TimeoutError:
            server.loop_thread.close()
            raise AssertionError(f"[teardown] closing the server hung for {CLOSE_WAIT}s") from None
        server.close()

    def finish(self) -> None:
        self.broken = True
        self.board.open_all()
        deadline = time.monotonic() + SETTLE
        for tid in self.tids:
            while any(r["status"] in ("pending", "running") for r in self.read(tid)[0]):
                assert time.monotonic() < deadline, f"[teardown] runs stuck\n{self.diagnose()}"
                time.sleep(POLL)
        for tid in self.tids:
            rows, events = self.read(tid)
            self.check_safety(tid, rows, events)
            self.check_history(tid, events)
            rolled_back = {e["run_id"] for e in events if e["kind"] == "rolled_back"}
            for run_id in (r for r, t in self.sent.items() if t == tid):
                try:
                    run = self.c.runs.get(tid, run_id)
                except NotFoundError:
                    assert run_id in rolled_back, (
                        f"[teardown] {self.tags[run_id]} gone, not rolled back"
                    )
                    STATS["ended rolled back"] += 1
                    continue
                assert run["status"] in ENDED and run["status"] != "error", (
                    f"[teardown] {self.tags[run_id]} ended {run['status']}: {run}"
                )
                if run["status"] == "timeout":  # merged runs carry their carrier's source
                    assert run["cancel_source"] == "run_timeout", f"[teardown] {run}"
                STATS[f"ended {run['status']}"] += 1
        self.broken = False


@pytest.mark.timeout(900)
def test_beyond_the_four_state_machine() -> None:
    run_state_machine_as_test(
        BeyondMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS_PER_EXAMPLE,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            derandomize=True,
            database=None,
        ),
    )
    print("\nexercised:", dict(sorted(STATS.items())))
