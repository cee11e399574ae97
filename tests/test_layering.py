"""The layers import one way: the core is pure, views only use the SDK client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import nbruns

PACKAGE = Path(nbruns.__file__).parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
    return found


CORE_FILES = [
    *sorted((PACKAGE / "_core").glob("*.py")),
    PACKAGE / "_types.py",
    PACKAGE / "_errors.py",
]
STDLIB_ALLOWED = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "typing",
    "enum",
    "itertools",
    "heapq",
    "functools",
    "math",
    "json",
}


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    for module in imported_modules(path):
        if module.startswith("."):
            target = module.lstrip(".")
            # relative imports must stay inside the core (or reach _types/_errors)
            assert target.split(".")[0] in {
                "",
                "_records",
                "_lifecycle",
                "_strategies",
                "_store",
                "_types",
                "_errors",
            }, (path.name, module)
            continue
        assert module in STDLIB_ALLOWED, f"{path.name} imports {module}: the core is pure"


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda p: p.name)
def test_core_never_touches_asyncio_http_or_ui(path: Path) -> None:
    banned = {"asyncio", "httpx", "starlette", "pandas", "ipywidgets", "langgraph"}
    roots = {m.lstrip(".").split(".")[0] for m in imported_modules(path)}
    assert not roots & banned


VIEW_MODULES = [
    "frames.py",
    "widgets.py",
    "_timeline_svg.py",
    "_viewdata.py",
    "_timeline_data.py",
    "_svg.py",
]


@pytest.mark.parametrize("name", VIEW_MODULES)
def test_views_read_through_the_client_not_the_engine(name: str) -> None:
    path = PACKAGE / name
    if not path.exists():
        pytest.skip(f"{name} not present")
    engine = {"._executor", "._core", "._store", "._api", "._server", "._checkpoints"}
    for module in imported_modules(path):
        assert not any(module.startswith(e) for e in engine), f"{name} imports {module}"
