"""The layers import one way, and every import edge inside the package is checked.

Each module belongs to one layer, by its folder. A layer may import only the layers
listed for it below (and itself), and only the third-party packages its job needs:
the core is pure, the engine knows nothing of HTTP, the API nothing of how it is
reached, and the views read only through the SDK client.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import nbruns

PACKAGE = Path(nbruns.__file__).parent

# layer -> the layers it may import (besides itself)
MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "persistence": {"core"},
    "engine": {"core", "persistence"},
    "api": {"core", "engine"},
    "compose": {"core", "persistence", "engine", "api", "demo"},
    "inprocess": {"core", "persistence", "engine", "api", "compose"},
    "served": {"core", "persistence", "engine", "api", "compose"},
    "views": set(),  # and the default client, below
    # nbruns.testing reads through the SDK client as the views do; its pytest plugin
    # builds in-process servers
    "testing": {"views", "inprocess"},
    "demo": set(),
    # the package's face: it re-exports the core's `Policy` (a pure value users build)
    # and the example choose hooks (`policies`)
    "root": {"core", "demo", "inprocess", "served", "views", "testing"},
}

# The one edge outside the table: a view given no client makes the in-process one.
EXTRA_EDGES = {("views", "nbruns._inprocess._get_client")}

# Banned packages a layer may still import one module of: a graph factory that asks for
# a `ServerRuntime` gets the SDK's own runtime type, as LangGraph's server hands it.
ALLOWED_IMPORTS = {("engine", "langgraph_sdk.runtime")}

# Banned packages one module may still import: the pytest plugin imports pytest.
ALLOWED_MODULE_IMPORTS = {
    ("nbruns.testing._plugin", "pytest"),
    ("nbruns.testing._plugin", "_pytest"),
}

# third-party packages no module of the layer may import
BANNED: dict[str, set[str]] = {
    "core": {"*"},  # standard library only, and not even all of it (below)
    "persistence": {"starlette", "httpx", "uvicorn", "pandas", "ipywidgets", "langgraph_sdk"},
    "engine": {"starlette", "httpx", "uvicorn", "pandas", "ipywidgets", "langgraph_sdk"},
    "api": {"httpx", "uvicorn", "pandas", "ipywidgets", "langgraph_sdk"},
    "compose": {"httpx", "uvicorn", "pandas", "ipywidgets", "langgraph_sdk"},
    "inprocess": {"uvicorn", "pandas", "ipywidgets"},
    "served": {"pandas", "ipywidgets", "langgraph_sdk"},
    "views": {"starlette", "uvicorn", "langgraph", "langchain_core"},
    "testing": {"starlette", "uvicorn", "langgraph", "langchain_core", "pytest", "_pytest"},
    "demo": {"starlette", "httpx", "uvicorn", "pandas", "ipywidgets", "langgraph_sdk"},
    "root": set(),
}
CORE_STDLIB = {
    "__future__",
    "collections",
    "croniter",  # not stdlib, but pure: the cron-schedule rules (`_core/_crons.py`) read it
    "dataclasses",
    "datetime",
    "enum",
    "functools",
    "heapq",
    "itertools",
    "json",
    "math",
    "typing",
    "zoneinfo",
}
FOLDERS = {
    "_core": "core",
    "_persistence": "persistence",
    "_engine": "engine",
    "_api": "api",
    "_inprocess": "inprocess",
    "_served": "served",
    "_project": "compose",  # langgraph.json, read for both modes
    "views": "views",
    "testing": "testing",
}
TOP_LEVEL = {
    "__init__": "root",
    "__main__": "served",
    "_compose": "compose",
    "demo": "demo",
    "policies": "demo",  # example choose hooks: standard library only, like the demo's needs
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "nbruns", module
    if len(parts) == 1:
        return "root"
    if parts[1] in FOLDERS:
        return FOLDERS[parts[1]]
    if parts[1] in TOP_LEVEL:
        return TOP_LEVEL[parts[1]]
    raise AssertionError(f"{module} belongs to no layer: put it in a layer's folder")


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module `path` imports, relative ones made absolute, wherever they stand."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
                if node.module is None:  # `from . import x`: x is a module
                    found.extend((node.lineno, f"{target}.{a.name}") for a in node.names)
                    continue
                found.append((node.lineno, target))
            else:
                found.append((node.lineno, node.module or ""))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_goes_down_the_layers(path: Path) -> None:
    own = layer_of(module_name(path))
    for line, target in imports(path):
        root = target.split(".")[0]
        if root == "nbruns":
            other = layer_of(target)
            if (own, target) in EXTRA_EDGES:
                continue
            assert other == own or other in MAY_IMPORT[own], (
                f"{path.relative_to(PACKAGE)}:{line} imports {target}: the {own} layer may "
                f"import only {sorted(MAY_IMPORT[own] | {own})}"
            )
        elif own == "core":
            assert root in CORE_STDLIB, (
                f"{path.relative_to(PACKAGE)}:{line} imports {target}: the core is pure"
            )
        elif (own, target) not in ALLOWED_IMPORTS and (
            (module_name(path), root) not in ALLOWED_MODULE_IMPORTS
        ):
            assert root not in BANNED[own], (
                f"{path.relative_to(PACKAGE)}:{line} imports {target}, banned in the {own} layer"
            )


def test_every_module_has_a_layer() -> None:
    assert {layer_of(module_name(p)) for p in MODULES} == set(MAY_IMPORT)


def test_the_rule_is_one_way() -> None:
    # no two layers may import each other, directly or through others
    def reach(layer: str, seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for other in MAY_IMPORT[layer]:
            if other not in seen:
                out |= {other} | reach(other, seen | {layer})
        return out

    for layer in MAY_IMPORT:
        assert layer not in reach(layer), f"the {layer} layer can reach itself"


def test_a_violation_is_caught(tmp_path: Path) -> None:
    # the checker itself: an engine module importing the API must fail
    bad = PACKAGE / "_engine" / "_layering_probe.py"
    bad.write_text("from .._api import _http\n")
    try:
        with pytest.raises(AssertionError, match="the engine layer may import only"):
            test_every_import_goes_down_the_layers(bad)
    finally:
        bad.unlink()


def test_only_the_pytest_plugin_of_nbruns_testing_imports_pytest() -> None:
    # nbruns.testing is imported by notebooks and scripts, where pytest may be absent
    bad = PACKAGE / "testing" / "_layering_probe.py"
    bad.write_text("import pytest\n")
    try:
        with pytest.raises(AssertionError, match="banned in the testing layer"):
            test_every_import_goes_down_the_layers(bad)
    finally:
        bad.unlink()


def test_importing_nbruns_loads_no_ui_or_server() -> None:
    # the optional extras stay optional: `import nbruns` touches none of them
    code = (
        "import sys, nbruns; "
        "print(sorted(m for m in ('uvicorn', 'ipywidgets', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
