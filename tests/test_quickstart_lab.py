"""The Quick start's first command opens the playground with the repository as
JupyterLab's root: the README's `jupyter lab ...` arguments, started from the
repository root (as the command is run), serve `notebooks/playground.ipynb` and the
README itself, and the file JupyterLab opens first is the playground."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, unavailable

ROOT = Path(__file__).resolve().parents[1]
WAIT = 60.0


def lab_arguments() -> list[str]:
    """The arguments the Quick start's first command gives `jupyter lab`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    first = block.strip().splitlines()[0]
    found = re.search(r"jupyter lab (.*)$", first)
    assert found, f"the Quick start's first command runs no `jupyter lab`: {first}"
    return shlex.split(found.group(1))


def test_the_quick_start_opens_the_playground_from_the_repository_root(tmp_path: Path) -> None:
    try:
        __import__("jupyterlab")
    except ImportError:
        unavailable("jupyterlab is not installed (pip install -e '.[lab]')")
    args = lab_arguments()
    assert "notebooks/playground.ipynb" in args
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "jupyter"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
    }
    extra = [
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
    ]
    log_path = tmp_path / "lab.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", *args, *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited: {log_path.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not answer within 60 s")
                time.sleep(0.2)  # polling for readiness, not ordering
        for path in ("README.md", "notebooks/playground.ipynb", "src/nbruns/__init__.py"):
            url = f"{base}/api/contents/{path}?content=0&token={token}"
            with urllib.request.urlopen(url, timeout=10) as answer:
                assert answer.status == 200, path
        # the pages JupyterLab would open in a browser: one of them is the playground's
        pages = [p.read_text(encoding="utf-8") for p in (home / "runtime").glob("jpserver-*.html")]
        assert any("/lab/tree/notebooks/playground.ipynb" in page for page in pages), pages
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
