"""Bad requests: 404 for unknown ids, 422 (or 400) for invalid input, never a 500,
and never a change of state. Sent with the SDK client's own httpx client so bodies
can be anything (non-JSON, invalid UTF-8, wrong types)."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Any

import httpx
import pytest
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict

import nbruns

MISSING = "00000000-0000-4000-8000-000000000000"


class LogState(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def log_graph(gates: Any | None = None) -> Any:
    """One node; with `gates`, it waits on the gate "held" (opened only at teardown)."""

    async def a(state: LogState) -> dict[str, Any]:
        if gates is not None:
            await gates["held"].passage()
        return {"log": ["a"]}

    builder = StateGraph(LogState)
    builder.add_node("a", a)
    builder.add_edge(START, "a")
    builder.add_edge("a", END)
    return builder.compile()


@pytest.fixture
def server(make_server: Any, gates: Any) -> nbruns.Server:
    return make_server({"log": log_graph(), "held": log_graph(gates)})  # type: ignore[no-any-return]


@pytest.fixture
async def setup(client: Any) -> dict[str, str]:
    """A thread with one finished run and one assistant."""
    tid = (await client.threads.create(metadata={"fixture": True}))["thread_id"]
    created: list[Any] = []
    await client.runs.wait(tid, "log", input={"log": []}, on_run_created=created.append)
    assistant = await client.assistants.create("log", name="fixture")
    return {"tid": tid, "rid": created[0]["run_id"], "aid": assistant["assistant_id"]}


async def snapshot(client: Any, ids: dict[str, str]) -> dict[str, Any]:
    raw = client.http.client
    all_runs = (await raw.get("/nbruns/runs")).json()
    return {
        "threads": await client.threads.count(),
        "thread_ids": sorted(t["thread_id"] for t in await client.threads.search(limit=1000)),
        "assistants": await client.assistants.count(),
        "assistant": await client.assistants.get(ids["aid"]),
        "versions": await client.assistants.get_versions(ids["aid"]),
        "runs": sorted((r["run_id"], r["status"]) for r in all_runs),
        "store": (await raw.post("/store/items/search", json={"limit": 1000})).json(),
        "thread_runs": [(r["run_id"], r["status"]) for r in await client.runs.list(ids["tid"])],
        "checkpoint": (await client.threads.get_state(ids["tid"]))["checkpoint"],
        "thread": {
            k: v
            for k, v in (await client.threads.get(ids["tid"])).items()
            if k in ("status", "metadata", "values")
        },
    }


def fill(template: str, ids: dict[str, str]) -> str:
    return template.format(missing=MISSING, **ids)


async def send(
    client: Any, method: str, path: str, body: Any = None, raw: bytes | None = None
) -> httpx.Response:
    http: httpx.AsyncClient = client.http.client
    if raw is not None:
        return await http.request(method, path, content=raw)
    if body is None:
        return await http.request(method, path)
    return await http.request(method, path, json=body)


RUN = {"assistant_id": "log", "input": {"log": []}}

# (method, path, json body, raw body, status, fragments of detail)
CASES = [
    # -- unknown ids: 404 --
    pytest.param(
        "GET", "/threads/{missing}", None, None, 404, ["not found"], id="get-unknown-thread"
    ),
    pytest.param(
        "PATCH",
        "/threads/{missing}",
        {"metadata": {}},
        None,
        404,
        ["not found"],
        id="patch-unknown-thread",
    ),
    pytest.param(
        "DELETE", "/threads/{missing}", None, None, 404, ["not found"], id="delete-unknown-thread"
    ),
    pytest.param(
        "GET", "/threads/{missing}/state", None, None, 404, ["not found"], id="state-unknown-thread"
    ),
    pytest.param(
        "POST",
        "/threads/{missing}/state",
        {"values": {"log": ["x"]}},
        None,
        404,
        ["not found"],
        id="update-state-unknown-thread",
    ),
    pytest.param(
        "GET",
        "/threads/{missing}/history",
        None,
        None,
        404,
        ["not found"],
        id="history-unknown-thread",
    ),
    pytest.param(
        "POST", "/threads/{missing}/copy", None, None, 404, ["not found"], id="copy-unknown-thread"
    ),
    pytest.param(
        "GET",
        "/threads/{missing}/runs",
        None,
        None,
        404,
        ["not found"],
        id="list-runs-unknown-thread",
    ),
    pytest.param(
        "POST",
        "/threads/{missing}/runs",
        RUN,
        None,
        404,
        ["Thread or assistant not found."],
        id="create-run-unknown-thread",
    ),
    pytest.param(
        "POST",
        "/threads/{missing}/runs/wait",
        RUN,
        None,
        404,
        ["Thread or assistant not found."],
        id="wait-unknown-thread",
    ),
    pytest.param(
        "POST",
        "/threads/{missing}/runs/stream",
        RUN,
        None,
        404,
        ["Thread or assistant not found."],
        id="stream-unknown-thread",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {"assistant_id": "nope"},
        None,
        422,
        ["Invalid assistant: 'nope'", "registered graph ids"],
        id="create-run-unknown-assistant",
    ),
    pytest.param(
        "POST",
        "/runs/wait",
        {"assistant_id": MISSING},
        None,
        404,
        ["Thread or assistant not found."],
        id="stateless-unknown-assistant",
    ),
    pytest.param(
        "GET", "/threads/{tid}/runs/{missing}", None, None, 404, ["not found"], id="get-unknown-run"
    ),
    pytest.param(
        "GET",
        "/threads/{missing}/runs/{rid}",
        None,
        None,
        404,
        ["not found"],
        id="get-run-wrong-thread",
    ),
    pytest.param(
        "DELETE",
        "/threads/{tid}/runs/{missing}",
        None,
        None,
        404,
        ["not found"],
        id="delete-unknown-run",
    ),
    # (join_stream of an unknown run: 200 and one `error` event, as on the reference;
    # tests/conformance/test_run_answers.py::test_join_stream_of_a_run_that_is_not_there)
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {
            "assistant_id": "log",
            "input": {},
            "context": {"a": 1},
            "config": {"configurable": {"b": 2}},
        },
        None,
        400,
        ["both configurable and context"],
        id="run-context-and-configurable",
    ),
    pytest.param(
        "POST",
        "/runs/cancel",
        {},
        None,
        422,
        ["status", "thread_id", "run_ids"],
        id="cancel-many-selects-nothing",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/{missing}/cancel",
        None,
        None,
        404,
        ["No runs found to cancel."],
        id="cancel-unknown-run",
    ),
    pytest.param(
        "GET", "/assistants/{missing}", None, None, 404, ["not found"], id="get-unknown-assistant"
    ),
    pytest.param(
        "PATCH",
        "/assistants/{missing}",
        {"name": "x"},
        None,
        404,
        ["not found"],
        id="patch-unknown-assistant",
    ),
    pytest.param(
        "DELETE",
        "/assistants/{missing}",
        None,
        None,
        404,
        ["not found"],
        id="delete-unknown-assistant",
    ),
    pytest.param(
        "POST",
        "/assistants",
        {"graph_id": "nope"},
        None,
        404,
        ["nope", "not found"],
        id="assistant-unknown-graph",
    ),
    # a batch is all or nothing: its first (held) run must not start when a later one is refused
    pytest.param(
        "POST",
        "/runs/batch",
        [{**RUN, "assistant_id": "held"}, {"assistant_id": "nope"}],
        None,
        422,
        ["Invalid assistant: 'nope'"],
        id="batch-unknown-assistant",
    ),
    pytest.param(
        "POST",
        "/runs/batch",
        [{**RUN, "assistant_id": "held"}, {"assistant_id": "log", "command": {"resume": 1}}],
        None,
        400,
        ["thread_id"],
        id="batch-resume-without-thread",
    ),
    # -- invalid values: 422 naming the field and what is allowed --
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "multitask_strategy": "bogus"},
        None,
        422,
        ["multitask_strategy", "'reject'", "'interrupt'", "'rollback'", "'enqueue'", "bogus"],
        id="unknown-strategy",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "multitask_strategy": "fastest"},
        None,
        422,
        ["multitask_strategy", "'steer'", "'collect'", "'debounce'", "'latest'", "fastest"],
        id="unknown-strategy-lists-the-eight",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "metadata": {"multitask": {"max_pending": 0}}},
        None,
        422,
        ["run metadata.multitask", "'max_pending'", "1 or more"],
        id="run-bad-policy",
    ),
    pytest.param(
        "POST",
        "/threads",
        {"metadata": {"multitask": {"overflow": "drop_newest"}}},
        None,
        422,
        ["thread metadata.multitask", "'overflow'", "reject_newest", "drop_oldest"],
        id="thread-bad-policy",
    ),
    pytest.param(
        "PATCH",
        "/threads/{tid}",
        {"metadata": {"multitask": {"quiet": 1}}},
        None,
        422,
        ["thread metadata.multitask", "unknown key 'quiet'", "quiet_s"],
        id="thread-update-bad-policy",
    ),
    pytest.param(
        "POST",
        "/assistants",
        {"graph_id": "log", "metadata": {"multitask": {"strategy": "fastest"}}},
        None,
        422,
        ["assistant metadata.multitask", "'strategy'", "steer", "'fastest'"],
        id="assistant-bad-policy",
    ),
    pytest.param(
        "PATCH",
        "/assistants/{aid}",
        {"metadata": {"multitask": {"run_timeout_s": 0}}},
        None,
        422,
        ["assistant metadata.multitask", "'run_timeout_s'", "more than 0"],
        id="assistant-update-bad-policy",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/wait",
        {**RUN, "multitask_strategy": "Reject"},
        None,
        422,
        ["multitask_strategy", "'reject'"],
        id="strategy-wrong-case",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/stream",
        {**RUN, "stream_mode": "bogus"},
        None,
        422,
        ["stream_mode", "'values'", "'updates'", "bogus"],
        id="unknown-stream-mode",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/stream",
        {**RUN, "stream_mode": ["values", "bogus"]},
        None,
        422,
        ["stream_mode", "'values'", "bogus"],
        id="unknown-stream-mode-in-list",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "if_not_exists": "maybe"},
        None,
        422,
        ["if_not_exists", "'create'", "'reject'"],
        id="unknown-if-not-exists",
    ),
    pytest.param(
        "POST",
        "/runs",
        {**RUN, "on_completion": "forget"},
        None,
        422,
        ["on_completion", "'delete'", "'keep'"],
        id="unknown-on-completion",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/{rid}/cancel?action=bogus",
        None,
        None,
        422,
        ["action", "'interrupt'", "'rollback'", "bogus"],
        id="unknown-cancel-action",
    ),
    pytest.param(
        "POST",
        "/runs/cancel?action=bogus",
        {"status": "pending"},
        None,
        422,
        ["action", "'interrupt'", "'rollback'"],
        id="unknown-cancel-many-action",
    ),
    pytest.param(
        "POST",
        "/runs/cancel",
        {"status": "bogus"},
        None,
        422,
        ["status", "'pending'", "'running'", "'all'"],
        id="unknown-cancel-many-status",
    ),
    pytest.param(
        "POST",
        "/threads/search",
        {"status": "sleeping"},
        None,
        422,
        ["status", "'idle'", "'busy'", "'interrupted'", "'error'"],
        id="unknown-thread-status",
    ),
    pytest.param(
        "POST",
        "/threads",
        {"if_exists": "overwrite"},
        None,
        422,
        ["if_exists", "'raise'", "'do_nothing'"],
        id="unknown-thread-if-exists",
    ),
    # -- wrong types --
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "after_seconds": "soon"},
        None,
        422,
        ["after_seconds", "number"],
        id="after-seconds-string",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "metadata": "x"},
        None,
        422,
        ["metadata", "object"],
        id="metadata-string",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "config": [1]},
        None,
        422,
        ["config", "object"],
        id="config-list",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {"assistant_id": 5},
        None,
        422,
        ["assistant_id", "string"],
        id="assistant-id-int",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "interrupt_before": 5},
        None,
        422,
        ["interrupt_before", "'*'", "array"],
        id="interrupt-before-int",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "stream_mode": 3},
        None,
        422,
        ["stream_mode"],
        id="stream-mode-int",
    ),
    pytest.param(
        "POST",
        "/threads",
        {"metadata": []},
        None,
        422,
        ["metadata", "object"],
        id="thread-metadata-list",
    ),
    pytest.param(
        "POST",
        "/threads/search",
        {"limit": "ten"},
        None,
        422,
        ["limit", "integer"],
        id="search-limit-string",
    ),
    pytest.param(
        "GET",
        "/threads/{tid}/runs?limit=abc",
        None,
        None,
        422,
        ["limit", "integer"],
        id="list-limit-string",
    ),
    pytest.param(
        "GET",
        "/threads/{tid}/runs?offset=-1",
        None,
        None,
        422,
        ["offset", ">= 0"],
        id="list-offset-negative",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/history",
        {"limit": 0},
        None,
        422,
        ["limit"],
        id="history-limit-zero",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/state/checkpoint",
        {"checkpoint": {"checkpoint_ns": 5}},
        None,
        422,
        ["checkpoint_ns", "string"],
        id="state-checkpoint-ns-not-a-string",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/history",
        {"checkpoint": {"checkpoint_ns": ["a"]}},
        None,
        422,
        ["checkpoint_ns", "string"],
        id="history-checkpoint-ns-not-a-string",
    ),
    pytest.param(
        "POST", "/runs/batch", {"assistant_id": "log"}, None, 422, ["list"], id="batch-not-a-list"
    ),
    pytest.param(
        "POST",
        "/runs/batch",
        [RUN, {"assistant_id": 5}],
        None,
        422,
        ["assistant_id", "string"],
        id="batch-bad-item",
    ),
    # -- missing and out-of-range fields --
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {"input": {}},
        None,
        422,
        ["assistant_id", "required"],
        id="missing-assistant-id",
    ),
    pytest.param(
        "POST",
        "/runs/wait",
        {"input": {}},
        None,
        422,
        ["assistant_id", "required"],
        id="stateless-missing-assistant-id",
    ),
    pytest.param(
        "POST", "/assistants", {}, None, 422, ["graph_id", "required"], id="missing-graph-id"
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        {**RUN, "after_seconds": -1},
        None,
        422,
        ["after_seconds", "greater than or equal to 0"],
        id="negative-after-seconds",
    ),
    # -- bodies that are not a JSON object --
    pytest.param("POST", "/threads", None, b"{", 422, ["JSON"], id="thread-non-json"),
    pytest.param("POST", "/threads", None, b"\xff", 422, ["JSON"], id="thread-invalid-utf8"),
    pytest.param(
        "POST", "/threads/{tid}/runs", None, b"not json", 422, ["JSON"], id="run-non-json"
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        None,
        b'{"assistant_id": "log\xff"}',
        422,
        ["JSON"],
        id="run-invalid-utf8",
    ),
    pytest.param(
        "POST", "/threads/{tid}/runs", None, b"[]", 422, ["JSON object"], id="run-json-list"
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/state",
        None,
        b"\xff\xfe",
        422,
        ["JSON"],
        id="update-state-invalid-utf8",
    ),
    pytest.param("POST", "/runs/batch", None, b"{", 422, ["JSON"], id="batch-non-json"),
    pytest.param("POST", "/runs/batch", None, b"\xff", 422, ["JSON"], id="batch-invalid-utf8"),
    pytest.param("POST", "/assistants", None, b"\xff", 422, ["JSON"], id="assistant-invalid-utf8"),
    # -- numbers JSON carries but nbruns could not give back or checkpoint --
    pytest.param(
        "POST",
        "/threads",
        None,
        b'{"metadata": {"f": 1e400}}',
        422,
        ["metadata.f", "64-bit float"],
        id="thread-metadata-beyond-double",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        None,
        b'{"assistant_id": "log", "input": {"log": [], "x": [1, NaN]}}',
        422,
        ["input.x[1]", "NaN and Infinity are not JSON"],
        id="run-input-nan",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        None,
        b'{"assistant_id": "log", "after_seconds": 1e999}',
        422,
        ["after_seconds", "64-bit float"],
        id="run-after-seconds-beyond-double",
    ),
    pytest.param(
        "POST",
        "/runs/batch",
        None,
        b'[{"assistant_id": "log", "metadata": {"m": -Infinity}}]',
        422,
        ["[0].metadata.m", "64-bit float"],
        id="batch-infinity",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        None,
        b'{"assistant_id": "log", "input": {"log": [], "n": 18446744073709551616}}',
        422,
        ["input.n", "18446744073709551616", "64 bits", "send it as a string"],
        id="run-input-wide-int",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/wait",
        None,
        b'{"assistant_id": "log", "metadata": {"m": -9223372036854775809}}',
        422,
        ["metadata.m", "-9223372036854775809", "64 bits"],
        id="run-metadata-wide-int",
    ),
    pytest.param(
        "POST",
        "/runs/wait",
        None,
        b'{"assistant_id": "log", "config": {"configurable": {"k": ' + b"9" * 400 + b"}}}",
        422,
        ["config.configurable.k", "(400 digits)"],
        id="stateless-config-wide-int",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs",
        None,
        b'{"assistant_id": "log", "command": {"resume": 99999999999999999999}}',
        422,
        ["command.resume", "64 bits"],
        id="resume-wide-int",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/state",
        None,
        b'{"values": {"log": [123456789012345678901234567890]}}',
        422,
        ["values.log[0]", "64 bits"],
        id="update-state-wide-int",
    ),
    pytest.param(
        "PATCH",
        "/assistants/{aid}",
        None,
        b'{"config": {"": -9223372036854775809}}',
        422,
        ["config.", "64 bits"],
        id="assistant-config-wide-int",
    ),
    pytest.param(
        "POST",
        "/assistants",
        None,
        b'{"graph_id": "log", "config": {"metadata": {"n": 18446744073709551616}}}',
        422,
        ["config.metadata.n", "64 bits"],
        id="new-assistant-config-wide-int",
    ),
    # -- assistant versions, schemas, subgraphs --
    pytest.param(
        "POST",
        "/assistants/{aid}/latest",
        {"version": 9},
        None,
        404,
        ["Version 9 not found for assistant"],
        id="set-latest-unknown-version",
    ),
    pytest.param(
        "POST",
        "/assistants/{missing}/latest",
        {"version": 1},
        None,
        404,
        ["not found"],
        id="set-latest-unknown-assistant",
    ),
    pytest.param(
        "POST", "/assistants/{aid}/latest", {}, None, 422, ["version", "required"], id="no-version"
    ),
    pytest.param(
        "POST",
        "/assistants/{aid}/latest",
        {"version": "1"},
        None,
        422,
        ["version", "integer"],
        id="version-as-string",
    ),
    pytest.param(
        "POST",
        "/assistants/{aid}/latest",
        {"version": 0},
        None,
        422,
        ["version", "greater than or equal to 1"],
        id="version-zero",
    ),
    pytest.param(
        "POST",
        "/assistants/{missing}/versions",
        {},
        None,
        404,
        ["not found"],
        id="versions-unknown",
    ),
    pytest.param(
        "POST",
        "/assistants/{aid}/versions",
        {"limit": 0},
        None,
        422,
        ["limit"],
        id="versions-limit-zero",
    ),
    pytest.param(
        "POST",
        "/assistants/{aid}/versions",
        {"offset": -1},
        None,
        422,
        ["offset"],
        id="versions-negative-offset",
    ),
    pytest.param(
        "POST",
        "/assistants/{aid}/versions",
        {"metadata": [1]},
        None,
        422,
        ["metadata"],
        id="versions-metadata-not-object",
    ),
    pytest.param(
        "GET", "/assistants/{missing}/schemas", None, None, 404, ["not found"], id="schemas-unknown"
    ),
    pytest.param(
        "GET",
        "/assistants/{missing}/subgraphs/a",
        None,
        None,
        404,
        ["not found"],
        id="subgraphs-namespace-unknown-assistant",
    ),
    pytest.param(
        "GET",
        "/assistants/{aid}/subgraphs?recurse=maybe",
        None,
        None,
        422,
        ["recurse"],
        id="subgraphs-bad-recurse",
    ),
    pytest.param(
        "PATCH",
        "/assistants/{aid}",
        {"config": {"configurable": {"a": 1}}, "context": {"a": 2}},
        None,
        400,
        ["configurable", "context"],
        id="assistant-configurable-and-context",
    ),
    # -- thread streams and prune (issue #12) --
    pytest.param(
        "GET",
        "/threads/{missing}/stream",
        None,
        None,
        404,
        ["not found"],
        id="thread-stream-unknown-thread",
    ),
    pytest.param(
        "GET",
        "/threads/{tid}/stream?stream_modes=bogus",
        None,
        None,
        422,
        ["Invalid stream mode: bogus", "run_modes"],
        id="thread-stream-bad-mode",
    ),
    pytest.param(
        "GET",
        "/threads/{tid}/stream?stream_mode=values",
        None,
        None,
        422,
        ["Invalid stream mode: values"],
        id="thread-stream-bad-sdk-mode",
    ),
    pytest.param(
        "POST",
        "/threads/prune",
        {"thread_ids": [MISSING, "nope"]},
        None,
        422,
        ["thread_ids", "must be a UUID"],
        id="prune-bad-uuid",
    ),
    pytest.param(
        "POST",
        "/threads/prune",
        {"thread_ids": [MISSING], "strategy": "keep_latest"},
        None,
        422,
        ["keep_latest", "'delete'"],
        id="prune-keep-latest",
    ),
    pytest.param(
        "POST",
        "/threads/prune",
        {"thread_ids": [MISSING], "strategy": "bogus"},
        None,
        422,
        ["strategy", "keep_latest"],
        id="prune-bad-strategy",
    ),
    pytest.param("POST", "/threads/prune", {}, None, 422, ["thread_ids"], id="prune-no-ids"),
    pytest.param(
        "POST",
        "/threads/{tid}/commands",
        None,
        b"{",
        400,
        ["Invalid JSON body"],
        id="sdk-thread-stream-commands-not-json",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/stream/events",
        {"channels": ["values", "bogus"]},
        None,
        400,
        ["unsupported entries: bogus", "lifecycle", "custom:<name>"],
        id="sdk-thread-stream-bad-channel",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/stream/events",
        {"channels": []},
        None,
        400,
        ["channels is required"],
        id="sdk-thread-stream-no-channels",
    ),
    # -- the store --
    pytest.param(
        "GET", "/store/items?namespace=a.b", None, None, 400, ["key is required"], id="store-no-key"
    ),
    pytest.param(
        "GET", "/store/items?key=k", None, None, 422, ["label ''"], id="store-get-no-namespace"
    ),
    pytest.param(
        "GET",
        "/store/items?namespace=a..b&key=k",
        None,
        None,
        422,
        ["label ''", "without periods"],
        id="store-get-empty-label",
    ),
    pytest.param(
        "GET",
        "/store/items?namespace=a&key=k&refresh_ttl=maybe",
        None,
        None,
        422,
        ["refresh_ttl"],
        id="store-get-bad-refresh",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": [], "key": "k", "value": {}},
        None,
        400,
        ["Namespace cannot be empty"],
        id="store-put-empty-namespace",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["langgraph", "x"], "key": "k", "value": {}},
        None,
        400,
        ['"langgraph"'],
        id="store-put-reserved-root",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a.b"], "key": "k", "value": {}},
        None,
        422,
        ["'a.b'", "without periods"],
        id="store-put-dotted-label",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a"], "key": "k", "value": [1]},
        None,
        422,
        ["value"],
        id="store-put-value-not-object",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a"], "value": {}},
        None,
        422,
        ["key", "required"],
        id="store-put-no-key",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a"], "key": "k", "value": {}, "index": True},
        None,
        422,
        ["index"],
        id="store-put-index-true",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a"], "key": "k", "value": {}, "ttl": 5},
        None,
        422,
        ["ttl", "store.ttl"],
        id="store-put-ttl-on-memory-store",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        {"namespace": ["a"], "key": "k", "value": {}, "ttl": -1},
        None,
        422,
        ["ttl"],
        id="store-put-negative-ttl",
    ),
    pytest.param(
        "PUT",
        "/store/items",
        None,
        b'{"namespace": ["a"], "key": "k", "value": {"n": 123456789012345678901234567890}}',
        422,
        ["value.n", "64 bits"],
        id="store-put-wide-int",
    ),
    pytest.param(
        "DELETE",
        "/store/items",
        {"namespace": ["a"]},
        None,
        422,
        ["key", "required"],
        id="store-delete-no-key",
    ),
    pytest.param(
        "POST",
        "/store/items/search",
        {"namespace_prefix": ["a"], "limit": 0},
        None,
        422,
        ["limit"],
        id="store-search-limit-zero",
    ),
    pytest.param(
        "POST",
        "/store/items/search",
        {"offset": -1},
        None,
        422,
        ["offset"],
        id="store-search-negative-offset",
    ),
    pytest.param(
        "POST",
        "/store/items/search",
        {"filter": {"n": {"$bogus": 1}}},
        None,
        400,
        ["$bogus", "$gte"],
        id="store-search-bad-operator",
    ),
    pytest.param(
        "POST",
        "/store/items/search",
        {"filter": [1]},
        None,
        422,
        ["filter"],
        id="store-search-filter-not-object",
    ),
    pytest.param(
        "POST",
        "/store/namespaces",
        {"max_depth": 0},
        None,
        422,
        ["max_depth"],
        id="store-namespaces-depth-zero",
    ),
    pytest.param(
        "POST",
        "/store/namespaces",
        {"suffix": ["a", ""]},
        None,
        422,
        ["label ''"],
        id="store-namespaces-empty-label",
    ),
    # -- contradictory --
    pytest.param(
        "POST",
        "/runs",
        {"assistant_id": "log", "command": {"resume": "x"}},
        None,
        400,
        ["You must provide a thread_id when resuming."],
        id="resume-without-thread",
    ),
    # -- crons --
    pytest.param(
        "POST",
        "/runs/crons",
        {"assistant_id": "log", "schedule": "every day"},
        None,
        422,
        ["schedule"],
        id="cron-bad-schedule",
    ),
    pytest.param(
        "POST",
        "/threads/{tid}/runs/crons",
        {"assistant_id": "log", "schedule": "* * * * *", "timezone": "Mars/Olympus"},
        None,
        422,
        ["timezone"],
        id="cron-bad-timezone",
    ),
    pytest.param(
        "POST",
        "/runs/crons",
        {"assistant_id": "log", "schedule": "* * * * *", "end_time": "soon"},
        None,
        422,
        ["end_time"],
        id="cron-bad-end-time",
    ),
    pytest.param(
        "POST",
        "/runs/crons",
        {"schedule": "* * * * *"},
        None,
        422,
        ["assistant_id"],
        id="cron-without-assistant",
    ),
    pytest.param(
        "POST",
        "/runs/crons",
        {"assistant_id": "log", "schedule": "* * * * *", "input": {"n": 2**64}},
        None,
        422,
        ["input.n"],
        id="cron-input-wide-int",
    ),
    pytest.param(
        "POST",
        "/runs/crons",
        {"assistant_id": "{missing}", "schedule": "* * * * *"},
        None,
        404,
        ["not found"],
        id="cron-unknown-assistant",
    ),
    pytest.param(
        "POST",
        "/threads/{missing}/runs/crons",
        {"assistant_id": "log", "schedule": "* * * * *"},
        None,
        404,
        ["not found"],
        id="cron-unknown-thread",
    ),
    pytest.param(
        "PATCH",
        "/runs/crons/{missing}",
        {"enabled": False},
        None,
        404,
        ["not found"],
        id="patch-unknown-cron",
    ),
    pytest.param(
        "DELETE", "/runs/crons/{missing}", None, None, 404, ["not found"], id="delete-unknown-cron"
    ),
    pytest.param(
        "GET", "/runs/crons/not-a-uuid", None, None, 422, ["cron ID"], id="get-cron-bad-id"
    ),
    pytest.param(
        "POST",
        "/runs/crons/search",
        {"sort_by": "schedule"},
        None,
        422,
        ["sort_by"],
        id="cron-search-bad-sort",
    ),
    pytest.param(
        "POST",
        "/runs/crons/count",
        {"thread_id": "log"},
        None,
        422,
        ["thread ID"],
        id="cron-count-bad-thread-id",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "raw", "status", "fragments"), CASES)
async def test_bad_request(
    client: Any,
    setup: dict[str, str],
    method: str,
    path: str,
    body: Any,
    raw: bytes | None,
    status: int,
    fragments: list[str],
) -> None:
    before = await snapshot(client, setup)
    response = await send(client, method, fill(path, setup), body, raw)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    lowered = detail.lower()
    for fragment in fragments:
        assert fragment.lower() in lowered, f"{fragment!r} not in {detail!r}"
    assert await snapshot(client, setup) == before


async def test_sdk_errors_carry_detail(client: Any, setup: dict[str, str]) -> None:
    from langgraph_sdk.errors import NotFoundError, UnprocessableEntityError

    with pytest.raises(NotFoundError) as nf:
        await client.threads.get(MISSING)
    assert nf.value.response.status_code == 404
    with pytest.raises(UnprocessableEntityError) as info:
        await client.runs.create(setup["tid"], "log", multitask_strategy="bogus")  # type: ignore[arg-type]
    assert "multitask_strategy" in info.value.response.json()["detail"]
    with pytest.raises(UnprocessableEntityError) as info:
        await client.runs.cancel(setup["tid"], setup["rid"], action="bogus")  # type: ignore[arg-type]
    assert "'rollback'" in info.value.response.json()["detail"]


# none of these is a valid JSON object: each must be refused, and refused cleanly
GARBAGE = [b"\xff", b"{", b"null", b"[1, 2]", b'"x"', b"1e999", b'{"a": \xff}', b"\xef\xbb\xbf{}"]

ENDPOINTS = [
    ("POST", "/assistants"),
    ("POST", "/assistants/search"),
    ("POST", "/assistants/count"),
    ("PATCH", "/assistants/{aid}"),
    ("POST", "/assistants/{aid}/versions"),
    ("POST", "/assistants/{aid}/latest"),
    ("POST", "/threads"),
    ("POST", "/threads/search"),
    ("POST", "/threads/count"),
    ("PATCH", "/threads/{tid}"),
    ("POST", "/threads/{tid}/state"),
    ("POST", "/threads/{tid}/state/checkpoint"),
    ("POST", "/threads/{tid}/history"),
    ("POST", "/threads/{tid}/runs"),
    ("POST", "/threads/{tid}/runs/wait"),
    ("POST", "/threads/{tid}/runs/stream"),
    ("POST", "/runs"),
    ("POST", "/runs/wait"),
    ("POST", "/runs/stream"),
    ("POST", "/runs/batch"),
    ("POST", "/runs/cancel"),
    ("PUT", "/store/items"),
    ("DELETE", "/store/items"),
    ("POST", "/store/items/search"),
    ("POST", "/store/namespaces"),
    ("POST", "/threads/prune"),
    ("POST", "/runs/crons"),
    ("POST", "/threads/{tid}/runs/crons"),
    ("POST", "/runs/crons/search"),
    ("POST", "/runs/crons/count"),
    ("PATCH", "/runs/crons/" + MISSING),
    ("POST", "/threads/{tid}/stream/events"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
async def test_garbage_never_500(
    client: Any, setup: dict[str, str], method: str, path: str
) -> None:
    before = await snapshot(client, setup)
    failures = []
    for raw in GARBAGE:
        response = await send(client, method, fill(path, setup), raw=raw)
        if response.status_code >= 500:
            failures.append((raw, response.status_code, response.text))
        else:
            assert response.status_code in (400, 404, 422), (raw, response.text)
            assert isinstance(response.json()["detail"], str)
    assert failures == []
    assert await snapshot(client, setup) == before


QUERY_CASES = [
    "/threads/{tid}/runs?limit=0",
    "/threads/{tid}/runs?limit=-3",
    "/threads/{tid}/runs?offset=x",
    "/threads/{tid}/runs?status=bogus",
    "/threads/{tid}/history?limit=x",
    "/threads/{tid}/history?limit=0",
    "/threads/{tid}/history?before=nope",
    "/threads/{tid}/state/not-a-checkpoint",
    "/threads/{tid}/state?subgraphs=maybe",
    "/threads/{tid}/runs/{rid}/stream?stream_mode=bogus",
    "/assistants/{aid}/graph?xray=abc",
    "/nbruns/timeline?thread_id=nope",
    "/nbruns/runs?thread_id=nope",
]


@pytest.mark.parametrize("path", QUERY_CASES)
async def test_bad_query_never_500(client: Any, setup: dict[str, str], path: str) -> None:
    before = await snapshot(client, setup)
    response = await send(client, "GET", fill(path, setup))
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["detail"], str)
    assert await snapshot(client, setup) == before


async def test_last_event_id_garbage_never_500(client: Any, setup: dict[str, str]) -> None:
    http: httpx.AsyncClient = client.http.client
    response = await http.get(
        fill("/threads/{tid}/runs/{rid}/stream", setup), headers={"Last-Event-ID": "abc"}
    )
    assert response.status_code < 500, response.text


async def test_unknown_route_is_404_json(client: Any) -> None:
    response = await send(client, "GET", "/no/such/route")
    assert response.status_code == 404
    assert "not" in response.json()["detail"]
    response = await send(client, "PUT", "/threads")  # the path exists, not the method
    assert response.status_code == 404
    assert response.json()["detail"] == "nbruns does not serve PUT /threads (it serves POST there)"


def test_uuid_constant() -> None:
    assert uuid.UUID(MISSING).version == 4


async def test_join_unknown_run_answers_like_the_reference(
    client: Any, setup: dict[str, str]
) -> None:
    # the reference answers join with 200 and an __error__ body, never a 404
    before = await snapshot(client, setup)
    response = await send(
        client, "GET", fill("/threads/{tid}/runs/{missing}/join", setup), None, None
    )
    assert response.status_code == 200
    assert response.json() == {
        "__error__": {"error": "HTTPException", "message": "404: Run not found"}
    }
    assert await snapshot(client, setup) == before
