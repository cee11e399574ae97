#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine, then run all of it:
# lint and types, unit/API/property/served/conformance tests (the conformance suite
# builds the reference server's virtualenv itself), the browser test, and the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's chromium for the browser test (Playwright cannot download its own here)
if ! command -v chromium >/dev/null 2>&1; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

python -m pip install -q --disable-pip-version-check -e ".[test]"

python -m ruff check src tests bench scripts
python -m mypy
python -m pytest tests "$@"
python -m pytest -p no:cacheprovider --nbval notebooks/ \
    --nbval-sanitize-with notebooks/nbval-sanitize.cfg --nbval-current-env
