"""Schemathesis against the served OpenAPI document: no 500s, answers as documented.

The app is `build_app` on the served-test graphs plus `GET /openapi.json`,
loaded in-process with `schemathesis.openapi.from_asgi` (schemathesis runs the
app's lifespan on its own loop thread, as uvicorn would). Generated path ids are
often swapped (deterministically, from the generated value) for ids that exist,
so the fuzzing reaches real threads, runs, assistants and checkpoints instead of
only answering 404.

`test_api` covers every operation but the ones that wait on a run (`/wait`,
`/stream`, `/join`); `test_waiting_operations` fuzzes those on their own, with
runs of the quick `reply` graph on a thread nothing else touches and a short
per-request timeout. A thread's own streams (`GET /threads/{id}/stream`, `POST
/threads/{id}/stream/events`) never end: `test_endless_streams` fuzzes them with a
1 s timeout, after which schemathesis checks what the stream sent. Bounds: 30
examples per operation, 5 s per request.
"""

from __future__ import annotations

import re
import uuid
import zlib
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.python import asgi

pytestmark = [
    # GET /assistants/{id}/schemas calls langgraph's deprecated `config_schema()` (reported)
    pytest.mark.filterwarnings("ignore:`config_schema` is deprecated"),
    # schemathesis's own strategies touch `random` (its issue, not nbruns's)
    pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES = 30
REQUEST_TIMEOUT = 5.0
GRAPH_IDS = ("agent", "reply", "slow")
ENDLESS_TIMEOUT = 1.0  # an endless stream's case ends here, with what it sent so far
WAITING = r"/(wait|stream|join)$"
ENDLESS = r"^/threads/\{thread_id\}/stream(/events)?$"  # a thread's streams never end
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    derandomize=True,  # the same cases every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
)


class Seeded:
    """Ids that exist in the app, made through the app itself."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.http = asgi.get_client(app)
        self.threads: list[str] = []
        self.runs: dict[str, list[str]] = {}
        self.checkpoints: dict[str, str] = {}
        self.assistants: list[str] = ["reply", "agent", "slow"]
        for _ in range(3):
            self.thread_with_runs()
        # one busy thread: a `slow` run in flight, so cancels and rejects have a target
        busy = self.thread_with_runs()
        slow = {"assistant_id": "slow", "input": {"messages": []}}
        self.runs[busy].insert(0, self.post(f"/threads/{busy}/runs", slow)["run_id"])
        self.assistants.append(self.post("/assistants", {"graph_id": "reply"})["assistant_id"])
        # the waiting operations get a thread of their own: only quick runs ever reach it
        self.quiet = self.thread_with_runs()
        self.threads.remove(self.quiet)

    def post(self, path: str, body: Any) -> Any:
        response = self.http.post(f"http://{asgi.HOST}{path}", json=body, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return response.json()

    def thread_with_runs(self) -> str:
        tid: str = self.post("/threads", {"metadata": {"seeded": True}})["thread_id"]
        body: Any = {"assistant_id": "reply", "input": {"messages": []}}
        runs = []
        for _ in range(2):
            self.post(f"/threads/{tid}/runs/wait", body)
        runs = [
            r["run_id"]
            for r in self.http.get(f"http://{asgi.HOST}/threads/{tid}/runs", timeout=30).json()
        ]
        state = self.http.get(f"http://{asgi.HOST}/threads/{tid}/state", timeout=30).json()
        self.threads.append(tid)
        self.runs[tid] = runs
        self.checkpoints[tid] = state["checkpoint_id"]
        return tid


def pick(value: Any, choices: list[str], keep_one_in: int = 3) -> Any:
    """Deterministically swap a generated UUID for an existing id (keep 1 in `keep_one_in`)."""
    try:
        n = uuid.UUID(str(value)).int
    except ValueError:
        return value  # negative data: keep it as generated
    if n % keep_one_in == 0 or not choices:
        return value
    return choices[(n // keep_one_in) % len(choices)]


def use_real_ids(case: Any, seeded: Seeded, *, quiet: bool = False) -> None:
    params = case.path_parameters or {}
    threads = [seeded.quiet] if quiet else seeded.threads
    if "thread_id" in params:
        if case.method.upper() == "DELETE" and case.path == "/threads/{thread_id}":
            victim = seeded.thread_with_runs()  # deleting seeded threads would starve the rest
            seeded.threads.remove(victim)
            threads = [victim]
        params["thread_id"] = pick(params["thread_id"], threads, 1 if quiet else 3)
        runs = seeded.runs.get(params["thread_id"], [])
        if "run_id" in params:
            params["run_id"] = pick(params["run_id"], runs)
        cid = params.get("checkpoint_id")
        if isinstance(cid, str) and params["thread_id"] in seeded.checkpoints:
            if zlib.crc32(cid.encode()) % 3:
                params["checkpoint_id"] = seeded.checkpoints[params["thread_id"]]
    if "assistant_id" in params:
        if case.method.upper() in ("DELETE", "PATCH"):
            # never delete or re-point a graph's own assistant: every later run needs it
            # (see test_deleting_a_graphs_assistant_keeps_the_graph_runnable)
            victim = seeded.post("/assistants", {"graph_id": "reply"})["assistant_id"]
            if params["assistant_id"] in GRAPH_IDS:
                params["assistant_id"] = victim
            else:
                params["assistant_id"] = pick(params["assistant_id"], [victim])
        elif params["assistant_id"] not in GRAPH_IDS:
            params["assistant_id"] = pick(params["assistant_id"], seeded.assistants)
    bodies = case.body if isinstance(case.body, list) else [case.body]
    for body in bodies:
        if isinstance(body, dict) and isinstance(body.get("graph_id"), str):
            n = zlib.crc32(body["graph_id"].encode())
            if n % 2:
                body["graph_id"] = GRAPH_IDS[n % len(GRAPH_IDS)]
        if isinstance(body, dict) and isinstance(body.get("assistant_id"), str):
            keep = 1 if quiet else 2
            if quiet or zlib.crc32(body["assistant_id"].encode()) % keep == 0:
                body["assistant_id"] = "reply"
            if quiet:
                body.pop("after_seconds", None)  # a waiting request must not wait on a timer


# Function scope: schemathesis's pytest plugin ends every ASGI lifespan at each test's
# teardown (and a closed executor stays closed), so each test gets a fresh app.


@pytest.fixture
def app(make_openapi_app: Any) -> Any:
    application = make_openapi_app()
    yield application
    asgi.shutdown_lifespans()  # the executor interrupts what is left, as on a real shutdown


@pytest.fixture
def api_schema(app: Any) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def seeded(app: Any, api_schema: Any) -> Seeded:
    return Seeded(app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.exclude(path_regex=WAITING).exclude(path_regex=ENDLESS).parametrize()
@SETTINGS
def test_api(case: Any, seeded: Seeded) -> None:
    use_real_ids(case, seeded)
    case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT)


@schema.include(path_regex=WAITING).exclude(path_regex=ENDLESS).parametrize()
@SETTINGS
def test_waiting_operations(case: Any, seeded: Seeded) -> None:
    use_real_ids(case, seeded, quiet=True)
    case.call_and_validate(checks=CHECKS, timeout=REQUEST_TIMEOUT)


# a thread's streams never end by themselves (as on the reference): schemathesis keeps
# what an event stream sent before the timeout, so a short one bounds each case
@schema.include(path_regex=ENDLESS).parametrize()
@SETTINGS
def test_endless_streams(case: Any, seeded: Seeded) -> None:
    use_real_ids(case, seeded)
    case.call_and_validate(checks=CHECKS, timeout=ENDLESS_TIMEOUT)


def test_the_document_lists_the_graphs_served(api_schema: Any) -> None:
    raw = api_schema.raw_schema
    param = raw["paths"]["/assistants/{assistant_id}"]["get"]["parameters"][0]
    assert {"type": "string", "enum": ["agent", "reply", "slow"]} in param["schema"]["anyOf"]


# -- targeted: the waiting and streaming operations, by hand ----------------------------


def test_runs_stream_without_stream_mode_streams_values(app: Any, seeded: Seeded) -> None:
    """The default stream_mode is "values" (as on the reference server and in the SDK).

    nbruns keeps the unvalidated default string and makes `tuple("values")` of it:
    kwargs.stream_mode reads ["v","a","l","u","e","s"] and no values event is sent.
    """
    http = seeded.http
    body: Any = {"assistant_id": "reply", "input": {"messages": []}}
    response = http.post(
        f"http://{asgi.HOST}/threads/{seeded.quiet}/runs/stream", json=body, timeout=10
    )
    assert response.status_code == 200
    events = re.findall(r"^event: (\S+)", response.text, flags=re.M)
    run = http.get(f"http://{asgi.HOST}/threads/{seeded.quiet}/runs?limit=1", timeout=10).json()[0]
    assert run["kwargs"]["stream_mode"] == ["values"], run["kwargs"]["stream_mode"]
    assert events[0] == "metadata" and "values" in events, events


def test_history_limit_over_the_maximum_is_422_not_500(seeded: Seeded) -> None:
    """GET history builds HistoryQuery(limit=...) outside `parse`, so pydantic's
    ValidationError for limit > 10000 escapes as a 500."""
    tid = seeded.quiet
    response = seeded.http.get(f"http://{asgi.HOST}/threads/{tid}/history?limit=10001", timeout=10)
    assert response.status_code == 422, (response.status_code, response.text)


def test_waiting_operations_answer_in_time_on_a_real_thread(seeded: Seeded) -> None:
    base = f"http://{asgi.HOST}/threads/{seeded.quiet}"
    body: Any = {
        "assistant_id": "reply",
        "input": {"messages": []},
        "stream_mode": ["values", "updates"],
    }
    waited = seeded.http.post(f"{base}/runs/wait", json=body, timeout=10)
    assert waited.status_code == 200, waited.text
    assert waited.json()["messages"][-1]["content"] == "ok"
    assert waited.headers["location"].endswith("/join")
    streamed = seeded.http.post(f"{base}/runs/stream", json=body, timeout=10)
    events = re.findall(r"^event: (\S+)", streamed.text, flags=re.M)
    assert events[0] == "metadata" and {"values", "updates"} <= set(events), events
    rid = seeded.http.get(f"{base}/runs?limit=1", timeout=10).json()[0]["run_id"]
    joined = seeded.http.get(f"{base}/runs/{rid}/join", timeout=10)
    assert joined.status_code == 200 and joined.json()["messages"][-1]["content"] == "ok"
    rejoined = seeded.http.get(f"{base}/runs/{rid}/stream", timeout=10)
    assert rejoined.status_code == 200  # finished: an empty stream, not a hang
    unknown = seeded.http.get(f"{base}/runs/{uuid.uuid4()}/join", timeout=10)
    assert unknown.status_code == 200 and "__error__" in unknown.json()


def test_update_state_with_a_bad_node_or_values_is_4xx_not_500(seeded: Seeded) -> None:
    """langgraph's InvalidUpdateError from `update_state` escapes the API as a 500."""
    base = f"http://{asgi.HOST}/threads/{seeded.quiet}/state"
    bodies: list[Any] = [{"values": {"messages": []}, "as_node": "no-such-node"}, {"values": []}]
    for body in bodies:
        response = seeded.http.post(base, json=body, timeout=10)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        assert "detail" in response.json()


def test_deleting_a_graphs_assistant_keeps_the_graph_runnable(seeded: Seeded) -> None:
    """DELETE /assistants/reply deletes the graph's own assistant; afterwards runs on
    "reply" are refused with a 422 that lists 'reply' among the valid graph ids. Either
    refuse the delete (409) or keep resolving the graph id."""
    base = f"http://{asgi.HOST}"
    deleted = seeded.http.delete(f"{base}/assistants/reply", timeout=10)
    assert deleted.status_code in (204, 409), deleted.text
    body: Any = {"assistant_id": "reply", "input": {"messages": []}}
    response = seeded.http.post(f"{base}/threads/{seeded.quiet}/runs/wait", json=body, timeout=10)
    assert response.status_code == 200, response.text
