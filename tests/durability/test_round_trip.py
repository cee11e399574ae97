"""What a durable server stores reads back the same after a restart, value for value.

Assistants, threads and runs are created through the API with metadata, config and
context holding every kind of JSON value the API accepts (integers beyond 64 bits
where they are allowed, non-ASCII text, deep nesting, floats at their limits), the
server is closed and reopened on the same SQLite file, and everything is read again.
Values are compared in a canonical JSON form, so 1 and 1.0 or 1 and true differ.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

import nbruns
from nbruns._core._records import RunRecord, ThreadRecord
from nbruns._persistence._durable import DurableStore, Unstorable

WIDE = [2**64, -(2**63) - 1, 10**400 + 7, -(10**30), int("9" * 4300)]
TEXT = [
    "",
    "naïve café",
    "日本語のテキスト",
    "emoji 😀👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u0000 nul, \t tab, \n newline, \u2028 line separator",
    '"quoted" \\ backslash / slash',
    "\ufeff byte order mark, \u200b zero width",
]
NUMBERS = [
    0,
    -1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    0.1,
    -0.0,
    3.0,
    1e-300,
    5e-324,
    1.7976931348623157e308,
]


def values(tag: str, *, wide: bool) -> dict[str, Any]:
    """Every kind of JSON value; integers beyond 64 bits only where the API keeps them."""
    found: dict[str, Any] = {
        "tag": tag,
        "text": TEXT,
        "numbers": NUMBERS,
        "flags": [True, False, None],
        "nested": {"a": {"b": [1, [2, [3, {"c": None}]], {}], "t": True}, "ключ": "значение"},
        "key.with.dots": [],
        "": "an empty key",
        "😀": {"deep": [[[[[[["bottom"]]]]]]]},
    }
    if wide:
        found["wide"] = WIDE
    return found


def canonical(value: Any) -> str:
    """One spelling per JSON value: equal only if the parsed values are the same values."""
    return json.dumps(value, ensure_ascii=False)


class State(TypedDict, total=False):
    text: str


def echo(state: State, runtime: Runtime[dict[str, Any]]) -> State:
    return {"text": state.get("text", "") + " ✓"}


def echo_graph() -> Any:
    builder = StateGraph(State, context_schema=dict)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder.compile()


GRAPHS = {"echo": echo_graph()}


async def send(http: httpx.AsyncClient, method: str, path: str, body: Any) -> Any:
    # json.dumps writes integers beyond 64 bits out in digits; httpx's json= would too
    response = await http.request(
        method,
        path,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    return response.json()  # json.loads: integers stay exact


async def read(http: httpx.AsyncClient, path: str) -> Any:
    response = await http.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def write_everything(http: httpx.AsyncClient) -> dict[str, Any]:
    """Create an assistant, two threads and a finished run; return their ids."""
    assistant = await send(
        http,
        "POST",
        "/assistants",
        {
            "graph_id": "echo",
            "name": "assistant ✓ 助手",
            "description": "déscription",
            # no configurable: with a context it is a 400, as on the reference
            "config": {"tags": ["ß", "ünï"], "recursion_limit": 30},
            "context": values("assistant context", wide=True),
            "metadata": values("assistant metadata", wide=True),
        },
    )
    thread = await send(http, "POST", "/threads", {"metadata": values("thread", wide=True)})
    tid = thread["thread_id"]
    patched = await send(http, "POST", "/threads", {"metadata": {"first": "ü"}})
    await send(
        http, "PATCH", f"/threads/{patched['thread_id']}", {"metadata": values("patch", wide=True)}
    )
    run = await send(
        http,
        "POST",
        f"/threads/{tid}/runs",
        {
            "assistant_id": assistant["assistant_id"],
            "input": {"text": "日本語"},
            "metadata": values("run metadata", wide=False),
            # no configurable: with a context it is a 400, as on the reference
            "config": {"tags": ["τ", "😀"], "recursion_limit": 2**31 - 1},
            "context": values("run context", wide=True),
        },
    )
    joined = await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    assert joined.json() == {"text": "日本語 ✓"}
    return {
        "aid": assistant["assistant_id"],
        "tid": tid,
        "patched": patched["thread_id"],
        "rid": run["run_id"],
    }


async def read_everything(http: httpx.AsyncClient, ids: dict[str, Any]) -> dict[str, Any]:
    tid, rid = ids["tid"], ids["rid"]
    return {
        "assistant": await read(http, f"/assistants/{ids['aid']}"),
        "thread": await read(http, f"/threads/{tid}"),
        "patched": await read(http, f"/threads/{ids['patched']}"),
        "run": await read(http, f"/threads/{tid}/runs/{rid}"),
        "runs": await read(http, f"/threads/{tid}/runs"),
        "join": await read(http, f"/threads/{tid}/runs/{rid}/join"),
        "timeline": await read(http, f"/nbruns/timeline?thread_id={tid}"),
    }


async def test_everything_reads_back_the_same_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with nbruns.Server(GRAPHS, path=path) as server:
        http = server.client().http.client
        ids = await write_everything(http)
        before = await read_everything(http, ids)
    with nbruns.Server(GRAPHS, path=path) as server:
        after = await read_everything(server.client().http.client, ids)

    for name in before:
        if name in ("thread", "patched"):
            # recovery re-reads each thread's head from its checkpoints and stamps it then
            for stamp in ("updated_at", "state_updated_at"):
                before[name].pop(stamp), after[name].pop(stamp)
        assert canonical(after[name]) == canonical(before[name]), name

    # and what was read is what was written
    assistant = after["assistant"]
    assert canonical(assistant["metadata"]) == canonical(values("assistant metadata", wide=True))
    assert canonical(assistant["context"]) == canonical(values("assistant context", wide=True))
    assert (assistant["name"], assistant["description"]) == ("assistant ✓ 助手", "déscription")
    assert canonical(after["thread"]["metadata"]) == canonical(
        {**values("thread", wide=True), "graph_id": "echo", "assistant_id": ids["aid"]}
    )
    assert canonical(after["patched"]["metadata"]) == canonical(
        {"first": "ü", **values("patch", wide=True)}
    )
    run = after["run"]
    assert canonical(run["metadata"]) == canonical(values("run metadata", wide=False))
    assert canonical(run["kwargs"]["context"]) == canonical(values("run context", wide=True))
    assert canonical(run["kwargs"]["input"]) == canonical({"text": "日本語"})
    assert run["kwargs"]["config"]["tags"] == ["τ", "😀"]
    assert run["kwargs"]["config"]["recursion_limit"] == 2**31 - 1


async def test_a_value_the_api_cannot_keep_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    # integers are kept up to Python's 4300 digits; the API refuses longer ones with a 422
    path = tmp_path / "db.sqlite"
    with nbruns.Server(path=path) as server:
        http = server.client().http.client
        body = b'{"metadata": {"n": ' + b"9" * 4301 + b"}}"
        response = await http.post("/threads", content=body)
        assert response.status_code == 422, response.text
        assert await send(http, "POST", "/threads/search", {}) == []
    with nbruns.Server(path=path) as server:
        assert await send(server.client().http.client, "POST", "/threads/search", {}) == []


# -- the store itself: what JSON cannot carry back is an error, never a repr ----------


def thread(thread_id: str, **changes: Any) -> ThreadRecord:
    return ThreadRecord(thread_id, 1.0, 1.0, 1.0, **changes)


@pytest.mark.parametrize(
    ("value", "where"),
    [
        pytest.param(object(), "metadata.x (object)", id="object"),
        pytest.param({1, 2}, "metadata.x (set)", id="set"),
        pytest.param(b"bytes", "metadata.x (bytes)", id="bytes"),
        pytest.param([1, {(1, 2): 3}], "metadata.x[1] (key (1, 2) is not a string)", id="key"),
    ],
)
def test_an_unstorable_value_is_an_error_and_nothing_is_kept(
    tmp_path: Path, value: Any, where: str
) -> None:
    path = tmp_path / "db.sqlite"
    store = DurableStore(path)
    store.create_thread(thread("kept", metadata={"x": 1}))
    with pytest.raises(Unstorable, match=rf"^Cannot store thread new: {re.escape(where)} "):
        store.create_thread(thread("new", metadata={"x": value}))
    with pytest.raises(Unstorable, match=r"^Cannot store thread kept: metadata\.x"):
        store.replace_thread("kept", metadata={"x": value})
    run = RunRecord("r", "kept", "a", "g", 1, 1.0, 1.0, 1.0, "pending", "enqueue")
    with pytest.raises(Unstorable, match=r"^Cannot store run r: kwargs\.x"):
        store.insert_run(dataclasses.replace(run, kwargs={"x": value}))
    with pytest.raises(Unstorable, match=r"^Cannot store a 'created' timeline event: x"):
        store.record("created", "kept", None, at=1.0, x=value)
    assert set(store.threads) == {"kept"}
    assert store.threads["kept"].metadata == {"x": 1}
    assert store.runs == {} and store.timelines["kept"] == []
    store.close()

    reopened = DurableStore(path)
    assert set(reopened.threads) == {"kept"}
    assert reopened.threads["kept"].metadata == {"x": 1}
    assert reopened.runs == {} and reopened.timelines["kept"] == []
    reopened.close()
