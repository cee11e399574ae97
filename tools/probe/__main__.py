"""Drive the reference ``langgraph dev`` server and record what it answers.

``python -m tools.probe [--url URL] [--out FILE.md] [--log FILE]``: see the package's
docstring.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import subprocess
import time
import traceback
from pathlib import Path

from tools import reference_server

from ._prober import Prober
from ._record import Recorder, redact
from ._render import render
from .sections import SECTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = REPO_ROOT / "tests" / "conformance" / "reference_app" / "langgraph.json"
DEFAULT_OUT = REPO_ROOT / "docs" / "reference-observed.md"


async def run_all(p: Prober) -> None:
    """Every section's probe in order, each timed; a probe that raises is recorded as
    aborted (in the "server" section) and the next one runs."""
    for section in SECTIONS:
        t0 = time.monotonic()
        try:
            await section.probe(p)
        except Exception as e:
            p.rec.fact(
                "server",
                f"**Probe group `{section.KEY}` aborted** with "
                f"`{type(e).__name__}: {redact(str(e))}`.",
            )
            traceback.print_exc()
        p.timings[section.KEY] = time.monotonic() - t0
        print(f"  {section.KEY}: {p.timings[section.KEY]:.1f}s", flush=True)


async def _probe(url: str) -> Prober:
    p = Prober(url, Recorder((s.KEY, s.TITLE, s.INTRO) for s in SECTIONS))
    try:
        await run_all(p)
    finally:
        await p.aclose()
    return p


def _versions(venv: Path) -> dict[str, str]:
    """The reference server's package versions (from its venv), then the client side's."""
    code = (
        "import importlib.metadata as m, json;"
        "print(json.dumps({p: m.version(p) for p in "
        "['langgraph-api','langgraph-runtime-inmem','langgraph-cli','langgraph','langgraph-sdk']}))"
    )
    try:
        out = subprocess.run(
            [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
        )
        v: dict[str, str] = json.loads(out.stdout)
    except Exception:
        v = {}
    v["langgraph-sdk (client side)"] = importlib.metadata.version("langgraph-sdk")
    v["httpx (client side)"] = importlib.metadata.version("httpx")
    return v


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.probe", description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="probe this running server instead of starting one")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--log", default=None, help="reference server log file")
    args = ap.parse_args(argv)

    venv = reference_server.ensure_venv()
    t0 = time.monotonic()
    if args.url:
        prober = asyncio.run(_probe(args.url))
    else:
        with reference_server.running_reference(APP_CONFIG, log_path=args.log) as url:
            print(f"reference server at {url}", flush=True)
            prober = asyncio.run(_probe(url))
    total = time.monotonic() - t0
    doc = render(prober, _versions(venv), total)
    Path(args.out).write_text(doc, encoding="utf-8")
    print(f"wrote {args.out} ({len(doc)} chars) in {total:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
