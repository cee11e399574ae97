"""JupyterLab in a real browser, for the widget tests: start it, open a notebook, run it.

`jupyterlab_server(tmp_path)` starts JupyterLab on 127.0.0.1 (random port and token)
serving a copy of `notebooks/` with `playground.ipynb`'s outputs cleared; `chromium()`
launches Debian's Chromium through Playwright. Without them the tests skip, unless the
`CI` environment variable is set: then they fail. Every wait is bounded (`WAIT`); no
sleep orders anything (the loops below wait for a state, polling).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, unavailable

__all__ = [
    "ARTIFACTS",
    "WAIT",
    "chromium_browser",
    "jupyterlab_server",
    "open_and_run_all",
    "without_outputs",
]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT = 60.0  # seconds: the bound on every wait


def without_outputs(path: Path) -> None:
    """Clear a notebook's outputs and saved widget state, as if it had never been run."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def _tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


@contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Debian Chromium, launched by Playwright; closed afterwards."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=WAIT * 1000
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def jupyterlab_server(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """JupyterLab serving a copy of notebooks/; yields (base url, token, its root dir)."""
    for module in ("jupyterlab", "ipywidgets"):
        try:
            __import__(module)
        except ImportError:
            unavailable(f"{module} is not installed (pip install -e '.[lab]')")
    root = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, root)
    without_outputs(root / "playground.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "jupyter"  # config, runtime and workspaces of this server only
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
    }
    log_path = tmp_path / "jupyterlab.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--allow-root",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=root,
            start_new_session=True,  # its own process group: the kernels go down with it
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {WAIT:.0f} s:\n{_tail(log_path)}")
            time.sleep(0.2)  # polling for the server to answer, not ordering
        yield base, token, root
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _accept_kernel_dialog(page: Any) -> None:
    """Answer JupyterLab's "Select Kernel" dialog, if it is up, with the notebook's kernel."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.locator("button.jp-mod-accept").click()


def _kernel_idle(page: Any) -> None:
    """Wait until the notebook's kernel has started and is idle (the status bar says so)."""
    idle = page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\|\s*Idle"))
    deadline = time.monotonic() + WAIT
    while not (idle.count() and idle.first.is_visible()):
        _accept_kernel_dialog(page)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel was not idle within {WAIT:.0f} s")
        time.sleep(0.2)


def open_and_run_all(page: Any, base: str, token: str, notebook: str) -> None:
    """Open `notebook` (a path under the server's root) in JupyterLab and Run All Cells."""
    page.goto(f"{base}/lab/tree/{notebook}?token={token}", timeout=WAIT * 1000)
    page.locator(".jp-Notebook").first.wait_for()
    _kernel_idle(page)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    _accept_kernel_dialog(page)
