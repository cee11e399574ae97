"""The Playground in a real JupyterLab, clicked by a real browser (Chromium through Playwright).

JupyterLab serves a temporary copy of `notebooks/` (outputs of `playground.ipynb` cleared, so
no stale widget snapshot can be clicked) on 127.0.0.1 with a random port and token. Chromium
opens `playground.ipynb`, runs all cells, selects `interrupt`, clicks Send twice within a
second (the default sleep, 3 s, keeps the first run going), and waits until the timeline
SVG inside the widget shows exactly one interrupted and one successful run. A screenshot goes
to `test-artifacts/playground.png`.

Needs Debian's `/usr/bin/chromium` (Playwright's own browser download does not work on these
machines) and the `playwright`, `jupyterlab` and `ipywidgets` packages. Without them the test
is skipped, unless the `CI` environment variable is set: then it fails. Every wait is bounded
(at most 60 s); JupyterLab and the browser are shut down whatever happens.
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
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, unavailable

pytestmark = pytest.mark.browser

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
WAIT = 60.0  # seconds: the bound on every wait below


def without_outputs(path: Path) -> None:
    """Clear a notebook's outputs and saved widget state, as if it had never been run."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb["metadata"].pop("widgets", None)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def tail(path: Path, n: int = 40) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# -- fixtures -----------------------------------------------------------------


@pytest.fixture
def chromium() -> Iterator[Any]:
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


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """JupyterLab on 127.0.0.1 serving a copy of notebooks/; yields (base url, token)."""
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
                pytest.fail(f"JupyterLab exited ({proc.returncode}):\n{tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{base}/lab?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {WAIT:.0f} s:\n{tail(log_path)}")
            time.sleep(0.2)
        yield base, token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


# -- the test -----------------------------------------------------------------

# Counts of the run bars in the timeline SVG(s) inside the widget output, by status.
BARS_JS = """() => {
    const counts = {};
    for (const bar of document.querySelectorAll('.widget-html-content svg rect.run-bar')) {
        const status = [...bar.classList].find(c => c.startsWith('status-'));
        counts[status] = (counts[status] || 0) + 1;
    }
    return counts;
}"""


def accept_kernel_dialog(page: Any) -> None:
    """Answer JupyterLab's "Select Kernel" dialog, if it is up, with the notebook's kernel."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        dialog.first.locator("button.jp-mod-accept").click()


def kernel_idle(page: Any) -> None:
    """Wait until the notebook's kernel has started and is idle (the status bar says so)."""
    idle = page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\|\s*Idle"))
    deadline = time.monotonic() + WAIT
    while not (idle.count() and idle.first.is_visible()):
        accept_kernel_dialog(page)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel was not idle within {WAIT:.0f} s")
        time.sleep(0.2)


def test_playground_interrupt_in_jupyterlab(chromium: Any, jupyterlab: tuple[str, str]) -> None:
    # chromium first: without a browser the test skips (or fails) before starting JupyterLab
    base, token = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1700})
    page.set_default_timeout(WAIT * 1000)
    try:
        page.goto(f"{base}/lab/tree/playground.ipynb?token={token}", timeout=WAIT * 1000)
        page.locator(".jp-Notebook").first.wait_for()
        kernel_idle(page)

        # Run ▸ Run All Cells
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        accept_kernel_dialog(page)

        output = page.locator(".jp-OutputArea-output")
        send = output.locator("button.jupyter-button", has_text=re.compile(r"^\s*Send\s*$"))
        send.wait_for(state="visible")
        interrupt = output.locator(
            ".widget-toggle-buttons button", has_text=re.compile(r"^\s*interrupt\s*$")
        )
        interrupt.click()
        page.wait_for_function(
            "b => b.classList.contains('mod-active')", arg=interrupt.element_handle()
        )

        began = time.monotonic()
        send.click()
        send.click()
        assert time.monotonic() - began < 1.0, "the two clicks were not within a second"

        # live timeline: one interrupted run, one successful one, nothing still going
        page.wait_for_function(
            f"""() => {{
                const c = ({BARS_JS})();
                return c['status-interrupted'] === 1 && c['status-success'] === 1
                    && Object.keys(c).length === 2;
            }}""",
            timeout=WAIT * 1000,
        )
        counts = page.evaluate(BARS_JS)
        assert counts == {"status-interrupted": 1, "status-success": 1}, counts

        svg = output.locator(".widget-html-content svg").first
        assert svg.get_attribute("aria-label") == "nbruns timeline: 1 thread, 2 runs"
        bars = svg.locator("rect.run-bar")
        run_ids = {bars.nth(i).get_attribute("data-run-id") for i in range(2)}
        assert len(run_ids) == 2 and None not in run_ids, run_ids
        fills = {
            svg.locator(f"rect.run-bar.status-{s}").get_attribute("fill")
            for s in ("interrupted", "success")
        }
        assert fills == {"#f59f00", "#2f9e44"}, fills  # amber and green, as the legend says
        assert svg.locator("path.supersede-arrow").count() == 1  # interrupted -> its successor

        # the runs table below agrees: two runs made with interrupt, one interrupted
        table = output.locator(".nbruns-table table").first  # Runs (Messages is second)
        head = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        rows = [
            dict(zip(head, (c.strip() for c in row.locator("td").all_inner_texts()), strict=True))
            for row in table.locator("tbody tr").all()
        ]
        assert sorted((r["strategy"], r["status"]) for r in rows) == [
            ("interrupt", "interrupted"),
            ("interrupt", "success"),
        ], rows

        svg.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "playground.png"))
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "playground-failure.png"))
        raise
    finally:
        page.close()
