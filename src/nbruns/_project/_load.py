"""Reading a project's `langgraph.json`, for `nbruns serve --config` and `get_client(config=)`.

Every key is honoured, accepted as build-only (it shapes only the Docker image
`langgraph build` makes), or refused with an error naming it: nothing is ignored
silently. Order matters and follows `langgraph dev`: `env` is loaded and
`dependencies` put on `sys.path` before any graph, auth or app module is imported.
Paths are relative to the config file's folder.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._api._cors import CorsPolicy
from ._imports import load_graphs
from ._where import ConfigError, Where

__all__ = ["ConfigError", "Project", "load_project", "project_options"]


HONOURED = ("$schema", "graphs", "env", "dependencies", "store", "auth", "http", "python_version")
# only `langgraph build` reads these (the image's base, installer and extra lines)
BUILD_ONLY = (
    "api_version",
    "base_image",
    "image_distro",
    "pip_config_file",
    "pip_installer",
    "dockerfile_lines",
    "keep_pkg_tools",
    "source",
    "node_version",
    "_INTERNAL_docker_tag",
)
REFUSED = {
    "checkpointer": "nbruns supplies the checkpointer (memory, or SQLite with --db / path=); "
    "remove checkpointer",
    "encryption": "nbruns does not encrypt stored data at rest; remove encryption, or use "
    "LangGraph's server",
    "priority": "nbruns runs a thread's runs in arrival order and has no run priorities; "
    "remove priority",
    "ui": "nbruns does not serve generative-UI components (/ui); remove ui",
    "ui_config": "nbruns does not serve generative-UI components (/ui); remove ui_config",
    "project_root": "LangGraph no longer reads it either: use source.root",
    "package": "LangGraph no longer reads it either: use source.package",
}
# webhooks' URL policy: nbruns sends none (a run asking for one is refused), which no
# policy can loosen
ACCEPTED = ("webhooks",)


@dataclass(frozen=True)
class Project:
    """What a `langgraph.json` asks of the server, loaded: its graphs imported, its env set."""

    path: Path
    graphs: dict[str, Any]
    descriptions: dict[str, str] = field(default_factory=dict)
    store: Any = None  # a StoreConfig, or None for the default store
    auth: Any = None  # the langgraph_sdk.Auth object, or None
    http_app: Any = None  # the project's Starlette/FastAPI app to serve around the API
    disabled: frozenset[str] = frozenset()  # route families http.disable_* switched off
    cors: CorsPolicy | None = None  # http.cors; None: nbruns's default (loopback pages)


def project_options(project: Project) -> dict[str, Any]:
    """The `Options` fields a project sets (besides its graphs)."""
    return {
        "descriptions": project.descriptions,
        "store": project.store,
        "auth": project.auth,
        "http_app": project.http_app,
        "disabled_routes": project.disabled,
    }


def load_project(config_path: str | os.PathLike[str]) -> Project:
    """Read, check and load `config_path`; raises ConfigError naming what it cannot honour."""
    from ._sections import load_auth, load_http, load_store

    path = Path(config_path).resolve()
    try:
        config = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a JSON object with a 'graphs' key")
    where = Where(path)
    check_keys(config, where)
    if config.get("python_version") is not None:
        _check_python(config["python_version"], where)
    load_env(config.get("env"), where)
    put_dependencies(config.get("dependencies"), where)
    graphs, descriptions = load_graphs(config.get("graphs"), where)
    http = load_http(config.get("http"), where)
    return Project(
        path=path,
        graphs=graphs,
        descriptions=descriptions,
        store=load_store(config.get("store"), where),
        auth=load_auth(config.get("auth"), where),
        http_app=http.app,
        disabled=http.disabled,
        cors=http.cors,
    )


def check_keys(config: Mapping[str, Any], where: Where) -> None:
    known = (*HONOURED, *BUILD_ONLY, *REFUSED, *ACCEPTED)
    for key, value in config.items():
        if key in REFUSED and value is not None:
            raise where.error(key, REFUSED[key])
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise where.error(
                key,
                f"not a langgraph.json key{hint}; nbruns reads {', '.join(HONOURED[1:])}, "
                f"accepts the build-only keys {', '.join(BUILD_ONLY[:-1])}",
            )


def _check_python(version: Any, where: Where) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if not isinstance(version, str) or version.split("-")[0] != running:
        raise where.error(
            "python_version",
            f"{version!r}, but nbruns runs the graphs in this interpreter, Python {running}: "
            f'set "python_version": "{running}" or run nbruns with Python {version}',
        )


def load_env(env: Any, where: Where) -> None:
    """Set the project's environment variables (they win over the process's own, as
    under `langgraph dev`), before anything of the project is imported."""
    if env is None:
        return
    if isinstance(env, str):
        from dotenv import dotenv_values

        file = where.base / env
        if not file.is_file():
            raise where.error("env", f"{env!r}: no such file ({file})")
        values = {k: v for k, v in dotenv_values(file).items() if v is not None}
    elif isinstance(env, Mapping) and all(isinstance(v, str) for v in env.values()):
        values = dict(env)
    else:
        raise where.error("env", 'expected a .env file path or {"NAME": "value", ...}')
    os.environ.update(values)


_REQUIREMENT = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)")


def put_dependencies(dependencies: Any, where: Where) -> None:
    """Local paths go on `sys.path` (with their `src/` if they have one); a package must be
    installed already: nbruns installs nothing."""
    if dependencies is None:
        dependencies = []
    if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
        raise where.error("dependencies", 'expected a list of strings, e.g. [".", "langchain"]')
    for dep in dependencies:
        if dep.startswith((".", "/")):
            folder = (where.base / dep).resolve()
            if not folder.is_dir():
                raise where.error("dependencies", f"{dep!r}: no such folder ({folder})")
            for entry in (folder / "src", folder):
                if entry.is_dir() and str(entry) not in sys.path:
                    sys.path.insert(0, str(entry))
            continue
        _check_installed(dep, where)


def _check_installed(dep: str, where: Where) -> None:
    match = _REQUIREMENT.fullmatch(dep.split(" @ ")[0])
    if match is None:
        raise where.error(
            "dependencies", f"{dep!r} is neither a local path nor a package requirement"
        )
    name, spec = match.group(1), match.group(3).strip()
    try:
        installed = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise where.error(
            "dependencies",
            f"{name!r} is not installed in this Python ({sys.executable}); nbruns installs "
            f"nothing: pip install '{dep}'",
        ) from None
    if spec and not spec.startswith(";"):
        try:  # packaging comes with pip and most environments; without it, names only
            from packaging.specifiers import InvalidSpecifier, SpecifierSet
        except ImportError:
            return
        try:
            wanted = SpecifierSet(spec.split(";")[0])
        except InvalidSpecifier:
            raise where.error("dependencies", f"{dep!r}: cannot read {spec!r}") from None
        if not wanted.contains(installed, prereleases=True):
            raise where.error(
                "dependencies",
                f"{name} {installed} is installed, but {dep!r} is asked for: pip install '{dep}'",
            )
