"""CORS in a real browser: pages from other origins call `nbruns serve` with `fetch`.

`nbruns serve` listens on http://127.0.0.1:<api>; a small page server on another port
serves one page that calls `GET /info` and `POST /threads` (JSON, so the browser sends a
preflight first) and writes what happened into the page. Chromium (Debian's, through
Playwright) maps two made-up host names to 127.0.0.1, so the same page is opened from
four origins: `http://localhost:<p>` and `http://127.0.0.1:<p>` (loopback: allowed by
default), `http://allowed.test:<p>` (allowed by `--cors-origin`) and
`http://refused.test:<p>` (not allowed: the browser blocks both calls, and the refused
preflight means the POST is never sent). Skips like test_playground_browser.py.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_port, unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
WAIT = 60.0  # seconds: the bound on every wait below
PAGE = b"""<!doctype html><title>cors</title><pre id="out"></pre><script>
const api = new URLSearchParams(location.search).get("api");
(async () => {
  const out = {};
  try {
    const info = await fetch(api + "/info");
    out.info = info.status;
    const made = await fetch(api + "/threads", {
      method: "POST", headers: {"content-type": "application/json"}, body: "{}"});
    out.thread_id = (await made.json()).thread_id;
  } catch (error) {
    out.error = String(error);
  }
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script>"""


@pytest.fixture
def page_origin_port() -> Iterator[int]:
    """A page server on 127.0.0.1 answering every GET with PAGE."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


@pytest.fixture
def api(tmp_path: Path, page_origin_port: int) -> Iterator[str]:
    """`nbruns serve` on 127.0.0.1, allowing http://allowed.test:<page port> too."""
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbruns", "serve", "--port", str(port),
         "--cors-origin", f"http://allowed.test:{page_origin_port}"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url + "/ok", timeout=2):
                    break
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline, "nbruns serve did not start"
            time.sleep(0.05)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def thread_count(api: str) -> int:
    request = urllib.request.Request(
        api + "/threads/count", data=b"{}", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(json.loads(answer.read()))


def test_loopback_and_listed_pages_may_call_the_api_others_may_not(
    api: str, page_origin_port: int
) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install playwright)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP allowed.test 127.0.0.1, MAP refused.test 127.0.0.1",
    ]
    seen: dict[str, Any] = {}
    before = thread_count(api)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, timeout=WAIT * 1000)
        try:
            for host in ("localhost", "127.0.0.1", "allowed.test", "refused.test"):
                page = browser.new_page()
                page.goto(f"http://{host}:{page_origin_port}/?api={api}", timeout=WAIT * 1000)
                page.wait_for_function(
                    "document.getElementById('out').textContent !== ''", timeout=WAIT * 1000
                )
                seen[host] = json.loads(page.inner_text("#out"))
                page.close()
        finally:
            browser.close()
    for host in ("localhost", "127.0.0.1", "allowed.test"):
        assert seen[host]["info"] == 200, seen
        assert len(seen[host]["thread_id"]) == 36, seen
    assert seen["refused.test"] == {"error": "TypeError: Failed to fetch"}, seen
    # the refused page's POST was never sent: its preflight was refused
    assert thread_count(api) == before + 3
