"""The probe's session: raw HTTP, SDK and SSE calls that record what they see, and waits.

Every call names the section it records into (None: do not record). The waits
(`wait_run`, `wait_thread`, `wait_log`, `idle`) poll a run's or thread's state until it is
reached or their deadline passes (then TimeoutError).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from langgraph_sdk import get_client

from ._record import (
    HEADERS_OF_INTEREST,
    MISSING,
    Obs,
    Recorder,
    dumps,
    parse_body,
    parse_sse,
    redact,
    req_line,
)


class Prober:
    """One probe session against `base_url`: a raw httpx client and the official async SDK
    client, each call recorded into `rec` under the section it names (or not, with None)."""

    def __init__(self, base_url: str, rec: Recorder) -> None:
        self.base_url = base_url
        self.http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(60.0))
        self.client = get_client(url=base_url, api_key=None)
        self.rec = rec
        self.timings: dict[str, float] = {}  # section key -> seconds its probe took
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
        json_body: Any = MISSING,
        content: bytes | str | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
        show: Callable[[Any], Any] | None = None,
        all_headers: bool = False,
    ) -> httpx.Response:
        kw: dict[str, Any] = {"params": params, "headers": headers}
        if json_body is not MISSING:
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
            body = parse_body(r)
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
                    req_line(method, path, params, shown_req),
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
        json_body: Any = MISSING,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        note: str = "",
        on_event: Callable[[str, asyncio.Event], None] | None = None,
        started: asyncio.Event | None = None,
        max_chars: int = 6000,
    ) -> tuple[int, str, list[dict[str, Any]]]:
        kw: dict[str, Any] = {"params": params, "headers": headers}
        if json_body is not MISSING:
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
                        req_line(method, path, params, json_body),
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
                    req_line(method, path, params, json_body),
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
