"""`nbruns serve --config langgraph.json`: every key honoured, accepted as build-only, or
refused with a message naming it; and CORS as a browser meets it (headers checked here,
a real browser in tests/browser/test_cors_browser.py).

The project is tests/config_project; variants are copies of it with langgraph.json changed.
"""

# ruff: noqa: E501 (the key table below reads best one row per line)

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nbruns._project._load import ConfigError, load_project

PROJECT = Path(__file__).resolve().parents[1] / "config_project"
ROOT = Path(__file__).resolve().parents[2]
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def variant(tmp_path: Path, **changes: Any) -> Path:
    """A copy of the project whose langgraph.json has `changes` (None removes a key)."""
    copy = tmp_path / "project"
    if not copy.exists():
        shutil.copytree(PROJECT, copy)
    config = json.loads((PROJECT / "langgraph.json").read_text())
    config.update(changes)
    config = {k: v for k, v in config.items() if v is not None}
    (copy / "langgraph.json").write_text(json.dumps(config))
    return copy / "langgraph.json"


async def test_the_project_served(serve: Callable[..., Any], sdk: Any) -> None:
    served = serve("--config", str(PROJECT / "langgraph.json"))
    client = sdk(served.url)
    found = {a["graph_id"]: a["description"] for a in await client.assistants.search(limit=50)}
    assert found["echo"] == "Echoes what it is given"
    for suffix in ("one", "two"):  # a factory makes the graph from each run's config
        thread = await client.threads.create()
        out = await client.runs.wait(
            thread["thread_id"],
            "made",
            input={"text": "x"},
            config={"configurable": {"suffix": suffix}},
        )
        assert out == {"text": f"x {suffix}"}
    thread = await client.threads.create()
    out = await client.runs.wait(thread["thread_id"], "greeter", input={"text": "x"})
    assert out == {"text": "x / hello from .env"}  # .env loaded before graphs.py ran
    async with httpx.AsyncClient(base_url=served.url) as http:
        hello = (await http.get("/hello")).json()
        assert hello == {"hello": "hello from .env", "lifespan": ["started"]}
        assert (await http.get("/ok")).json() == {"ok": True}  # not the app's /ok
        assert (await http.get("/nope")).status_code == 404


async def test_disable_flags_remove_route_families(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    config = variant(
        tmp_path,
        http={
            "app": "./app.py:app",
            "disable_assistants": True,
            "disable_meta": True,
            "disable_mcp": True,
        },
    )
    served = serve("--config", str(config))
    async with httpx.AsyncClient(base_url=served.url) as http:
        assert (await http.post("/assistants/search", json={})).status_code == 404
        assert (await http.get("/info")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 404
        assert (await http.get("/ok")).status_code == 200
        assert (await http.post("/threads", json={})).status_code == 200
        assert (await http.get("/hello")).status_code == 200


async def test_the_configured_auth_guards_the_api(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    config = variant(tmp_path, auth={"path": "./auth.py:auth"})
    served = serve("--config", str(config))
    async with httpx.AsyncClient(base_url=served.url) as http:
        refused = await http.post("/threads", json={})
        assert (refused.status_code, refused.json()) == (401, {"detail": "who are you?"})
        alice = {"x-user": "alice"}
        assert (await http.post("/threads/count", json={}, headers=alice)).json() == 0
        assert (await http.post("/threads", json={}, headers=alice)).status_code == 200
        assert (await http.get("/hello")).status_code == 200  # http.app's own routes: open


LOOPBACK = "http://localhost:3000"
OTHER = "https://chat.example.com"


async def test_cors_loopback_by_default_others_only_when_configured(
    serve: Callable[..., Any], tmp_path: Path
) -> None:
    config = variant(tmp_path, http={"cors": {"allow_origins": ["https://listed.example"]}})
    served = serve("--config", str(config), "--cors-origin", OTHER)
    async with httpx.AsyncClient(base_url=served.url) as http:
        for origin in (LOOPBACK, "http://127.0.0.1:5173", "http://[::1]:8080", OTHER):
            info = await http.get("/info", headers={"origin": origin})
            assert info.headers["access-control-allow-origin"] == origin
            exposed = info.headers["access-control-expose-headers"]
            assert exposed == "x-pagination-total, x-pagination-next, content-location"
            preflight = await http.options(
                "/threads",
                headers={
                    "origin": origin,
                    "access-control-request-method": "POST",
                    "access-control-request-headers": "content-type, x-api-key",
                },
            )
            assert preflight.status_code == 200, preflight.text
            assert preflight.headers["access-control-allow-origin"] == origin
            assert "POST" in preflight.headers["access-control-allow-methods"]
            assert preflight.headers["access-control-allow-headers"] == "content-type, x-api-key"
        listed = await http.get("/info", headers={"origin": "https://listed.example"})
        assert listed.headers["access-control-allow-origin"] == "https://listed.example"
        public_page = await http.options(
            "/threads",
            headers={
                "origin": OTHER,
                "access-control-request-method": "GET",
                "access-control-request-private-network": "true",
            },
        )
        assert public_page.headers["access-control-allow-private-network"] == "true"
        # an unlisted page: the answer carries no CORS header, the preflight is refused
        for origin in ("https://evil.example", "http://localhost.evil.example:3000"):
            refused = await http.get("/info", headers={"origin": origin})
            assert refused.status_code == 200
            assert not [h for h in refused.headers if h.startswith("access-control-")]
            preflight = await http.options(
                "/threads", headers={"origin": origin, "access-control-request-method": "POST"}
            )
            assert preflight.status_code == 400
            assert "is not allowed" in preflight.text
            assert not [h for h in preflight.headers if h.startswith("access-control-")]


def test_a_refused_key_stops_start_up_naming_it(tmp_path: Path) -> None:
    config = variant(tmp_path, encryption={"path": "./encryption.py:encryption"})
    done = subprocess.run(
        [sys.executable, "-m", "nbruns", "serve", "--config", str(config), "--port", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert done.returncode != 0
    assert "nbruns serve: langgraph.json: encryption: nbruns does not encrypt" in done.stderr


# key -> value -> the error it gives (None: loads)
KEYS: list[tuple[str, Any, str | None]] = [
    ("python_version", RUNNING, None),
    ("python_version", "3.9", f"python_version: '3.9', but nbruns runs the graphs in this interpreter, Python {RUNNING}"),
    ("node_version", "20", None),  # build-only, as every key below up to "source"
    ("api_version", "0.4", None),
    ("base_image", "langchain/langgraph-api:3.11", None),
    ("image_distro", "wolfi", None),
    ("pip_config_file", "pip.conf", None),
    ("pip_installer", "uv", None),
    ("dockerfile_lines", ["RUN true"], None),
    ("keep_pkg_tools", True, None),
    ("source", {"kind": "uv", "root": "."}, None),
    ("webhooks", {"env_prefix": "LG_"}, None),
    ("$schema", "https://langgra.ph/schema.json", None),
    ("checkpointer", {"ttl": {"default_ttl": 5}}, "checkpointer: nbruns supplies the checkpointer"),
    ("encryption", {"path": "./e.py:e"}, "encryption: nbruns does not encrypt stored data"),
    ("priority", {"path": "./p.py:p"}, "priority: nbruns runs a thread's runs in arrival order"),
    ("ui", {"chat": "./ui.tsx"}, "ui: nbruns does not serve generative-UI components"),
    ("ui_config", {"shared": []}, "ui_config: nbruns does not serve generative-UI components"),
    ("project_root", ".", "project_root: LangGraph no longer reads it either"),
    ("package", "x", "package: LangGraph no longer reads it either"),
    ("grahps", {}, "grahps: not a langgraph.json key (did you mean 'graphs'?)"),
    ("graphs", {}, "graphs: expected an object of graph ids"),
    ("graphs", {"a": "./graphs.py"}, "graphs.a: './graphs.py' names no attribute"),
    ("graphs", {"a": "./graphs.py:nope"}, "graphs.a: './graphs.py' has no attribute 'nope'"),
    ("graphs", {"a": "./missing.py:g"}, "graphs.a: no such file"),
    ("graphs", {"a": "./agent.ts:g"}, "graphs.a: './agent.ts:g': nbruns runs Python only"),
    ("graphs", {"a": "./graphs.py:CALLS"}, "graph 'a' is a list"),
    ("graphs", {"a": {"path": "./graphs.py:echo", "tags": []}}, "graphs.a: unknown keys ['tags']"),
    ("graphs", {"a": 3}, "graphs.a: 3: expected './path/to/file.py:attribute'"),
    ("graphs", {"a": "no_such_module_here:g"}, "graphs.a: importing 'no_such_module_here' failed"),
    ("env", {"A": "1"}, None),
    ("env", ".missing.env", "env: '.missing.env': no such file"),
    ("env", ["A=1"], "env: expected a .env file path"),
    ("dependencies", ["./nowhere"], "dependencies: './nowhere': no such folder"),
    ("dependencies", ["surely-not-installed-pkg"], "dependencies: 'surely-not-installed-pkg' is not installed"),
    ("dependencies", ["langgraph<0.1"], "dependencies: langgraph 1."),
    ("dependencies", "langgraph", "dependencies: expected a list of strings"),
    ("store", {"ttl": {"default_ttl": 60, "refresh_on_read": True}}, None),
    ("store", {"path": "./s.py:s"}, "store: "),
    ("store", {"nope": 1}, "store"),
    ("auth", {"path": "./graphs.py:echo"}, "auth.path: './graphs.py:echo' is a CompiledStateGraph; expected a langgraph_sdk.Auth()"),
    ("auth", {"disable_studio_auth": True, "cache": {"ttl_seconds": 5}}, None),
    ("auth", {"allow_langsmith_api_keys": True}, "auth.allow_langsmith_api_keys: nbruns cannot check"),
    ("auth", {"openapi": {"securitySchemes": {}, "security": [{}]}}, "auth.openapi: nbruns's /openapi.json"),
    ("auth", {"paht": "./a.py:a"}, "auth.paht: not an auth key"),
    ("http", {"app": "./graphs.py:echo"}, "http.app: './graphs.py:echo' is a CompiledStateGraph; expected a Starlette"),
    ("http", {"disable_store": True, "disable_ui": True, "disable_a2a": False, "disable_webhooks": True}, None),
    ("http", {"disable_runs": "yes"}, "http.disable_runs: 'yes': expected true or false"),
    ("http", {"logging_headers": {"excludes": ["*key*"]}, "middleware_order": "middleware_first"}, None),
    ("http", {"middleware_order": "auth_first"}, "http.middleware_order: 'auth_first'"),
    ("http", {"enable_custom_route_auth": True}, "http.enable_custom_route_auth: True is not supported"),
    ("http", {"configurable_headers": {"includes": ["x-*"]}}, "http.configurable_headers: "),
    ("http", {"mount_prefix": "/api"}, "http.mount_prefix: '/api' is not supported"),
    ("http", {"disable_event_streaming": True}, "http.disable_event_streaming: True is not supported"),
    ("http", {"cros": {}}, "http.cros: not an http key"),
    ("http", {"cors": {"allow_origins": "*"}}, "http.cors.allow_origins: expected a list of strings"),
    ("http", {"cors": {"allow_origin_regex": "("}}, "http.cors.allow_origin_regex: '('"),
    ("http", {"cors": {"max_age": -1}}, "http.cors.max_age: expected a number of seconds"),
    ("http", {"cors": {"origins": []}}, "http.cors.origins: not a CORS key"),
    ("http", {"cors": {"allow_origins": ["https://a.example"], "allow_methods": ["GET"], "allow_headers": ["x-api-key"], "allow_credentials": True, "expose_headers": ["x-a"], "max_age": 5, "allow_origin_regex": "https://.*[.]example"}}, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("key", "value", "error"), KEYS, ids=[f"{k}-{i}" for i, (k, *_) in enumerate(KEYS)]
)
def test_every_key_is_honoured_or_refused_naming_it(
    tmp_path: Path, key: str, value: Any, error: str | None
) -> None:
    config = variant(tmp_path, **{key: value})
    if error is None:
        project = load_project(config)
        assert "made" in project.graphs or key == "graphs"
        if key == "store":
            assert project.store.ttl is not None  # StoreConfig.from_json read it
        return
    with pytest.raises((ConfigError, TypeError)) as raised:
        project = load_project(config)
        # a graph that is neither a graph nor callable is refused when it is registered
        import nbruns

        nbruns.Server(config=config).close()
    assert error in str(raised.value)
