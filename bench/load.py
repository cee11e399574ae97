"""Load test of `nbruns serve`: many runs, mixed multitask strategies, nothing lost.

    python -m bench.load --runs 10000 --threads 1000 [--concurrency 50] [--db PATH]
    python -m bench.load --quick            # 1,000 runs over 100 threads (CI)

Starts `nbruns serve` on a free loopback port (with `--db`, on that SQLite file)
serving `bench/served_app/langgraph.json` (`bench`: one async node appending one
AI message; `busy`: one async node sleeping an hour), then drives it with the
official async SDK client:

  1. creates the threads;
  2. makes `--runs` run-creation attempts spread uniformly over the threads by
     `--concurrency` workers, in bursts of 1-8 back-to-back attempts on one thread,
     one create in flight per thread at a time (so the client knows each thread's
     run order); each attempt picks a strategy
     (enqueue 55%, interrupt 20%, rollback 15%, reject 10%) and a graph (`busy`
     5%, else `bench`); its input is one human message whose id and content are
     a tag unique to the attempt. Creates do not wait for runs to finish, so
     threads build queues and the strategies meet pending and running runs;
  3. cancels (interrupt) every `busy` run still in flight, joins each thread's
     last run, and verifies:

     - nothing lost: every run id the server returned is listed by `runs.list`,
       or a later `rollback` run on its thread (which the client requested)
       explains its absence; every 409 (reject) created nothing;
     - nothing stuck: no run pending or running, no thread busy;
     - statuses explained: `success`; or `interrupted` with a later `interrupt`
       run on its thread or a client cancel (busy runs); never `error`/`timeout`;
     - messages as the strategies imply, per thread: the tag of every successful
       run is present and directly followed by its AI reply; tags of rolled-back,
       rejected and never-started runs are absent; a tag present belongs to a
       successful or started-then-interrupted run; tags appear in creation order;
       AI replies = successes + (interrupted runs whose step completed, at most
       the started ones).

Reports requests/s and runs/s, the server's RSS (VmRSS from /proc/PID/status)
after start-up and at the end, its peak (VmHWM), and memory per finished run.
Bounded: loopback only; runs still unfinished `--settle-timeout` s (default 120)
after the last create are reported as stuck; `--time-limit` s (default 1200) in all.
Exit status 0 only if nothing was lost, stuck, unexplained or mismatched.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
from langgraph_sdk import get_client

from tools import reference_server  # its process helpers: free_port, wait_ok, tail

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_CONFIG = REPO_ROOT / "bench" / "served_app" / "langgraph.json"
STRATEGIES = {"enqueue": 0.55, "interrupt": 0.20, "rollback": 0.15, "reject": 0.10}
BUSY_SHARE = 0.05
MAX_BURST = 8
FULL = {"runs": 10_000, "threads": 1_000}
QUICK = {"runs": 1_000, "threads": 100}


# -- server ------------------------------------------------------------------------------


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of `pid` in KiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


class Server:
    def __init__(self, db: str | None, logdir: Path) -> None:
        self.port = reference_server.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logdir / "serve.log"
        cmd = [
            sys.executable,
            "-m",
            "nbruns",
            "serve",
            "--config",
            str(APP_CONFIG),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        if db:
            cmd += ["--db", db]
        self._logf = open(self.log, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
        )

    def wait_ok(self, within: float = 60.0) -> None:
        try:
            reference_server.wait_ok(
                self.url, self.proc, within, self.log, name="nbruns serve", poll=0.05
            )
        except (RuntimeError, TimeoutError) as exc:
            raise SystemExit(str(exc)) from None

    def tail(self, n: int = 30) -> str:
        return reference_server.tail(self.log, n)

    def stop(self, within: float = 20.0) -> None:
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(timeout=within)
                except subprocess.TimeoutExpired:
                    print(f"  (server did not stop within {within} s of SIGINT: killed)")
                    with contextlib.suppress(ProcessLookupError):
                        self.proc.kill()
                    self.proc.wait(timeout=within)
        finally:
            self._logf.close()


# -- driving -----------------------------------------------------------------------------


@dataclass
class Attempt:
    index: int  # creation order on its thread
    tag: str
    strategy: str
    graph: str
    run_id: str | None = None  # None: rejected (409), or failed
    failed: bool = False  # the create failed (5xx): what it did is unknown
    made: bool = False  # the create was sent (False: stopped early after errors)


@dataclass
class ThreadLog:
    thread_id: str
    attempts: list[Attempt] = field(default_factory=list)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Driver:
    def __init__(
        self, url: str, concurrency: int, seed: int, settle_timeout: float, max_errors: int
    ) -> None:
        self.client = get_client(url=url, api_key=None)
        self.settle_timeout = settle_timeout
        self.max_errors = max_errors
        self.concurrency = concurrency
        self.random = random.Random(seed)
        self.requests = 0
        self.cancelled: set[str] = set()  # busy runs the client cancelled (interrupt)
        self.errors: list[str] = []

    async def call(self, coro: Any) -> Any:
        self.requests += 1
        return await coro

    def plan(self, runs: int, threads: list[ThreadLog]) -> list[tuple[ThreadLog, Attempt]]:
        names, weights = list(STRATEGIES), list(STRATEGIES.values())
        planned = []
        for _ in range(runs):
            thread = self.random.choice(threads)
            strategy = self.random.choices(names, weights)[0]
            graph = "busy" if self.random.random() < BUSY_SHARE else "bench"
            attempt = Attempt(len(thread.attempts), uuid.uuid4().hex, strategy, graph)
            thread.attempts.append(attempt)
            planned.append((thread, attempt))
        return planned

    async def drive(self, planned: list[tuple[ThreadLog, Attempt]]) -> None:
        """Make the attempts: a worker takes a burst (the next 1-8 attempts of one thread)
        and makes them back to back, so they meet each other's runs still in flight."""
        queues: dict[str, list[Attempt]] = {}
        by_id: dict[str, ThreadLog] = {}
        for thread, attempt in planned:
            queues.setdefault(thread.thread_id, []).append(attempt)
            by_id[thread.thread_id] = thread
        bursts: list[tuple[str, int]] = []
        for tid, attempts in queues.items():
            left = len(attempts)
            while left:
                size = min(left, self.random.randint(1, MAX_BURST))
                bursts.append((tid, size))
                left -= size
        self.random.shuffle(bursts)
        todo: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        for burst in bursts:
            todo.put_nowait(burst)
        cursor: Counter[str] = Counter()

        async def worker() -> None:
            while True:
                try:
                    tid, size = todo.get_nowait()
                except asyncio.QueueEmpty:
                    return
                thread = by_id[tid]
                async with thread.lock:  # one thread's attempts are made in plan order
                    for _ in range(size):
                        if len(self.errors) >= self.max_errors:
                            return  # the server is failing: stop creating, go and verify
                        attempt = queues[tid][cursor[tid]]
                        cursor[tid] += 1
                        await self._create_locked(thread, attempt)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def _create_locked(self, thread: ThreadLog, attempt: Attempt) -> None:
        from langgraph_sdk.errors import ConflictError

        message = {"type": "human", "content": attempt.tag, "id": attempt.tag}
        attempt.made = True
        try:
            run = await self.call(
                self.client.runs.create(
                    thread.thread_id,
                    attempt.graph,
                    input=cast(Any, {"messages": [message]}),
                    multitask_strategy=cast(Any, attempt.strategy),
                )
            )
            attempt.run_id = run["run_id"]
        except ConflictError:
            if attempt.strategy != "reject":
                self.errors.append(f"409 for a {attempt.strategy} run on {thread.thread_id}")
            attempt.run_id = None
        except httpx.HTTPStatusError as exc:  # a 5xx: keep going, fail the verdict
            attempt.failed = True
            self.errors.append(
                f"runs.create on {thread.thread_id} answered {exc.response.status_code}: "
                f"{exc.response.text[:200]}"
            )
        except httpx.TransportError as exc:  # no answer at all
            attempt.failed = True
            self.errors.append(f"runs.create on {thread.thread_id}: {type(exc).__name__} {exc}")

    async def settle(self, threads: list[ThreadLog]) -> None:
        """Cancel busy runs still in flight, then join every thread's last run."""
        from langgraph_sdk.errors import NotFoundError

        sem = asyncio.Semaphore(self.concurrency)

        async def cancel(thread: ThreadLog, attempt: Attempt) -> None:
            assert attempt.run_id is not None
            async with sem:
                try:
                    run = await self.call(self.client.runs.get(thread.thread_id, attempt.run_id))
                except NotFoundError:
                    return  # rolled back by a later run
                if run["status"] in ("pending", "running"):
                    try:
                        await self.call(
                            self.client.runs.cancel(
                                thread.thread_id, attempt.run_id, action="interrupt"
                            )
                        )
                        self.cancelled.add(attempt.run_id)
                    except NotFoundError:
                        pass  # finished or rolled back meanwhile

        try:
            await asyncio.wait_for(
                asyncio.gather(
                    *(
                        cancel(t, a)
                        for t in threads
                        for a in t.attempts
                        if a.graph == "busy" and a.run_id is not None
                    )
                ),
                timeout=self.settle_timeout,
            )
        except TimeoutError:
            self.errors.append(f"cancelling busy runs took over {self.settle_timeout} s")

        async def join(thread: ThreadLog) -> None:
            created = [a.run_id for a in thread.attempts if a.run_id is not None]
            if not created:
                return
            async with sem:
                await self.call(self.client.runs.join(thread.thread_id, created[-1]))

        try:
            await asyncio.wait_for(
                asyncio.gather(*(join(t) for t in threads)), timeout=self.settle_timeout
            )
        except TimeoutError:
            # some run never finished: verification reports what is still pending/running
            self.errors.append(
                f"runs still unfinished {self.settle_timeout} s after the last create"
            )


# -- verification ------------------------------------------------------------------------


@dataclass
class Verdict:
    created: int = 0
    rejected: int = 0
    listed: int = 0
    rolled_back: int = 0
    not_made: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    unexplained: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)
    messages: int = 0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.stuck or self.unexplained or self.mismatched)


async def verify(driver: Driver, threads: list[ThreadLog]) -> Verdict:
    v = Verdict()
    client = driver.client
    sem = asyncio.Semaphore(driver.concurrency)

    async def one(thread: ThreadLog) -> None:
        tid = thread.thread_id
        async with sem:
            listed = await driver.call(client.runs.list(tid, limit=10_000))
            state = await driver.call(client.threads.get_state(tid))
            info = await driver.call(client.threads.get(tid))
        runs = {r["run_id"]: r for r in listed}
        attempts = thread.attempts
        created = [a for a in attempts if a.run_id is not None]
        v.created += len(created)
        v.rejected += sum(1 for a in attempts if a.made and not a.failed and a.run_id is None)
        v.not_made += sum(1 for a in attempts if not a.made)
        v.listed += len(runs)
        extra = set(runs) - {a.run_id for a in created}
        if extra:
            v.mismatched.append(f"{tid}: runs the client never created: {sorted(extra)}")
        if info["status"] == "busy":
            v.stuck.append(f"thread {tid} is still busy")

        messages = state["values"].get("messages", []) if state["values"] else []
        v.messages += len(messages)
        position = {m.get("id"): i for i, m in enumerate(messages)}
        ai_count = sum(1 for m in messages if m.get("type") == "ai")
        successes = interrupted_started = 0
        last_present = -1
        for a in attempts:
            later = attempts[a.index + 1 :]
            present = a.tag in position
            if a.failed or not a.made:
                continue  # already reported, or never attempted (stopped early)
            if a.run_id is None:  # rejected: must have created nothing
                if present:
                    v.mismatched.append(f"{tid}: rejected attempt {a.tag} left its message")
                continue
            run = runs.get(a.run_id)
            if run is None:
                if any(b.strategy == "rollback" and b.run_id for b in later):
                    v.rolled_back += 1
                    if present:
                        v.mismatched.append(f"{tid}: rolled-back run {a.run_id} left its message")
                else:
                    v.lost.append(f"{tid}/{a.run_id} ({a.strategy}, {a.graph})")
                continue
            status = run["status"]
            v.statuses[status] += 1
            if status in ("pending", "running"):
                v.stuck.append(f"{tid}/{a.run_id} is {status}")
            elif status == "success":
                successes += 1
                if not present:
                    v.mismatched.append(f"{tid}: successful run {a.run_id} has no message")
                else:
                    after = messages[position[a.tag] + 1 : position[a.tag] + 2]
                    if not after or after[0].get("type") != "ai":
                        v.mismatched.append(f"{tid}: run {a.run_id}'s message has no AI reply")
            elif status == "interrupted":
                explained = a.run_id in driver.cancelled or any(
                    b.strategy == "interrupt" and b.run_id for b in later
                )
                if not explained:
                    v.unexplained.append(f"{tid}/{a.run_id} interrupted, nothing asked for it")
                if run.get("started_at"):
                    interrupted_started += 1
                elif present:
                    v.mismatched.append(f"{tid}: never-started run {a.run_id} left its message")
            else:
                v.unexplained.append(f"{tid}/{a.run_id} ended {status}")
            if present:
                if position[a.tag] < last_present:
                    v.mismatched.append(f"{tid}: run {a.run_id}'s message is out of order")
                last_present = position[a.tag]
        if not successes <= ai_count <= successes + interrupted_started:
            v.mismatched.append(
                f"{tid}: {ai_count} AI replies for {successes} successes and "
                f"{interrupted_started} started-then-interrupted runs"
            )

    await asyncio.gather(*(one(t) for t in threads))
    return v


_T0 = time.monotonic()


def phase(message: str) -> None:
    print(f"[{time.monotonic() - _T0:7.1f} s] {message}", file=sys.stderr, flush=True)


# -- main --------------------------------------------------------------------------------


async def run_load(args: argparse.Namespace, server: Server) -> dict[str, Any]:
    driver = Driver(server.url, args.concurrency, args.seed, args.settle_timeout, args.max_errors)
    try:
        # warm up (imports, first graph run), then the baseline RSS
        warm = await driver.call(driver.client.threads.create())
        await driver.call(
            driver.client.runs.wait(warm["thread_id"], "bench", input={"messages": []})
        )
        rss_before = proc_status(server.proc.pid)

        t0 = time.monotonic()
        sem = asyncio.Semaphore(args.concurrency)  # the SDK's pool has 100 connections

        async def new_thread() -> Any:
            async with sem:
                return await driver.call(driver.client.threads.create())

        created = await asyncio.gather(*(new_thread() for _ in range(args.threads)))
        threads = [ThreadLog(t["thread_id"]) for t in created]
        planned = driver.plan(args.runs, threads)
        t_create = time.monotonic()
        phase(f"{args.threads} threads created; making {args.runs} run attempts")
        await driver.drive(planned)
        t_created = time.monotonic()
        phase(f"attempts made ({len(driver.errors)} errors); cancelling busy runs, joining")
        await driver.settle(threads)
        t_settled = time.monotonic()
        requests_until_settled = driver.requests
        phase("settled; verifying")
        verdict = await verify(driver, threads)
        t_verified = time.monotonic()
        rss_after = proc_status(server.proc.pid)
    finally:
        await driver.client.aclose()

    finished = verdict.statuses["success"] + verdict.statuses["interrupted"]
    return {
        "runs": args.runs,
        "threads": args.threads,
        "concurrency": args.concurrency,
        "db": bool(args.db),
        "strategies": STRATEGIES,
        "busy_share": BUSY_SHARE,
        "attempts_by_strategy": dict(Counter(a.strategy for _, a in planned)),
        "created": verdict.created,
        "rejected": verdict.rejected,
        "failed_creates": sum(1 for t in threads for a in t.attempts if a.failed),
        "not_made": verdict.not_made,
        "listed": verdict.listed,
        "rolled_back": verdict.rolled_back,
        "cancelled_by_client": len(driver.cancelled),
        "statuses": dict(verdict.statuses),
        "messages": verdict.messages,
        "lost": len(verdict.lost),
        "stuck": len(verdict.stuck),
        "unexplained": len(verdict.unexplained),
        "mismatched": len(verdict.mismatched) + len(driver.errors),
        "examples": (verdict.lost + verdict.stuck + verdict.unexplained + verdict.mismatched)[:20]
        + driver.errors[:5],
        "seconds": {
            "create": round(t_created - t_create, 3),
            "create_to_all_finished": round(t_settled - t_create, 3),
            "verify": round(t_verified - t_settled, 3),
            "total": round(t_verified - t0, 3),
        },
        "requests": driver.requests,
        "requests_per_s": round(requests_until_settled / (t_settled - t0), 1),
        "creates_per_s": round(args.runs / (t_created - t_create), 1),
        "runs_per_s": round(finished / (t_settled - t_create), 1),
        "rss_kib": {"before": rss_before["VmRSS"], "after": rss_after["VmRSS"]},
        "peak_rss_kib": rss_after["VmHWM"],
        "kib_per_finished_run": round((rss_after["VmRSS"] - rss_before["VmRSS"]) / finished, 2)
        if finished
        else None,
        "ok": verdict.ok and not driver.errors,
    }


def report(result: dict[str, Any]) -> None:
    s = result["seconds"]
    print(
        f"nbruns serve load: {result['runs']} run attempts over {result['threads']} threads, "
        f"concurrency {result['concurrency']}{', --db' if result['db'] else ''}"
    )
    print(f"  attempts by strategy: {result['attempts_by_strategy']}")
    print(
        f"  created {result['created']}, rejected {result['rejected']} (409), "
        f"rolled back {result['rolled_back']}, listed {result['listed']}, "
        f"cancelled by the client {result['cancelled_by_client']}"
    )
    if result["failed_creates"] or result["not_made"]:
        print(
            f"  creates that failed (5xx): {result['failed_creates']}; attempts not made "
            f"(stopped after --max-errors): {result['not_made']}"
        )
    print(f"  final statuses: {result['statuses']}; messages in threads: {result['messages']}")
    print(
        f"  lost {result['lost']}, stuck {result['stuck']}, unexplained {result['unexplained']}, "
        f"mismatched {result['mismatched']}"
    )
    for example in result["examples"]:
        print(f"    {example}")
    print(
        f"  time: create {s['create']} s, create→all finished {s['create_to_all_finished']} s, "
        f"verify {s['verify']} s, total {s['total']} s"
    )
    print(
        f"  {result['requests_per_s']} requests/s, {result['creates_per_s']} creates/s, "
        f"{result['runs_per_s']} finished runs/s ({result['requests']} requests in all)"
    )
    rss = result["rss_kib"]
    print(
        f"  server RSS {rss['before'] / 1024:.1f} MiB → {rss['after'] / 1024:.1f} MiB "
        f"(peak {result['peak_rss_kib'] / 1024:.1f} MiB), "
        f"{result['kib_per_finished_run']} KiB per finished run"
    )
    print("  OK" if result["ok"] else "  FAILED: something was lost, stuck or wrong")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=FULL["runs"])
    parser.add_argument("--threads", type=int, default=FULL["threads"])
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="1,000 runs over 100 threads")
    parser.add_argument("--db", help="serve with --db on this SQLite file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=1200.0, help="seconds, in all")
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for every run to finish after the last create (then report)",
    )
    parser.add_argument(
        "--max-errors", type=int, default=20, help="stop creating after this many 5xx answers"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.threads = QUICK["runs"], QUICK["threads"]
    if args.runs < 1 or args.threads < 1 or args.concurrency < 1:
        parser.error("--runs, --threads and --concurrency must be positive")

    with tempfile.TemporaryDirectory(prefix="nbruns-load-") as scratch:
        server = Server(args.db, Path(scratch))
        try:
            server.wait_ok()
            try:
                result = asyncio.run(
                    asyncio.wait_for(run_load(args, server), timeout=args.time_limit)
                )
            except TimeoutError:
                print(f"FAILED: the load did not finish within --time-limit {args.time_limit} s")
                print("server log:\n" + server.tail())
                return 2
            except Exception as exc:
                print(f"FAILED: {type(exc).__name__}: {exc}")
                print("server log:\n" + server.tail())
                return 1
        finally:
            server.stop()
        if "Traceback" in server.log.read_text(errors="replace"):
            print("server log has a traceback:\n" + server.tail(60))
            result["ok"] = False
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
