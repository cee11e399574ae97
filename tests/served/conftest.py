"""Served-mode helpers: real `nbruns serve` subprocesses on free loopback ports.

`serve(...)` (the fixture) starts `python -m nbruns serve --config
tests/served/app/langgraph.json --port <free>` with any extra flags, waits until
`/ok` answers, and returns a `Served` handle. Every process a test started is
stopped at teardown (SIGINT, then SIGKILL after a bound) and always reaped.
Tests never import this module (that breaks under --import-mode=importlib).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
APP_CONFIG = Path(__file__).resolve().parent / "app" / "langgraph.json"
START_WITHIN = 60.0
STOP_WITHIN = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """One `nbruns serve` subprocess."""

    def __init__(self, args: list[str], log: Path, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.cmd = [
            sys.executable,
            "-m",
            "nbruns",
            "serve",
            "--config",
            str(APP_CONFIG),
            "--port",
            str(self.port),
            *args,
        ]
        self._logf = open(log, "ab")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(extra_env or {})},
            stdin=subprocess.DEVNULL,
            stdout=self._logf,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "<no log>"

    def wait_ready(self, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + START_WITHIN
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"nbruns serve exited with {self.proc.returncode} before /ok answered; "
                    f"log:\n{self.tail()}"
                )
            try:
                request = urllib.request.Request(self.url + "/ok", headers=headers or {})
                with urllib.request.urlopen(request, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and guarded by --api-key
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"nbruns serve did not answer /ok in time; log:\n{self.tail()}"
                )
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGINT, within: float = STOP_WITHIN) -> float:
        """Send `sig`, wait up to `within` s; return the seconds it took to exit.

        Raises AssertionError (after killing and reaping it) if it did not exit in time.
        """
        started = time.monotonic()
        try:
            if self.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.send_signal(sig)
                try:
                    self.proc.wait(timeout=within)
                except subprocess.TimeoutExpired:
                    self.kill()
                    raise AssertionError(
                        f"nbruns serve did not exit within {within} s of signal {sig}; "
                        f"log:\n{self.tail()}"
                    ) from None
            return time.monotonic() - started
        finally:
            self._logf.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        self.proc.wait(timeout=STOP_WITHIN)
        self._logf.close()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """`serve(*flags, ready_headers=None, extra_env=None)`: start `nbruns serve`, wait for
    `/ok`."""
    started: list[Served] = []

    def start(
        *flags: str,
        ready_headers: dict[str, str] | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> Served:
        served = Served(list(flags), tmp_path / f"serve-{len(started)}.log", extra_env)
        started.append(served)
        served.wait_ready(ready_headers)
        return served

    yield start
    for served in started:
        if served.proc.poll() is None:
            try:
                served.stop(signal.SIGINT)
            except AssertionError:
                pass  # killed and reaped by stop(); the test itself reports hangs
        else:
            served.proc.wait()
            served._logf.close()


# -- the OpenAPI document ---------------------------------------------------------------


def openapi_route_app(**build_kwargs: Any) -> Any:
    """`build_app(...)` on the test graphs (it serves `GET /openapi.json`)."""
    from nbruns._served._app import build_app, load_graphs

    return build_app(load_graphs(APP_CONFIG), **build_kwargs)


@pytest.fixture(scope="session")
def make_openapi_app() -> Callable[..., Any]:
    return openapi_route_app


class Conformance:
    """Validate real responses against the document's response schemas (JSON Schema 2020-12)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.checked: list[tuple[str, str, int]] = []

    def schema_for(self, method: str, path: str, status: int) -> dict[str, Any] | None:
        operation = self.document["paths"][path][method.lower()]
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{method} {path} answered {status}, which the document does not list "
            f"({sorted(responses)})"
        )
        content = responses[str(status)].get("content")
        if not content:
            return None
        media = next(iter(content))
        return {"media": media, **content[media]}

    def check(self, method: str, path: str, response: Any) -> None:
        import jsonschema  # type: ignore[import-untyped]

        status = response.status_code
        found = self.schema_for(method, path, status)
        self.checked.append((method, path, status))
        if found is None:
            assert not response.content, f"{method} {path} {status}: undocumented body"
            return
        media = response.headers.get("content-type", "").split(";")[0]
        assert media == found["media"], f"{method} {path} {status}: {media} != {found['media']}"
        if media != "application/json":
            return
        schema = {**found["schema"], "components": self.document["components"]}
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(response.json()), key=str)
        assert not errors, (
            f"{method} {path} {status}: {errors[0].message} at {list(errors[0].absolute_path)}"
        )


@pytest.fixture
def conformance() -> Callable[[dict[str, Any]], Conformance]:
    return Conformance


@pytest.fixture
async def sdk() -> Any:
    """`sdk(url, api_key=None)`: an official async SDK client, closed at teardown."""
    from langgraph_sdk import get_client

    clients: list[Any] = []

    def make(url: str, api_key: str | None = None) -> Any:
        # api_key=None: never pick up a LANGSMITH/LANGGRAPH key from the environment
        client = get_client(url=url, api_key=api_key)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
