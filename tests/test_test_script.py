"""scripts/test.sh runs every stage even when one fails, reports each, and fails overall.

The stages' commands are replaced by a stand-in `python` on PATH that records its
arguments and fails the pytest stage, so this checks the script's own control flow in
a second, without installing or running anything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASH = shutil.which("bash") or "/bin/bash"
FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$*" in
  "-m pytest tests"*) exit 3 ;;
esac
exit 0
"""


def run_script(
    tmp_path: Path, fail_install: bool = False, have_chromium: bool = True
) -> tuple[int, str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # only the stand-ins and the few real tools the script needs: no real chromium on PATH
    for tool in ("id", "env", "sh", "chmod"):
        real = shutil.which(tool)
        assert real is not None
        (bin_dir / tool).symlink_to(real)
    apt = bin_dir / "apt-get"
    apt.write_text(
        f'#!/bin/sh\necho "apt-get $*" >> "$CALLS"\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\n" > {bin_dir}/chromium; '
        f"chmod +x {bin_dir}/chromium ;; esac\n"
    )
    apt.chmod(0o755)
    python = bin_dir / "python"
    script = FAKE_PYTHON
    if fail_install:
        script = script.replace('case "$*" in', 'case "$*" in\n  "-m pip install"*) exit 4 ;;')
    python.write_text(script)
    python.chmod(0o755)
    if have_chromium:
        chromium = bin_dir / "chromium"
        chromium.write_text("#!/bin/sh\nexit 0\n")
        chromium.chmod(0o755)
    calls = tmp_path / "calls"
    env = {
        **os.environ,
        "PATH": str(bin_dir),
        "CALLS": str(calls),
        "NBRUNS_ALLOW_NO_VENV": "1",
    }
    done = subprocess.run(
        [BASH, str(REPO / "scripts" / "test.sh"), "-k", "nothing"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, done.stdout, recorded


def test_a_failing_stage_does_not_hide_the_later_ones(tmp_path: Path) -> None:
    status, out, calls = run_script(tmp_path)
    assert status == 1
    modules = [c for c in calls if c.startswith("-m ")]
    # the notebooks' sanitize file comes from `python -m nbruns.testing sanitize-path`
    expected = ["pip", "ruff", "mypy", "pytest", "pytest", "nbruns.testing", "pytest"]
    assert [c.split()[1] for c in modules] == expected
    assert modules[3] == "-m pytest tests -k nothing"  # arguments go to the pytest stage
    assert modules[4] == "-m pytest -p no:cacheprovider examples"  # ran after pytest failed
    assert "--nbval" in modules[6]  # and so did the notebooks
    report = out[out.index("=== scripts/test.sh stages") :]
    stages = [("ruff", "ok"), ("mypy", "ok"), ("pytest", "FAILED"), ("examples", "ok")]
    for name, word in [*stages, ("notebooks", "ok")]:
        assert any(line.split()[:2] == [name, word] for line in report.splitlines()), report
    assert "(exit 3)" in report
    assert "some stages FAILED" in report


def test_a_failed_install_stops_before_the_tests(tmp_path: Path) -> None:
    status, out, calls = run_script(tmp_path, fail_install=True)
    assert status == 1
    assert [c.split()[1] for c in calls if c.startswith("-m ")] == ["pip"]
    assert "install    FAILED" in out


def test_chromium_is_installed_when_missing(tmp_path: Path) -> None:
    status, out, calls = run_script(tmp_path, have_chromium=False)
    assert status == 1  # the stand-in pytest stage fails, as above
    apt = [c for c in calls if c.startswith("apt-get")]
    assert apt[0] == "apt-get update -qq"
    assert apt[1].startswith("apt-get install") and apt[1].endswith("chromium")
    assert (tmp_path / "bin" / "chromium").exists()
    assert any(line.split()[:2] == ["chromium", "ok"] for line in out.splitlines())
