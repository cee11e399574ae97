"""Installing nbruns is enough: its wheel, built from this tree, in a new virtualenv with
pytest and nothing else, runs the plugin's user project (see test_plugin.py) as a user
would, and finds the shipped nbval rules.

This is what an editable install cannot show: that the `pytest11` entry point and the
sanitize file are in the wheel. It costs a wheel build and an install from the package
registry (the versions pinned in constraints/test.txt), about half a minute.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.testing import test_plugin as editable
from tests.testing.test_plugin import NO_ASYNC_PLUGIN, make_project, run_pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = REPO_ROOT / "constraints" / "test.txt"


def _pip(python: Path | str, *args: str) -> None:
    env = {**os.environ, "PIP_CONSTRAINT": str(CONSTRAINTS), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [str(python), "-m", "pip", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def wheel_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new virtualenv holding nbruns's wheel and pytest, nothing else."""
    root = tmp_path_factory.mktemp("wheel")
    # built from a copy of what a source distribution holds: never this tree's build/ or
    # egg-info, which could carry files into the wheel that pyproject.toml does not ship
    source = root / "source"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO_ROOT / "src", source / "src", ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    _pip(sys.executable, "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(source))
    (wheel,) = (root / "dist").glob("nbruns-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    _pip(python, "install", "--quiet", str(wheel), "pytest")
    return python


def _run(python: Path, code: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_wheel_is_what_runs(wheel_python: Path) -> None:
    where = Path(_run(wheel_python, "import nbruns; print(nbruns.__file__)"))
    assert where.is_relative_to(wheel_python.parents[1]), where  # not this source tree


def test_the_plugin_works_from_the_wheel(
    wheel_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The same user project and the same checks as test_plugin.py's, from the wheel."""
    project = make_project(tmp_path_factory.mktemp("user_project"), "nbruns_clock = virtual\n")
    args = (*NO_ASYNC_PLUGIN, "--strict-markers", "--strict-config")
    session = run_pytest(project, *args, python=str(wheel_python))
    assert any(line.startswith("plugins:") for line in session.output.splitlines()), session
    editable.test_the_plugin_comes_from_the_entry_point(session)
    editable.test_fixtures_work_without_an_async_plugin(session)
    editable.test_a_run_left_running_fails_at_teardown(session)


def test_the_sanitize_rules_ship_in_the_wheel(wheel_python: Path) -> None:
    code = "from nbruns.testing import SANITIZE_PATH; print(SANITIZE_PATH)"
    path = Path(_run(wheel_python, code))
    assert path.is_relative_to(wheel_python.parents[1]), path
    shipped = REPO_ROOT / "src" / "nbruns" / "testing" / "nbval-sanitize.cfg"
    assert path.read_text() == shipped.read_text()
    cli = subprocess.run(
        [str(wheel_python), "-m", "nbruns.testing", "sanitize-path"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 0 and Path(cli.stdout.strip()) == path, cli
