"""Bad input."""

from __future__ import annotations

import uuid
from typing import Any

from .._prober import Prober

KEY = "badinput"
TITLE = "Bad input"
INTRO = (
    'Every error body observed is JSON `{"detail": <string>}` with '
    "`Content-Type: application/json` unless a row says otherwise. Request-body schema "
    "failures are **422** with a jsonschema-style multi-line message (below, verbatim)."
)


# (label, method, path, keyword arguments of `Prober.call`)
Case = tuple[str, str, str, dict[str, Any]]


async def probe(p: Prober) -> None:
    t = await p.new_thread()
    tr = f"/threads/{t}/runs"
    await _cases(p, t, tr)
    await _accepted_oddities(p, t, tr)
    await _sdk_errors(p, t)


async def _cases(p: Prober, t: str, tr: str) -> None:
    """Every case in order; a run a case created anyway is cancelled so the thread stays
    free."""
    cases = [*_run_field_cases(tr), *_body_cases(tr), *_query_cases(t, tr), *_id_cases(t, tr)]
    for label, method, path, kw in cases:
        r = await p.call(KEY, label, method, path, **kw)
        if (
            r.status_code == 200
            and method == "POST"
            and path == tr
            and isinstance(r.json(), dict)
            and "run_id" in r.json()
        ):
            # accepted: park it so it doesn't hold the thread
            await p.http.post(f"{tr}/{r.json()['run_id']}/cancel")
    await p.idle(t)


def _run_field_cases(tr: str) -> list[Case]:
    """Run payloads with a bad or unknown field."""
    return [
        (
            "unknown multitask_strategy",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "multitask_strategy": "bogus"}},
        ),
        (
            "unknown stream_mode",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "stream_mode": "bogus"}},
        ),
        (
            "stream_mode list with unknown",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "stream_mode": ["values", "bogus"]}},
        ),
        ("missing assistant_id", "POST", tr, {"json_body": {"input": {}}}),
        ("assistant_id null", "POST", tr, {"json_body": {"assistant_id": None}}),
        ("assistant_id number", "POST", tr, {"json_body": {"assistant_id": 5}}),
        (
            "unknown assistant (uuid)",
            "POST",
            tr,
            {"json_body": {"assistant_id": str(uuid.uuid4())}},
        ),
        ("unknown assistant (name)", "POST", tr, {"json_body": {"assistant_id": "nope"}}),
        (
            "metadata as list",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "metadata": [1]}},
        ),
        (
            "config as string",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "config": "x"}},
        ),
        (
            "interrupt_before as string",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "interrupt_before": "b"}},
        ),
        (
            "after_seconds as string",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "after_seconds": "soon"}},
        ),
        (
            "unknown top-level key",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "bogus_key": 1, "after_seconds": 600}},
        ),
        (
            "on_disconnect bogus",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "on_disconnect": "bogus"}},
        ),
        (
            "durability bogus",
            "POST",
            tr,
            {"json_body": {"assistant_id": "slow", "durability": "bogus"}},
        ),
    ]


def _body_cases(tr: str) -> list[Case]:
    """Bodies that are not a JSON object, on create, wait and stream."""
    return [
        ("body is a JSON list", "POST", tr, {"json_body": [1, 2]}),
        (
            "body is JSON null",
            "POST",
            tr,
            {"content": b"null", "headers": {"content-type": "application/json"}},
        ),
        (
            "empty body",
            "POST",
            tr,
            {"content": b"", "headers": {"content-type": "application/json"}},
        ),
        (
            "non-JSON body",
            "POST",
            tr,
            {"content": b"not json", "headers": {"content-type": "application/json"}},
        ),
        (
            "invalid UTF-8 body",
            "POST",
            tr,
            {
                "content": b'{"assistant_id": "\xff\xfe"}',
                "headers": {"content-type": "application/json"},
            },
        ),
        (
            "JSON sent as text/plain",
            "POST",
            tr,
            {
                "content": b'{"assistant_id": "slow", "after_seconds": 600}',
                "headers": {"content-type": "text/plain"},
            },
        ),
        (
            "wait: unknown stream_mode",
            "POST",
            f"{tr}/wait",
            {"json_body": {"assistant_id": "slow", "stream_mode": "bogus"}},
        ),
        ("stream: missing assistant_id", "POST", f"{tr}/stream", {"json_body": {}}),
        (
            "stream: non-JSON",
            "POST",
            f"{tr}/stream",
            {"content": b"{", "headers": {"content-type": "application/json"}},
        ),
    ]


def _query_cases(t: str, tr: str) -> list[Case]:
    """Threads, searches, lists, history, assistants, update_state, cancel."""
    return [
        ("threads: metadata as list", "POST", "/threads", {"json_body": {"metadata": []}}),
        (
            "threads: thread_id not a uuid",
            "POST",
            "/threads",
            {"json_body": {"thread_id": "abc"}},
        ),
        ("threads: if_exists bogus", "POST", "/threads", {"json_body": {"if_exists": "bogus"}}),
        (
            "threads/search: limit 'abc'",
            "POST",
            "/threads/search",
            {"json_body": {"limit": "abc"}},
        ),
        ("threads/search: limit -1", "POST", "/threads/search", {"json_body": {"limit": -1}}),
        ("threads/search: limit 0", "POST", "/threads/search", {"json_body": {"limit": 0}}),
        (
            "threads/search: limit 100000",
            "POST",
            "/threads/search",
            {
                "json_body": {"limit": 100000},
                "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
            },
        ),
        ("runs list: limit=abc", "GET", tr, {"params": {"limit": "abc"}}),
        (
            "runs list: limit=-1",
            "GET",
            tr,
            {
                "params": {"limit": "-1"},
                "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
            },
        ),
        (
            "runs list: limit=0",
            "GET",
            tr,
            {
                "params": {"limit": "0"},
                "show": lambda b: {"len": len(b)} if isinstance(b, list) else b,
            },
        ),
        ("runs list: offset=abc", "GET", tr, {"params": {"offset": "abc"}}),
        (
            "history: limit 'abc' (GET)",
            "GET",
            f"/threads/{t}/history",
            {"params": {"limit": "abc"}},
        ),
        (
            "history: limit 'abc' (POST)",
            "POST",
            f"/threads/{t}/history",
            {"json_body": {"limit": "abc"}},
        ),
        (
            "assistants/search: limit 'abc'",
            "POST",
            "/assistants/search",
            {"json_body": {"limit": "abc"}},
        ),
        ("assistants: graph_id missing", "POST", "/assistants", {"json_body": {}}),
        (
            "assistants: if_exists bogus",
            "POST",
            "/assistants",
            {"json_body": {"graph_id": "slow", "if_exists": "bogus"}},
        ),
        (
            "update_state: values as string",
            "POST",
            f"/threads/{t}/state",
            {"json_body": {"values": "x"}},
        ),
        (
            "cancel: action bogus",
            "POST",
            f"{tr}/{uuid.uuid4()}/cancel",
            {"params": {"action": "bogus"}},
        ),
    ]


def _id_cases(t: str, tr: str) -> list[Case]:
    """Malformed, oddly spelled and unknown ids in paths."""
    return [
        ("malformed thread uuid: GET thread", "GET", "/threads/not-a-uuid", {}),
        (
            "malformed thread uuid: create run",
            "POST",
            "/threads/not-a-uuid/runs",
            {"json_body": {"assistant_id": "slow"}},
        ),
        ("malformed thread uuid: state", "GET", "/threads/not-a-uuid/state", {}),
        ("malformed run uuid: GET run", "GET", f"{tr}/not-a-uuid", {}),
        ("malformed run uuid: join", "GET", f"{tr}/not-a-uuid/join", {}),
        ("malformed run uuid: cancel", "POST", f"{tr}/not-a-uuid/cancel", {}),
        ("malformed assistant id: GET", "GET", "/assistants/not-a-uuid", {}),
        ("uuid without dashes", "GET", f"/threads/{t.replace('-', '')}", {}),
        (
            "uppercase uuid",
            "GET",
            f"/threads/{t.upper()}",
            {
                "show": lambda b: (
                    {"thread_id": b.get("thread_id"), "status": b.get("status")}
                    if isinstance(b, dict)
                    else b
                )
            },
        ),
        ("unknown thread: GET", "GET", f"/threads/{uuid.uuid4()}", {}),
        ("unknown thread: runs list", "GET", f"/threads/{uuid.uuid4()}/runs", {}),
        ("unknown thread: DELETE", "DELETE", f"/threads/{uuid.uuid4()}", {}),
        ("unknown run: GET", "GET", f"{tr}/{uuid.uuid4()}", {}),
        ("unknown run: DELETE", "DELETE", f"{tr}/{uuid.uuid4()}", {}),
        ("unknown assistant: GET", "GET", f"/assistants/{uuid.uuid4()}", {}),
        ("unknown assistant: DELETE", "DELETE", f"/assistants/{uuid.uuid4()}", {}),
    ]


async def _accepted_oddities(p: Prober, t: str, tr: str) -> None:
    """A negative after_seconds and a string input: accepted."""
    await p.call(
        KEY,
        "after_seconds negative",
        "POST",
        tr,
        json_body={"assistant_id": "slow", "input": {}, "after_seconds": -5},
        show=lambda b: {"status": b.get("status")} if isinstance(b, dict) else b,
    )
    await p.call(
        KEY,
        "input as a string",
        "POST",
        tr,
        json_body={"assistant_id": "slow", "input": "abc"},
        show=lambda b: (
            {"status": b.get("status"), "kwargs.input": (b.get("kwargs") or {}).get("input")}
            if isinstance(b, dict)
            else b
        ),
        note="accepted; the run then fails (see 'A failing graph')",
    )
    await p.idle(t)


async def _sdk_errors(p: Prober, t: str) -> None:
    """The SDK's exception classes for 422 and 404."""
    await p.sdk(
        KEY,
        "SDK: 422",
        "runs.create(t, 'slow', multitask_strategy='bogus')",
        p.client.runs.create(t, "slow", multitask_strategy="bogus"),  # type: ignore[call-overload]
    )
    await p.sdk(
        KEY,
        "SDK: 404 thread",
        "threads.get(<unknown>)",
        p.client.threads.get(str(uuid.uuid4())),
    )
    await p.sdk(
        KEY, "SDK: 404 run", "runs.get(t, <unknown>)", p.client.runs.get(t, str(uuid.uuid4()))
    )
    await p.sdk(
        KEY,
        "SDK: 422 malformed id",
        "threads.get('not-a-uuid')",
        p.client.threads.get("not-a-uuid"),
    )
    await p.sdk(
        KEY,
        "SDK: wait on unknown thread",
        "runs.wait(<unknown>, 'slow')",
        p.client.runs.wait(str(uuid.uuid4()), "slow", input={}),
    )
