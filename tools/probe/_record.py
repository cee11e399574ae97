"""What the probe records: observations, sections, and the redaction that keeps them stable.

An `Obs` is one request (raw HTTP, an SDK call or an SSE stream) and what came back; a
`Section` holds the observations and facts of one part of the document; the `Recorder`
holds the sections in document order. `redact` replaces what changes from run to run
(uuids, timestamps, clocks, ports, addresses); every key and level of nesting is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

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
MISSING: Any = object()  # "no request body", which is not the same as a JSON null


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


class Recorder:
    """The document's sections by key, in document order: (key, title, intro) each."""

    def __init__(self, sections: Iterable[tuple[str, str, str]]) -> None:
        self.sections = {k: Section(k, t, i) for k, t, i in sections}

    def add(self, sec: str, o: Obs) -> None:
        self.sections[sec].obs.append(o)

    def fact(self, sec: str, text: str) -> None:
        self.sections[sec].facts.append(text)


def req_line(method: str, path: str, params: Any, body: Any) -> str:
    """The request as one line of the table: method, path, query, body (cut at 160)."""
    s = f"{method} {redact(path)}"
    if params:
        s += "?" + "&".join(f"{k}={v}" for k, v in dict(params).items())
    if body is not MISSING:
        b = body if isinstance(body, str) else dumps(redact(body))
        if len(b) > 160:
            b = b[:157] + "…"
        s += " " + b
    return s


def parse_body(r: httpx.Response) -> Any:
    if not r.content:
        return None
    try:
        return r.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return r.text


def parse_sse(text: str) -> list[dict[str, Any]]:
    """SSE text into events: {event, data (JSON if it parses), id?, comments?}."""
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
