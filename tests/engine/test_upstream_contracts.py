"""What nbruns relies on from LangGraph, checked so that an upgrade that changes it fails
here, loudly, rather than somewhere in a run.

- Cooperative stop: `astream(control=RunControl())`, and a drain requested on it ends
  the graph at the next step boundary with `GraphDrained(reason)`.
- Checkpoint interface: nbruns's savers override `delete_for_runs` and `copy_thread`
  (and their async twins) of `BaseCheckpointSaver` with upstream's parameters, so they
  can be dropped once LangGraph's savers implement them.
- Graph factories: the SDK's private runtime classes (`langgraph_sdk.runtime`
  `_ExecutionRuntime`, `_ReadRuntime`) keep their keyword fields.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from typing import Annotated, Any

import aiosqlite
import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.errors import GraphDrained
from langgraph.graph import END, START, StateGraph
from langgraph.pregel import Pregel
from langgraph.runtime import RunControl
from typing_extensions import TypedDict

from nbruns._persistence._checkpoints import Mark, NbrunsMemorySaver, NbrunsSqliteSaver


class State(TypedDict, total=False):
    log: Annotated[list[str], operator.add]


def two_steps(control: RunControl, saver: Any) -> Any:
    """a -> b; a asks for a drain while it runs (as a stop arriving mid-step would)."""

    def a(state: State) -> State:
        control.request_drain("superseded")
        return {"log": ["a"]}

    def b(state: State) -> State:
        return {"log": ["b"]}

    builder = StateGraph(State)
    builder.add_node("a", a)
    builder.add_node("b", b)
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", END)
    return builder.compile(checkpointer=saver)


def test_astream_takes_a_run_control() -> None:
    assert "control" in inspect.signature(Pregel.astream).parameters


async def test_a_drain_stops_at_the_next_step_boundary() -> None:
    control = RunControl()
    saver = NbrunsMemorySaver()
    graph = two_steps(control, saver)
    config = {"configurable": {"thread_id": "t"}}
    with pytest.raises(GraphDrained) as info:
        async for _ in graph.astream({"log": []}, config, control=control):
            pass
    assert info.value.reason == "superseded"
    state = await graph.aget_state(config)
    assert state.values["log"] == ["a"]  # a's step finished and was kept; b never ran
    assert state.next == ("b",)


# -- the checkpoint interface ---------------------------------------------------------

OVERRIDDEN = ["delete_for_runs", "adelete_for_runs", "copy_thread", "acopy_thread"]


def _params(method: Callable[..., Any]) -> list[tuple[str, Any]]:
    return [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]


@pytest.mark.parametrize("name", OVERRIDDEN)
@pytest.mark.parametrize("saver", [NbrunsMemorySaver, NbrunsSqliteSaver])
def test_savers_override_the_upstream_method(saver: type[Any], name: str) -> None:
    upstream = getattr(BaseCheckpointSaver, name, None)
    assert upstream is not None, f"BaseCheckpointSaver.{name} is gone: rename nbruns's too"
    ours = getattr(saver, name, None)
    if ours is None or ours is upstream:
        # the SQLite saver is async-first: it has only the `a` twins
        assert saver is NbrunsSqliteSaver and not name.startswith("a")
        return
    # upstream's parameters come first, unchanged; nbruns may only add optional keywords
    expected = _params(upstream)
    assert _params(ours)[: len(expected)] == expected
    for extra in list(inspect.signature(ours).parameters.values())[len(expected) :]:
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY
        assert extra.default is not inspect.Parameter.empty


def _run(saver: NbrunsMemorySaver, thread_id: str, run_id: str) -> None:
    graph = StateGraph(State).add_node("add", lambda s: {"log": [run_id]})
    graph = graph.add_edge(START, "add").compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread_id}, "metadata": {"run_id": run_id}}
    graph.invoke({"log": []}, config)


def _runs_in(saver: NbrunsMemorySaver, thread_id: str) -> set[str]:
    return {t.metadata["run_id"] for t in saver.list({"configurable": {"thread_id": thread_id}})}


def test_delete_for_runs_in_one_thread_or_all() -> None:
    saver = NbrunsMemorySaver()
    _run(saver, "t", "keep")
    _run(saver, "t", "doomed")
    saver.copy_thread("t", "copy")  # the copy carries the run ids along
    saver.delete_for_runs(["doomed"], thread_id="t")
    assert _runs_in(saver, "t") == {"keep"}
    assert _runs_in(saver, "copy") == {"keep", "doomed"}  # another thread: untouched
    saver.delete_for_runs(["doomed"])  # upstream's meaning: wherever they are
    assert _runs_in(saver, "copy") == {"keep"}


async def test_the_sqlite_saver_deletes_and_restores_like_the_memory_one(
    tmp_path: Any,
) -> None:
    async with aiosqlite.connect(str(tmp_path / "c.db"), isolation_level=None) as conn:
        saver = NbrunsSqliteSaver(conn)
        graph = StateGraph(State).add_node("add", lambda s: {"log": ["x"]})
        graph = graph.add_edge(START, "add").compile(checkpointer=saver)

        async def run(thread_id: str, run_id: str) -> None:
            config = {"configurable": {"thread_id": thread_id}, "metadata": {"run_id": run_id}}
            await graph.ainvoke({"log": []}, config)

        async def runs_in(thread_id: str) -> set[str]:
            config = {"configurable": {"thread_id": thread_id}}
            return {t.metadata["run_id"] async for t in saver.alist(config)}

        await run("t", "keep")
        mark = await saver.amark("t")
        await run("t", "doomed")
        await saver.acopy_thread("t", "copy")
        await saver.adelete_for_runs(["doomed"], thread_id="t")
        await saver.arestore_writes("t", mark)
        assert await runs_in("t") == {"keep"}
        assert (await saver.amark("t")) == mark  # as it was before the run
        assert await runs_in("copy") == {"keep", "doomed"}
        await saver.adelete_for_runs(["doomed"])
        assert await runs_in("copy") == {"keep"}
        await saver.arestore_writes("t", Mark(None, frozenset()))  # nothing to restore


def test_the_sdk_runtime_types_graph_factories_are_given() -> None:
    """Graph factories that ask for a `ServerRuntime` get the SDK's own runtime objects,
    built by keyword (`_engine/_factories.py`). They are private names of langgraph_sdk:
    if they move or their fields change, this fails before any factory does."""
    from langgraph.store.memory import InMemoryStore
    from langgraph_sdk import runtime

    store = InMemoryStore()
    run = runtime._ExecutionRuntime(
        access_context="threads.create_run", user=None, store=store, context={"k": 1}
    )
    read = runtime._ReadRuntime(access_context="threads.read", user=None, store=store)
    assert (run.access_context, run.store, run.context) == ("threads.create_run", store, {"k": 1})
    assert (read.access_context, read.store, read.user) == ("threads.read", store, None)
    # what a factory's annotation names: a factory is recognised by it
    assert runtime.ServerRuntime.__name__ == "ServerRuntime"
