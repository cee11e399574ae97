"""`bench/load.py --quick` (1,000 runs over 100 threads, mixed strategies) as a subprocess:
it exits 0 only if no run was lost or stuck and every thread's messages are as the
strategies imply. The same against `--db` (SQLite-backed `nbruns serve`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_quick(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    out = tmp_path / "load.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.load", "--quick", "--settle-timeout", "30",
         "--time-limit", "200", "--json", str(out), *extra],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )  # fmt: skip
    figures = json.loads(out.read_text()) if out.exists() else {}
    return proc, figures


@pytest.mark.timeout(300)
def test_load_quick(tmp_path: Path) -> None:
    proc, figures = run_quick(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert figures["lost"] == figures["stuck"] == figures["mismatched"] == 0
    assert figures["created"] + figures["rejected"] == 1000
    assert figures["statuses"]["success"] > 0


@pytest.mark.timeout(300)
def test_load_quick_db(tmp_path: Path) -> None:
    # --max-errors 5: once the server fails, stop early (each failure there costs ~5 s)
    proc, _ = run_quick(tmp_path, "--db", str(tmp_path / "load.sqlite"), "--max-errors", "5")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
