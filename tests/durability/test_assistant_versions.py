"""Assistant versions survive a restart with `path=`, and runs still use the latest one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime
from typing_extensions import TypedDict

import nbruns
from nbruns._core._records import AssistantRecord
from nbruns._persistence._durable import DurableStore


class State(TypedDict, total=False):
    answer: str


class Settings(TypedDict, total=False):
    model: str


def _answer(state: State, runtime: Runtime[Settings]) -> dict[str, Any]:
    return {"answer": (runtime.context or {}).get("model", "none")}


def _graph() -> Any:
    builder = StateGraph(State, context_schema=Settings)
    builder.add_node("answer", _answer)
    builder.add_edge(START, "answer")
    return builder.compile()


GRAPHS = {"ctx": _graph()}


async def test_versions_and_the_latest_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with nbruns.Server(GRAPHS, path=path) as server:
        assistants = server.client().assistants
        aid = (await assistants.create("ctx", context={"model": "m1"}, name="one"))["assistant_id"]
        await assistants.update(aid, context={"model": "m2"}, name="two")
        await assistants.update(aid, context={"model": "m3"}, name="three")
        latest = await assistants.set_latest(aid, 2)
        versions = await assistants.get_versions(aid)
        system = await assistants.update("ctx", metadata={"note": "x"})
        system_versions = await assistants.get_versions("ctx")

    with nbruns.Server(GRAPHS, path=path) as server:
        client = server.client()
        assert await client.assistants.get(aid) == latest
        assert await client.assistants.get_versions(aid) == versions
        assert [v["name"] for v in versions] == ["three", "two", "one"]
        assert await client.assistants.get("ctx") == system  # the system one is kept too
        assert await client.assistants.get_versions("ctx") == system_versions
        assert [v["version"] for v in system_versions] == [2, 1]
        answer = await client.runs.wait(None, aid, input={})
        assert answer == {"answer": "m2"}
        # numbering goes on from the highest version, not from the latest one
        assert (await client.assistants.update(aid, metadata={"k": 1}))["version"] == 4


async def test_deleted_assistant_takes_its_versions_along(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    with nbruns.Server(GRAPHS, path=path) as server:
        assistants = server.client().assistants
        aid = (await assistants.create("ctx"))["assistant_id"]
        await assistants.update(aid, metadata={"k": 1})
        await assistants.delete(aid)
    store = DurableStore(path)
    try:
        assert aid not in store.assistant_versions
        rows = store._db.execute(
            "SELECT COUNT(*) FROM nbruns_assistant_versions WHERE assistant_id = ?", (aid,)
        ).fetchone()
        assert rows == (0,)
    finally:
        store.close()


def test_a_file_from_before_versions_lists_the_current_one(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = DurableStore(path)
    record = AssistantRecord("a1", "ctx", 1.0, 2.0, metadata={"k": 1}, name="old", version=3)
    store.put_assistant(record)  # as nbruns wrote it before versions were kept
    store.close()
    reopened = DurableStore(path)
    try:
        assert reopened.search_assistant_versions("a1") == [record]
        assert reopened.latest_assistant_version("a1") == 3
    finally:
        reopened.close()
