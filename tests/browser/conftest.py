"""Fixtures of the browser tests: Debian's Chromium and a JupyterLab of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import chromium_browser, jupyterlab_server


@pytest.fixture
def chromium() -> Iterator[Any]:
    with chromium_browser() as browser:
        yield browser


@pytest.fixture
def jupyterlab(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """(base url, token, root dir) of a JupyterLab serving a copy of notebooks/."""
    with jupyterlab_server(tmp_path) as lab:
        yield lab
