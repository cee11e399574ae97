"""Profile the in-process benchmark's timed regions, nbruns's server thread included.

    python -m bench.profile_inprocess [latency fresh fanout enqueue interrupt] [--n N] [--out DIR]

`python -m cProfile -m bench.inprocess` sees only the calling thread, but
nbruns serves requests and executes runs on its own loop thread, and with two
threads under one GIL a wall-clock profiler charges GIL waits to whatever
function happened to run. So, for each figure, this script runs the very code
of `bench.inprocess` with its `Timer` hook replaced, and over the timed
regions only (not thread creation/deletion):

1. unprofiled: wall time, CPU time of the client thread and of the nbruns
   server thread (`time.thread_time`), and time spent in the garbage collector
   (`gc.callbacks`; the collector stops every thread), for nbruns and for the
   plain-LangGraph baseline;
2. profiled: one `cProfile.Profile(time.thread_time)` per thread (CPU time, so
   GIL waits and idle polling drop out), nbruns and baseline alike; writes
   `DIR/<figure>.{server,client,baseline}.prof` and prints CPU per module,
   nbruns functions by cumulative CPU, and the top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import time
from collections import defaultdict
from typing import Any

import nbruns
from bench import inprocess as b

FIGURES = ("latency", "fresh", "fanout", "enqueue", "interrupt")


# -- measuring the timed regions --------------------------------------------------------


class _GcClock:
    """Wall time spent in the garbage collector while `active`."""

    def __init__(self) -> None:
        self.active = False
        self.seconds = 0.0
        self.by_gen = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._t0 = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            dt = time.perf_counter() - self._t0
            self.seconds += dt
            self.by_gen[info["generation"]] += dt
            self.count[info["generation"]] += 1

    def reset(self) -> None:
        self.seconds = 0.0
        self.by_gen = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]


GC = _GcClock()


class Meter:
    """Accumulates wall, per-thread CPU and GC time over every timed region."""

    def __init__(self, server: nbruns.Server | None, profile: bool) -> None:
        self.server = server
        self.wall = self.client_cpu = self.server_cpu = 0.0
        self.regions = 0
        self.client_prof = cProfile.Profile(time.thread_time) if profile else None
        self.server_prof = cProfile.Profile(time.thread_time) if profile and server else None

    def _server_call(self, fn: Any) -> Any:
        assert self.server is not None
        return self.server.loop_thread.call(fn)

    def timer(self) -> b.Timer:
        meter = self

        class _Timer(b.Timer):
            def __enter__(self) -> b.Timer:
                if meter.server_prof is not None:
                    meter._server_call(meter.server_prof.enable)
                self._s0 = meter._server_call(time.thread_time) if meter.server else 0.0
                GC.active = True
                self._c0 = time.thread_time()
                if meter.client_prof is not None:
                    meter.client_prof.enable()
                return super().__enter__()

            def __exit__(self, *exc: object) -> None:
                super().__exit__(*exc)
                if meter.client_prof is not None:
                    meter.client_prof.disable()
                meter.client_cpu += time.thread_time() - self._c0
                GC.active = False
                if meter.server:
                    meter.server_cpu += meter._server_call(time.thread_time) - self._s0
                if meter.server_prof is not None:
                    meter._server_call(meter.server_prof.disable)
                meter.wall += self.elapsed
                meter.regions += 1

        return _Timer()


async def _nbruns_figure(name: str, client: Any, n: int) -> None:
    if name == "latency":
        await b.latency_nbruns(client, n, warmup=0)
    elif name == "fresh":
        await b.fresh_nbruns(client, n, warmup=0)
    elif name == "fanout":
        await b.fanout_nbruns(client, n)
    elif name == "enqueue":
        await b.enqueue_nbruns(client, n)
    elif name == "interrupt":
        await b.interrupt_nbruns(client, n, warmup=0)


async def _baseline_figure(name: str, base: b.Baseline, n: int) -> bool:
    if name == "latency":
        await b.latency_baseline(base, n, warmup=0)
    elif name == "fresh":
        await b.fresh_baseline(base, n, warmup=0)
    elif name == "fanout":
        await b.fanout_baseline(base, n)
    elif name == "enqueue":
        await b.enqueue_baseline(base, n)
    else:
        return False
    return True


# -- printing ----------------------------------------------------------------------------


def _short(path: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _raw(stats: pstats.Stats) -> dict[Any, Any]:
    return stats.stats  # type: ignore[attr-defined]


def _total(prof: cProfile.Profile | None) -> float:
    if prof is None:
        return 0.0
    return sum(v[2] for v in _raw(pstats.Stats(prof)).values())


def _module_shares(stats: pstats.Stats) -> list[tuple[str, float]]:
    per_file: dict[str, float] = defaultdict(float)
    for (filename, _line, _func), (_cc, _nc, tt, _ct, _callers) in _raw(stats).items():
        per_file[_short(filename)] += tt
    return sorted(per_file.items(), key=lambda kv: -kv[1])


def _nbruns_functions(stats: pstats.Stats, denom: float, limit: int) -> list[str]:
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in _raw(stats).items():
        if "/nbruns/" in filename:
            rows.append((ct, tt, nc, f"{_short(filename)}:{line}:{func}"))
    rows.sort(reverse=True)
    return [
        f"  cum {ct:7.3f}s {100 * ct / denom:5.1f}%  own {tt:6.3f}s  calls {nc:7d}  {name}"
        for ct, tt, nc, name in rows[:limit]
    ]


def _top(stats: pstats.Stats, key: str, limit: int) -> str:
    buf = io.StringIO()
    stats.stream = buf  # type: ignore[attr-defined]
    stats.sort_stats(key).print_stats(limit)
    prefix = "/root/.pyenv/versions/3.11.7/lib/python3.11/"
    return buf.getvalue().replace(prefix + "site-packages/", "").replace(prefix, "")


def _print_profile(
    label: str, prof: cProfile.Profile, path: str, denom: float, n: int, limit: int
) -> None:
    prof.dump_stats(path)
    stats = pstats.Stats(prof)
    total = _total(prof)
    print(f"\n--- {label}: {total:.3f}s CPU profiled ({1000 * total / n:.3f} ms/run); saved {path}")
    print("CPU per module (own time), top 12, % of the side's profiled CPU:")
    for mod, tt in _module_shares(stats)[:12]:
        print(f"  {tt:7.3f}s {100 * tt / denom:5.1f}%  {mod}")
    rows = _nbruns_functions(stats, denom, limit)
    if rows:
        print("nbruns functions by cumulative CPU (% of nbruns client+server profiled CPU):")
        print("\n".join(rows))
    print(_top(stats, "tottime", limit))
    print(_top(stats, "cumulative", limit))


def _per_run(meter: Meter, n: int, gc_s: float, gc_counts: list[int], gc_gen: list[float]) -> str:
    per = lambda x: 1000 * x / n  # noqa: E731
    cpu = meter.client_cpu + meter.server_cpu
    return (
        f"wall {per(meter.wall):7.3f} ms/run | CPU client {per(meter.client_cpu):6.3f} + server "
        f"{per(meter.server_cpu):6.3f} = {per(cpu):6.3f} ms/run | GC {per(gc_s):6.3f} ms/run "
        f"(gen0/1/2: {gc_counts[0]}/{gc_counts[1]}/{gc_counts[2]} collections, "
        f"{per(gc_gen[0]):.3f}/{per(gc_gen[1]):.3f}/{per(gc_gen[2]):.3f} ms/run) | "
        f"not on CPU {per(max(0.0, meter.wall - cpu)):6.3f} ms/run"
    )


async def _run(name: str, n: int, out: str, limit: int, profile: bool = True) -> None:
    base = b.Baseline(b._one_node("reply", b.reply_in_place))  # the fixed graph
    server = nbruns.Server(
        graphs={b.GRAPH_ID: base.graph, b.BUSY_ID: b._one_node("wait", b.wait_forever)}
    )
    client = server.client()
    try:
        await _nbruns_figure(name, client, min(n, 20))  # warm up imports and caches
        await _baseline_figure(name, base, min(n, 20))

        # 1. unprofiled accounting
        nb_meter = Meter(server, profile=False)
        b._timer_factory = nb_meter.timer
        GC.reset()
        await _nbruns_figure(name, client, n)
        nb_gc, nb_gc_counts, nb_gc_gen = GC.seconds, list(GC.count), list(GC.by_gen)
        base_meter = Meter(None, profile=False)
        b._timer_factory = base_meter.timer
        GC.reset()
        has_base = await _baseline_figure(name, base, n)
        base_gc, base_gc_counts, base_gc_gen = GC.seconds, list(GC.count), list(GC.by_gen)

        # 2. profiled
        nb_prof = Meter(server, profile=profile)
        base_prof = Meter(None, profile=profile)
        if profile:
            b._timer_factory = nb_prof.timer
            await _nbruns_figure(name, client, n)
            b._timer_factory = base_prof.timer
            if has_base:
                await _baseline_figure(name, base, n)
    finally:
        b._timer_factory = b.Timer
        await server.aclose()

    print(f"=== {name} (n={n}; timed regions only) ===")
    print("nbruns   " + _per_run(nb_meter, n, nb_gc, nb_gc_counts, nb_gc_gen))
    if has_base:
        print("baseline " + _per_run(base_meter, n, base_gc, base_gc_counts, base_gc_gen))
    if not profile:
        print()
        return
    denom = _total(nb_prof.server_prof) + _total(nb_prof.client_prof)
    assert nb_prof.server_prof is not None and nb_prof.client_prof is not None
    _print_profile(
        "nbruns server thread",
        nb_prof.server_prof,
        os.path.join(out, f"{name}.server.prof"),
        denom,
        n,
        limit,
    )
    _print_profile(
        "nbruns client thread",
        nb_prof.client_prof,
        os.path.join(out, f"{name}.client.prof"),
        denom,
        n,
        limit,
    )
    if has_base and base_prof.client_prof is not None:
        bdenom = _total(base_prof.client_prof)
        _print_profile(
            "baseline",
            base_prof.client_prof,
            os.path.join(out, f"{name}.baseline.prof"),
            bdenom,
            n,
            limit,
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile_inprocess",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("figures", nargs="*", default=["latency", "fanout", "enqueue"])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--out", default="/tmp")
    parser.add_argument("--limit", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="only the per-run accounting")
    args = parser.parse_args()
    for name in args.figures:
        if name not in FIGURES:
            parser.error(f"unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    for name in args.figures:
        asyncio.run(_run(name, args.n, args.out, args.limit, profile=not args.no_profile))


if __name__ == "__main__":
    main()
