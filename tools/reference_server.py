"""Run the reference LangGraph dev server (``langgraph dev``) for conformance checks.

The reference server lives in its own virtualenv (``.ref`` at the repo root,
gitignored) so that its dependencies never leak into nbruns' environment. It
is run offline: no API key, no analytics, no version check, no browser.

Importable (from the repository root, or from tests and benchmarks)::

    from tools.reference_server import ensure_venv, running_reference

    ensure_venv()
    with running_reference("tests/conformance/reference_app/langgraph.json") as url:
        ...  # e.g. langgraph_sdk.get_client(url=url, api_key=None)

It also holds the subprocess helpers the benchmarks and tests share for any server
they start (``free_port``, ``wait_ok``, ``tail``, ``stop_group``).

Command line, from the repository root (runs until Ctrl-C)::

    python -m tools.reference_server --config DIR/langgraph.json --port 8124
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # tools/ sits at the repository root
DEFAULT_VENV = ".ref"
REQUIREMENTS = ("langgraph-cli[inmem]", "langgraph", "langchain-core")
# their versions, refreshed on purpose by scripts/lock.sh
CONSTRAINTS = REPO_ROOT / "constraints" / "reference.txt"
# Modules that must import inside the venv for it to count as installed.
_PROBE_MODULES = ("langgraph_api", "langgraph_runtime_inmem", "langgraph_cli", "langchain_core")

OFFLINE_ENV = {
    "LANGSMITH_TRACING": "false",
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
}
# Keys that would switch on the usage-metadata loop or tracing uploads.
_SCRUB_ENV = (
    "LANGSMITH_API_KEY",
    "LANGCHAIN_API_KEY",
    "LANGGRAPH_API_KEY",
    "LANGGRAPH_CLOUD_LICENSE_KEY",
    "LANGSMITH_CONTROL_PLANE_API_KEY",
    "LANGCHAIN_TRACING_V2",
)


def _resolve(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    return p if p.is_absolute() else REPO_ROOT / p


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _venv_ready(venv: Path) -> bool:
    """Cheap check first (files on disk), then one import round-trip."""
    py = _venv_python(venv)
    if not py.exists() or not (venv / "bin" / "langgraph").exists():
        return False
    code = "import " + ", ".join(_PROBE_MODULES)
    try:
        subprocess.run(
            [str(py), "-c", code],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return False
    return True


def ensure_venv(path: str | os.PathLike[str] = DEFAULT_VENV) -> Path:
    """Return the reference venv's directory, creating and installing it if needed.

    Idempotent: when the venv already imports the server packages it returns
    at once without touching the package registry.
    """
    venv = _resolve(path)
    if _venv_ready(venv):
        return venv
    if not _venv_python(venv).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # pinned: the conformance suite compares against the reference version it was checked on
    subprocess.run(
        [
            str(_venv_python(venv)),
            *("-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--constraint", str(CONSTRAINTS), *REQUIREMENTS),
        ],
        check=True,
    )
    if not _venv_ready(venv):
        raise RuntimeError(f"reference venv at {venv} still cannot import {_PROBE_MODULES}")
    return venv


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_ok(
    base_url: str,
    proc: subprocess.Popen[bytes],
    timeout: float,
    log: Path,
    *,
    name: str = "reference server",
    poll: float = 0.2,
) -> None:
    """Wait until `GET /ok` answers 200; raise with the log's tail if `proc` exits first
    (RuntimeError) or `timeout` passes (TimeoutError). Used for any server, nbruns too."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{name} exited with {proc.returncode} before /ok answered; log tail:\n{tail(log)}"
            )
        try:
            with urllib.request.urlopen(base_url + "/ok", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(poll)
    raise TimeoutError(f"{name} did not answer /ok within {timeout}s; log tail:\n{tail(log)}")


def tail(log: Path, n: int = 40) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "<no log>"


def stop_group(
    proc: subprocess.Popen[bytes], grace: float = 10.0, sig: int = signal.SIGTERM
) -> None:
    """Signal the process group `proc` leads (started with start_new_session), then
    SIGKILL it after `grace` seconds; always reaped."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def running_reference(
    config_path: str | os.PathLike[str],
    port: int | None = None,
    *,
    venv: str | os.PathLike[str] = DEFAULT_VENV,
    log_path: str | os.PathLike[str] | None = None,
    n_jobs_per_worker: int = 10,
    startup_timeout: float = 60.0,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """Start ``langgraph dev`` for ``config_path`` and yield its base URL.

    The config's directory is copied to a scratch directory which becomes the
    server's working directory, so each start is fresh (no ``.langgraph_api``
    pickles from a previous run) and nothing is written into the repo. On exit
    the server gets SIGTERM, then SIGKILL, and is reaped.
    """
    venv_dir = ensure_venv(venv)
    config = Path(config_path).resolve()
    if not config.is_file():
        raise FileNotFoundError(config)
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"

    with tempfile.TemporaryDirectory(prefix="nbruns-ref-") as scratch:
        workdir = Path(scratch) / "app"
        shutil.copytree(
            config.parent,
            workdir,
            ignore=shutil.ignore_patterns(".langgraph_api", "__pycache__", "*.pyc"),
        )
        log = Path(log_path) if log_path else Path(scratch) / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)

        env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
        env.update(OFFLINE_ENV)
        env["PYTHONUNBUFFERED"] = "1"
        if extra_env:
            env.update(extra_env)
        cmd = [
            str(venv_dir / "bin" / "langgraph"),
            "dev",
            "--config",
            str(workdir / config.name),
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--no-browser",
            "--no-reload",
            "--n-jobs-per-worker",
            str(n_jobs_per_worker),
        ]
        with open(log, "wb") as logf:
            proc = subprocess.Popen(
                cmd,
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                wait_ok(base_url, proc, startup_timeout, log)
                yield base_url
            finally:
                stop_group(proc)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tools.reference_server", description=__doc__.splitlines()[0]
    )
    ap.add_argument("--config", required=True, help="path to langgraph.json")
    ap.add_argument("--port", type=int, default=None, help="default: a free loopback port")
    ap.add_argument("--venv", default=DEFAULT_VENV)
    ap.add_argument("--log", default=None, help="server log file (default: scratch dir)")
    args = ap.parse_args(argv)

    def _on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM or SIGINT to this process stops (and reaps) the server, even when the
    # shell started us in the background with SIGINT ignored.
    signal.signal(signal.SIGTERM, _on_term)
    signal.signal(signal.SIGINT, _on_term)
    with running_reference(args.config, args.port, venv=args.venv, log_path=args.log) as url:
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
