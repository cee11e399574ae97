"""Drive the reference ``langgraph dev`` server and record what it answers.

Starts the reference server (see ``scripts/reference_server.py``) on the probe
graphs in ``tests/conformance/reference_app/``, sends it a fixed series of
requests through the official async SDK client and through raw ``httpx``, and
writes the observations to ``docs/reference-observed.md``.

    python scripts/probe_reference.py                 # start a server, probe, write the doc
    python scripts/probe_reference.py --url URL       # probe a server already running
    python scripts/probe_reference.py --out FILE.md   # write elsewhere

uuids and timestamps are redacted to ``<uuid>`` / ``<ts>`` in the record;
every key and every level of nesting is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_server

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_CONFIG = REPO_ROOT / "tests" / "conformance" / "reference_app" / "langgraph.json"
DEFAULT_OUT = REPO_ROOT / "docs" / "reference-observed.md"

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
HEX32_RE = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
DATETIME_REPR_RE = re.compile(r"datetime\.datetime\([^)]*\)")
ADDR_RE = re.compile(r"\b0x[0-9a-f]{6,}\b")
CLOCK_IN_TEXT_RE = re.compile(r"(['\"]__request_start_time_ms__['\"]\s*:\s*)\d+")
SSE_ID_RE = re.compile(r"(?m)^(id: )\d{13}-(\d+)(?=\r?$)")
PORT_RE = re.compile(r"(127\.0\.0\.1|localhost):\d+")
TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
# Keys whose (numeric) values are wall-clock readings.
CLOCK_KEYS = {"__request_start_time_ms__", "timestamp"}
HEADERS_OF_INTEREST = ("content-type", "location", "content-location")
_MISSING = object()


def redact(x: Any, key: str | None = None) -> Any:
    if key in CLOCK_KEYS and isinstance(x, int | float) and not isinstance(x, bool):
        return "<clock>"
    if isinstance(x, str):
        x = UUID_RE.sub("<uuid>", x)
        x = HEX32_RE.sub("<hex32>", x)
        x = DATETIME_REPR_RE.sub("<datetime>", x)
        x = ADDR_RE.sub("<addr>", x)
        x = CLOCK_IN_TEXT_RE.sub(r"\1<clock>", x)
        x = PORT_RE.sub(r"\1:<port>", x)
        x = SSE_ID_RE.sub(r"\1<clock>-\2", x)
        return TS_RE.sub("<ts>", x)
    if isinstance(x, dict):
        return {redact(k): redact(v, k) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [redact(v) for v in x]
    return x


def dumps(x: Any, indent: int | None = None) -> str:
    return json.dumps(x, indent=indent, ensure_ascii=False, default=repr)


# ---------------------------------------------------------------------------
# recording
# ---------------------------------------------------------------------------


@dataclass
class Obs:
    label: str
    request: str
    outcome: str
    headers: dict[str, str]
    body: Any
    note: str = ""
    ms: float = 0.0
    raw_text: str | None = None  # shown verbatim in a text block (SSE)
    all_headers: bool = False


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    facts: list[str] = field(default_factory=list)
    obs: list[Obs] = field(default_factory=list)


SECTIONS: list[tuple[str, str, str]] = [
    (
        "server",
        "Server endpoints",
        "Plain GETs on the service endpoints.",
    ),
    (
        "assistants",
        "Assistants",
        "`langgraph dev` registers one system assistant per graph in `langgraph.json` "
        "(here six: slow, fail, hitl, dyn, blocking, chat), with `metadata.created_by = "
        '"system"`. A graph id is accepted as `assistant_id` in run payloads, but not in '
        "`/assistants/{id}` paths.",
    ),
    (
        "threads",
        "Threads",
        "Thread CRUD, search, copy and the state/history endpoints.",
    ),
    (
        "runs",
        "Runs: create, get, list, delete, wait",
        "`slow` runs with `delay` 0 unless said otherwise.",
    ),
    (
        "join",
        "Runs: join",
        "`GET /threads/{t}/runs/{r}/join` (the SDK's `runs.join`) in each terminal case.",
    ),
    (
        "stream",
        "Runs: streaming (SSE)",
        "Raw SSE text as it came off the wire (uuids/timestamps redacted). Each event is "
        "`event:` + `data:` lines followed by a blank line; `id:` lines appear only where "
        "shown.",
    ),
    (
        "cancel",
        "Runs: cancel and cancel_many",
        "`POST /threads/{t}/runs/{r}/cancel?wait=&action=` and `POST /runs/cancel`.",
    ),
    (
        "options",
        "Run options: batch, stateless, if_not_exists, after_seconds, checkpoint fork",
        "",
    ),
    (
        "hitl",
        "Human in the loop: interrupt_before and interrupt()",
        '`hitl` is a→b run with `interrupt_before=["b"]`; `dyn` calls '
        '`interrupt({"question": "ok?"})` in its only node `ask`.',
    ),
    (
        "failure",
        "A failing graph",
        '`fail` has one node `boom` that raises `ValueError("boom")`.',
    ),
    (
        "multitask",
        "Multitask strategies on a busy thread",
        "Each case starts run R1 on `slow` with `delay` 1 (about 3 s of work), waits until "
        "R1 is `running` and has finished node `a`, then creates R2 on the same thread with "
        "the strategy. History tables are oldest first; `run` names which run wrote the "
        "checkpoint.",
    ),
    (
        "badinput",
        "Bad input",
        'Every error body observed is JSON `{"detail": <string>}` with '
        "`Content-Type: application/json` unless a row says otherwise. Request-body schema "
        "failures are **422** with a jsonschema-style multi-line message (below, verbatim).",
    ),
]


class Recorder:
    def __init__(self) -> None:
        self.sections = {k: Section(k, t, i) for k, t, i in SECTIONS}

    def add(self, sec: str, o: Obs) -> None:
        self.sections[sec].obs.append(o)

    def fact(self, sec: str, text: str) -> None:
        self.sections[sec].facts.append(text)


def _req_line(method: str, path: str, params: Any, body: Any) -> str:
    s = f"{method} {redact(path)}"
    if params:
        s += "?" + "&".join(f"{k}={v}" for k, v in dict(params).items())
    if body is not _MISSING:
        b = body if isinstance(body, str) else dumps(redact(body))
        if len(b) > 160:
            b = b[:157] + "…"
        s += " " + b
    return s


def _parse_body(r: httpx.Response) -> Any:
    if not r.content:
        return None
    try:
        return r.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return r.text


def parse_sse(text: str) -> list[dict[str, Any]]:
    events = []
    for block in re.split(r"\r?\n\r?\n", text):
        if not block.strip():
            continue
        ev: dict[str, Any] = {"event": None, "data": None}
        data_lines = []
        for line in block.splitlines():
            if line.startswith("event:"):
                ev["event"] = line[6:].strip()
            elif line.startswith("data:"):
                data_lines.append(line[5:].lstrip())
            elif line.startswith("id:"):
                ev["id"] = line[3:].strip()
            elif line.startswith(":"):
                ev.setdefault("comments", []).append(line)
        if data_lines:
            raw = "\n".join(data_lines)
            try:
                ev["data"] = json.loads(raw)
            except json.JSONDecodeError:
                ev["data"] = raw
        events.append(ev)
    return events


# ---------------------------------------------------------------------------
# the prober
# ---------------------------------------------------------------------------


class Prober:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60.0))
        self.client = get_client(url=base_url, api_key=None)
        self.rec = Recorder()
        self.timings: dict[str, float] = {}
        self.sse_line_endings: set[str] = set()
        self.sse_comments = 0
        self.sse_event_names: set[str] = set()

    async def aclose(self) -> None:
        await self.http.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose()

    # -- raw requests -------------------------------------------------------

    async def call(
        self,
        sec: str | None,
        label: str,
        method: str,
        path: str,
        *,
        json_body: Any = _MISSING,
        content: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
        show: Callable[[Any], Any] | None = None,
        all_headers: bool = False,
    ) -> httpx.Response:
        kw: dict[str, Any] = {"params": params, "headers": headers}
        if json_body is not _MISSING:
            kw["json"] = json_body
        if content is not None:
            kw["content"] = content
        t0 = time.monotonic()
        r = await self.http.request(method, path, **kw)
        ms = (time.monotonic() - t0) * 1000
        if sec:
            shown_req: Any = json_body
            if content is not None:
                shown_req = repr(content if isinstance(content, bytes) else content.encode())
            body = _parse_body(r)
            if show is not None and 200 <= r.status_code < 300:
                body = show(body)
            hdrs = (
                dict(r.headers)
                if all_headers
                else {h: r.headers[h] for h in HEADERS_OF_INTEREST if h in r.headers}
            )
            if "date" in hdrs:
                hdrs["date"] = "<http-date>"
            self.rec.add(
                sec,
                Obs(
                    label,
                    _req_line(method, path, params, shown_req),
                    str(r.status_code),
                    redact(hdrs),
                    redact(body),
                    note,
                    ms,
                    all_headers=all_headers,
                ),
            )
        return r

    # -- SDK calls ----------------------------------------------------------

    async def sdk(
        self,
        sec: str | None,
        label: str,
        desc: str,
        aw: Awaitable[Any],
        *,
        note: str = "",
        show: Callable[[Any], Any] | None = None,
    ) -> Any:
        t0 = time.monotonic()
        try:
            value = await aw
        except Exception as e:
            ms = (time.monotonic() - t0) * 1000
            resp = getattr(e, "response", None)
            body = {
                "exception": f"{type(e).__module__}.{type(e).__qualname__}",
                "str": str(e),
            }
            if resp is not None:
                body["status_code"] = resp.status_code
            if getattr(e, "__notes__", None):
                body["notes"] = e.__notes__
            if sec:
                self.rec.add(
                    sec,
                    Obs(
                        label,
                        "SDK " + desc,
                        f"raises {type(e).__name__}",
                        {},
                        redact(body),
                        note,
                        ms,
                    ),
                )
            return e
        ms = (time.monotonic() - t0) * 1000
        if sec:
            shown = show(value) if show else value
            self.rec.add(sec, Obs(label, "SDK " + desc, "returns", {}, redact(shown), note, ms))
        return value

    # -- SSE ----------------------------------------------------------------

    async def sse(
        self,
        sec: str | None,
        label: str,
        method: str,
        path: str,
        *,
        json_body: Any = _MISSING,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
        on_event: Callable[[str, asyncio.Event], None] | None = None,
        started: asyncio.Event | None = None,
        max_chars: int = 6000,
    ) -> tuple[int, str, list[dict[str, Any]]]:
        kw: dict[str, Any] = {"params": params, "headers": headers}
        if json_body is not _MISSING:
            kw["json"] = json_body
        t0 = time.monotonic()
        chunks: list[str] = []
        async with self.http.stream(method, path, **kw) as r:
            if started is not None:
                started.set()
            async for chunk in r.aiter_text():
                chunks.append(chunk)
                if on_event is not None:
                    on_event("".join(chunks), None)  # type: ignore[arg-type]
            status = r.status_code
            hdrs = {h: r.headers[h] for h in HEADERS_OF_INTEREST if h in r.headers}
        ms = (time.monotonic() - t0) * 1000
        text = "".join(chunks)
        if not hdrs.get("content-type", "").startswith("text/event-stream"):
            try:
                body: Any = json.loads(text) if text else None
            except json.JSONDecodeError:
                body = text
            if sec:
                self.rec.add(
                    sec,
                    Obs(
                        label,
                        _req_line(method, path, params, json_body),
                        str(status),
                        redact(hdrs),
                        redact(body),
                        note,
                        ms,
                    ),
                )
            return status, text, []
        events = parse_sse(text)
        if text:
            self.sse_line_endings.add("CRLF" if "\r\n" in text else "LF")
        self.sse_comments += sum(len(e.get("comments", [])) for e in events)
        self.sse_event_names.update(e["event"] for e in events if e["event"])
        if sec:
            shown = redact(text.replace("\r\n", "\n"))
            if len(shown) > max_chars:
                shown = shown[:max_chars] + f"\n… ({len(shown) - max_chars} more characters)\n"
            self.rec.add(
                sec,
                Obs(
                    label,
                    _req_line(method, path, params, json_body),
                    str(status),
                    redact(hdrs),
                    {"events": [e["event"] for e in events]},
                    note,
                    ms,
                    raw_text=shown,
                ),
            )
        return status, text, events

    # -- helpers ------------------------------------------------------------

    async def new_thread(self, **body: Any) -> str:
        r = await self.http.post("/threads", json=body)
        r.raise_for_status()
        return r.json()["thread_id"]

    async def create_run(self, tid: str, graph: str = "slow", **body: Any) -> dict[str, Any]:
        r = await self.http.post(f"/threads/{tid}/runs", json={"assistant_id": graph, **body})
        r.raise_for_status()
        return r.json()

    async def run_status(self, tid: str, rid: str) -> str:
        r = await self.http.get(f"/threads/{tid}/runs/{rid}")
        if r.status_code == 404:
            return "404"
        return r.json()["status"]

    async def thread_status(self, tid: str) -> str:
        r = await self.http.get(f"/threads/{tid}")
        if r.status_code == 404:
            return "404"
        return r.json()["status"]

    async def wait_run(self, tid: str, rid: str, statuses: set[str], limit_s: float = 20) -> str:
        deadline = time.monotonic() + limit_s
        st = ""
        while time.monotonic() < deadline:
            st = await self.run_status(tid, rid)
            if st in statuses:
                return st
            await asyncio.sleep(0.03)
        raise TimeoutError(f"run {rid} stuck at {st!r}, wanted {statuses}")

    async def wait_thread(self, tid: str, statuses: set[str], limit_s: float = 20) -> str:
        deadline = time.monotonic() + limit_s
        st = ""
        while time.monotonic() < deadline:
            st = await self.thread_status(tid)
            if st in statuses:
                return st
            await asyncio.sleep(0.05)
        raise TimeoutError(f"thread {tid} stuck at {st!r}, wanted {statuses}")

    async def wait_log(self, tid: str, name: str, limit_s: float = 20) -> None:
        """Wait until the thread's latest checkpoint has `name` in values.log."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            r = await self.http.get(f"/threads/{tid}/state")
            vals = r.json().get("values") or {}
            if name in (vals.get("log") or []):
                return
            await asyncio.sleep(0.03)
        raise TimeoutError(f"thread {tid}: node {name} never logged")

    async def idle(self, tid: str) -> None:
        await self.wait_thread(tid, {"idle", "interrupted", "error"})

    async def history_rows(self, tid: str, labels: dict[str, str]) -> list[dict[str, Any]]:
        r = await self.http.post(f"/threads/{tid}/history", json={"limit": 100})
        rows = []
        for h in reversed(r.json()):
            md = h.get("metadata") or {}
            rows.append(
                {
                    "step": md.get("step"),
                    "source": md.get("source"),
                    "run": labels.get(md.get("run_id"), md.get("run_id")),
                    "log": (h.get("values") or {}).get("log"),
                    "next": h.get("next"),
                }
            )
        return rows

    def history_table(self, sec: str, title: str, rows: list[dict[str, Any]]) -> None:
        lines = [
            f"{title}:",
            "",
            "| step | source | run | values.log | next |",
            "|---|---|---|---|---|",
        ]
        for row in rows:
            lines.append(
                f"| {row['step']} | {row['source']} | {redact(row['run'])} | "
                f"`{dumps(row['log'])}` | `{dumps(row['next'])}` |"
            )
        self.rec.fact(sec, "\n".join(lines))

    async def timed(self, name: str, coro: Awaitable[None]) -> None:
        t0 = time.monotonic()
        try:
            await coro
        except Exception as e:
            self.rec.fact(
                "server",
                f"**Probe group `{name}` aborted** with `{type(e).__name__}: {redact(str(e))}`.",
            )
            import traceback

            traceback.print_exc()
        self.timings[name] = time.monotonic() - t0
        print(f"  {name}: {self.timings[name]:.1f}s", flush=True)

    # =======================================================================
    # probe groups
    # =======================================================================

    async def probe_server(self) -> None:
        S = "server"
        await self.call(S, "health", "GET", "/ok")
        await self.call(S, "info", "GET", "/info")
        r = await self.call(
            S,
            "openapi",
            "GET",
            "/openapi.json",
            show=lambda b: (
                {"openapi": b.get("openapi"), "paths": len(b.get("paths", {}))}
                if isinstance(b, dict)
                else b
            ),
            note="body abbreviated",
        )
        if r.status_code == 200:
            spec = r.json()
            lines = []
            for p, ops in spec.get("paths", {}).items():
                lines.append(f"{p}  [{', '.join(m.upper() for m in ops)}]")
            self.rec.fact(
                S,
                "Paths listed by `/openapi.json`:\n\n```text\n" + "\n".join(lines) + "\n```",
            )
        await self.call(
            S,
            "docs",
            "GET",
            "/docs",
            show=lambda b: (b[:80] + "…") if isinstance(b, str) else b,
            note="HTML (abbreviated)",
        )
        await self.call(S, "unknown path", "GET", "/no/such/path")
        await self.call(S, "wrong method", "DELETE", "/ok")

    async def probe_assistants(self) -> None:
        S = "assistants"
        await self.call(
            S, "create by graph id", "POST", "/assistants", json_body={"graph_id": "slow"}
        )
        aid = str(uuid.uuid4())
        body = {"graph_id": "slow", "assistant_id": aid, "if_exists": "raise"}
        await self.call(S, "create with id", "POST", "/assistants", json_body=body)
        await self.call(S, "duplicate, if_exists=raise", "POST", "/assistants", json_body=body)
        await self.call(
            S,
            "duplicate, if_exists omitted",
            "POST",
            "/assistants",
            json_body={"graph_id": "slow", "assistant_id": aid},
        )
        await self.call(
            S,
            "duplicate, if_exists=do_nothing",
            "POST",
            "/assistants",
            json_body={**body, "if_exists": "do_nothing", "name": "other"},
            note="returns the existing assistant unchanged",
        )
        await self.call(
            S,
            "duplicate, do_nothing, other graph",
            "POST",
            "/assistants",
            json_body={"graph_id": "fail", "assistant_id": aid, "if_exists": "do_nothing"},
        )
        await self.call(S, "unknown graph", "POST", "/assistants", json_body={"graph_id": "nope"})
        await self.sdk(
            S,
            "unknown graph (SDK)",
            "assistants.create(graph_id='nope')",
            self.client.assistants.create(graph_id="nope"),
        )
        await self.sdk(
            S,
            "duplicate (SDK)",
            "assistants.create('slow', assistant_id=<existing>, if_exists='raise')",
            self.client.assistants.create(graph_id="slow", assistant_id=aid, if_exists="raise"),
        )
        await self.call(S, "get by uuid", "GET", f"/assistants/{aid}")
        await self.call(S, "get by graph id", "GET", "/assistants/slow")
        await self.call(S, "get unknown uuid", "GET", f"/assistants/{uuid.uuid4()}")
        await self.call(S, "get unknown name", "GET", "/assistants/nope")
        for i in range(6):
            await self.http.post(
                "/assistants", json={"graph_id": "hitl", "metadata": {"probe": "bulk", "i": i}}
            )

        def summarize(b: Any) -> Any:
            if isinstance(b, list):
                return {"len": len(b), "first": b[0] if b else None}
            return b

        await self.call(
            S,
            "search, empty body",
            "POST",
            "/assistants/search",
            json_body={},
            show=summarize,
            all_headers=True,
            note=f"{(await self.http.post('/assistants/count', json={})).json()} assistants exist "
            "at this point; body shown as {len, first}",
        )
        await self.call(S, "search, no body", "POST", "/assistants/search", show=summarize)
        await self.sdk(
            S,
            "search (SDK defaults)",
            "assistants.search()",
            self.client.assistants.search(),
            show=lambda v: {"len": len(v)},
        )
        await self.call(
            S,
            "search by graph_id",
            "POST",
            "/assistants/search",
            json_body={"graph_id": "hitl", "limit": 100},
            show=lambda b: {"len": len(b), "graph_ids": sorted({a["graph_id"] for a in b})},
        )
        await self.call(
            S,
            "search by metadata",
            "POST",
            "/assistants/search",
            json_body={"metadata": {"created_by": "system"}, "limit": 100},
            show=lambda b: {"len": len(b), "graph_ids": sorted(a["graph_id"] for a in b)},
        )
        await self.call(
            S,
            "search limit/offset",
            "POST",
            "/assistants/search",
            json_body={"metadata": {"probe": "bulk"}, "limit": 2, "offset": 1},
            show=lambda b: [a["metadata"].get("i") for a in b],
            note="body shown as metadata.i of each result",
        )
        await self.call(
            S,
            "search sort asc",
            "POST",
            "/assistants/search",
            json_body={"metadata": {"probe": "bulk"}, "sort_by": "created_at", "sort_order": "asc"},
            show=lambda b: [a["metadata"].get("i") for a in b],
            note="body shown as metadata.i of each result",
        )
        await self.call(
            S,
            "search default order",
            "POST",
            "/assistants/search",
            json_body={"metadata": {"probe": "bulk"}},
            show=lambda b: [a["metadata"].get("i") for a in b],
            note="body shown as metadata.i of each result",
        )
        await self.call(
            S,
            "search select",
            "POST",
            "/assistants/search",
            json_body={"select": ["assistant_id", "graph_id"], "limit": 1},
        )
        await self.call(
            S, "search unknown key", "POST", "/assistants/search", json_body={"bogus": 1}
        )
        await self.call(S, "count", "POST", "/assistants/count", json_body={})
        await self.call(
            S, "count by graph", "POST", "/assistants/count", json_body={"graph_id": "hitl"}
        )

    async def probe_threads(self) -> None:
        S = "threads"
        r = await self.call(S, "create, empty body", "POST", "/threads", json_body={})
        fresh = r.json()["thread_id"]
        await self.call(S, "create, no body", "POST", "/threads")
        fixed = str(uuid.uuid4())
        await self.call(
            S,
            "create with thread_id",
            "POST",
            "/threads",
            json_body={"thread_id": fixed, "metadata": {"k": "v"}},
        )
        await self.call(
            S, "duplicate, if_exists omitted", "POST", "/threads", json_body={"thread_id": fixed}
        )
        await self.call(
            S,
            "duplicate, if_exists=raise",
            "POST",
            "/threads",
            json_body={"thread_id": fixed, "if_exists": "raise"},
        )
        await self.call(
            S,
            "duplicate, if_exists=do_nothing",
            "POST",
            "/threads",
            json_body={"thread_id": fixed, "if_exists": "do_nothing", "metadata": {"k": "other"}},
        )
        await self.sdk(
            S,
            "duplicate (SDK)",
            "threads.create(thread_id=<existing>)",
            self.client.threads.create(thread_id=fixed),
        )
        fresh_keys = list((await self.call(S, "get fresh", "GET", f"/threads/{fresh}")).json())
        await self.call(S, "get_state, brand new thread", "GET", f"/threads/{fresh}/state")
        await self.sdk(
            S,
            "get_state, brand new (SDK)",
            "threads.get_state(<new thread>)",
            self.client.threads.get_state(fresh),
        )
        await self.call(S, "history, brand new", "GET", f"/threads/{fresh}/history")
        await self.call(
            S, "history POST, brand new", "POST", f"/threads/{fresh}/history", json_body={}
        )
        await self.call(S, "get unknown", "GET", f"/threads/{uuid.uuid4()}")
        await self.call(S, "get_state unknown", "GET", f"/threads/{uuid.uuid4()}/state")
        await self.call(S, "history unknown", "GET", f"/threads/{uuid.uuid4()}/history")

        # one finished run
        t1 = await self.new_thread(metadata={"owner": "probe"})
        await self.client.runs.wait(
            t1, "slow", input={"delay": 0, "messages": [{"role": "user", "content": "hi"}]}
        )
        await self.idle(t1)
        after_keys = list((await self.call(S, "get after a run", "GET", f"/threads/{t1}")).json())
        self.rec.fact(
            S,
            f"A thread that never ran has keys `{fresh_keys}` (`values` is null); "
            "after a run it has "
            f"`{after_keys}`: keys added `{[k for k in after_keys if k not in fresh_keys]}`.",
        )
        await self.call(
            S,
            "get after a run, include",
            "GET",
            f"/threads/{t1}",
            params={"include": "ttl"},
            show=lambda b: sorted(b) if isinstance(b, dict) else b,
            note="body shown as its key list",
        )
        await self.call(
            S, "update metadata", "PATCH", f"/threads/{t1}", json_body={"metadata": {"a": 1}}
        )
        await self.call(
            S,
            "update metadata again",
            "PATCH",
            f"/threads/{t1}",
            json_body={"metadata": {"b": 2, "owner": None}},
            show=lambda b: {"metadata": b.get("metadata")} if isinstance(b, dict) else b,
            note="body abbreviated to metadata: keys are merged; null is stored, not deleted",
        )
        await self.call(
            S, "update unknown", "PATCH", f"/threads/{uuid.uuid4()}", json_body={"metadata": {}}
        )
        r = await self.call(S, "get_state after a run", "GET", f"/threads/{t1}/state")
        st = r.json()
        # two more runs -> > 10 checkpoints
        for _ in range(2):
            await self.client.runs.wait(t1, "slow", input={"delay": 0})
        await self.idle(t1)
        hist = (await self.http.post(f"/threads/{t1}/history", json={"limit": 100})).json()
        self.rec.fact(
            S,
            f"A `slow` run (3 nodes) writes 5 checkpoints (steps -1…3); after 3 runs the "
            f"thread has {len(hist)} checkpoints in total.",
        )
        hist_get = await self.call(
            S,
            "history, default (GET)",
            "GET",
            f"/threads/{t1}/history",
            show=lambda b: {"len": len(b), "first": b[0]},
            note="body shown as {len, first}: newest first",
        )
        hist_post = await self.call(
            S,
            "history, default (POST {})",
            "POST",
            f"/threads/{t1}/history",
            json_body={},
            show=lambda b: {"len": len(b)},
        )
        hist_sdk = await self.sdk(
            S,
            "history (SDK default)",
            "threads.get_history(t)",
            self.client.threads.get_history(t1),
            show=lambda v: {"len": len(v)},
        )
        self.rec.fact(
            S,
            f"History default limit: the server returns {len(hist_get.json())} entry for GET "
            "without "
            f"`limit` and {len(hist_post.json())} for POST `{{}}`; the SDK's `get_history` sends "
            f"`limit=10` and got {len(hist_sdk)}. Entries are newest first.",
        )
        target = hist[4]
        ck = target["checkpoint"]["checkpoint_id"]
        steps = lambda b: (  # noqa: E731
            [(h["metadata"] or {}).get("step") for h in b] if isinstance(b, list) else b
        )
        await self.call(
            S,
            "history before",
            "POST",
            f"/threads/{t1}/history",
            json_body={"limit": 3, "before": {"configurable": {"checkpoint_id": ck}}},
            show=steps,
            note=f"`before` = the 5th newest checkpoint (step {target['metadata'].get('step')}); "
            "body shown as metadata.step list",
        )
        await self.call(
            S,
            "history metadata filter",
            "POST",
            f"/threads/{t1}/history",
            json_body={"metadata": {"step": 1}, "limit": 100},
            show=steps,
            note="body shown as metadata.step list",
        )
        await self.call(
            S,
            "history GET limit",
            "GET",
            f"/threads/{t1}/history",
            params={"limit": 2},
            show=steps,
            note="body shown as metadata.step list",
        )
        await self.call(S, "get_state at checkpoint", "GET", f"/threads/{t1}/state/{ck}")
        await self.call(
            S,
            "get_state at checkpoint (POST)",
            "POST",
            f"/threads/{t1}/state/checkpoint",
            json_body={"checkpoint": {"checkpoint_id": ck}},
            show=lambda b: (
                {"next": b.get("next"), "step": (b.get("metadata") or {}).get("step")}
                if isinstance(b, dict)
                else b
            ),
            note="body abbreviated",
        )
        await self.call(
            S,
            "get_state unknown checkpoint",
            "GET",
            f"/threads/{t1}/state/{uuid.uuid4()}",
        )
        await self.sdk(
            S,
            "get_state checkpoint_id (SDK)",
            "threads.get_state(t, checkpoint_id=<5th newest>)",
            self.client.threads.get_state(t1, checkpoint_id=ck),
            show=lambda v: {"next": v["next"], "step": v["metadata"]["step"]},
        )
        del st

        # update_state
        await self.call(
            S,
            "update_state",
            "POST",
            f"/threads/{t1}/state",
            json_body={"values": {"log": ["manual"]}},
        )
        await self.call(
            S,
            "state after update_state",
            "GET",
            f"/threads/{t1}/state",
            show=lambda b: {
                "next": b["next"],
                "metadata": b["metadata"],
                "log_tail": b["values"]["log"][-2:],
            },
            note="body abbreviated",
        )
        await self.call(
            S,
            "update_state as_node",
            "POST",
            f"/threads/{t1}/state",
            json_body={"values": {"log": ["as-a"]}, "as_node": "a"},
        )
        await self.call(
            S,
            "state after as_node=a",
            "GET",
            f"/threads/{t1}/state",
            show=lambda b: {"next": b["next"], "metadata": b["metadata"]},
            note="body abbreviated",
        )
        await self.call(
            S,
            "update_state unknown as_node",
            "POST",
            f"/threads/{t1}/state",
            json_body={"values": {"log": ["x"]}, "as_node": "nope"},
        )
        await self.call(
            S,
            "update_state on brand new thread",
            "POST",
            f"/threads/{fresh}/state",
            json_body={"values": {"log": ["x"]}},
        )
        t_upd = await self.new_thread()
        await self.client.runs.wait(t_upd, "slow", input={})
        await self.idle(t_upd)
        busy = await self.create_run(t_upd, "slow", input={"delay": 1})
        await self.wait_run(t_upd, busy["run_id"], {"running"})
        await self.call(
            S,
            "update_state during a run",
            "POST",
            f"/threads/{t_upd}/state",
            json_body={"values": {"log": ["x"]}},
        )
        await self.sdk(
            S,
            "update_state during a run (SDK)",
            "threads.update_state(t, {...})",
            self.client.threads.update_state(t_upd, {"log": ["x"]}),
        )
        await self.call(
            S,
            "PATCH while a run is in flight",
            "PATCH",
            f"/threads/{t_upd}",
            json_body={"metadata": {"while": "busy"}},
            show=lambda b: {"status": b.get("status"), "metadata": b.get("metadata")},
            note="PATCH is allowed while busy; body abbreviated",
        )
        await self.client.runs.join(t_upd, busy["run_id"])

        # copy
        r = await self.call(S, "copy", "POST", f"/threads/{t1}/copy")
        if r.status_code == 200:
            cid = r.json()["thread_id"]
            await self.call(
                S,
                "copy: get_state of copy",
                "GET",
                f"/threads/{cid}/state",
                show=lambda b: {
                    "values.log": b["values"].get("log"),
                    "next": b["next"],
                    "checkpoint_ns": b["checkpoint"]["checkpoint_ns"],
                },
                note="body abbreviated",
            )
            await self.call(
                S,
                "copy: history length",
                "POST",
                f"/threads/{cid}/history",
                json_body={"limit": 100},
                show=lambda b: {"len": len(b)},
            )
            await self.call(
                S,
                "copy: runs of copy",
                "GET",
                f"/threads/{cid}/runs",
                show=lambda b: {"len": len(b)},
            )
        await self.call(S, "copy unknown", "POST", f"/threads/{uuid.uuid4()}/copy")

        # search
        tag = uuid.uuid4().hex[:8]
        ids = []
        for i in range(12):
            ids.append(await self.new_thread(metadata={"probe": tag, "n": i}))
        bt = ids[5]
        r5 = await self.create_run(bt, "slow", input={"delay": 1})
        await self.wait_run(bt, r5["run_id"], {"running"})
        ns = lambda b: [t["metadata"]["n"] for t in b] if isinstance(b, list) else b  # noqa: E731
        await self.call(
            S,
            "search, metadata only",
            "POST",
            "/threads/search",
            json_body={"metadata": {"probe": tag}},
            show=ns,
            all_headers=True,
            note="12 matching threads; body shown as metadata.n of each result",
        )
        await self.sdk(
            S,
            "search (SDK)",
            "threads.search(metadata={probe})",
            self.client.threads.search(metadata={"probe": tag}),
            show=lambda v: {"len": len(v)},
        )
        await self.call(
            S,
            "search limit/offset",
            "POST",
            "/threads/search",
            json_body={"metadata": {"probe": tag}, "limit": 3, "offset": 2},
            show=ns,
        )
        await self.call(
            S,
            "search sort asc",
            "POST",
            "/threads/search",
            json_body={
                "metadata": {"probe": tag},
                "sort_by": "created_at",
                "sort_order": "asc",
                "limit": 20,
            },
            show=ns,
        )
        await self.call(
            S,
            "search status=busy",
            "POST",
            "/threads/search",
            json_body={"metadata": {"probe": tag}, "status": "busy"},
            show=ns,
        )
        await self.call(
            S,
            "search status=idle",
            "POST",
            "/threads/search",
            json_body={"metadata": {"probe": tag}, "status": "idle", "limit": 20},
            show=lambda b: {"len": len(b)} if isinstance(b, list) else b,
        )
        await self.call(
            S,
            "search status bogus",
            "POST",
            "/threads/search",
            json_body={"status": "bogus"},
        )
        await self.call(
            S,
            "search sort_by bogus",
            "POST",
            "/threads/search",
            json_body={"sort_by": "bogus"},
        )
        await self.call(
            S,
            "search ids",
            "POST",
            "/threads/search",
            json_body={"ids": ids[:2]},
            show=ns,
        )
        await self.call(
            S,
            "search select",
            "POST",
            "/threads/search",
            json_body={"metadata": {"probe": tag}, "select": ["thread_id", "status"], "limit": 1},
        )
        await self.call(
            S, "count", "POST", "/threads/count", json_body={"metadata": {"probe": tag}}
        )
        await self.client.runs.join(bt, r5["run_id"])

        # delete
        dt = ids[0]
        await self.call(S, "delete", "DELETE", f"/threads/{dt}")
        await self.call(S, "get deleted", "GET", f"/threads/{dt}")
        await self.call(S, "delete again", "DELETE", f"/threads/{dt}")
        await self.sdk(
            S,
            "delete unknown (SDK)",
            "threads.delete(<unknown>)",
            self.client.threads.delete(str(uuid.uuid4())),
        )

    async def probe_runs(self) -> None:
        S = "runs"
        t = await self.new_thread()
        r = await self.call(
            S,
            "create",
            "POST",
            f"/threads/{t}/runs",
            json_body={"assistant_id": "slow", "input": {"delay": 0}},
            all_headers=True,
        )
        run = r.json()
        rid = run["run_id"]
        await self.call(S, "get (just created)", "GET", f"/threads/{t}/runs/{rid}")
        await self.sdk(
            S,
            "create (SDK)",
            "runs.create(t, 'slow', input={...}) — return type and keys",
            self.client.runs.create(t, "slow", input={"delay": 0}),
            show=lambda v: {"type": type(v).__name__, "keys": sorted(v)},
        )
        await self.client.runs.join(t, rid)
        await self.idle(t)
        await self.call(S, "get (finished)", "GET", f"/threads/{t}/runs/{rid}")
        await self.call(S, "get unknown run", "GET", f"/threads/{t}/runs/{uuid.uuid4()}")
        await self.call(
            S, "get run via other thread", "GET", f"/threads/{await self.new_thread()}/runs/{rid}"
        )

        # wait
        await self.call(
            S,
            "wait",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "slow", "input": {"delay": 0}},
            all_headers=True,
        )
        await self.sdk(
            S,
            "wait (SDK)",
            "runs.wait(t, 'slow', input={...})",
            self.client.runs.wait(t, "slow", input={"delay": 0}),
        )
        await self.call(
            S,
            "wait, stream_mode updates",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "slow", "input": {"delay": 0}, "stream_mode": ["updates"]},
            note="wait's body is the last *values* state whatever stream_mode says",
        )

        # list order + status filter
        tl = await self.new_thread()
        made = []
        for _ in range(3):
            made.append((await self.create_run(tl, "slow", input={"delay": 0.3}))["run_id"])
        labels = {rid_: f"R{i + 1}" for i, rid_ in enumerate(made)}
        show_list = lambda b: (  # noqa: E731
            [f"{labels.get(x['run_id'], '?')}:{x['status']}" for x in b]
            if isinstance(b, list)
            else b
        )
        await self.call(
            S,
            "list (3 enqueued runs)",
            "GET",
            f"/threads/{tl}/runs",
            show=show_list,
            note="R1..R3 in creation order; body shown as label:status",
        )
        await self.call(
            S,
            "list status=pending",
            "GET",
            f"/threads/{tl}/runs",
            params={"status": "pending"},
            show=show_list,
        )
        await self.call(
            S,
            "list status=bogus",
            "GET",
            f"/threads/{tl}/runs",
            params={"status": "bogus"},
        )
        await self.call(
            S,
            "list select",
            "GET",
            f"/threads/{tl}/runs",
            params={"select": "run_id", "limit": 1},
        )
        await self.sdk(
            S,
            "list (SDK)",
            "runs.list(t)",
            self.client.runs.list(tl),
            show=lambda v: [f"{labels.get(x['run_id'], '?')}:{x['status']}" for x in v],
        )
        for x in made:
            await self.client.runs.join(tl, x)
        await self.idle(tl)
        await self.call(
            S,
            "list after all finished",
            "GET",
            f"/threads/{tl}/runs",
            show=show_list,
        )
        await self.call(S, "list unknown thread", "GET", f"/threads/{uuid.uuid4()}/runs")

        # default limit with parked runs
        td = await self.new_thread()
        parked = []
        for _ in range(12):
            parked.append(
                (await self.create_run(td, "slow", input={}, after_seconds=600))["run_id"]
            )
        await self.call(
            S,
            "list default limit (12 runs exist)",
            "GET",
            f"/threads/{td}/runs",
            show=lambda b: {"len": len(b)},
        )
        await self.call(
            S,
            "list limit=20",
            "GET",
            f"/threads/{td}/runs",
            params={"limit": 20},
            show=lambda b: {"len": len(b)},
        )
        await self.call(
            S,
            "list offset=10",
            "GET",
            f"/threads/{td}/runs",
            params={"offset": 10},
            show=lambda b: {"len": len(b)},
        )
        await self.http.post("/runs/cancel", json={"thread_id": td, "run_ids": parked})

        # delete
        await self.call(S, "delete finished run", "DELETE", f"/threads/{t}/runs/{rid}")
        await self.call(S, "get deleted run", "GET", f"/threads/{t}/runs/{rid}")
        await self.call(S, "delete again", "DELETE", f"/threads/{t}/runs/{rid}")
        log_before = len((await self.http.get(f"/threads/{t}/state")).json()["values"]["log"])
        busy = await self.create_run(t, "slow", input={"delay": 1})
        await self.wait_run(t, busy["run_id"], {"running"})
        await self.call(S, "delete running run", "DELETE", f"/threads/{t}/runs/{busy['run_id']}")
        await self.call(
            S,
            "get it after delete attempt",
            "GET",
            f"/threads/{t}/runs/{busy['run_id']}",
            show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
        )
        await self.sdk(
            S,
            "delete the same run again (SDK)",
            "runs.delete(t, <just deleted>)",
            self.client.runs.delete(t, busy["run_id"]),
        )
        seen = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < 6:
            st = await self.thread_status(t)
            if not seen or seen[-1][1] != st:
                seen.append((round(time.monotonic() - t0, 1), st))
            await asyncio.sleep(0.1)
        log_after = len((await self.http.get(f"/threads/{t}/state")).json()["values"]["log"])
        self.rec.fact(
            S,
            "Deleting a *running* run (`slow`, delay 1) answers 204 and GET on it is 404 at once, "
            "but the thread's status over the next 6 s was "
            + ", ".join(f"`{st}` (t={ts}s)" for ts, st in seen)
            + f"; `values.log` grew from {log_before} to {log_after} entries, i.e. the deleted "
            "run's graph kept executing and writing checkpoints.",
        )
        t2 = await self.new_thread()
        await self.client.runs.wait(t2, "slow", input={})
        done = (await self.client.runs.list(t2))[0]["run_id"]
        await self.sdk(
            S,
            "delete (SDK) on a finished run",
            "runs.delete(t, <finished>)",
            self.client.runs.delete(t2, done),
        )

    async def probe_join(self) -> None:
        S = "join"
        t = await self.new_thread()
        rid = (await self.create_run(t, "slow", input={"delay": 0}))["run_id"]
        await self.call(
            S, "join, success", "GET", f"/threads/{t}/runs/{rid}/join", all_headers=True
        )
        await self.call(S, "join again, finished", "GET", f"/threads/{t}/runs/{rid}/join")
        await self.sdk(S, "join, success (SDK)", "runs.join(t, r)", self.client.runs.join(t, rid))

        tf = await self.new_thread()
        fr = (await self.create_run(tf, "fail", input={}))["run_id"]
        await self.call(S, "join, error", "GET", f"/threads/{tf}/runs/{fr}/join")
        await self.sdk(S, "join, error (SDK)", "runs.join(t, r)", self.client.runs.join(tf, fr))

        # interrupted while joined
        ti = await self.new_thread()
        r1 = (await self.create_run(ti, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(ti, "a")
        jt = asyncio.create_task(
            self.call(
                S,
                "join, run cancelled (interrupt) while waiting",
                "GET",
                f"/threads/{ti}/runs/{r1}/join",
            )
        )
        await asyncio.sleep(0.2)
        await self.http.post(f"/threads/{ti}/runs/{r1}/cancel", params={"action": "interrupt"})
        await jt
        await self.idle(ti)
        await self.call(
            S, "join, interrupted run, afterwards", "GET", f"/threads/{ti}/runs/{r1}/join"
        )

        # rolled back while waiting
        tr = await self.new_thread()
        r2 = (await self.create_run(tr, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(tr, "a")
        jt = asyncio.create_task(
            self.call(
                S, "join, run rolled back while waiting", "GET", f"/threads/{tr}/runs/{r2}/join"
            )
        )
        await asyncio.sleep(0.2)
        await self.http.post(f"/threads/{tr}/runs/{r2}/cancel", params={"action": "rollback"})
        await jt
        await asyncio.sleep(0.3)
        await self.call(
            S, "GET the rolled-back run (a joiner was attached)", "GET", f"/threads/{tr}/runs/{r2}"
        )

        # pending run cancelled while joined
        tp = await self.new_thread()
        b1 = (await self.create_run(tp, "slow", input={"delay": 1}))["run_id"]
        p1 = (await self.create_run(tp, "slow", input={}))["run_id"]
        jt = asyncio.create_task(
            self.call(
                S,
                "join, pending run cancelled while waiting",
                "GET",
                f"/threads/{tp}/runs/{p1}/join",
            )
        )
        await asyncio.sleep(0.2)
        await self.http.post(f"/threads/{tp}/runs/{p1}/cancel")
        await jt
        await self.client.runs.join(tp, b1)

        # HITL stop
        th = await self.new_thread()
        hr = (await self.create_run(th, "hitl", input={}, interrupt_before=["b"]))["run_id"]
        await self.call(
            S, "join, stopped at interrupt_before", "GET", f"/threads/{th}/runs/{hr}/join"
        )
        tdn = await self.new_thread()
        dr = (await self.create_run(tdn, "dyn", input={}))["run_id"]
        await self.call(S, "join, dynamic interrupt()", "GET", f"/threads/{tdn}/runs/{dr}/join")

        await self.call(S, "join, unknown run", "GET", f"/threads/{t}/runs/{uuid.uuid4()}/join")
        await self.call(
            S, "join, unknown thread", "GET", f"/threads/{uuid.uuid4()}/runs/{rid}/join"
        )
        await self.sdk(
            S,
            "join, unknown run (SDK)",
            "runs.join(t, <unknown>)",
            self.client.runs.join(t, str(uuid.uuid4())),
        )

    async def probe_stream(self) -> None:
        S = "stream"
        t = await self.new_thread()
        await self.sse(
            S,
            "values+updates",
            "POST",
            f"/threads/{t}/runs/stream",
            json_body={
                "assistant_id": "slow",
                "input": {"delay": 0},
                "stream_mode": ["values", "updates"],
            },
        )
        await self.sse(
            S,
            "default stream_mode",
            "POST",
            f"/threads/{await self.new_thread()}/runs/stream",
            json_body={"assistant_id": "slow", "input": {"delay": 0}},
        )
        await self.sse(
            S,
            "input {} (writes no channel)",
            "POST",
            f"/threads/{await self.new_thread()}/runs/stream",
            json_body={"assistant_id": "hitl", "input": {}, "stream_mode": ["values"]},
            note="no initial values event when the input writes nothing",
        )
        tc = await self.new_thread()
        await self.sse(
            S,
            "messages-tuple",
            "POST",
            f"/threads/{tc}/runs/stream",
            json_body={
                "assistant_id": "chat",
                "input": {"messages": [{"role": "user", "content": "hi"}]},
                "stream_mode": "messages-tuple",
            },
        )
        await self.sse(
            S,
            "messages",
            "POST",
            f"/threads/{tc}/runs/stream",
            json_body={
                "assistant_id": "chat",
                "input": {"messages": [{"role": "user", "content": "again"}]},
                "stream_mode": "messages",
            },
        )
        await self.sse(
            S,
            "custom",
            "POST",
            f"/threads/{t}/runs/stream",
            json_body={"assistant_id": "slow", "input": {}, "stream_mode": "custom"},
        )
        th = await self.new_thread()
        await self.sse(
            S,
            "debug (hitl, 2 nodes)",
            "POST",
            f"/threads/{th}/runs/stream",
            json_body={"assistant_id": "hitl", "input": {}, "stream_mode": "debug"},
            max_chars=9000,
        )
        await self.sse(
            S,
            "tasks+checkpoints",
            "POST",
            f"/threads/{th}/runs/stream",
            json_body={
                "assistant_id": "hitl",
                "input": {},
                "stream_mode": ["tasks", "checkpoints"],
            },
            max_chars=9000,
        )
        await self.sse(
            S,
            "events (abbreviated)",
            "POST",
            f"/threads/{th}/runs/stream",
            json_body={"assistant_id": "hitl", "input": {}, "stream_mode": "events"},
            max_chars=1500,
        )
        await self.sse(
            S,
            "subgraphs=true, updates",
            "POST",
            f"/threads/{th}/runs/stream",
            json_body={
                "assistant_id": "hitl",
                "input": {},
                "stream_mode": "updates",
                "stream_subgraphs": True,
            },
        )
        tf = await self.new_thread()
        await self.sse(
            S,
            "failing graph",
            "POST",
            f"/threads/{tf}/runs/stream",
            json_body={"assistant_id": "fail", "input": {}, "stream_mode": ["values", "updates"]},
        )
        tx = await self.new_thread()
        await self.sse(
            S,
            "interrupt_before=b",
            "POST",
            f"/threads/{tx}/runs/stream",
            json_body={
                "assistant_id": "hitl",
                "input": {},
                "stream_mode": ["values", "updates"],
                "interrupt_before": ["b"],
            },
        )
        tdn = await self.new_thread()
        await self.sse(
            S,
            "dynamic interrupt()",
            "POST",
            f"/threads/{tdn}/runs/stream",
            json_body={"assistant_id": "dyn", "input": {}, "stream_mode": ["values", "updates"]},
        )
        await self.sse(
            S,
            "resume dynamic interrupt via command",
            "POST",
            f"/threads/{tdn}/runs/stream",
            json_body={
                "assistant_id": "dyn",
                "command": {"resume": "yes"},
                "stream_mode": ["values", "updates"],
            },
        )

        # interrupted mid-stream by a double-text
        for strategy in ("interrupt", "rollback"):
            tm = await self.new_thread()
            seen_values = asyncio.Event()

            def watch(text: str, _: Any, ev: asyncio.Event = seen_values) -> None:
                if text.count("event: values") >= 2:
                    ev.set()

            task = asyncio.create_task(
                self.sse(
                    S,
                    f"stream cut by multitask_strategy={strategy}",
                    "POST",
                    f"/threads/{tm}/runs/stream",
                    json_body={
                        "assistant_id": "slow",
                        "input": {"delay": 1},
                        "stream_mode": ["values"],
                    },
                    on_event=watch,
                    note="a second run with this strategy was created after the 2nd values "
                    "event (node a done)",
                )
            )
            await asyncio.wait_for(seen_values.wait(), 15)
            await self.create_run(tm, "slow", input={}, multitask_strategy=strategy)
            await asyncio.wait_for(task, 20)
            await self.idle(tm)

        # cancel(interrupt) mid-stream, and join_stream
        tj = await self.new_thread()
        jr = (
            await self.create_run(
                tj, "slow", input={"delay": 0.5}, stream_mode=["values", "updates"]
            )
        )["run_id"]
        await self.wait_run(tj, jr, {"running"})
        await self.sse(
            S,
            "join_stream on a running run",
            "GET",
            f"/threads/{tj}/runs/{jr}/stream",
            note="run created with stream_mode [values, updates]; joined after it started running",
        )
        await self.sse(
            S,
            "join_stream on a finished run",
            "GET",
            f"/threads/{tj}/runs/{jr}/stream",
        )
        _, text, events = await self.sse(
            S,
            "stream_resumable=true",
            "POST",
            f"/threads/{tj}/runs/stream",
            json_body={
                "assistant_id": "slow",
                "input": {},
                "stream_mode": ["values", "updates"],
                "stream_resumable": True,
            },
        )
        m = re.search(r"/threads/[^/]+/runs/([0-9a-f-]{36})", text) or None
        runs_now = (await self.http.get(f"/threads/{tj}/runs")).json()
        jr2 = runs_now[0]["run_id"]
        ids = [e["id"] for e in events if e.get("id")]
        await self.sse(
            S,
            "join_stream on a finished resumable run",
            "GET",
            f"/threads/{tj}/runs/{jr2}/stream",
            note="no Last-Event-ID header",
        )
        if len(ids) >= 3:
            await self.sse(
                S,
                "join_stream, resumable, Last-Event-ID",
                "GET",
                f"/threads/{tj}/runs/{jr2}/stream",
                headers={"Last-Event-ID": ids[2]},
                note="Last-Event-ID = the id of the 3rd event above",
            )
            await self.sse(
                S,
                "join_stream, resumable, Last-Event-ID, stream_mode=values",
                "GET",
                f"/threads/{tj}/runs/{jr2}/stream",
                params={"stream_mode": "values"},
                headers={"Last-Event-ID": ids[0]},
                note="Last-Event-ID = the id of the 1st event above",
            )
        del m
        r = await self.call(
            S, "join_stream unknown run", "GET", f"/threads/{tj}/runs/{uuid.uuid4()}/stream"
        )
        del r
        tk = await self.new_thread()
        kr = (await self.create_run(tk, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(tk, "a")
        cancel_later = asyncio.create_task(self._cancel_after(tk, kr, 1.3))
        await self.sse(
            S,
            "join_stream while the run is cancelled (interrupt)",
            "GET",
            f"/threads/{tk}/runs/{kr}/stream",
            params={"stream_mode": "values"},
            note="joined after node a finished; cancelled 1.3 s later, i.e. after node b",
        )
        await cancel_later
        await self.idle(tk)

        # SDK view of a stream
        ts = await self.new_thread()
        parts = []

        async def collect() -> list[dict[str, Any]]:
            async for p in self.client.runs.stream(
                ts, "slow", input={}, stream_mode=["values", "updates"]
            ):
                parts.append(
                    {
                        "event": p.event,
                        "data": p.data,
                        **({"id": p.id} if getattr(p, "id", None) else {}),
                    }
                )
            return parts

        await self.sdk(
            S,
            "SDK runs.stream parts",
            "[{event, data} for p in runs.stream(t, 'slow', stream_mode=['values','updates'])]",
            collect(),
        )
        self.rec.fact(
            S,
            f"SSE framing: line endings {sorted(self.sse_line_endings)}; "
            f"{self.sse_comments} comment/heartbeat lines (`:`-prefixed) seen in all streams "
            f"above; every event name seen: `{sorted(self.sse_event_names)}`.",
        )

    async def _cancel_after(
        self, tid: str, rid: str, delay: float, action: str = "interrupt"
    ) -> None:
        await asyncio.sleep(delay)
        await self.http.post(f"/threads/{tid}/runs/{rid}/cancel", params={"action": action})

    async def probe_cancel(self) -> None:
        S = "cancel"
        t = await self.new_thread()
        r1 = (await self.create_run(t, "slow", input={"delay": 1}))["run_id"]
        r2 = (await self.create_run(t, "slow", input={}))["run_id"]
        await self.wait_run(t, r1, {"running"})
        await self.call(
            S,
            "cancel pending run (wait=0)",
            "POST",
            f"/threads/{t}/runs/{r2}/cancel",
            all_headers=True,
        )
        await self.call(
            S,
            "pending run after cancel",
            "GET",
            f"/threads/{t}/runs/{r2}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.call(
            S,
            "thread right after (R1 still running)",
            "GET",
            f"/threads/{t}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.wait_log(t, "a")
        await self.call(
            S,
            "cancel running run (wait=1)",
            "POST",
            f"/threads/{t}/runs/{r1}/cancel",
            params={"wait": 1},
            all_headers=True,
        )
        await self.call(
            S,
            "run after cancel",
            "GET",
            f"/threads/{t}/runs/{r1}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.idle(t)
        await self.call(
            S,
            "thread after cancel",
            "GET",
            f"/threads/{t}",
            show=lambda b: {
                "status": b.get("status"),
                "values": b.get("values"),
                "interrupts": b.get("interrupts"),
            },
        )
        await self.call(
            S,
            "state after cancel",
            "GET",
            f"/threads/{t}/state",
            show=lambda b: {
                "next": b.get("next"),
                "tasks": b.get("tasks"),
                "interrupts": b.get("interrupts"),
            },
        )
        await self.call(S, "cancel finished run", "POST", f"/threads/{t}/runs/{r1}/cancel")
        await self.call(
            S,
            "cancel finished run (wait=1)",
            "POST",
            f"/threads/{t}/runs/{r1}/cancel",
            params={"wait": 1},
        )
        await self.call(S, "cancel unknown run", "POST", f"/threads/{t}/runs/{uuid.uuid4()}/cancel")
        await self.call(
            S, "cancel on unknown thread", "POST", f"/threads/{uuid.uuid4()}/runs/{r1}/cancel"
        )
        await self.call(
            S,
            "cancel bad action, finished run",
            "POST",
            f"/threads/{t}/runs/{r1}/cancel",
            params={"action": "bogus"},
        )
        for label, params in (
            ("action=bogus", {"action": "bogus"}),
            ("wait=bogus", {"wait": "bogus"}),
            ("wait=true", {"wait": "true"}),
            ("action=ROLLBACK", {"action": "ROLLBACK"}),
        ):
            live = (await self.create_run(t, "slow", input={}, after_seconds=600))["run_id"]
            await self.call(
                S,
                f"cancel {label}, pending run",
                "POST",
                f"/threads/{t}/runs/{live}/cancel",
                params=params,
            )
            await self.call(
                S,
                f"… that run afterwards ({label})",
                "GET",
                f"/threads/{t}/runs/{live}",
                show=lambda b: {"status": b.get("status")},
            )

        # rollback, no subscriber
        tr = await self.new_thread()
        await self.client.runs.wait(tr, "slow", input={})
        await self.idle(tr)
        rb = (await self.create_run(tr, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(tr, "b")
        await self.call(
            S,
            "cancel running run, action=rollback",
            "POST",
            f"/threads/{tr}/runs/{rb}/cancel",
            params={"action": "rollback"},
        )
        await self.call(S, "rolled-back run, immediately", "GET", f"/threads/{tr}/runs/{rb}")
        await asyncio.sleep(2.5)
        await self.call(
            S,
            "thread 2.5 s after rollback",
            "GET",
            f"/threads/{tr}",
            show=lambda b: {"status": b.get("status"), "values": b.get("values")},
        )
        await self.call(
            S,
            "state 2.5 s after rollback",
            "GET",
            f"/threads/{tr}/state",
            show=lambda b: {
                "next": b.get("next"),
                "values.log": (b.get("values") or {}).get("log"),
                "step": (b.get("metadata") or {}).get("step"),
            },
        )
        await self.call(
            S,
            "runs.list after rollback",
            "GET",
            f"/threads/{tr}/runs",
            show=lambda b: [x["status"] for x in b],
        )
        # rollback with wait=1
        tr2 = await self.new_thread()
        rb2 = (await self.create_run(tr2, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(tr2, "a")
        await self.call(
            S,
            "cancel running run, rollback, wait=1",
            "POST",
            f"/threads/{tr2}/runs/{rb2}/cancel",
            params={"action": "rollback", "wait": 1},
        )
        await self.call(S, "run after rollback wait=1", "GET", f"/threads/{tr2}/runs/{rb2}")
        await self.call(
            S,
            "thread after rollback wait=1",
            "GET",
            f"/threads/{tr2}",
            show=lambda b: {"status": b.get("status"), "values": b.get("values")},
        )

        # SDK return values
        t3 = await self.new_thread()
        a = (await self.create_run(t3, "slow", input={"delay": 1}))["run_id"]
        b = (await self.create_run(t3, "slow", input={}))["run_id"]
        await self.sdk(
            S, "SDK cancel pending", "runs.cancel(t, pending)", self.client.runs.cancel(t3, b)
        )
        await self.wait_run(t3, a, {"running"})
        await self.sdk(
            S,
            "SDK cancel running, wait=True",
            "runs.cancel(t, running, wait=True)",
            self.client.runs.cancel(t3, a, wait=True),
        )
        await self.sdk(
            S, "SDK cancel finished", "runs.cancel(t, finished)", self.client.runs.cancel(t3, a)
        )
        await self.idle(t3)

        # cancel_many
        tm = await self.new_thread()
        parked = [
            (await self.create_run(tm, "slow", input={}, after_seconds=600))["run_id"]
            for _ in range(3)
        ]
        await self.call(
            S,
            "cancel_many by thread+run_ids",
            "POST",
            "/runs/cancel",
            json_body={"thread_id": tm, "run_ids": parked[:2]},
            all_headers=True,
        )
        await self.call(
            S,
            "runs after cancel_many",
            "GET",
            f"/threads/{tm}/runs",
            show=lambda b: sorted(x["status"] for x in b),
        )
        await self.call(
            S,
            "cancel_many, same ids again",
            "POST",
            "/runs/cancel",
            json_body={"thread_id": tm, "run_ids": parked[:2]},
        )
        await self.call(
            S,
            "cancel_many by status=pending",
            "POST",
            "/runs/cancel",
            json_body={"status": "pending"},
        )
        await self.call(
            S,
            "runs after status=pending",
            "GET",
            f"/threads/{tm}/runs",
            show=lambda b: sorted(x["status"] for x in b),
        )
        await self.call(
            S,
            "cancel_many status=pending, none left",
            "POST",
            "/runs/cancel",
            json_body={"status": "pending"},
        )
        await self.call(
            S,
            "cancel_many thread+run_ids+status",
            "POST",
            "/runs/cancel",
            json_body={"thread_id": tm, "run_ids": parked, "status": "pending"},
        )
        await self.call(
            S,
            "cancel_many run_ids without thread",
            "POST",
            "/runs/cancel",
            json_body={"run_ids": parked},
        )
        await self.call(
            S,
            "cancel_many thread without run_ids",
            "POST",
            "/runs/cancel",
            json_body={"thread_id": tm},
        )
        await self.call(S, "cancel_many empty body", "POST", "/runs/cancel", json_body={})
        await self.call(
            S, "cancel_many status=bogus", "POST", "/runs/cancel", json_body={"status": "bogus"}
        )
        await self.call(
            S,
            "cancel_many action=rollback query",
            "POST",
            "/runs/cancel",
            params={"action": "rollback"},
            json_body={"thread_id": tm, "run_ids": parked},
        )
        await self.sdk(
            S,
            "SDK cancel_many",
            "runs.cancel_many(thread_id=t, run_ids=[finished])",
            self.client.runs.cancel_many(thread_id=tm, run_ids=parked),
        )
        tq = await self.new_thread()
        parked = [
            (await self.create_run(tq, "slow", input={}, after_seconds=600))["run_id"]
            for _ in range(2)
        ]
        await self.sdk(
            S,
            "SDK cancel_many (pending)",
            "runs.cancel_many(thread_id=t, run_ids=[pending])",
            self.client.runs.cancel_many(thread_id=tq, run_ids=parked),
        )

    async def probe_options(self) -> None:
        S = "options"
        # batch
        await self.call(
            S,
            "create_batch",
            "POST",
            "/runs/batch",
            json_body=[
                {"assistant_id": "slow", "input": {}},
                {"assistant_id": "hitl", "input": {}},
            ],
            show=lambda b: (
                {
                    "len": len(b),
                    "first": b[0],
                    "thread_ids_differ": b[0]["thread_id"] != b[1]["thread_id"],
                }
                if isinstance(b, list)
                else b
            ),
        )
        await self.call(
            S,
            "create_batch, one bad item",
            "POST",
            "/runs/batch",
            json_body=[{"assistant_id": "slow"}, {"input": {}}],
        )
        await self.call(S, "create_batch, empty", "POST", "/runs/batch", json_body=[])
        await self.sdk(
            S,
            "create_batch (SDK)",
            "runs.create_batch([{assistant_id:'slow'}])",
            self.client.runs.create_batch([{"assistant_id": "slow", "input": {}}]),
            show=lambda v: {"type": type(v).__name__, "len": len(v)},
        )
        # stateless
        r = await self.call(
            S,
            "stateless wait",
            "POST",
            "/runs/wait",
            json_body={"assistant_id": "slow", "input": {"delay": 0}},
            all_headers=True,
        )
        loc = r.headers.get("content-location", "")
        m = re.search(r"/threads/([^/]+)/runs/([^/]+)", loc)
        if m:
            await asyncio.sleep(1.0)
            await self.call(S, "its temporary thread, 1 s later", "GET", f"/threads/{m.group(1)}")
            await self.call(
                S, "its run, 1 s later", "GET", f"/threads/{m.group(1)}/runs/{m.group(2)}"
            )
        r = await self.call(
            S,
            "stateless wait, on_completion=keep",
            "POST",
            "/runs/wait",
            json_body={"assistant_id": "slow", "input": {"delay": 0}, "on_completion": "keep"},
        )
        m = re.search(r"/threads/([^/]+)/runs/([^/]+)", r.headers.get("content-location", ""))
        if m:
            await asyncio.sleep(1.0)
            await self.call(S, "kept thread", "GET", f"/threads/{m.group(1)}")
            await self.call(S, "kept thread state", "GET", f"/threads/{m.group(1)}/state")
            await self.call(
                S,
                "kept run",
                "GET",
                f"/threads/{m.group(1)}/runs/{m.group(2)}",
                show=lambda b: (
                    {k: b.get(k) for k in ("status", "kwargs")} if isinstance(b, dict) else b
                ),
            )
        await self.sdk(
            S,
            "stateless wait (SDK)",
            "runs.wait(None, 'slow', input={})",
            self.client.runs.wait(None, "slow", input={}),
        )
        r = await self.call(
            S,
            "stateless create",
            "POST",
            "/runs",
            json_body={"assistant_id": "slow", "input": {}},
            all_headers=True,
        )
        if r.status_code == 200:
            run = r.json()
            await self.client.runs.join(run["thread_id"], run["run_id"])
            await asyncio.sleep(0.5)
            await self.call(
                S, "stateless create: thread after run", "GET", f"/threads/{run['thread_id']}"
            )
        await self.sse(
            S,
            "stateless stream",
            "POST",
            "/runs/stream",
            json_body={"assistant_id": "slow", "input": {}, "stream_mode": ["updates"]},
        )
        await self.call(
            S,
            "stateless with command.resume",
            "POST",
            "/runs",
            json_body={"assistant_id": "dyn", "command": {"resume": 1}},
        )
        await self.call(
            S,
            "stateless, multitask_strategy=reject",
            "POST",
            "/runs/wait",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
            show=lambda b: b if not isinstance(b, dict) or "log" not in b else {"log": b["log"]},
        )

        # if_not_exists
        unknown = str(uuid.uuid4())
        await self.call(
            S,
            "run on unknown thread (default)",
            "POST",
            f"/threads/{unknown}/runs",
            json_body={"assistant_id": "slow", "input": {}},
        )
        await self.sdk(
            S,
            "run on unknown thread (SDK)",
            "runs.create(<unknown>, 'slow')",
            self.client.runs.create(unknown, "slow", input={}),
        )
        await self.call(
            S,
            "wait on unknown thread",
            "POST",
            f"/threads/{unknown}/runs/wait",
            json_body={"assistant_id": "slow", "input": {}},
        )
        await self.call(
            S,
            "if_not_exists=reject",
            "POST",
            f"/threads/{unknown}/runs",
            json_body={"assistant_id": "slow", "input": {}, "if_not_exists": "reject"},
        )
        r = await self.call(
            S,
            "if_not_exists=create",
            "POST",
            f"/threads/{unknown}/runs",
            json_body={"assistant_id": "slow", "input": {}, "if_not_exists": "create"},
        )
        if r.status_code == 200:
            await self.client.runs.join(unknown, r.json()["run_id"])
            await self.idle(unknown)
            await self.call(
                S,
                "thread created by if_not_exists",
                "GET",
                f"/threads/{unknown}",
                show=lambda b: {k: b.get(k) for k in ("status", "metadata", "config")},
            )
        await self.call(
            S,
            "if_not_exists=bogus",
            "POST",
            f"/threads/{unknown}/runs",
            json_body={"assistant_id": "slow", "if_not_exists": "bogus"},
        )

        # after_seconds
        ta = await self.new_thread()
        t0 = time.time()
        r = await self.call(
            S,
            "after_seconds=3",
            "POST",
            f"/threads/{ta}/runs",
            json_body={"assistant_id": "slow", "input": {}, "after_seconds": 3},
            show=lambda b: {k: b.get(k) for k in ("status", "created_at", "updated_at", "kwargs")},
        )
        ar = r.json()
        from datetime import datetime

        created = datetime.fromisoformat(ar["created_at"]).timestamp()
        self.rec.fact(
            S,
            f"With `after_seconds=3` the run's `created_at` was {created - t0:+.1f} s from the "
            "request time (pushed into the future); `updated_at` is the real time.",
        )
        await self.call(
            S,
            "after_seconds: thread while waiting",
            "GET",
            f"/threads/{ta}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.call(
            S,
            "after_seconds: run at +0.5 s",
            "GET",
            f"/threads/{ta}/runs/{ar['run_id']}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.call(
            S,
            "after_seconds: reject while it waits",
            "POST",
            f"/threads/{ta}/runs",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        )
        st = await self.wait_run(ta, ar["run_id"], {"running", "success"}, limit_s=10)
        self.rec.fact(
            S,
            f"The delayed run left `pending` after {time.time() - t0:.1f} s "
            f"(first seen as `{st}`).",
        )
        await self.client.runs.join(ta, ar["run_id"])
        await self.call(
            S,
            "after_seconds=-5",
            "POST",
            f"/threads/{ta}/runs",
            json_body={"assistant_id": "slow", "input": {}, "after_seconds": -5},
            show=lambda b: (
                {k: b.get(k) for k in ("status", "created_at", "updated_at")}
                if isinstance(b, dict)
                else b
            ),
            note="accepted; created_at is set 5 s in the past",
        )
        await self.idle(ta)

        # checkpoint fork
        tk = await self.new_thread()
        await self.client.runs.wait(tk, "slow", input={})
        await self.idle(tk)
        hist = (await self.http.post(f"/threads/{tk}/history", json={"limit": 100})).json()
        fork = next(h for h in hist if h["next"] == ["b"])
        r = await self.call(
            S,
            "run with checkpoint_id (fork at next=[b])",
            "POST",
            f"/threads/{tk}/runs/wait",
            json_body={
                "assistant_id": "slow",
                "input": None,
                "checkpoint_id": fork["checkpoint"]["checkpoint_id"],
            },
        )
        await self.idle(tk)
        rows = await self.history_rows(tk, {})
        self.history_table(
            S,
            "History after forking at the `next=[b]` checkpoint and running with `input=None`",
            rows,
        )
        await self.call(
            S,
            "run with checkpoint (object)",
            "POST",
            f"/threads/{tk}/runs/wait",
            json_body={
                "assistant_id": "slow",
                "input": {},
                "checkpoint": {"checkpoint_id": fork["checkpoint"]["checkpoint_id"]},
            },
            note="with new input the fork starts a fresh __start__ step",
        )
        await self.idle(tk)
        await self.call(
            S,
            "run with unknown checkpoint_id",
            "POST",
            f"/threads/{tk}/runs/wait",
            json_body={"assistant_id": "slow", "input": {}, "checkpoint_id": str(uuid.uuid4())},
        )
        await self.idle(tk)

    async def probe_hitl(self) -> None:
        S = "hitl"

        async def snapshot(tid: str, rid: str, label: str) -> None:
            await self.call(
                S,
                f"{label}: run",
                "GET",
                f"/threads/{tid}/runs/{rid}",
                show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
            )
            await self.call(
                S,
                f"{label}: thread",
                "GET",
                f"/threads/{tid}",
                show=lambda b: {k: b.get(k) for k in ("status", "values", "interrupts", "error")},
            )
            await self.call(
                S,
                f"{label}: state",
                "GET",
                f"/threads/{tid}/state",
                show=lambda b: {k: b.get(k) for k in ("next", "tasks", "interrupts")},
            )

        t = await self.new_thread()
        r = await self.create_run(t, "hitl", input={}, interrupt_before=["b"])
        await self.call(S, "interrupt_before: join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
        await self.idle(t)
        await snapshot(t, r["run_id"], "stopped before b")
        await self.call(S, "stopped before b: full state", "GET", f"/threads/{t}/state")
        r2 = await self.create_run(t, "hitl", input=None)
        await self.call(
            S, "resume input=None: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join"
        )
        await self.idle(t)
        await snapshot(t, r2["run_id"], "after resume input=None")

        t = await self.new_thread()
        r = await self.create_run(t, "hitl", input={}, interrupt_before=["b"])
        await self.client.runs.join(t, r["run_id"])
        await self.idle(t)
        r2 = await self.create_run(t, "hitl", command={"resume": "go"})
        await self.call(
            S, "resume command={resume}: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join"
        )
        await self.idle(t)
        await snapshot(t, r2["run_id"], "after command resume")

        t = await self.new_thread()
        r = await self.create_run(t, "hitl", input={}, interrupt_before=["b"])
        await self.client.runs.join(t, r["run_id"])
        await self.idle(t)
        r2 = await self.create_run(t, "hitl", input={"log": ["new"]})
        await self.call(
            S,
            "new input on an interrupted thread: join",
            "GET",
            f"/threads/{t}/runs/{r2['run_id']}/join",
            note="new input restarts from __start__ instead of resuming",
        )
        await self.idle(t)

        t = await self.new_thread()
        r = await self.create_run(t, "hitl", input={}, interrupt_after=["a"])
        await self.call(
            S, "interrupt_after=[a]: join", "GET", f"/threads/{t}/runs/{r['run_id']}/join"
        )
        await self.idle(t)
        await snapshot(t, r["run_id"], "stopped after a")
        await self.call(
            S,
            "interrupt_before='*'",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "hitl", "input": {}, "interrupt_before": "*"},
        )

        # dynamic
        t = await self.new_thread()
        r = await self.create_run(t, "dyn", input={})
        await self.call(
            S, "dynamic interrupt(): join", "GET", f"/threads/{t}/runs/{r['run_id']}/join"
        )
        await self.idle(t)
        await snapshot(t, r["run_id"], "dynamic, paused")
        await self.call(S, "dynamic, paused: full state", "GET", f"/threads/{t}/state")
        await self.sdk(
            S,
            "dynamic: runs.wait (SDK)",
            "runs.wait(t, 'dyn', input={}) on a fresh thread",
            self.client.runs.wait(await self.new_thread(), "dyn", input={}),
        )
        r2 = await self.create_run(t, "dyn", command={"resume": "yes"})
        await self.call(
            S, "dynamic: resume command: join", "GET", f"/threads/{t}/runs/{r2['run_id']}/join"
        )
        await self.idle(t)
        await snapshot(t, r2["run_id"], "dynamic, resumed")
        # resume with input=None on a dyn interrupt
        t = await self.new_thread()
        await self.client.runs.wait(t, "dyn", input={})
        await self.idle(t)
        r2 = await self.create_run(t, "dyn", input=None)
        await self.call(
            S,
            "dynamic: resume with input=None: join",
            "GET",
            f"/threads/{t}/runs/{r2['run_id']}/join",
        )
        await self.idle(t)
        await self.call(
            S,
            "dynamic: after input=None: thread",
            "GET",
            f"/threads/{t}",
            show=lambda b: {k: b.get(k) for k in ("status", "interrupts")},
        )
        await self.call(
            S,
            "command.resume on a thread that is not interrupted",
            "POST",
            f"/threads/{await self.new_thread()}/runs/wait",
            json_body={"assistant_id": "slow", "command": {"resume": 1}},
        )
        await self.call(
            S,
            "command with goto",
            "POST",
            f"/threads/{await self.new_thread()}/runs/wait",
            json_body={"assistant_id": "slow", "command": {"goto": "c", "update": {"log": ["u"]}}},
        )
        tic = await self.new_thread()
        r = await self.call(
            S,
            "input and command together",
            "POST",
            f"/threads/{tic}/runs",
            json_body={"assistant_id": "slow", "input": {}, "command": {"resume": 1}},
            show=lambda b: {
                "status": b.get("status"),
                "kwargs.input": b["kwargs"]["input"],
                "kwargs.command": b["kwargs"]["command"],
            },
        )
        if r.status_code == 200:
            await self.call(
                S,
                "input and command together: join",
                "GET",
                f"/threads/{tic}/runs/{r.json()['run_id']}/join",
            )
            await self.idle(tic)

    async def probe_failure(self) -> None:
        S = "failure"
        t = await self.new_thread()
        r = await self.create_run(t, "fail", input={})
        await self.call(S, "join", "GET", f"/threads/{t}/runs/{r['run_id']}/join")
        await self.idle(t)
        await self.call(
            S,
            "run",
            "GET",
            f"/threads/{t}/runs/{r['run_id']}",
            show=lambda b: {"status": b.get("status"), "keys": sorted(b)},
        )
        await self.call(S, "thread", "GET", f"/threads/{t}")
        await self.call(S, "state", "GET", f"/threads/{t}/state")
        await self.call(
            S,
            "wait",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "fail", "input": {}},
            all_headers=True,
        )
        await self.sdk(
            S,
            "wait (SDK default raise_error)",
            "runs.wait(t, 'fail')",
            self.client.runs.wait(t, "fail", input={}),
        )
        await self.sdk(
            S,
            "wait (SDK raise_error=False)",
            "runs.wait(t, 'fail', raise_error=False)",
            self.client.runs.wait(t, "fail", input={}, raise_error=False),
        )
        await self.idle(t)
        t2 = await self.new_thread()
        await self.client.runs.wait(t2, "slow", input={}, raise_error=False)
        await self.idle(t2)
        await self.client.runs.wait(t2, "fail", input={}, raise_error=False)
        await self.idle(t2)
        ok = await self.create_run(t2, "slow", input={})
        await self.client.runs.join(t2, ok["run_id"])
        await self.idle(t2)
        await self.call(
            S,
            "thread after a later success",
            "GET",
            f"/threads/{t2}",
            show=lambda b: {k: b.get(k) for k in ("status", "error")},
        )
        t3 = await self.new_thread()
        r3 = await self.create_run(t3, "slow", input="abc")
        await self.call(
            S,
            "input as a string: join",
            "GET",
            f"/threads/{t3}/runs/{r3['run_id']}/join",
            note='the server accepted input="abc" (200) and the run failed inside the graph',
        )
        await self.idle(t3)
        await self.call(
            S,
            "input as a string: run",
            "GET",
            f"/threads/{t3}/runs/{r3['run_id']}",
            show=lambda b: {"status": b.get("status")},
        )

    async def probe_multitask(self) -> None:
        S = "multitask"

        async def busy_thread(graph: str = "slow", delay: float = 1) -> tuple[str, str]:
            t = await self.new_thread()
            r1 = (await self.create_run(t, graph, input={"delay": delay}))["run_id"]
            await self.wait_run(t, r1, {"running"})
            if graph == "slow":
                await self.wait_log(t, "a")
            return t, r1

        # reject
        t, r1 = await busy_thread()
        await self.call(
            S,
            "reject: create",
            "POST",
            f"/threads/{t}/runs",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        )
        await self.call(
            S,
            "reject: wait",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        )
        await self.sse(
            S,
            "reject: stream",
            "POST",
            f"/threads/{t}/runs/stream",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
        )
        await self.sdk(
            S,
            "reject: runs.create (SDK)",
            "runs.create(t, 'slow', multitask_strategy='reject')",
            self.client.runs.create(t, "slow", input={}, multitask_strategy="reject"),
        )
        await self.sdk(
            S,
            "reject: runs.wait (SDK)",
            "runs.wait(t, 'slow', multitask_strategy='reject')",
            self.client.runs.wait(t, "slow", input={}, multitask_strategy="reject"),
        )

        async def drain() -> list[Any]:
            return [
                p
                async for p in self.client.runs.stream(
                    t, "slow", input={}, multitask_strategy="reject"
                )
            ]

        await self.sdk(
            S,
            "reject: runs.stream (SDK)",
            "async for p in runs.stream(t, 'slow', multitask_strategy='reject')",
            drain(),
        )
        await self.call(
            S,
            "reject: runs.list afterwards",
            "GET",
            f"/threads/{t}/runs",
            show=lambda b: [x["status"] for x in b],
            note="no rejected run was stored",
        )
        await self.client.runs.join(t, r1)
        await self.idle(t)
        await self.call(
            S,
            "reject on an idle thread",
            "POST",
            f"/threads/{t}/runs/wait",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "reject"},
            show=lambda b: {"log": b.get("log")} if isinstance(b, dict) else b,
        )

        # interrupt
        t, r1 = await busy_thread()
        t0 = time.monotonic()
        r = await self.call(
            S,
            "interrupt: create R2",
            "POST",
            f"/threads/{t}/runs",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "interrupt"},
            show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
        )
        r2 = r.json()["run_id"]
        await self.call(
            S,
            "interrupt: R1 right after",
            "GET",
            f"/threads/{t}/runs/{r1}",
            show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
        )
        await self.call(
            S,
            "interrupt: thread right after",
            "GET",
            f"/threads/{t}",
            show=lambda b: {"status": b.get("status")},
        )
        await self.wait_run(t, r2, {"running", "success"})
        self.rec.fact(
            S, f"interrupt: R2 left `pending` {time.monotonic() - t0:.2f} s after it was created."
        )
        await self.call(S, "interrupt: join R1", "GET", f"/threads/{t}/runs/{r1}/join")
        await self.call(S, "interrupt: join R2", "GET", f"/threads/{t}/runs/{r2}/join")
        await self.idle(t)
        await self.call(
            S,
            "interrupt: runs.list",
            "GET",
            f"/threads/{t}/runs",
            show=lambda b: [f"{'R1' if x['run_id'] == r1 else 'R2'}:{x['status']}" for x in b],
        )
        self.history_table(
            S, "interrupt: history", await self.history_rows(t, {r1: "R1", r2: "R2"})
        )

        # rollback
        t = await self.new_thread()
        await self.client.runs.wait(t, "slow", input={})
        await self.idle(t)
        r0 = (await self.http.get(f"/threads/{t}/runs")).json()[0]["run_id"]
        r1 = (await self.create_run(t, "slow", input={"delay": 1}))["run_id"]
        await self.wait_log(t, "b")
        r = await self.call(
            S,
            "rollback: create R2",
            "POST",
            f"/threads/{t}/runs",
            json_body={"assistant_id": "slow", "input": {}, "multitask_strategy": "rollback"},
            show=lambda b: {k: b.get(k) for k in ("status", "multitask_strategy")},
        )
        r2 = r.json()["run_id"]
        await self.call(S, "rollback: R1 right after", "GET", f"/threads/{t}/runs/{r1}")
        await self.call(
            S,
            "rollback: runs.list right after",
            "GET",
            f"/threads/{t}/runs",
            show=lambda b: [
                f"{ {r0: 'R0', r1: 'R1', r2: 'R2'}.get(x['run_id']) }:{x['status']}" for x in b
            ],
        )
        await self.call(S, "rollback: join R1", "GET", f"/threads/{t}/runs/{r1}/join")
        await self.call(S, "rollback: join R2", "GET", f"/threads/{t}/runs/{r2}/join")
        await self.idle(t)
        self.history_table(
            S,
            "rollback: history (R0 = an earlier finished run on the thread, "
            "R1 rolled back after node b)",
            await self.history_rows(t, {r0: "R0", r1: "R1", r2: "R2"}),
        )

        # rollback while R1's creator is waiting on /runs/wait
        t = await self.new_thread()
        wait_task = asyncio.create_task(
            self.call(
                S,
                "rollback: R1's own /runs/wait call",
                "POST",
                f"/threads/{t}/runs/wait",
                json_body={"assistant_id": "slow", "input": {"delay": 1, "log": ["from-R1"]}},
                note="this waiter was attached when R2 (rollback) was created",
            )
        )
        await self.wait_log(t, "a")
        await self.create_run(t, "slow", input={}, multitask_strategy="rollback")
        await wait_task
        await self.idle(t)
        await self.call(
            S,
            "rollback (waiter attached): runs.list",
            "GET",
            f"/threads/{t}/runs",
            show=lambda b: [x["status"] for x in b],
        )

        # enqueue
        t, r1 = await busy_thread()
        r2 = (await self.create_run(t, "slow", input={"log": ["R2"]}))["run_id"]
        r3 = (
            await self.create_run(t, "slow", input={"log": ["R3"]}, multitask_strategy="enqueue")
        )["run_id"]
        lab = {r1: "R1", r2: "R2", r3: "R3"}
        await self.call(
            S,
            "enqueue: runs.list right after",
            "GET",
            f"/threads/{t}/runs",
            show=lambda b: [
                f"{lab.get(x['run_id'])}:{x['status']}:{x['multitask_strategy']}" for x in b
            ],
            note="R2 created with no strategy (default), R3 with enqueue; "
            "shown as label:status:multitask_strategy",
        )
        await self.client.runs.join(t, r3)
        await self.idle(t)
        await self.call(
            S,
            "enqueue: final values.log",
            "GET",
            f"/threads/{t}/state",
            show=lambda b: b["values"]["log"],
        )
        self.history_table(S, "enqueue: history", await self.history_rows(t, lab))

        # interrupt on a blocking (sync) node
        t = await self.new_thread()
        r1 = (await self.create_run(t, "blocking", input={"delay": 2}))["run_id"]
        await self.wait_run(t, r1, {"running"})
        r1_running = time.monotonic()
        t0 = time.monotonic()
        r2 = (
            await self.create_run(t, "blocking", input={"delay": 0}, multitask_strategy="interrupt")
        )["run_id"]
        await self.wait_run(t, r2, {"running", "success"})
        started = time.monotonic() - t0
        await self.client.runs.join(t, r2)
        await self.idle(t)
        fin = time.monotonic() - t0
        vals = (await self.http.get(f"/threads/{t}/state")).json()["values"]
        r1_sleep_left = 2 - (t0 + started - r1_running)
        self.rec.fact(
            S,
            "interrupt on `blocking` (a sync node doing `time.sleep(2)`): "
            f"R2 left `pending` {started:.2f} s after it was created, when R1's sleep still had "
            f"about {r1_sleep_left:.1f} s to go (R1 was seen `running` {t0 - r1_running:.2f} s "
            f"before R2 was created), and finished {fin:.2f} s after creation; final "
            f"`values.log` = `{vals.get('log')}`: R1's write was discarded, but its node body "
            "was not stopped.",
        )

    async def probe_badinput(self) -> None:
        S = "badinput"
        t = await self.new_thread()
        tr = f"/threads/{t}/runs"
        cases: list[tuple[str, str, str, dict[str, Any]]] = [
            (
                "unknown multitask_strategy",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "multitask_strategy": "bogus"}},
            ),
            (
                "unknown stream_mode",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "stream_mode": "bogus"}},
            ),
            (
                "stream_mode list with unknown",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "stream_mode": ["values", "bogus"]}},
            ),
            ("missing assistant_id", "POST", tr, {"json_body": {"input": {}}}),
            ("assistant_id null", "POST", tr, {"json_body": {"assistant_id": None}}),
            ("assistant_id number", "POST", tr, {"json_body": {"assistant_id": 5}}),
            (
                "unknown assistant (uuid)",
                "POST",
                tr,
                {"json_body": {"assistant_id": str(uuid.uuid4())}},
            ),
            ("unknown assistant (name)", "POST", tr, {"json_body": {"assistant_id": "nope"}}),
            (
                "metadata as list",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "metadata": [1]}},
            ),
            (
                "config as string",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "config": "x"}},
            ),
            (
                "interrupt_before as string",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "interrupt_before": "b"}},
            ),
            (
                "after_seconds as string",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "after_seconds": "soon"}},
            ),
            (
                "unknown top-level key",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "bogus_key": 1, "after_seconds": 600}},
            ),
            (
                "on_disconnect bogus",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "on_disconnect": "bogus"}},
            ),
            (
                "durability bogus",
                "POST",
                tr,
                {"json_body": {"assistant_id": "slow", "durability": "bogus"}},
            ),
            ("body is a JSON list", "POST", tr, {"json_body": [1, 2]}),
            (
                "body is JSON null",
                "POST",
                tr,
                {"content": b"null", "headers": {"content-type": "application/json"}},
            ),
            (
                "empty body",
                "POST",
                tr,
                {"content": b"", "headers": {"content-type": "application/json"}},
            ),
            (
                "non-JSON body",
                "POST",
                tr,
                {"content": b"not json", "headers": {"content-type": "application/json"}},
            ),
            (
                "invalid UTF-8 body",
                "POST",
                tr,
                {
                    "content": b'{"assistant_id": "\xff\xfe"}',
                    "headers": {"content-type": "application/json"},
                },
            ),
            (
                "JSON sent as text/plain",
                "POST",
                tr,
                {
                    "content": b'{"assistant_id": "slow", "after_seconds": 600}',
                    "headers": {"content-type": "text/plain"},
                },
            ),
            (
                "wait: unknown stream_mode",
                "POST",
                f"{tr}/wait",
                {"json_body": {"assistant_id": "slow", "stream_mode": "bogus"}},
            ),
            ("stream: missing assistant_id", "POST", f"{tr}/stream", {"json_body": {}}),
            (
                "stream: non-JSON",
                "POST",
                f"{tr}/stream",
                {"content": b"{", "headers": {"content-type": "application/json"}},
            ),
            ("threads: metadata as list", "POST", "/threads", {"json_body": {"metadata": []}}),
            (
                "threads: thread_id not a uuid",
                "POST",
                "/threads",
                {"json_body": {"thread_id": "abc"}},
            ),
            ("threads: if_exists bogus", "POST", "/threads", {"json_body": {"if_exists": "bogus"}}),
            (
                "threads/search: limit 'abc'",
                "POST",
                "/threads/search",
                {"json_body": {"limit": "abc"}},
            ),
            ("threads/search: limit -1", "POST", "/threads/search", {"json_body": {"limit": -1}}),
            ("threads/search: limit 0", "POST", "/threads/search", {"json_body": {"limit": 0}}),
            (
                "threads/search: limit 100000",
                "POST",
                "/threads/search",
                {
                    "json_body": {"limit": 100000},
                    "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
                },
            ),
            ("runs list: limit=abc", "GET", tr, {"params": {"limit": "abc"}}),
            (
                "runs list: limit=-1",
                "GET",
                tr,
                {
                    "params": {"limit": "-1"},
                    "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
                },
            ),
            (
                "runs list: limit=0",
                "GET",
                tr,
                {
                    "params": {"limit": "0"},
                    "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
                },
            ),
            ("runs list: offset=abc", "GET", tr, {"params": {"offset": "abc"}}),
            (
                "history: limit 'abc' (GET)",
                "GET",
                f"/threads/{t}/history",
                {"params": {"limit": "abc"}},
            ),
            (
                "history: limit 'abc' (POST)",
                "POST",
                f"/threads/{t}/history",
                {"json_body": {"limit": "abc"}},
            ),
            (
                "assistants/search: limit 'abc'",
                "POST",
                "/assistants/search",
                {"json_body": {"limit": "abc"}},
            ),
            ("assistants: graph_id missing", "POST", "/assistants", {"json_body": {}}),
            (
                "assistants: if_exists bogus",
                "POST",
                "/assistants",
                {"json_body": {"graph_id": "slow", "if_exists": "bogus"}},
            ),
            (
                "update_state: values as string",
                "POST",
                f"/threads/{t}/state",
                {"json_body": {"values": "x"}},
            ),
            (
                "cancel: action bogus",
                "POST",
                f"{tr}/{uuid.uuid4()}/cancel",
                {"params": {"action": "bogus"}},
            ),
            ("malformed thread uuid: GET thread", "GET", "/threads/not-a-uuid", {}),
            (
                "malformed thread uuid: create run",
                "POST",
                "/threads/not-a-uuid/runs",
                {"json_body": {"assistant_id": "slow"}},
            ),
            ("malformed thread uuid: state", "GET", "/threads/not-a-uuid/state", {}),
            ("malformed run uuid: GET run", "GET", f"{tr}/not-a-uuid", {}),
            ("malformed run uuid: join", "GET", f"{tr}/not-a-uuid/join", {}),
            ("malformed run uuid: cancel", "POST", f"{tr}/not-a-uuid/cancel", {}),
            ("malformed assistant id: GET", "GET", "/assistants/not-a-uuid", {}),
            ("uuid without dashes", "GET", f"/threads/{t.replace('-', '')}", {}),
            (
                "uppercase uuid",
                "GET",
                f"/threads/{t.upper()}",
                {
                    "show": lambda b: (
                        {"thread_id": b.get("thread_id"), "status": b.get("status")}
                        if isinstance(b, dict)
                        else b
                    )
                },
            ),
            ("unknown thread: GET", "GET", f"/threads/{uuid.uuid4()}", {}),
            ("unknown thread: runs list", "GET", f"/threads/{uuid.uuid4()}/runs", {}),
            ("unknown thread: DELETE", "DELETE", f"/threads/{uuid.uuid4()}", {}),
            ("unknown run: GET", "GET", f"{tr}/{uuid.uuid4()}", {}),
            ("unknown run: DELETE", "DELETE", f"{tr}/{uuid.uuid4()}", {}),
            ("unknown assistant: GET", "GET", f"/assistants/{uuid.uuid4()}", {}),
            ("unknown assistant: DELETE", "DELETE", f"/assistants/{uuid.uuid4()}", {}),
        ]
        for label, method, path, kw in cases:
            r = await self.call(S, label, method, path, **kw)
            if (
                r.status_code == 200
                and method == "POST"
                and path == tr
                and isinstance(r.json(), dict)
                and "run_id" in r.json()
            ):
                # accepted: park it so it doesn't hold the thread
                await self.http.post(f"{tr}/{r.json()['run_id']}/cancel")
        await self.idle(t)
        await self.call(
            S,
            "after_seconds negative",
            "POST",
            tr,
            json_body={"assistant_id": "slow", "input": {}, "after_seconds": -5},
            show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
        )
        await self.call(
            S,
            "input as a string",
            "POST",
            tr,
            json_body={"assistant_id": "slow", "input": "abc"},
            show=lambda b: (
                {"status": b.get("status"), "kwargs.input": (b.get("kwargs") or {}).get("input")}
                if isinstance(b, dict)
                else b
            ),
            note="accepted; the run then fails (see 'A failing graph')",
        )
        await self.idle(t)
        # SDK exception classes
        await self.sdk(
            S,
            "SDK: 422",
            "runs.create(t, 'slow', multitask_strategy='bogus')",
            self.client.runs.create(t, "slow", multitask_strategy="bogus"),
        )  # type: ignore[arg-type]
        await self.sdk(
            S,
            "SDK: 404 thread",
            "threads.get(<unknown>)",
            self.client.threads.get(str(uuid.uuid4())),
        )
        await self.sdk(
            S, "SDK: 404 run", "runs.get(t, <unknown>)", self.client.runs.get(t, str(uuid.uuid4()))
        )
        await self.sdk(
            S,
            "SDK: 422 malformed id",
            "threads.get('not-a-uuid')",
            self.client.threads.get("not-a-uuid"),
        )
        await self.sdk(
            S,
            "SDK: wait on unknown thread",
            "runs.wait(<unknown>, 'slow')",
            self.client.runs.wait(str(uuid.uuid4()), "slow", input={}),
        )

    # =======================================================================

    async def run_all(self) -> None:
        groups = [
            ("server", self.probe_server),
            ("assistants", self.probe_assistants),
            ("threads", self.probe_threads),
            ("runs", self.probe_runs),
            ("join", self.probe_join),
            ("stream", self.probe_stream),
            ("cancel", self.probe_cancel),
            ("options", self.probe_options),
            ("hitl", self.probe_hitl),
            ("failure", self.probe_failure),
            ("multitask", self.probe_multitask),
            ("badinput", self.probe_badinput),
        ]
        for name, fn in groups:
            await self.timed(name, fn())


# ---------------------------------------------------------------------------
# rendering
# ---------------------------------------------------------------------------


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _inline(body: Any) -> str | None:
    if body is None:
        return "*(empty)*"
    s = dumps(body)
    if len(s) <= 110 and "\\n" not in s:
        return f"`{_cell(s)}`"
    return None


def _find(p: Prober, sec: str, label: str) -> Obs | None:
    for o in p.rec.sections[sec].obs:
        if o.label == label:
            return o
    return None


def _short(o: Obs | None, proj: Callable[[Any], Any] | None = None) -> str:
    if o is None:
        return "*(not observed)*"
    body = o.body
    if proj is not None:
        try:
            body = proj(body)
        except Exception:
            pass
    s = "*(empty)*" if body is None else f"`{_cell(dumps(body))}`"
    if len(s) > 220:
        s = s[:217] + "…`"
    return f"**{o.outcome}** {s}"


def _highlights(p: Prober) -> list[tuple[str, str]]:
    """(what, observed) rows, each read back from a recorded observation."""

    def detail_first_line(b: Any) -> Any:
        return {"detail": b["detail"].split("\n")[0] + " …"} if "\n" in b["detail"] else b

    rows: list[tuple[str, str]] = []

    def add(what: str, sec: str, label: str, proj: Callable[[Any], Any] | None = None) -> None:
        rows.append((what, _short(_find(p, sec, label), proj)))

    create = _find(p, "runs", "create")
    if create is not None and isinstance(create.body, dict):
        rows.append(
            (
                "`POST /threads/{t}/runs`",
                f"**{create.outcome}**, the full Run with `status` "
                f"`{create.body.get('status')}` and "
                f"`multitask_strategy` `{create.body.get('multitask_strategy')}` (the default); "
                "`Content-Location: /threads/{t}/runs/{r}`, no `Location`",
            )
        )
    add("`POST …/runs/wait` on a graph that raises", "failure", "wait")
    add("body fails the JSON schema (no `assistant_id`)", "badinput", "missing assistant_id", None)
    add("unknown `multitask_strategy`", "badinput", "unknown multitask_strategy")
    add("body is not JSON / not UTF-8", "badinput", "invalid UTF-8 body")
    add("`?limit=abc` on `GET …/runs`", "badinput", "runs list: limit=abc")
    add("`?limit=abc` on `GET …/history`", "badinput", "history: limit 'abc' (GET)")
    add("malformed uuid in the path", "badinput", "malformed thread uuid: GET thread")
    add(
        "unknown assistant name in a run", "badinput", "unknown assistant (name)", detail_first_line
    )
    add(
        "unknown thread in a run (no `if_not_exists`)", "options", "run on unknown thread (default)"
    )
    add("`input` given as a string", "badinput", "input as a string")
    add("`get_state` on a thread with no runs", "threads", "get_state, brand new thread")
    add(
        "`GET …/history` without `limit`",
        "threads",
        "history, default (GET)",
        lambda b: {"len": b["len"]},
    )
    add(
        "`GET …/state/{unknown checkpoint}`",
        "threads",
        "get_state unknown checkpoint",
        lambda b: {k: b[k] for k in ("values", "next", "metadata")},
    )
    add("`POST /threads/{unknown}/copy`", "threads", "copy unknown")
    add(
        "`update_state` while a run is in flight",
        "threads",
        "update_state during a run",
        lambda b: {"detail": b["detail"][:60] + "…"},
    )
    add("join on a failed run", "join", "join, error")
    add(
        "join on a run cancelled while joined",
        "join",
        "join, run cancelled (interrupt) while waiting",
    )
    add(
        "join on a pending run cancelled while joined",
        "join",
        "join, pending run cancelled while waiting",
    )
    add("join on a run rolled back while joined", "join", "join, run rolled back while waiting")
    add("join on an unknown run", "join", "join, unknown run")
    add("join on a dynamic `interrupt()`", "join", "join, dynamic interrupt()")
    add("cancel a pending run (`wait=0`)", "cancel", "cancel pending run (wait=0)")
    add(
        "… and the thread while another run is still running",
        "cancel",
        "thread right after (R1 still running)",
    )
    add("cancel a running run with `wait=1`", "cancel", "cancel running run (wait=1)")
    add("cancel a finished run", "cancel", "cancel finished run")
    add("cancel an unknown run", "cancel", "cancel unknown run")
    add("cancel with `action=bogus` on a pending run", "cancel", "cancel action=bogus, pending run")
    add("`POST /runs/cancel` (cancel_many)", "cancel", "cancel_many by thread+run_ids")
    add("`runs.delete` on a running run", "runs", "delete running run")
    add("409 on `multitask_strategy=reject`", "multitask", "reject: create")
    add(
        "SDK `runs.wait` on reject",
        "multitask",
        "reject: runs.wait (SDK)",
        lambda b: {"exception": b["exception"]},
    )
    add("old run right after `interrupt`", "multitask", "interrupt: R1 right after")
    add("old run right after `rollback`", "multitask", "rollback: R1 right after")
    add("first SSE event", "stream", "values+updates", lambda b: b["events"][:2])
    add('SSE for `stream_mode="messages-tuple"`', "stream", "messages-tuple")
    add("SSE for a graph that raises", "stream", "failing graph")
    add(
        "SSE cut by a double-text (`interrupt`)",
        "stream",
        "stream cut by multitask_strategy=interrupt",
    )
    return rows


def render(p: Prober, versions: dict[str, str], total: float) -> str:
    out: list[str] = []
    w = out.append
    w("# What the reference LangGraph server answers (observed)")
    w("")
    w(
        "Generated by `scripts/probe_reference.py`: it starts the reference server with "
        "`scripts/reference_server.py` (`langgraph dev --n-jobs-per-worker 10`, offline, in the "
        "`.ref` virtualenv) on the probe graphs in `tests/conformance/reference_app/`, drives it "
        "with raw `httpx` and the official async SDK, and records the answers. Do not edit by "
        "hand: re-run the script."
    )
    w("")
    w("Versions: " + ", ".join(f"`{k} {v}`" for k, v in versions.items()) + ".")
    w("")
    w("Conventions:")
    w("")
    w(
        "- uuids are shown as `<uuid>`, timestamps as `<ts>`, wall-clock numbers as `<clock>`; "
        "keys and nesting are kept."
    )
    w(
        "- **→** is the HTTP status, or for SDK rows `returns` / `raises <Class>`; **ms** is "
        "the wall time of the call (loopback, loose)."
    )
    w(
        "- 32-digit hex ids (interrupt ids) are shown as `<hex32>`, the server's loopback port "
        "as `<port>`, Python reprs of datetimes / addresses inside error text as `<datetime>` / "
        "`<addr>`."
    )
    w(
        "- Headers listed are Content-Type, Location and Content-Location (all headers where "
        "the row says *all headers*)."
    )
    w(
        "- Short bodies are inline; longer ones follow the table, keyed by the row number. "
        "Where the row has a note like *body shown as …*, the body was reduced by the probe to "
        "the part that matters."
    )
    w("")
    w("## Highlights")
    w("")
    w("Read back from the observations below (SSE rows list event names).")
    w("")
    w("| case | observed |")
    w("|---|---|")
    for what, seen in _highlights(p):
        w(f"| {what} | {seen} |")
    w("")
    w("## Contents")
    w("")
    for sec in p.rec.sections.values():
        anchor = re.sub(r"[^a-z0-9 _-]", "", sec.title.lower()).replace(" ", "-")
        w(f"- [{sec.title}](#{anchor})")
    w("")
    n = 0
    for sec in p.rec.sections.values():
        w(f"## {sec.title}")
        w("")
        if sec.intro:
            w(sec.intro)
            w("")
        plain = [f for f in sec.facts if "\n" not in f]
        blocks = [f for f in sec.facts if "\n" in f]
        if plain:
            for f in plain:
                w(f"- {f}")
            w("")
        if sec.obs:
            w("| # | probe | request | → | ms | headers | body / note |")
            w("|---|---|---|---|---|---|---|")
            details: list[tuple[int, Obs]] = []
            for o in sec.obs:
                n += 1
                hdr = "; ".join(f"{k}: `{v}`" for k, v in o.headers.items()) if o.headers else ""
                if o.all_headers:
                    hdr = "*all headers, see below*"
                if o.raw_text is not None:
                    body_cell = f"events: `{_cell(dumps(o.body['events']))}` — raw text below"
                    details.append((n, o))
                else:
                    inl = _inline(o.body)
                    if inl is None:
                        body_cell = "see below"
                        details.append((n, o))
                    else:
                        body_cell = inl
                        if o.all_headers:
                            details.append((n, o))
                if o.note:
                    body_cell += f" — *{_cell(o.note)}*"
                w(
                    f"| {n} | {_cell(o.label)} | `{_cell(o.request)}` | {_cell(o.outcome)} "
                    f"| {o.ms:.0f} | {hdr} | {body_cell} |"
                )
            w("")
            for num, o in details:
                w(f"**#{num} {o.label}** — {o.outcome}")
                w("")
                if o.all_headers:
                    w("```text")
                    for k, v in o.headers.items():
                        w(f"{k}: {v}")
                    w("```")
                    w("")
                if o.raw_text is not None:
                    w("```text")
                    w(o.raw_text.rstrip("\n"))
                    w("```")
                elif _inline(o.body) is None:
                    if isinstance(o.body, str):
                        w("```text")
                        w(o.body.replace("\r\n", "\n").rstrip("\n"))
                        w("```")
                    else:
                        w("```json")
                        w(dumps(o.body, indent=2))
                        w("```")
                        detail = o.body.get("detail") if isinstance(o.body, dict) else None
                        if isinstance(detail, str) and "\n" in detail:
                            w("")
                            w("`detail`, unescaped:")
                            w("")
                            w("```text")
                            w(detail)
                            w("```")
                w("")
        for f in blocks:
            w(f)
            w("")
    w("## Probe timings")
    w("")
    w("| group | seconds |")
    w("|---|---|")
    for k, v in p.timings.items():
        w(f"| {k} | {v:.1f} |")
    w(f"| **total** | {total:.1f} |")
    w("")
    return "\n".join(out)


def _versions(venv: Path) -> dict[str, str]:
    import subprocess

    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in "
        "['langgraph-api','langgraph-runtime-inmem','langgraph-cli','langgraph','langgraph-sdk']}))"
    )
    try:
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
        )
        v = json.loads(out.stdout)
    except Exception:
        v = {}
    import importlib.metadata as m

    v["langgraph-sdk (client side)"] = m.version("langgraph-sdk")
    v["httpx (client side)"] = m.version("httpx")
    return v


async def _amain(url: str) -> Prober:
    p = Prober(url)
    try:
        await p.run_all()
    finally:
        await p.aclose()
    return p


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="probe this running server instead of starting one")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--log", default=None, help="reference server log file")
    args = ap.parse_args(argv)

    venv = reference_server.ensure_venv()
    t0 = time.monotonic()
    if args.url:
        prober = asyncio.run(_amain(args.url))
    else:
        with reference_server.running_reference(APP_CONFIG, log_path=args.log) as url:
            print(f"reference server at {url}", flush=True)
            prober = asyncio.run(_amain(url))
    total = time.monotonic() - t0
    doc = render(prober, _versions(venv), total)
    Path(args.out).write_text(doc, encoding="utf-8")
    print(f"wrote {args.out} ({len(doc)} chars) in {total:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
