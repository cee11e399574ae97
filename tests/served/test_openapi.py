"""The OpenAPI 3.1 document (`nbruns._api._openapi`): valid, complete, and true to real answers.

The app is `build_app` on the served-test graphs (`create_app` serves `GET
/openapi.json`), driven in-process by Starlette's TestClient, which runs the
app's lifespan like uvicorn does. Routes and operations both come from the
`Endpoint` declarations (`nbruns/_api/_declare.py`).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from typing import Any

import anyio
import httpx
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from nbruns._api._app import ENDPOINTS
from nbruns._api._openapi import openapi_document
from nbruns._core._types import SUPPORTED_STREAM_MODES
from nbruns._served._app import build_app, load_graphs

GRAPHS = ["agent", "reply", "slow"]
STREAM_GUARD = 60.0  # seconds: only ever reached when a stream hangs

# GET /assistants/{id}/schemas calls langgraph's deprecated `config_schema()` (reported)
pytestmark = pytest.mark.filterwarnings("ignore:`config_schema` is deprecated")


class EndlessStream:
    """A stream that never ends by itself, read over ASGI on the TestClient's loop.

    TestClient waits for a whole response, so an endless one would hang it: this
    sends the request itself and answers `http.disconnect` once `until` shows up,
    as a client leaving would. The constructor returns once the answer has begun
    (the server follows the thread from then on).
    """

    def __init__(self, http: TestClient, method: str, path: str, body: Any = None) -> None:
        self.started = threading.Event()
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self._body = b"" if body is None else json.dumps(body).encode()
        self._method, self._path = method, path
        self._leave: anyio.Event | None = None
        self._until = b""
        self._app = http.app
        self._portal = http.portal
        assert self._portal is not None, "use inside `with TestClient(...)`"
        self._done = self._portal.start_task_soon(self._exchange)
        assert self.started.wait(STREAM_GUARD), "the stream never began"

    def until(self, marker: bytes) -> httpx.Response:
        """Read until `marker` has arrived (at once, for an answer that ended), then leave."""
        assert self._portal is not None
        self._portal.call(self._wait_for, marker)
        self._done.result(STREAM_GUARD)
        return httpx.Response(self.status, headers=self.headers, content=b"".join(self.chunks))

    async def _wait_for(self, marker: bytes) -> None:
        self._until = marker
        self._check()

    def _check(self) -> None:
        if self._until and self._until in b"".join(self.chunks) and self._leave is not None:
            self._leave.set()

    async def _exchange(self) -> None:
        self._leave = anyio.Event()
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": self._body, "more_body": False}
            assert self._leave is not None
            await self._leave.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status, self.headers = message["status"], message.get("headers", [])
                self.started.set()
            elif message["type"] == "http.response.body":
                self.chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    assert self._leave is not None
                    self._leave.set()  # it ended: nothing more to wait for
                self._check()

        path, _, query = self._path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": self._method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"content-type", b"application/json")],
            "client": ("testclient", 50000),
            "server": ("testserver", 80),
        }
        with anyio.fail_after(STREAM_GUARD):  # a guard against a hang, not a timing
            await self._app(scope, receive, send)


def served_routes() -> list[Any]:
    from pathlib import Path

    config = Path(__file__).resolve().parent / "app" / "langgraph.json"
    return list(build_app(load_graphs(config)).routes)


# every (method, path) declared as an Endpoint (nbruns/_api/_declare.py)
DECLARED = {(e.method, e.path) for e in ENDPOINTS}


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in document["paths"].items()
        for method, op in item.items()
    }


@pytest.mark.parametrize("api_key_required", [False, True])
def test_the_document_is_valid_openapi_3_1(api_key_required: bool) -> None:
    document = openapi_document(
        served_routes(), graph_ids=GRAPHS, api_key_required=api_key_required
    )
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on any violation
    json.dumps(document)  # plain JSON, nothing pydantic-specific left
    assert "$defs" not in json.dumps(document), "pydantic $defs must be hoisted"


def test_every_served_route_is_described_and_nothing_else() -> None:
    routes = served_routes()
    # (the WebSocket route, which has no methods, is outside OpenAPI)
    served = {
        (m, r.path) for r in routes for m in (getattr(r, "methods", None) or ()) if m != "HEAD"
    }
    undescribed = sorted(served - DECLARED)
    assert not undescribed, f"routes served but not declared as an Endpoint: {undescribed}"
    documented = operations(openapi_document(routes))
    assert len(documented) == len(served)
    assert all(op["tags"] != ["undescribed"] for op in documented.values())
    stale = sorted(DECLARED - served)
    assert not stale, f"declared as an Endpoint but not served: {stale}"


def test_parameters() -> None:
    ops = operations(openapi_document(served_routes(), graph_ids=GRAPHS))

    def params(method: str, path: str) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in ops[(method, path)].get("parameters", [])}

    run = params("GET", "/threads/{thread_id}/runs/{run_id}")
    assert run["thread_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert run["run_id"]["schema"] == {"type": "string", "format": "uuid"}
    assert all(p["in"] == "path" and p["required"] for p in run.values())
    aid = params("GET", "/assistants/{assistant_id}")["assistant_id"]["schema"]
    assert {"type": "string", "format": "uuid"} in aid["anyOf"]
    assert {"type": "string", "enum": GRAPHS} in aid["anyOf"]

    listing = params("GET", "/threads/{thread_id}/runs")
    assert listing["limit"]["schema"]["type"] == "integer"
    assert listing["offset"]["schema"]["type"] == "integer"
    cancel = params("POST", "/threads/{thread_id}/runs/{run_id}/cancel")
    assert cancel["action"]["schema"]["enum"] == ["interrupt", "rollback"]
    assert cancel["wait"]["schema"] == {"type": "boolean"}
    assert params("POST", "/runs/cancel")["action"]["schema"]["enum"] == ["interrupt", "rollback"]
    join_stream = params("GET", "/threads/{thread_id}/runs/{run_id}/stream")
    assert join_stream["stream_mode"]["schema"]["items"]["enum"] == list(SUPPORTED_STREAM_MODES)
    assert join_stream["cancel_on_disconnect"]["schema"] == {"type": "boolean"}
    assert join_stream["Last-Event-ID"]["in"] == "header"
    assert "subgraphs" in params("GET", "/threads/{thread_id}/state")
    assert "xray" in params("GET", "/assistants/{assistant_id}/graph")
    cron = params("GET", "/runs/crons/{cron_id}")["cron_id"]
    assert cron["schema"] == {"type": "string", "format": "uuid"}
    assert "422" in ops[("GET", "/runs/crons/{cron_id}")]["responses"]  # not a UUID
    for path in ["/threads/search", "/assistants/search", "/runs/crons/search"]:
        headers = ops[("POST", path)]["responses"]["200"]["headers"]
        assert headers["X-Pagination-Total"]["required"] is True
        assert headers["X-Pagination-Next"]["required"] is False  # only when there is one


def test_request_bodies_come_from_the_pydantic_models() -> None:
    document = openapi_document(served_routes())
    ops = operations(document)
    schemas = document["components"]["schemas"]

    def body(method: str, path: str) -> Any:
        return ops[(method, path)]["requestBody"]["content"]["application/json"]["schema"]

    assert body("POST", "/threads/{thread_id}/runs") == {"$ref": "#/components/schemas/RunCreate"}
    assert body("POST", "/runs/batch") == {"$ref": "#/components/schemas/RunBatch"}
    assert schemas["RunBatch"]["items"] == {"$ref": "#/components/schemas/RunCreate"}
    run_create = schemas["RunCreate"]
    assert run_create["required"] == ["assistant_id"]
    assert "CommandBody" in schemas  # a hoisted $def
    modes = run_create["properties"]["stream_mode"]["anyOf"][0]["enum"]
    assert modes == list(SUPPORTED_STREAM_MODES)  # narrowed to what the validator accepts
    assert run_create["properties"]["multitask_strategy"]["anyOf"][0]["enum"] == [
        "reject",
        "interrupt",
        "rollback",
        "enqueue",
        "steer",  # nbruns's four after LangGraph's (docs/strategies.md)
        "collect",
        "debounce",
        "latest",
    ]
    assert run_create["properties"]["webhook"]["type"] == "null"
    assert body("POST", "/threads") == {"$ref": "#/components/schemas/ThreadCreate"}
    for model in [
        "AssistantCreate",
        "AssistantSearch",
        "ThreadSearch",
        "StateUpdate",
        "CancelMany",
    ]:
        assert model in schemas
    # errors: every operation reading a body documents 413 and 422, all as {"detail": string}
    for (method, path), op in ops.items():
        responses = op["responses"]
        if "requestBody" in op:
            assert {"413", "422"} <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith("4"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
    assert schemas["Error"]["required"] == ["detail"]


def test_stream_routes_are_event_streams() -> None:
    ops = operations(openapi_document(served_routes()))
    for key in [
        ("POST", "/threads/{thread_id}/runs/stream"),
        ("POST", "/runs/stream"),
        ("GET", "/threads/{thread_id}/runs/{run_id}/stream"),
        ("GET", "/threads/{thread_id}/stream"),
        ("POST", "/threads/{thread_id}/stream/events"),
    ]:
        content = ops[key]["responses"]["200"]["content"]
        assert list(content) == ["text/event-stream"], key
        assert content["text/event-stream"]["schema"] == {
            "$ref": "#/components/schemas/StreamEvent"
        }


def test_api_key_adds_the_security_scheme_and_401_everywhere() -> None:
    document = openapi_document(served_routes(), api_key_required=True)
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert all("401" in op["responses"] for op in operations(document).values())
    assert all("401" not in op["responses"] for op in operations(openapi_document([])).values())


def test_served_at_openapi_json(make_openapi_app: Any) -> None:
    with TestClient(make_openapi_app()) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        document = response.json()
    validate(document)
    aid = document["paths"]["/assistants/{assistant_id}"]["get"]["parameters"][0]["schema"]
    assert {"type": "string", "enum": GRAPHS} in aid["anyOf"]  # the graphs really served
    with TestClient(make_openapi_app(api_key="K")) as client:
        assert client.get("/openapi.json").status_code == 401
        guarded = client.get("/openapi.json", headers={"x-api-key": "K"}).json()
    assert guarded["security"] == [{"ApiKey": []}]


def test_real_answers_conform_to_the_document(make_openapi_app: Any, conformance: Any) -> None:
    """Drive every documented operation at least once; each answer must match its schema."""
    with TestClient(make_openapi_app(max_body_bytes=64 * 1024)) as http:
        doc = conformance(http.get("/openapi.json").json())

        def call(method: str, template: str, path: str | None = None, **kw: Any) -> Any:
            response = http.request(method, path or template, **kw)
            doc.check(method, template, response)
            return response

        missing = str(uuid.uuid4())
        call("GET", "/ok")
        call("GET", "/info")
        call("GET", "/openapi.json")

        # assistants
        A = "/assistants/{assistant_id}"
        a = call("POST", "/assistants", json={"graph_id": "reply", "name": "x"}).json()
        aid = a["assistant_id"]
        assert (
            call("POST", "/assistants", json={"graph_id": "reply", "assistant_id": aid}).status_code
            == 409
        )
        assert call("POST", "/assistants", json={"graph_id": "nope"}).status_code == 404
        assert call("POST", "/assistants", json={}).status_code == 422
        assert call("POST", "/assistants", content=b"x" * 70_000).status_code == 413
        call("POST", "/assistants/search", json={"graph_id": "reply"})
        call("POST", "/assistants/count", json={})
        call("GET", A, f"/assistants/{aid}")
        call("GET", A, "/assistants/reply")
        call("PATCH", A, f"/assistants/{aid}", json={"metadata": {"k": 1}})
        for tail, method in [
            ("graph", "GET"),
            ("schemas", "GET"),
            ("subgraphs", "GET"),
            ("versions", "POST"),
        ]:
            call(method, f"{A}/{tail}", f"/assistants/{aid}/{tail}")
        call("POST", f"{A}/latest", f"/assistants/{aid}/latest", json={"version": 1})
        assert call("POST", f"{A}/latest", f"/assistants/{aid}/latest", json={}).status_code == 422
        call("GET", f"{A}/subgraphs/{{namespace}}", f"/assistants/{aid}/subgraphs/a?recurse=true")
        call("GET", f"{A}/graph", "/assistants/reply/graph?xray=1")
        assert call("GET", f"{A}/graph", "/assistants/reply/graph?xray=x").status_code == 422
        assert call("DELETE", A, f"/assistants/{aid}").status_code == 204
        assert call("GET", A, f"/assistants/{aid}").status_code == 404

        # threads
        T = "/threads/{thread_id}"
        tid = call("POST", "/threads", json={"metadata": {"k": "v"}}).json()["thread_id"]
        assert call("POST", "/threads", json={"thread_id": tid}).status_code == 409
        assert call("POST", "/threads", json={"thread_id": "nope"}).status_code == 422
        call("POST", "/threads/search", json={"metadata": {"k": "v"}})
        call("POST", "/threads/count", json={})
        call("GET", T, f"/threads/{tid}")
        assert call("GET", T, f"/threads/{missing}").status_code == 404
        call("PATCH", T, f"/threads/{tid}", json={"metadata": {"k": "w"}})
        call("GET", f"{T}/state", f"/threads/{tid}/state")  # empty state

        # runs on the thread
        R = f"{T}/runs"
        body = {"assistant_id": "reply", "input": {"messages": []}}
        call("POST", f"{R}/wait", f"/threads/{tid}/runs/wait", json=body)
        # stream_mode explicit: the default is broken (test_schemathesis.py reports it)
        values = {**body, "stream_mode": "values"}
        streamed = call("POST", f"{R}/stream", f"/threads/{tid}/runs/stream", json=values)
        assert "event: values" in streamed.text
        run = call("POST", R, f"/threads/{tid}/runs", json=body).json()
        rid = run["run_id"]
        call("GET", f"{R}/{{run_id}}/join", f"/threads/{tid}/runs/{rid}/join")
        call("GET", f"{R}/{{run_id}}", f"/threads/{tid}/runs/{rid}")
        call("GET", f"{R}/{{run_id}}/stream", f"/threads/{tid}/runs/{rid}/stream")
        call("GET", R, f"/threads/{tid}/runs?limit=2&offset=0")
        assert call("GET", R, f"/threads/{tid}/runs?limit=abc").status_code == 422
        assert call("POST", R, f"/threads/{missing}/runs", json=body).status_code == 404
        assert call("POST", R, f"/threads/{tid}/runs", json={"input": {}}).status_code == 422
        assert (
            call(
                "POST", "/runs", json={"assistant_id": "reply", "command": {"resume": 1}}
            ).status_code
            == 400
        )

        # state and history
        state = call("GET", f"{T}/state", f"/threads/{tid}/state").json()
        cid = state["checkpoint_id"]
        call("GET", f"{T}/state/{{checkpoint_id}}", f"/threads/{tid}/state/{cid}")
        call("POST", f"{T}/state/checkpoint", f"/threads/{tid}/state/checkpoint",
             json={"checkpoint": {"checkpoint_id": cid}})  # fmt: skip
        call("POST", f"{T}/state", f"/threads/{tid}/state", json={"values": {"messages": []}})
        call("GET", f"{T}/history", f"/threads/{tid}/history?limit=3")
        call("POST", f"{T}/history", f"/threads/{tid}/history", json={"limit": 3})
        call("POST", f"{T}/copy", f"/threads/{tid}/copy")

        # a busy thread: reject, cancel (202 / wait), delete while running
        busy = call("POST", "/threads", json={}).json()["thread_id"]
        slow = {"assistant_id": "slow", "input": {"messages": []}}
        first = call("POST", R, f"/threads/{busy}/runs", json=slow).json()["run_id"]
        assert call("POST", R, f"/threads/{busy}/runs",
                    json={**slow, "multitask_strategy": "reject"}).status_code == 409  # fmt: skip
        assert call("DELETE", f"{R}/{{run_id}}", f"/threads/{busy}/runs/{first}").status_code == 409
        C = f"{R}/{{run_id}}/cancel"
        assert (
            call("POST", C, f"/threads/{busy}/runs/{first}/cancel?action=bogus").status_code == 422
        )
        assert call("POST", C, f"/threads/{busy}/runs/{first}/cancel?wait=true").status_code == 200
        second = call("POST", R, f"/threads/{busy}/runs", json=slow).json()["run_id"]
        assert call("POST", C, f"/threads/{busy}/runs/{second}/cancel").status_code == 202
        assert call("POST", C, f"/threads/{busy}/runs/{missing}/cancel").status_code == 404
        assert call("DELETE", f"{R}/{{run_id}}", f"/threads/{tid}/runs/{rid}").status_code == 204

        # stateless and many
        call("POST", "/runs", json=body)
        call("POST", "/runs/wait", json=body)
        call("POST", "/runs/stream", json=body)
        call("POST", "/runs/batch", json=[body, body])
        assert call("POST", "/runs/batch", json={"not": "a list"}).status_code == 422
        call("POST", "/runs/cancel", json={"status": "pending"})
        assert call("POST", "/runs/cancel", json={"status": "bogus"}).status_code == 422
        call("GET", "/nbruns/timeline")
        call("GET", "/nbruns/runs", f"/nbruns/runs?thread_id={tid}")
        H = "/nbruns/holds/{hold_id}"
        hold = call("POST", "/nbruns/holds", json={"thread_id": tid, "before": "*"}).json()
        hid = hold["hold_id"]
        assert call("POST", "/nbruns/holds", json={"thread_id": tid, "times": 0}).status_code == 422
        call("GET", "/nbruns/holds", f"/nbruns/holds?thread_id={tid}")
        call("GET", H, f"/nbruns/holds/{hid}")
        call("GET", H + "/wait", f"/nbruns/holds/{hid}/wait?timeout=0")
        call("POST", H + "/release", f"/nbruns/holds/{hid}/release")
        call("DELETE", H, f"/nbruns/holds/{hid}")
        assert call("GET", H, f"/nbruns/holds/{hid}").status_code == 404
        RB = "/nbruns/threads/{thread_id}/rolled_back"
        call("GET", RB, f"/nbruns/threads/{tid}/rolled_back")
        restore = f"/nbruns/threads/{tid}/rolled_back/{missing}/restore"
        assert call("POST", RB + "/{run_id}/restore", restore).status_code == 404

        # crons (a yearly schedule: none fires during the scenario)
        K = "/runs/crons/{cron_id}"
        yearly = {"assistant_id": "reply", "schedule": "0 0 1 1 *"}
        kid = call("POST", "/runs/crons", json=yearly).json()["cron_id"]
        call("POST", f"{R}/crons", f"/threads/{tid}/runs/crons", json=yearly)
        assert call("POST", "/runs/crons", json={**yearly, "schedule": "x"}).status_code == 422
        call("POST", "/runs/crons/search", json={"limit": 1})
        call("POST", "/runs/crons/count", json={})
        call("GET", K, f"/runs/crons/{kid}")
        call("PATCH", K, f"/runs/crons/{kid}", json={"enabled": False, "end_time": None})
        assert call("PATCH", K, f"/runs/crons/{kid}", json={}).status_code == 400
        assert call("DELETE", K, f"/runs/crons/{kid}").status_code == 204
        assert call("GET", K, f"/runs/crons/{kid}").status_code == 404
        assert call("DELETE", T, f"/threads/{tid}").status_code == 204

        # the store
        S = "/store/items"
        item = {"namespace": ["docs"], "key": "k", "value": {"n": 1}}
        assert call("PUT", S, json=item).status_code == 204
        assert call("PUT", S, json={**item, "namespace": []}).status_code == 400
        assert call("PUT", S, json={**item, "value": [1]}).status_code == 422
        assert call("GET", S, f"{S}?namespace=docs&key=k").json()["value"] == {"n": 1}
        assert call("GET", S, f"{S}?namespace=docs&key=nope").json() is None
        assert call("GET", S, f"{S}?namespace=docs").status_code == 400
        assert call("GET", S, f"{S}?key=k").status_code == 422
        found = call("POST", "/store/items/search", json={"namespace_prefix": ["docs"]})
        assert [i["key"] for i in found.json()["items"]] == ["k"]
        bad = {"filter": {"n": {"$bogus": 1}}}
        assert call("POST", "/store/items/search", json=bad).status_code == 400
        assert call("POST", "/store/namespaces", json={}).json() == {"namespaces": [["docs"]]}
        assert call("DELETE", S, json={"namespace": ["docs"], "key": "k"}).status_code == 204
        assert call("DELETE", S, json={"namespace": ["docs"]}).status_code == 422

        # a thread's endless streams: each read until a run on it ends, then left
        body = {"assistant_id": "reply", "input": {"messages": []}}
        followed = call("POST", "/threads", json={}).json()["thread_id"]
        stream = EndlessStream(http, "GET", f"/threads/{followed}/stream")
        call("POST", R, f"/threads/{followed}/runs", json=body)  # after the stream opened
        joined = stream.until(b'"run_done"')
        doc.check("GET", f"{T}/stream", joined)
        assert re.findall(rb"^event: (\S+)", joined.content, flags=re.M)[0] == b"metadata"
        assert call("GET", f"{T}/stream", f"/threads/{missing}/stream").status_code == 404
        bad_mode = f"/threads/{followed}/stream?stream_mode=bogus"
        assert call("GET", f"{T}/stream", bad_mode).status_code == 422

        # the SDK's thread stream: a command starts a run, its events replay from seq 0
        commands, events = f"{T}/commands", f"{T}/stream/events"
        start = {"id": 1, "method": "run.start", "params": body}
        started = call("POST", commands, f"/threads/{followed}/commands", json=start).json()
        assert started["type"] == "success" and "run_id" in started["result"]
        unknown = {"id": 2, "method": "agent.getTree", "params": {}}
        refused = call("POST", commands, f"/threads/{followed}/commands", json=unknown).json()
        assert refused["type"] == "error"
        not_a_command = call("POST", commands, f"/threads/{followed}/commands", json={"id": "x"})
        assert not_a_command.status_code == 400
        wanted = {"channels": ["lifecycle", "values"], "since": 0}
        stream = EndlessStream(http, "POST", f"/threads/{followed}/stream/events", wanted)
        protocol = stream.until(b'"completed"')
        doc.check("POST", events, protocol)
        assert b"event: values" in protocol.content
        gone = call("POST", events, f"/threads/{missing}/stream/events", json=wanted)
        assert gone.status_code == 404
        no_channels = call("POST", events, f"/threads/{followed}/stream/events", json={})
        assert no_channels.status_code == 400

        # pruning: unknown ids skipped; keep_latest refused and nothing deleted
        keep = {"thread_ids": [followed], "strategy": "keep_latest"}
        assert call("POST", "/threads/prune", json=keep).status_code == 422
        pruned = call("POST", "/threads/prune", json={"thread_ids": [followed, missing]})
        assert pruned.json() == {"pruned_count": 1}
        assert call("GET", T, f"/threads/{followed}").status_code == 404

    never = set(operations(doc.document)) - {(m, p) for m, p, _ in doc.checked}
    assert not never, f"operations this scenario never called: {sorted(never)}"
