"""In-process benchmark: nbruns through the official SDK client vs plain LangGraph.

    python -m bench.inprocess [--quick] [--loop current|thread|both] [--json PATH]
                              [--threads N] [--enqueued N] [--reps N]

Everything runs in one process. nbruns is driven through `server.client()` (the
async `langgraph_sdk` client over the in-process bridge transport); the baseline
is `graph.ainvoke` with an `InMemorySaver` on the same one-node graph. Each
server placement is measured in its own `asyncio.run`, with its own baseline
figures: `loop="current"` (the server on the benchmark's event loop) and
`loop="thread"` (the default: the server on a loop in its own thread). The node
is async and returns one AI message; the input adds none. It comes in two
shapes, each measured against its own baseline:

  * fixed: the message has a fixed id, so `add_messages` replaces it and the
    thread's state stays one message however many runs it has had. Every run
    costs the graph the same, so the figures show nbruns's own cost per run.
  * chat: a new message each run, so a thread's state grows by one message per
    run, as a conversation's does; the graph's own cost grows with it.

Figures (fixed graph unless marked "chat")
  1. create+join median/p90 on one thread (vs ainvoke median/p90 on one thread);
     repeated with the chat graph, and on a fresh thread each time (info)
  2. 1,000 threads x 1 run at once: gather of create+join (vs gather of ainvoke)
  3. 1,000 runs enqueued on one thread, joining the last (vs sequential ainvoke);
     repeated with the chat graph
  4. create(multitask_strategy="interrupt") on a thread whose run is genuinely
     running (node awaiting asyncio.sleep(3600)) until the new run is done; no
     plain-LangGraph equivalent, figure 1's medians shown for scale

Throughput figures run 3 rounds (nbruns and baseline alternating); the median
is reported. Targets print PASS/FAIL; the exit status is 0 whatever the
verdicts. Threads are deleted after each figure so no round pays for another's
memory. `python -m bench.profile_inprocess` profiles the same timed regions.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import time
import uuid
from typing import Annotated, Any

from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

import nbruns
from bench._common import dist_versions, log, ms, p90, table

GRAPH_ID = "bench"  # the fixed graph
CHAT_ID = "bench-chat"
BUSY_ID = "busy"
# No input message: each run adds (chat) or replaces (fixed) the node's one AI message.
INPUT: dict[str, Any] = {"messages": []}
REPEATS = 3  # throughput figures: median of this many rounds

FULL = {
    "latency_n": 300,
    "warmup": 20,
    "fresh_n": 100,
    "threads": 1000,
    "enqueued": 1000,
    "interrupt_reps": 100,
}
QUICK = {
    "latency_n": 100,
    "warmup": 10,
    "fresh_n": 50,
    "threads": 200,
    "enqueued": 200,
    "interrupt_reps": 50,
}

TARGET_LATENCY_MS = 3.0
TARGET_RATIO = 0.5
TARGET_INTERRUPT_MS = 10.0


# -- the graphs ----------------------------------------------------------------------


class State(TypedDict):
    messages: Annotated[list, add_messages]


async def reply(state: State) -> dict[str, Any]:
    """chat: a new message each run"""
    return {"messages": [AIMessage(content="ok")]}


async def reply_in_place(state: State) -> dict[str, Any]:
    """fixed: the same message id each run, so the state stays one message"""
    return {"messages": [AIMessage(content="ok", id="reply")]}


async def wait_forever(state: State) -> dict[str, Any]:
    await asyncio.sleep(3600)  # cancelled by the interrupting run
    return {"messages": [AIMessage(content="never")]}


def _one_node(name: str, fn: Any) -> StateGraph:
    builder = StateGraph(State)
    builder.add_node(name, fn)
    builder.add_edge(START, name)
    builder.add_edge(name, END)
    return builder


# -- helpers ---------------------------------------------------------------------------


def _tid() -> str:
    return str(uuid.uuid4())


class Timer:
    """Times a region; `profile_inprocess.py` subclasses it to profile the same region."""

    elapsed = 0.0

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self._t0


_timer_factory: Any = Timer


def _timed() -> Timer:
    return _timer_factory()


class Baseline:
    """Plain LangGraph: the bench graph compiled with its own InMemorySaver."""

    def __init__(self, builder: StateGraph) -> None:
        self.saver = InMemorySaver()
        self.graph = builder.compile(checkpointer=self.saver)

    async def invoke(self, thread_id: str) -> Any:
        return await self.graph.ainvoke(INPUT, {"configurable": {"thread_id": thread_id}})

    def forget(self, thread_ids: list[str]) -> None:
        for tid in thread_ids:
            self.saver.delete_thread(tid)


# -- figure 1: create+join latency on one thread (or, for scale, a fresh one each time) --


async def latency_nbruns(
    client: Any, n: int, warmup: int, graph_id: str = GRAPH_ID, *, fresh: bool = False
) -> list[float]:
    """create+join medians on one thread, or with `fresh` on a new thread each time
    (created and deleted outside the timed region: the state stays one message)."""
    samples: list[float] = []
    tid = None if fresh else (await client.threads.create())["thread_id"]
    for i in range(warmup + n):
        run_tid = (await client.threads.create())["thread_id"] if fresh else tid
        with _timed() as t:
            run = await client.runs.create(run_tid, graph_id, input=INPUT)
            await client.runs.join(run_tid, run["run_id"])
        if i >= warmup:
            samples.append(t.elapsed)
        if fresh:
            await client.threads.delete(run_tid)
    if tid is not None:
        await client.threads.delete(tid)
    return samples


async def latency_baseline(
    base: Baseline, n: int, warmup: int, *, fresh: bool = False
) -> list[float]:
    samples: list[float] = []
    tid = _tid()
    for i in range(warmup + n):
        run_tid = _tid() if fresh else tid
        with _timed() as t:
            await base.invoke(run_tid)
        if i >= warmup:
            samples.append(t.elapsed)
        if fresh:
            base.forget([run_tid])
    base.forget([tid])
    return samples


async def fresh_nbruns(client: Any, n: int, warmup: int) -> list[float]:
    return await latency_nbruns(client, n, warmup, fresh=True)


async def fresh_baseline(base: Baseline, n: int, warmup: int) -> list[float]:
    return await latency_baseline(base, n, warmup, fresh=True)


# -- figure 2: N threads x 1 run, all at once --------------------------------------------


async def fanout_nbruns(client: Any, n: int) -> float:
    tids = [
        t["thread_id"] for t in await asyncio.gather(*(client.threads.create() for _ in range(n)))
    ]

    async def one(tid: str) -> None:
        run = await client.runs.create(tid, GRAPH_ID, input=INPUT)
        await client.runs.join(tid, run["run_id"])

    gc.collect()
    with _timed() as t:
        await asyncio.gather(*(one(tid) for tid in tids))
    await asyncio.gather(*(client.threads.delete(tid) for tid in tids))
    return n / t.elapsed


async def fanout_baseline(base: Baseline, n: int) -> float:
    tids = [_tid() for _ in range(n)]
    gc.collect()
    with _timed() as t:
        await asyncio.gather(*(base.invoke(tid) for tid in tids))
    base.forget(tids)
    return n / t.elapsed


# -- figure 3: N runs enqueued on one thread ---------------------------------------------


async def enqueue_nbruns(client: Any, n: int, graph_id: str = GRAPH_ID) -> float:
    tid = (await client.threads.create())["thread_id"]
    gc.collect()
    run = None
    with _timed() as t:
        for _ in range(n):
            run = await client.runs.create(tid, graph_id, input=INPUT)  # default: enqueue
        assert run is not None
        await client.runs.join(tid, run["run_id"])
    runs = await client.runs.list(tid, status="success", limit=n + 1)
    if len(runs) != n:
        raise RuntimeError(f"expected {n} successful runs on the enqueue thread, got {len(runs)}")
    await client.threads.delete(tid)
    return n / t.elapsed


async def enqueue_baseline(base: Baseline, n: int) -> float:
    tid = _tid()
    gc.collect()
    with _timed() as t:
        for _ in range(n):
            await base.invoke(tid)
    base.forget([tid])
    return n / t.elapsed


# -- figure 4: interrupt a genuinely running run, until the new run is done --------------


async def _wait_running(client: Any, tid: str, run_id: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while True:
        run = await client.runs.get(tid, run_id)
        if run["status"] == "running":
            return
        if run["status"] not in ("pending", "running"):
            raise RuntimeError(f"busy run ended early with status {run['status']!r}")
        if time.monotonic() > deadline:
            raise RuntimeError("busy run never reached status 'running'")
        await asyncio.sleep(0.0005)


async def interrupt_nbruns(client: Any, reps: int, warmup: int) -> list[float]:
    samples: list[float] = []
    for i in range(warmup + reps):
        tid = (await client.threads.create())["thread_id"]
        busy = await client.runs.create(tid, BUSY_ID, input=INPUT)
        await _wait_running(client, tid, busy["run_id"])
        with _timed() as t:
            run = await client.runs.create(
                tid, GRAPH_ID, input=INPUT, multitask_strategy="interrupt"
            )
            body = await client.runs.join(tid, run["run_id"])
        if i == 0:  # sanity: the busy run was interrupted and the new one succeeded
            old = await client.runs.get(tid, busy["run_id"])
            new = await client.runs.get(tid, run["run_id"])
            if old["status"] != "interrupted" or new["status"] != "success":
                raise RuntimeError(f"unexpected statuses: busy={old['status']} new={new['status']}")
            if not isinstance(body, dict) or "messages" not in body:
                raise RuntimeError(f"unexpected join body: {body!r}")
        if i >= warmup:
            samples.append(t.elapsed)
        await client.threads.delete(tid)
    return samples


# -- reporting ---------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _latency(nb: list[float], base: list[float]) -> dict[str, Any]:
    out = {
        "n": len(nb),
        "nbruns_median_ms": ms(statistics.median(nb)),
        "nbruns_p90_ms": ms(p90(nb)),
        "baseline_median_ms": ms(statistics.median(base)),
        "baseline_p90_ms": ms(p90(base)),
    }
    out["ratio"] = out["nbruns_median_ms"] / out["baseline_median_ms"]
    return out


def _throughput(n: int, nb_rates: list[float], b_rates: list[float]) -> dict[str, Any]:
    out = {
        "n": n,
        "nbruns_runs_per_s": statistics.median(nb_rates),
        "baseline_runs_per_s": statistics.median(b_rates),
        "nbruns_rounds": nb_rates,
        "baseline_rounds": b_rates,
    }
    out["ratio"] = out["nbruns_runs_per_s"] / out["baseline_runs_per_s"]
    out["target_ratio"] = TARGET_RATIO
    out["pass"] = out["ratio"] >= TARGET_RATIO
    return out


async def run(cfg: dict[str, int], loop: str = "thread") -> dict[str, Any]:
    baseline = Baseline(_one_node("reply", reply_in_place))
    chat = Baseline(_one_node("reply", reply))
    # the same compiled graphs go to nbruns, which swaps in its own checkpointer
    server = nbruns.Server(
        graphs={
            GRAPH_ID: baseline.graph,
            CHAT_ID: chat.graph,
            BUSY_ID: _one_node("wait", wait_forever),
        },
        loop=loop,  # type: ignore[arg-type]
    )
    client = server.client()
    results: dict[str, Any] = {"config": cfg, "repeats": REPEATS, "loop": loop}
    try:
        for key, graph_id, base_of in (
            ("latency", GRAPH_ID, baseline),
            ("latency_chat", CHAT_ID, chat),
        ):
            log(f"figure 1: create+join latency on one thread, {graph_id} (n={cfg['latency_n']})")
            base = await latency_baseline(base_of, cfg["latency_n"], cfg["warmup"])
            nb = await latency_nbruns(client, cfg["latency_n"], cfg["warmup"], graph_id)
            lat = results[key] = _latency(nb, base)
            if graph_id == GRAPH_ID:  # chat's own ainvoke alone takes longer than the target
                lat["target_ms"] = TARGET_LATENCY_MS
                lat["pass"] = lat["nbruns_median_ms"] <= TARGET_LATENCY_MS
        lat = results["latency"]

        log(f"for scale: create+join on a fresh thread each (n={cfg['fresh_n']})")
        base = await fresh_baseline(baseline, cfg["fresh_n"], cfg["warmup"])
        nb = await fresh_nbruns(client, cfg["fresh_n"], cfg["warmup"])
        results["fresh"] = _latency(nb, base)

        # throughput rounds alternate nbruns/baseline so drift hits both alike
        n = cfg["threads"]
        log(f"figure 2: {n} threads x 1 run at once ({REPEATS} rounds)")
        nb_rates, b_rates = [], []
        for _ in range(REPEATS):
            nb_rates.append(await fanout_nbruns(client, n))
            b_rates.append(await fanout_baseline(baseline, n))
        results["fanout"] = _throughput(n, nb_rates, b_rates)

        n = cfg["enqueued"]
        for key, graph_id, base_of in (
            ("enqueue", GRAPH_ID, baseline),
            ("enqueue_chat", CHAT_ID, chat),
        ):
            log(f"figure 3: {n} runs enqueued on one thread, {graph_id} ({REPEATS} rounds)")
            nb_rates, b_rates = [], []
            for _ in range(REPEATS):
                nb_rates.append(await enqueue_nbruns(client, n, graph_id))
                b_rates.append(await enqueue_baseline(base_of, n))
            results[key] = _throughput(n, nb_rates, b_rates)

        reps = cfg["interrupt_reps"]
        log(f"figure 4: interrupt-to-done ({reps} reps)")
        s = await interrupt_nbruns(client, reps, warmup=min(10, cfg["warmup"]))
        results["interrupt"] = {
            "n": reps,
            "nbruns_median_ms": ms(statistics.median(s)),
            "nbruns_p90_ms": ms(p90(s)),
            "baseline": None,
            "create_join_median_ms_for_scale": lat["nbruns_median_ms"],
            "fresh_create_join_median_ms_for_scale": results["fresh"]["nbruns_median_ms"],
            "target_ms": TARGET_INTERRUPT_MS,
        }
        itr = results["interrupt"]
        itr["pass"] = itr["nbruns_median_ms"] <= TARGET_INTERRUPT_MS
    finally:
        await server.aclose()
    return results


def report(results: dict[str, Any]) -> str:
    lat, lat_chat, fresh, fan, enq, enq_chat, itr = (
        results[k]
        for k in (
            "latency",
            "latency_chat",
            "fresh",
            "fanout",
            "enqueue",
            "enqueue_chat",
            "interrupt",
        )
    )
    rows = [
        [
            f"1. create+join, one thread, median (n={lat['n']})",
            f"{lat['nbruns_median_ms']:.3f} ms",
            f"{lat['baseline_median_ms']:.3f} ms",
            f"{lat['ratio']:.2f}x",
            f"<= {TARGET_LATENCY_MS:g} ms",
            _verdict(lat["pass"]),
        ],
        [
            "   create+join, one thread, p90",
            f"{lat['nbruns_p90_ms']:.3f} ms",
            f"{lat['baseline_p90_ms']:.3f} ms",
            f"{lat['nbruns_p90_ms'] / lat['baseline_p90_ms']:.2f}x",
            "",
            "",
        ],
        [
            "   (info) chat: create+join, one thread, median",
            f"{lat_chat['nbruns_median_ms']:.3f} ms",
            f"{lat_chat['baseline_median_ms']:.3f} ms",
            f"{lat_chat['ratio']:.2f}x",
            "",
            "",
        ],
        [
            f"   (info) create+join, fresh thread each, median (n={fresh['n']})",
            f"{fresh['nbruns_median_ms']:.3f} ms",
            f"{fresh['baseline_median_ms']:.3f} ms",
            f"{fresh['ratio']:.2f}x",
            "",
            "",
        ],
        [
            f"2. {fan['n']} threads x 1 run at once",
            f"{fan['nbruns_runs_per_s']:.0f} runs/s",
            f"{fan['baseline_runs_per_s']:.0f} runs/s",
            f"{fan['ratio']:.2f}",
            f">= {TARGET_RATIO:g}",
            _verdict(fan["pass"]),
        ],
        [
            f"3. {enq['n']} runs enqueued on one thread",
            f"{enq['nbruns_runs_per_s']:.1f} runs/s",
            f"{enq['baseline_runs_per_s']:.1f} runs/s",
            f"{enq['ratio']:.2f}",
            f">= {TARGET_RATIO:g}",
            _verdict(enq["pass"]),
        ],
        [
            "   chat: runs enqueued on one thread",
            f"{enq_chat['nbruns_runs_per_s']:.1f} runs/s",
            f"{enq_chat['baseline_runs_per_s']:.1f} runs/s",
            f"{enq_chat['ratio']:.2f}",
            f">= {TARGET_RATIO:g}",
            _verdict(enq_chat["pass"]),
        ],
        [
            f"4. interrupt-to-done, median (n={itr['n']})",
            f"{itr['nbruns_median_ms']:.3f} ms",
            f"n/a (1.: {itr['create_join_median_ms_for_scale']:.3f} ms, "
            f"fresh: {itr['fresh_create_join_median_ms_for_scale']:.3f} ms)",
            "",
            f"<= {TARGET_INTERRUPT_MS:g} ms",
            _verdict(itr["pass"]),
        ],
        ["   interrupt-to-done, p90", f"{itr['nbruns_p90_ms']:.3f} ms", "n/a", "", "", ""],
    ]
    v = results["env"]
    load = v.get("loadavg")
    lines = [
        f"nbruns in-process benchmark ({'quick' if results['quick'] else 'full'}), "
        f"server loop={results['loop']!r}",
        f"python {v['python']}  langgraph {v['langgraph']}  langgraph-sdk {v['langgraph-sdk']}  "
        f"langgraph-checkpoint {v['langgraph-checkpoint']}  nbruns {v['nbruns']}  "
        f"cpu_count {v['cpu_count']}"
        + (f"  loadavg {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (start)" if load else ""),
        "baseline: graph.ainvoke + InMemorySaver on the same one-node graph; fixed: the state "
        "stays one message; chat: each run adds one; throughput: median of "
        f"{REPEATS} rounds",
        "",
        table(rows, "baseline"),
        "",
        "rounds (runs/s)  fan-out nbruns: "
        + ", ".join(f"{x:.0f}" for x in fan["nbruns_rounds"])
        + "   baseline: "
        + ", ".join(f"{x:.0f}" for x in fan["baseline_rounds"]),
        "                 enqueue nbruns: "
        + ", ".join(f"{x:.1f}" for x in enq["nbruns_rounds"])
        + "   baseline: "
        + ", ".join(f"{x:.1f}" for x in enq["baseline_rounds"]),
        "            chat enqueue nbruns: "
        + ", ".join(f"{x:.1f}" for x in enq_chat["nbruns_rounds"])
        + "   baseline: "
        + ", ".join(f"{x:.1f}" for x in enq_chat["baseline_rounds"]),
        f"total wall time: {results['wall_seconds']:.1f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.inprocess",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, for CI smoke runs")
    parser.add_argument(
        "--loop",
        choices=("current", "thread", "both"),
        default="both",
        help="where the nbruns server runs (default: both, one after the other)",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument("--threads", type=int, help="figure 2 thread count (overrides the preset)")
    parser.add_argument("--enqueued", type=int, help="figure 3 run count (overrides the preset)")
    parser.add_argument("--reps", type=int, help="figure 4 repetitions (overrides the preset)")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("threads", args.threads),
        ("enqueued", args.enqueued),
        ("interrupt_reps", args.reps),
    ):
        if value is not None:
            cfg[key] = value
    env: dict[str, Any] = {
        **dist_versions(("langgraph", "langgraph-sdk", "langgraph-checkpoint", "nbruns")),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        env["loadavg"] = list(os.getloadavg())
    except OSError:
        pass
    every: dict[str, Any] = {}
    for loop in ("current", "thread") if args.loop == "both" else (args.loop,):
        t0 = time.perf_counter()
        results = every[loop] = asyncio.run(run(cfg, loop))
        results["wall_seconds"] = time.perf_counter() - t0
        results["env"] = env
        results["quick"] = args.quick
        print(report(results), "", sep="\n", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(every, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
