"""Importing what a langgraph.json names: graphs, and `file.py:attr` / `module:attr` specs."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from ._where import ConfigError, Where

__all__ = ["import_attr", "load_graphs"]

_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx")


def load_graphs(specs: Any, where: Where) -> tuple[dict[str, Any], dict[str, str]]:
    if not isinstance(specs, Mapping) or not specs:
        raise where.error(
            "graphs", 'expected an object of graph ids, e.g. {"agent": "./agent.py:graph"}'
        )
    graphs: dict[str, Any] = {}
    descriptions: dict[str, str] = {}
    for graph_id, spec in specs.items():
        key = f"graphs.{graph_id}"
        if isinstance(spec, Mapping):
            extra = sorted(set(spec) - {"path", "description"})
            if extra:
                raise where.error(key, f"unknown keys {extra}; a graph has path and description")
            description = spec.get("description")
            if description is not None and not isinstance(description, str):
                raise where.error(f"{key}.description", "expected a string")
            if description is not None:
                descriptions[graph_id] = description
            spec = spec.get("path")
        if not isinstance(spec, str):
            raise where.error(
                key,
                f"{spec!r}: expected './path/to/file.py:attribute', 'package.module:attribute' "
                "or {'path': ..., 'description': ...}",
            )
        graphs[graph_id] = import_attr(spec, key, where)
    return graphs, descriptions


def import_attr(spec: str, key: str, where: Where) -> Any:
    """`./file.py:attr` (from the config's folder) or `package.module:attr`."""
    if ":" not in spec:
        raise where.error(key, f"{spec!r} names no attribute: expected 'file.py:attribute'")
    source, attr = spec.rsplit(":", 1)
    if source.endswith(_JS_SUFFIXES):
        raise where.error(key, f"{spec!r}: nbruns runs Python only, not JavaScript")
    try:
        if "/" in source or source.endswith(".py"):
            module = _import_file((where.base / source).resolve(), key, where)
        else:
            module = importlib.import_module(source)
    except ConfigError:
        raise
    except Exception as exc:
        raise where.error(key, f"importing {source!r} failed: {type(exc).__name__}: {exc}") from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise where.error(key, f"{source!r} has no attribute {attr!r}") from None


def _import_file(file: Path, key: str, where: Where) -> ModuleType:
    if not file.is_file():
        raise where.error(key, f"no such file {file}")
    if str(where.base) not in sys.path:
        sys.path.insert(0, str(where.base))  # so the file can import its neighbours
    # one flat name per file, the same in every process (pickle and LangGraph's serde find
    # classes by module name; a dotted name would need a parent package)
    parts = "_".join(file.relative_to(file.anchor).with_suffix("").parts)
    name = "nbruns_project__" + re.sub(r"\W", "_", parts)
    module = where.modules.get(file)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            raise where.error(key, f"cannot import {file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
        where.modules[file] = module
    return module
