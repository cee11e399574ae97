#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run all of it:
# lint and types, unit/API/property/served/conformance tests (the conformance suite
# builds the reference server's virtualenv itself), the browser test, and the notebooks.
#
# Run it inside a virtualenv (the README's command makes one): it installs nbruns and
# the pinned test dependencies (constraints/test.txt) into whatever `python` is.
# Every stage runs even when an earlier one fails, and each is reported at the end;
# the exit status is non-zero if any stage failed. Arguments go to the pytest stage.
set -uo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

results=()
failed=0
stage() {  # stage NAME COMMAND...: run it, remember how it ended
    local name=$1 started=$SECONDS status
    shift
    printf '\n=== %s: %s\n' "$name" "$*"
    "$@"
    status=$?
    if [ "$status" -eq 0 ]; then
        results+=("$(printf '%-10s ok      %4ss' "$name" $((SECONDS - started)))")
    else
        results+=("$(printf '%-10s FAILED  %4ss  (exit %s)' "$name" $((SECONDS - started)) "$status")")
        failed=1
    fi
    return "$status"
}

report() {
    printf '\n=== scripts/test.sh stages\n'
    printf '  %s\n' "${results[@]}"
    if [ "$failed" -ne 0 ]; then
        printf 'scripts/test.sh: some stages FAILED\n'
    else
        printf 'scripts/test.sh: every stage ok\n'
    fi
}

in_env() { python -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' 2>/dev/null; }
if ! in_env && [ -z "${CONDA_PREFIX:-}" ] && [ -z "${NBRUNS_ALLOW_NO_VENV:-}" ]; then
    echo "scripts/test.sh: no virtualenv is active; make one first (the README's command does:" >&2
    echo "  python3 -m venv .venv && . .venv/bin/activate && bash scripts/test.sh)" >&2
    echo "or set NBRUNS_ALLOW_NO_VENV=1 to install into $(command -v python || echo python)." >&2
    exit 2
fi

ensure_chromium() {  # Debian's chromium for the browser test (Playwright cannot fetch its own here)
    command -v chromium >/dev/null 2>&1 && return 0
    as_root apt-get update -qq &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

install_nbruns() {
    # PIP_CONSTRAINT also reaches pip's isolated build environment (setuptools)
    PIP_CONSTRAINT=constraints/test.txt python -m pip install -q --disable-pip-version-check \
        -e ".[test]"
}

# Without these two nothing else can run: stop here, saying which one failed.
if ! stage chromium ensure_chromium || ! stage install install_nbruns; then
    report
    exit 1
fi

stage ruff python -m ruff check src tests bench scripts tools examples
stage mypy python -m mypy
stage pytest python -m pytest tests "$@"
# examples/ is a user's project of its own (its pytest.ini): run through nbruns's plugin
stage examples python -m pytest -p no:cacheprovider examples
stage notebooks python -m pytest -p no:cacheprovider --nbval notebooks/ \
    --nbval-sanitize-with "$(python -m nbruns.testing sanitize-path)" --nbval-current-env

report
exit "$failed"
