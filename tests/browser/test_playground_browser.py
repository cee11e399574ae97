"""The Playground in a real JupyterLab, clicked by a real browser (Chromium through Playwright).

JupyterLab serves a temporary copy of `notebooks/` (outputs of `playground.ipynb` cleared, so
no stale widget snapshot can be clicked) on 127.0.0.1 with a random port and token. Chromium
opens `playground.ipynb`, runs all cells, selects `interrupt` in the demo agent's playground,
clicks Send twice within a second (the default sleep, 3 s, keeps the first run going), and
waits until the timeline SVG inside the widget shows exactly one interrupted and one
successful run and the status line says so in words. A screenshot goes to
`test-artifacts/playground.png`. (`test_playground_own_graph_browser.py` holds and
double-texts a user's own fast graph.)

Needs Debian's `/usr/bin/chromium` (Playwright's own browser download does not work on these
machines) and the `playwright`, `jupyterlab` and `ipywidgets` packages. Without them the test
is skipped, unless the `CI` environment variable is set: then it fails. Every wait is bounded
(at most 60 s); JupyterLab and the browser are shut down whatever happens.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import ARTIFACTS, WAIT, open_and_run_all

pytestmark = pytest.mark.browser


# -- the test -----------------------------------------------------------------

# Counts of the run bars in the timeline SVG(s) inside the widget output, by status.
BARS_JS = """(root) => {
    const counts = {};
    for (const bar of root.querySelectorAll('.nbruns-timeline svg rect.run-bar')) {
        const status = [...bar.classList].find(c => c.startsWith('status-'));
        counts[status] = (counts[status] || 0) + 1;
    }
    return counts;
}"""


def test_playground_interrupt_in_jupyterlab(
    chromium: Any, jupyterlab: tuple[str, str, Path]
) -> None:
    # chromium first: without a browser the test skips (or fails) before starting JupyterLab
    base, token, _ = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1700})
    page.set_default_timeout(WAIT * 1000)
    try:
        open_and_run_all(page, base, token, "playground.ipynb")

        output = page.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output")
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
        cell = page.locator(".jp-CodeCell").first.element_handle()
        page.wait_for_function(
            f"""(root) => {{
                const c = ({BARS_JS})(root);
                return c['status-interrupted'] === 1 && c['status-success'] === 1
                    && Object.keys(c).length === 2;
            }}""",
            arg=cell,
            timeout=WAIT * 1000,
        )
        counts = page.evaluate(BARS_JS, cell)
        assert counts == {"status-interrupted": 1, "status-success": 1}, counts

        status = output.locator(".nbruns-status").first.inner_text()
        assert re.fullmatch(
            r"'whats the weather in sf\?' sent with interrupt: run [0-9a-f]{8} interrupted "
            r"after \d+\.\d s, run [0-9a-f]{8} started",
            status.strip(),
        ), status
        svg = output.locator(".nbruns-timeline svg").first
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
