"""Served benchmark: `nbruns serve` vs the reference `langgraph dev`, both over HTTP.

    python -m bench.served [--quick] [--json PATH] [--profile PATH] [--no-reference]

One run starts both servers on free loopback ports, serving the same graphs from
`bench/served_app/langgraph.json` (`bench`: one async node appending one AI
message; `busy`: one async node sleeping for an hour), and drives both with the
same client code, in this one process:

  1. create+join on an idle thread, median: a fresh thread per repetition
     (created and deleted outside the timed region, so every run sees the same
     one-message state), nbruns n=200, reference n=20 (each takes ~1 s there)
  2. N threads x 1 run at once: gather of N (create+join) on pre-created
     threads -> runs/s
  3. N runs enqueued on one thread: create them all (default strategy,
     enqueue), join the last -> runs/s (all N are checked to have succeeded)
  4. create(multitask_strategy="interrupt") on a busy thread (a `busy` run
     polled until `running`) until the new `bench` run is done (create + join),
     median; a fresh thread per repetition

Figures 1 and 4 (latency, one request at a time) go through the official async
SDK client, `langgraph_sdk.get_client(url=...)`, which also proves the SDK works
against both servers. Figures 2 and 3 (throughput) go through a lean HTTP load
driver (`Driver`: one `aiohttp.ClientSession`, keep-alive connections, enough
for N requests at once, orjson inline) sending the requests the SDK sends
(`POST /threads` `{}`; `POST /threads/{tid}/runs` with the SDK's body for
`runs.create(tid, "bench", input=...)`; `GET .../runs/{rid}/join`;
`GET /threads/{tid}/runs?limit=&offset=0&status=success`; `DELETE /threads/{tid}`).
The SDK client costs 4-5 ms of CPU per run in this process (httpx's connection
pool, and JSON decoded in a thread pool), which capped one client near 150-200
runs/s on a 2-core machine whatever the server did: through it, figures 2 and 3
measured the client. The driver's own CPU per run (`time.process_time()` of this
process over the timed region / N) is printed next to the server's (CPU of the
server's process session from /proc), so the bottleneck shows. Any non-2xx
answer fails the benchmark. The driver needs aiohttp: `pip install -e ".[bench]"`.

nbruns throughput figures are the median of 3 rounds; the reference runs them
once (its enqueue figure alone takes ~100 s). Targets: latency at least 100x
lower than the reference (ratio = reference / nbruns), throughput at least 5x
higher (ratio = nbruns / reference). The exit status is 0 whatever the verdicts.

`--profile PATH` runs the nbruns server under cProfile (written to PATH when
the server stops); `--no-reference` measures nbruns alone (for profiling).
Both servers are stopped on exit, on exceptions, and on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
from langgraph_sdk import get_client

from bench._common import dist_versions, log, ms, p90, table
from tools import reference_server

try:
    import aiohttp
except ImportError:  # pragma: no cover - the `bench` extra is not installed
    sys.exit(
        "bench.served needs aiohttp for its load driver (figures 2 and 3):\n"
        '    pip install -e ".[bench]"'
    )

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_CONFIG = REPO_ROOT / "bench" / "served_app" / "langgraph.json"
GRAPH_ID = "bench"
BUSY_ID = "busy"
INPUT: dict[str, Any] = {"messages": []}  # each run adds exactly the node's one AI message
NB_ROUNDS = 3  # nbruns throughput figures: median of this many rounds

FULL = {
    "threads": 200,
    "enqueued": 200,
    "nbruns": {"latency_n": 200, "latency_warmup": 10, "interrupt_n": 50, "interrupt_warmup": 5},
    "reference": {"latency_n": 20, "latency_warmup": 1, "interrupt_n": 10, "interrupt_warmup": 1},
}
QUICK = {
    "threads": 50,
    "enqueued": 50,
    "nbruns": {"latency_n": 50, "latency_warmup": 5, "interrupt_n": 20, "interrupt_warmup": 2},
    "reference": {"latency_n": 5, "latency_warmup": 1, "interrupt_n": 3, "interrupt_warmup": 1},
}

TARGET_LATENCY_X = 100.0  # reference latency / nbruns latency
TARGET_THROUGHPUT_X = 5.0  # nbruns runs/s / reference runs/s

# Default SDK timeouts, but a long pool timeout (figures 1 and 4 use the SDK client).
CLIENT_TIMEOUT = httpx.Timeout(connect=10, read=600, write=60, pool=600)

# The load driver's body for `runs.create(tid, GRAPH_ID, input=INPUT)`: what the SDK
# sends once its None fields are dropped (langgraph_sdk/_async/runs.py, `create`).
RUN_CREATE_BODY = orjson.dumps(
    {
        "input": INPUT,
        "stream_mode": "values",
        "stream_subgraphs": False,
        "stream_resumable": False,
        "assistant_id": GRAPH_ID,
    }
)
EMPTY_BODY = b"{}"  # `threads.create()` with no arguments
DRIVER_TIMEOUT_S = 600.0  # whole request, join included


# -- servers ----------------------------------------------------------------------------


class NbrunsServer:
    """`python -m nbruns serve` as a subprocess in its own session."""

    def __init__(self, config: Path, profile: str | None, logdir: Path) -> None:
        self.port = reference_server.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logdir / "nbruns-serve.log"
        self.profile = profile
        prefix = [sys.executable]
        if profile:
            prefix += ["-m", "cProfile", "-o", str(Path(profile).resolve())]
            prefix += ["-m", "nbruns"]
        else:
            prefix += ["-m", "nbruns"]
        self.cmd = [
            *prefix,
            "serve",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with open(self.log, "wb") as logf:
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=str(APP_CONFIG.parent),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, not it; we stop it ourselves
            )

    def wait_ok(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        reference_server.wait_ok(
            self.url, self.proc, timeout, self.log, name="nbruns serve", poll=0.05
        )

    def stop(self) -> None:
        if self.proc is not None:
            # uvicorn re-raises the stop signal after its graceful shutdown; under
            # cProfile, SIGINT (KeyboardInterrupt) still lets the profile be written.
            reference_server.stop_group(
                self.proc, grace=20.0, sig=signal.SIGINT if self.profile else signal.SIGTERM
            )


@contextlib.contextmanager
def running_nbruns(config: Path, profile: str | None, logdir: Path) -> Iterator[NbrunsServer]:
    server = NbrunsServer(config, profile, logdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


# -- CPU accounting (Linux /proc; None elsewhere) -------------------------------------------


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            text = fh.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from `state` (field 3) on


def session_cpu(sid: int | None) -> float | None:
    """CPU seconds (user+system) used so far by every process in session `sid`."""
    if sid is None or not os.path.isdir("/proc"):
        return None
    total = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (f := _stat_fields(pid)) and int(f[3]) == sid:
            total += int(f[11]) + int(f[12])  # utime, stime
    return total / _TICK


def find_session(port: int) -> int | None:
    """The session of the process whose command line names `port` (the reference server)."""
    if not os.path.isdir("/proc"):
        return None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = fh.read().split(b"\0")
        except OSError:
            continue
        if b"--port" in args and str(port).encode() in args and b"dev" in args:
            f = _stat_fields(pid)
            return int(f[3]) if f else None
    return None


class CpuMeter:
    """Server (session) and client (this process) CPU seconds over a region."""

    def __init__(self, sid: int | None) -> None:
        self.sid = sid
        self.server = self.client = None

    def __enter__(self) -> CpuMeter:
        self._s0, self._c0 = session_cpu(self.sid), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = time.process_time() - self._c0  # before the /proc scan, not after
        s1 = session_cpu(self.sid)
        self.server = None if s1 is None or self._s0 is None else s1 - self._s0


# -- helpers ------------------------------------------------------------------------------


def _round(n: int, elapsed: float, cpu: CpuMeter) -> dict[str, Any]:
    return {
        "runs_per_s": n / elapsed,
        "server_cpu_ms_per_run": None if cpu.server is None else ms(cpu.server) / n,
        "driver_cpu_ms_per_run": ms(cpu.client) / n,
        "server_cpu_share": None if cpu.server is None else cpu.server / elapsed,
    }


def _summary(n: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The median round by throughput, with every round kept."""
    ordered = sorted(rounds, key=lambda r: r["runs_per_s"])
    return {"n": n, **ordered[len(ordered) // 2], "rounds": [r["runs_per_s"] for r in rounds]}


async def _new_thread(client: Any) -> str:
    return (await client.threads.create())["thread_id"]


# -- the load driver for figures 2 and 3 ----------------------------------------------------


class Driver:
    """A lean HTTP client: one aiohttp session, keep-alive, orjson; every non-2xx raises.

    Sends the same requests as the SDK calls named on each method. Used as
    `async with Driver(url, max_in_flight) as drv:` inside the running event loop.
    """

    def __init__(self, url: str, max_in_flight: int) -> None:
        self.url = url
        self.max_in_flight = max_in_flight
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Driver:
        self._session = aiohttp.ClientSession(
            base_url=self.url,
            connector=aiohttp.TCPConnector(limit=self.max_in_flight, limit_per_host=0),
            timeout=aiohttp.ClientTimeout(total=DRIVER_TIMEOUT_S),
            headers={"User-Agent": f"nbruns-bench aiohttp/{aiohttp.__version__}"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        assert self._session is not None, "use `async with Driver(...)`"
        headers = {"Content-Type": "application/json"} if body is not None else None
        async with self._session.request(
            method, path, data=body, params=params, headers=headers
        ) as resp:
            data = await resp.read()
            if not 200 <= resp.status < 300:
                text = data[:500].decode(errors="replace")
                raise RuntimeError(f"{method} {path} -> HTTP {resp.status}: {text}")
        return orjson.loads(data) if data.strip() else None

    async def new_thread(self) -> str:
        """`threads.create()`"""
        return str((await self._call("POST", "/threads", EMPTY_BODY))["thread_id"])

    async def create_run(self, tid: str) -> str:
        """`runs.create(tid, GRAPH_ID, input=INPUT)` (default strategy: enqueue)"""
        run = await self._call("POST", f"/threads/{tid}/runs", RUN_CREATE_BODY)
        return str(run["run_id"])

    async def join(self, tid: str, run_id: str) -> Any:
        """`runs.join(tid, run_id)`: the thread's values once the run is done"""
        return await self._call("GET", f"/threads/{tid}/runs/{run_id}/join")

    async def list_runs(self, tid: str, status: str, limit: int) -> list[Any]:
        """`runs.list(tid, status=status, limit=limit)`"""
        params = {"limit": limit, "offset": 0, "status": status}
        runs = await self._call("GET", f"/threads/{tid}/runs", params=params)
        if not isinstance(runs, list):
            raise RuntimeError(f"runs.list answered {runs!r}")
        return runs

    async def delete_thread(self, tid: str) -> None:
        """`threads.delete(tid)`"""
        await self._call("DELETE", f"/threads/{tid}")


# -- figure 1: create+join on an idle (fresh) thread --------------------------------------


async def latency(client: Any, n: int, warmup: int) -> list[float]:
    samples: list[float] = []
    for i in range(warmup + n):
        tid = await _new_thread(client)
        t0 = time.perf_counter()
        run = await client.runs.create(tid, GRAPH_ID, input=INPUT)
        body = await client.runs.join(tid, run["run_id"])
        elapsed = time.perf_counter() - t0
        if i == 0 and not (isinstance(body, dict) and len(body.get("messages", [])) == 1):
            raise RuntimeError(f"unexpected join body: {body!r}")
        if i >= warmup:
            samples.append(elapsed)
        await client.threads.delete(tid)
    return samples


# -- figure 2: N threads x 1 run, all at once ----------------------------------------------


async def fanout(drv: Driver, n: int, sid: int | None) -> dict[str, Any]:
    tids = list(await asyncio.gather(*(drv.new_thread() for _ in range(n))))

    async def one(tid: str) -> Any:
        return await drv.join(tid, await drv.create_run(tid))

    with CpuMeter(sid) as cpu:
        t0 = time.perf_counter()
        bodies = await asyncio.gather(*(one(tid) for tid in tids))
        elapsed = time.perf_counter() - t0
    bad = [b for b in bodies if not (isinstance(b, dict) and len(b.get("messages", [])) == 1)]
    if bad:
        raise RuntimeError(
            f"{len(bad)} of {n} fan-out runs joined with unexpected bodies: {bad[0]!r}"
        )
    await asyncio.gather(*(drv.delete_thread(tid) for tid in tids))
    return _round(n, elapsed, cpu)


# -- figure 3: N runs enqueued on one thread -------------------------------------------------


async def enqueue(drv: Driver, n: int, sid: int | None) -> dict[str, Any]:
    tid = await drv.new_thread()
    run_id = None
    with CpuMeter(sid) as cpu:
        t0 = time.perf_counter()
        for _ in range(n):
            run_id = await drv.create_run(tid)  # default strategy: enqueue
        assert run_id is not None
        body = await drv.join(tid, run_id)
        elapsed = time.perf_counter() - t0
    runs = await drv.list_runs(tid, status="success", limit=n + 1)
    if len(runs) != n:
        raise RuntimeError(f"expected {n} successful runs on the enqueue thread, got {len(runs)}")
    if not (isinstance(body, dict) and len(body.get("messages", [])) == n):
        got = len(body.get("messages", [])) if isinstance(body, dict) else body
        raise RuntimeError(f"expected {n} messages after the last enqueued run, got {got}")
    await drv.delete_thread(tid)
    return _round(n, elapsed, cpu)


# -- figure 4: interrupt a running run, until the new run is done ----------------------------


async def _wait_running(client: Any, tid: str, run_id: str, limit_s: float = 30.0) -> None:
    deadline = time.monotonic() + limit_s
    while True:
        run = await client.runs.get(tid, run_id)
        if run["status"] == "running":
            return
        if run["status"] != "pending":
            raise RuntimeError(f"busy run ended early with status {run['status']!r}")
        if time.monotonic() > deadline:
            raise RuntimeError("busy run never reached status 'running'")
        await asyncio.sleep(0.005)


async def interrupt(client: Any, n: int, warmup: int) -> list[float]:
    samples: list[float] = []
    for i in range(warmup + n):
        tid = await _new_thread(client)
        busy = await client.runs.create(tid, BUSY_ID, input=INPUT)
        await _wait_running(client, tid, busy["run_id"])
        t0 = time.perf_counter()
        run = await client.runs.create(tid, GRAPH_ID, input=INPUT, multitask_strategy="interrupt")
        body = await client.runs.join(tid, run["run_id"])
        elapsed = time.perf_counter() - t0
        if i == 0:  # sanity: the busy run was interrupted and the new one succeeded
            old = await client.runs.get(tid, busy["run_id"])
            new = await client.runs.get(tid, run["run_id"])
            if old["status"] != "interrupted" or new["status"] != "success":
                raise RuntimeError(f"unexpected statuses: busy={old['status']} new={new['status']}")
            if not isinstance(body, dict) or "messages" not in body:
                raise RuntimeError(f"unexpected join body: {body!r}")
        if i >= warmup:
            samples.append(elapsed)
        await client.threads.delete(tid)
    return samples


# -- driving one server ----------------------------------------------------------------------


async def measure(
    name: str, url: str, cfg: dict[str, Any], rounds: int, sid: int | None
) -> dict[str, Any]:
    c = cfg[name]
    client = get_client(url=url, api_key=None, timeout=CLIENT_TIMEOUT)
    out: dict[str, Any] = {"url": url}
    t_start = time.perf_counter()
    try:
        log(f"{name}: figure 1, create+join on a fresh idle thread (n={c['latency_n']})")
        s = await latency(client, c["latency_n"], c["latency_warmup"])
        out["latency"] = {
            "n": len(s),
            "median_ms": ms(statistics.median(s)),
            "p90_ms": ms(p90(s)),
        }

        # the load driver: room for every fan-out request at once, plus a few spare
        async with Driver(url, max(cfg["threads"], cfg["enqueued"]) + 8) as drv:
            n = cfg["threads"]
            log(f"{name}: figure 2, {n} threads x 1 run at once ({rounds} round(s))")
            out["fanout"] = _summary(n, [await fanout(drv, n, sid) for _ in range(rounds)])

            n = cfg["enqueued"]
            log(f"{name}: figure 3, {n} runs enqueued on one thread ({rounds} round(s))")
            out["enqueue"] = _summary(n, [await enqueue(drv, n, sid) for _ in range(rounds)])

        log(f"{name}: figure 4, interrupt-to-done on a busy thread (n={c['interrupt_n']})")
        s = await interrupt(client, c["interrupt_n"], c["interrupt_warmup"])
        out["interrupt"] = {
            "n": len(s),
            "median_ms": ms(statistics.median(s)),
            "p90_ms": ms(p90(s)),
        }
    finally:
        await client.aclose()
    out["seconds"] = time.perf_counter() - t_start
    return out


# -- reporting -------------------------------------------------------------------------------


def _reference_versions() -> dict[str, str]:
    py = REPO_ROOT / reference_server.DEFAULT_VENV / "bin" / "python"
    dists = ("langgraph-api", "langgraph-runtime-inmem", "langgraph-cli", "langgraph", "uvicorn")
    code = (
        "import json, platform; from importlib.metadata import version as v; "
        "print(json.dumps({'python': platform.python_version(), "
        + ", ".join(f"'{d}': v('{d}')" for d in dists)
        + "}))"
    )
    try:
        res = subprocess.run([str(py), "-c", code], capture_output=True, text=True, timeout=60)
        return json.loads(res.stdout)
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError):
        return {}


def _verdicts(results: dict[str, Any]) -> None:
    nb, ref = results["nbruns"], results.get("reference")
    verdicts: dict[str, Any] = {}
    for key in ("latency", "interrupt"):
        ratio = ref[key]["median_ms"] / nb[key]["median_ms"] if ref else None
        verdicts[key] = {
            "ratio": ratio,
            "target": TARGET_LATENCY_X,
            "pass": None if ratio is None else ratio >= TARGET_LATENCY_X,
        }
    for key in ("fanout", "enqueue"):
        ratio = nb[key]["runs_per_s"] / ref[key]["runs_per_s"] if ref else None
        verdicts[key] = {
            "ratio": ratio,
            "target": TARGET_THROUGHPUT_X,
            "pass": None if ratio is None else ratio >= TARGET_THROUGHPUT_X,
        }
    results["verdicts"] = verdicts


def _cpu_lines(nb: dict[str, Any], ref: dict[str, Any] | None) -> list[str]:
    def cell(side: dict[str, Any] | None, key: str) -> str:
        if side is None:
            return "n/a"
        f = side[key]
        srv = "?" if f["server_cpu_ms_per_run"] is None else f"{f['server_cpu_ms_per_run']:.2f}"
        busy = "" if f["server_cpu_share"] is None else f" ({f['server_cpu_share']:.0%} of a core)"
        return f"server {srv} / driver {f['driver_cpu_ms_per_run']:.2f}{busy}"

    return [
        "CPU ms per run over the timed region (server: its process session; driver: this process)",
        f"  fan-out  nbruns: {cell(nb, 'fanout')}   reference: {cell(ref, 'fanout')}",
        f"  enqueue  nbruns: {cell(nb, 'enqueue')}   reference: {cell(ref, 'enqueue')}",
    ]


def report(results: dict[str, Any]) -> str:
    nb, ref, ver = results["nbruns"], results.get("reference"), results["verdicts"]

    def verdict(key: str) -> str:
        p = ver[key]["pass"]
        return "n/a" if p is None else ("PASS" if p else "FAIL")

    def ratio(key: str) -> str:
        r = ver[key]["ratio"]
        return "n/a" if r is None else f"{r:.1f}x"

    def refv(key: str, field: str, fmt: str) -> str:
        return "n/a" if ref is None else fmt.format(ref[key][field])

    def n_label(key: str) -> str:
        return f"n={nb[key]['n']}/{ref[key]['n']}" if ref else f"n={nb[key]['n']}"

    rows = [
        [
            f"1. create+join, idle fresh thread, median ({n_label('latency')})",
            f"{nb['latency']['median_ms']:.2f} ms",
            refv("latency", "median_ms", "{:.0f} ms"),
            ratio("latency"),
            f">= {TARGET_LATENCY_X:g}x lower",
            verdict("latency"),
        ],
        [
            "   create+join, p90",
            f"{nb['latency']['p90_ms']:.2f} ms",
            refv("latency", "p90_ms", "{:.0f} ms"),
            "",
            "",
            "",
        ],
        [
            f"2. {nb['fanout']['n']} threads x 1 run at once",
            f"{nb['fanout']['runs_per_s']:.0f} runs/s",
            refv("fanout", "runs_per_s", "{:.0f} runs/s"),
            ratio("fanout"),
            f">= {TARGET_THROUGHPUT_X:g}x higher",
            verdict("fanout"),
        ],
        [
            f"3. {nb['enqueue']['n']} runs enqueued on one thread",
            f"{nb['enqueue']['runs_per_s']:.0f} runs/s",
            refv("enqueue", "runs_per_s", "{:.1f} runs/s"),
            ratio("enqueue"),
            f">= {TARGET_THROUGHPUT_X:g}x higher",
            verdict("enqueue"),
        ],
        [
            f"4. interrupt busy thread -> new run done, median ({n_label('interrupt')})",
            f"{nb['interrupt']['median_ms']:.2f} ms",
            refv("interrupt", "median_ms", "{:.0f} ms"),
            ratio("interrupt"),
            f">= {TARGET_LATENCY_X:g}x lower",
            verdict("interrupt"),
        ],
        [
            "   interrupt-to-done, p90",
            f"{nb['interrupt']['p90_ms']:.2f} ms",
            refv("interrupt", "p90_ms", "{:.0f} ms"),
            "",
            "",
            "",
        ],
    ]
    env = results["env"]
    v, rv = env["nbruns_side"], env["reference_side"]
    load = env.get("loadavg")
    lines = [
        f"nbruns served benchmark ({'quick' if results['quick'] else 'full'}): "
        "nbruns serve (uvicorn) vs langgraph dev, loopback HTTP; figures 1 and 4 through "
        "the official async SDK client, 2 and 3 through the aiohttp load driver",
        f"nbruns side:    python {v['python']}  nbruns {v['nbruns']}  langgraph {v['langgraph']}  "
        f"langgraph-checkpoint {v['langgraph-checkpoint']}  uvicorn {v['uvicorn']}  "
        f"client langgraph-sdk {v['langgraph-sdk']}  driver aiohttp {v['aiohttp']}",
        "reference side: "
        + ("  ".join(f"{k} {val}" for k, val in rv.items()) if rv else "n/a")
        + "  (--n-jobs-per-worker 10)",
        f"cpu_count {env['cpu_count']}  {env['platform']}"
        + (f"  loadavg {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} (start)" if load else ""),
        "figures 1 and 4 use a fresh thread per repetition (created outside the timed region); "
        f"nbruns throughput = median of {NB_ROUNDS} rounds, reference = 1 round",
        "",
        table(rows, "reference"),
        "",
        "nbruns rounds (runs/s)  fan-out: "
        + ", ".join(f"{x:.0f}" for x in nb["fanout"]["rounds"])
        + "   enqueue: "
        + ", ".join(f"{x:.0f}" for x in nb["enqueue"]["rounds"]),
        *_cpu_lines(nb, ref),
        f"measuring time  nbruns {nb['seconds']:.1f} s"
        + (f"   reference {ref['seconds']:.1f} s" if ref else "")
        + f"   server startup {results['startup_seconds']:.1f} s",
        f"total wall time: {results['wall_seconds']:.1f} s",
    ]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def _on_term(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.served",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="smaller counts, for CI smoke runs")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON to PATH")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        help="run the nbruns server under cProfile, writing PATH on stop",
    )
    parser.add_argument(
        "--no-reference", action="store_true", help="measure nbruns alone (no ratios or verdicts)"
    )
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    signal.signal(signal.SIGTERM, _on_term)

    env: dict[str, Any] = {
        "nbruns_side": {
            "python": platform.python_version(),
            **dist_versions(
                (
                    "nbruns",
                    "langgraph",
                    "langgraph-checkpoint",
                    "langgraph-sdk",
                    "uvicorn",
                    "aiohttp",
                )
            ),
        },
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    with contextlib.suppress(OSError):
        env["loadavg"] = list(os.getloadavg())

    t0 = time.perf_counter()
    results: dict[str, Any] = {"quick": args.quick, "config": cfg}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="nbruns-served-") as scratch,
            contextlib.ExitStack() as stack,
        ):
            nb = stack.enter_context(running_nbruns(APP_CONFIG, args.profile, Path(scratch)))
            ref_url = None
            if not args.no_reference:
                log("starting the reference server (langgraph dev)")
                # starts while nbruns serve is booting; blocks until its /ok answers
                ref_url = stack.enter_context(
                    reference_server.running_reference(
                        APP_CONFIG, log_path=Path(scratch) / "reference.log"
                    )
                )
            nb.wait_ok()
            results["startup_seconds"] = time.perf_counter() - t0
            log(f"nbruns at {nb.url}" + (f", reference at {ref_url}" if ref_url else ""))

            nb_sid = nb.proc.pid if nb.proc else None  # started with start_new_session
            results["nbruns"] = asyncio.run(measure("nbruns", nb.url, cfg, NB_ROUNDS, nb_sid))
            if ref_url:
                ref_sid = find_session(int(ref_url.rsplit(":", 1)[1]))
                results["reference"] = asyncio.run(measure("reference", ref_url, cfg, 1, ref_sid))
            log("stopping the servers")
    except KeyboardInterrupt:
        print("interrupted; both servers stopped", file=sys.stderr)
        return 130
    results["wall_seconds"] = time.perf_counter() - t0
    env["reference_side"] = {} if args.no_reference else _reference_versions()
    results["env"] = env
    _verdicts(results)
    print(report(results), flush=True)
    if args.profile:
        print(f"nbruns server profile written to {args.profile}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
            fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
