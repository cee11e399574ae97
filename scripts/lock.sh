#!/usr/bin/env bash
# Refresh the pinned versions the tests install (constraints/*.txt), on purpose.
#
# pyproject.toml states the ranges nbruns supports; the constraints files pin one tested
# set inside them, so that `scripts/test.sh` installs today what it installed when the
# files were last refreshed, whatever the registry serves since. Run this, then the
# whole test command, and commit the files with what changed:
#
#   bash scripts/lock.sh && python3 -m venv --clear .venv && . .venv/bin/activate && bash scripts/test.sh
#
# Each set is resolved in a new, empty virtualenv with no constraints, so nothing
# installed on this machine leaks into it. The files are made on the Python that runs
# this script (CI and the machines here: 3.11).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

resolve() {  # resolve NAME HEADER PACKAGES...: a fresh venv, an install, a freeze
    local name=$1 header=$2
    shift 2
    python3 -m venv "$work/$name"
    "$work/$name/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip setuptools
    "$work/$name/bin/python" -m pip install -q --disable-pip-version-check "$@"
    {
        printf '%s\n' "$header"
        printf '# Refreshed by scripts/lock.sh on %s, Python %s. Do not edit by hand.\n' \
            "$(date -u +%Y-%m-%d)" "$("$work/$name/bin/python" -c 'import platform; print(platform.python_version())')"
        # pip is left to the venv; setuptools stays pinned (it builds nbruns's editable install)
        "$work/$name/bin/python" -m pip freeze --all --exclude-editable | grep -v '^pip==' | LC_ALL=C sort -f
    } > "constraints/$name.txt"
    echo "constraints/$name.txt: $(grep -vc '^#' "constraints/$name.txt") packages"
}

resolve test "# Every package of nbruns's [test] and [bench] extras, pinned (pip constraints)." \
    -e ".[test,bench]"
resolve reference "# The reference LangGraph server's virtualenv (.ref), pinned (pip constraints)." \
    $(python3 -c 'import tools.reference_server as r; print(" ".join(r.REQUIREMENTS))')
