"""`nbruns serve` says where it listens and what it serves, and logs failing runs.

A real `nbruns serve` subprocess: its output is read (bounded wait) until the banner
is there, the banner is checked line by line, then a run whose node raises is made
over HTTP with the official SDK and its traceback must show in the server's output.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbruns._api._cors import CorsPolicy
from nbruns._compose import Options
from nbruns._served._banner import banner_lines

WITHIN = 20.0  # only matters when something is broken

GRAPHS = """
from typing_extensions import TypedDict
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    answer: str


def _detonate():
    raise ValueError("node exploded")


async def explode(state: State) -> State:
    _detonate()
    return {"answer": "never"}


builder = StateGraph(State)
builder.add_node("explode", explode)
builder.add_edge(START, "explode")
builder.add_edge("explode", END)
boom = builder.compile()
"""


def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "boom.py").write_text(GRAPHS)
    config = folder / "langgraph.json"
    config.write_text(json.dumps({"graphs": {"boom": {"path": "./boom.py:boom"}}}))
    return config


def output_until(served: Any, wanted: str) -> str:
    """The server's output so far, once it contains `wanted` (bounded wait)."""
    deadline = time.monotonic() + WITHIN
    while True:
        text: str = served.log.read_text(errors="replace")
        if wanted in text:
            return text
        assert served.proc.poll() is None, f"nbruns serve exited; output:\n{text}"
        assert time.monotonic() < deadline, f"{wanted!r} never appeared; output:\n{text}"
        time.sleep(0.05)


async def test_banner_then_a_failing_run_logged_with_its_traceback(
    serve: Callable[..., Any], sdk: Callable[..., Any], tmp_path: Path
) -> None:
    config = project(tmp_path)
    db = tmp_path / "served.sqlite"
    served = serve(
        # the last --config wins: this project instead of the suite's default one
        *("--config", str(config), "--api-key", "k", "--db", str(db)),
        *("--cors-origin", "https://chat.example.com", "--run-timeout", "30"),
        ready_headers={"x-api-key": "k"},
    )
    text = output_until(served, "failing runs are logged here")
    start = text.index("nbruns serve: listening on")
    lines = text[start:].splitlines()[:8]
    assert lines[0] == f"nbruns serve: listening on {served.url}"
    assert lines[1:] == [
        f"  config: {config.resolve()}",
        "  graphs: agent (nbruns's built-in demo), boom (./boom.py:boom)",
        f"  store: SQLite {db.resolve()}",
        "  auth: API key (the x-api-key header)",
        "  CORS: loopback pages (http://localhost:*, http://127.0.0.1:*), https://chat.example.com",
        "  run timeout: 30 s",
        "  failing runs are logged here with their tracebacks; Ctrl-C stops the server",
    ]
    assert "INFO [nbruns.serve] nbruns serve: listening on" in text  # through logging

    client = sdk(served.url, api_key="k")
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "boom", input={})
    joined = await client.runs.join(thread["thread_id"], run["run_id"])
    assert joined == {"__error__": {"error": "ValueError", "message": "node exploded"}}

    failed = f"run {run['run_id']} on thread {thread['thread_id']} (graph 'boom') failed"
    text = output_until(served, failed)
    logged = text[text.index(failed) :]
    assert logged.startswith(f"{failed}: ValueError: node exploded\nTraceback")
    assert "in _detonate" in logged
    assert "ERROR [nbruns._engine._failures] " + failed in text
    assert text.count(failed) == 1


def test_banner_auth_and_cors_lines() -> None:
    def lines(**options: Any) -> list[str]:
        return banner_lines(
            "http://127.0.0.1:8123",
            Options(**options),
            ["agent", "mine"],
            sources={},
            auth_path="./auth.py:auth",
        )

    plain = lines()
    assert plain[:2] == [
        "nbruns serve: listening on http://127.0.0.1:8123",
        "  graphs: agent (nbruns's built-in demo), mine",
    ]
    assert "  store: memory (gone when the process ends)" in plain
    assert "  auth: off (anyone who can reach the URL may call the API)" in plain
    assert "  CORS: off" in plain
    both = lines(auth=object(), api_key="k", cors=CorsPolicy(allow_loopback=False))
    assert "  auth: langgraph.json auth module ./auth.py:auth + API key (the x-api-key header)" in (
        both
    )
    assert "  CORS: no browser origin" in both
    anyone = lines(cors=CorsPolicy(allow_origins=("*",), allow_origin_regex=r"https://.*\.x"))
    assert (
        "  CORS: loopback pages (http://localhost:*, http://127.0.0.1:*), any origin, "
        "origins matching 'https://.*\\\\.x'"
    ) in anyone
