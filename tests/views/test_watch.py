"""`nbruns.watch`: a live timeline and the latest messages, driven by gated real runs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, TypedDict

import pytest
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

import nbruns
from nbruns.views._watch import Watch, watch
from tests.helpers import Gates, wait_for_status, wait_until


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    gate: str


def gated_echo(gates: Gates) -> Any:
    """Waits at the gate its input names, then answers "done: <last message>"."""

    async def reply(state: State) -> dict[str, Any]:
        await gates[state["gate"]].passage()
        return {"messages": [AIMessage(content=f"done: {state['messages'][-1].content}")]}

    builder = StateGraph(State)
    builder.add_node("reply", reply)
    builder.add_edge(START, "reply")
    builder.add_edge("reply", END)
    return builder.compile()


def ask(text: str, gate: str) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}], "gate": gate}


@pytest.fixture
async def client(
    make_server: Callable[[dict[str, Any]], nbruns.Server], gates: Gates
) -> AsyncIterator[Any]:
    c = make_server({"echo": gated_echo(gates)}).client()
    yield c
    await c.aclose()


@pytest.fixture
async def watches() -> AsyncIterator[list[Watch]]:
    """Every watch a test makes is closed after it."""
    made: list[Watch] = []
    yield made
    for w in made:
        w.close()


async def test_follows_a_double_text_to_the_end(
    client: Any, gates: Gates, watches: list[Watch], capsys: pytest.CaptureFixture[str]
) -> None:
    tid = (await client.threads.create(metadata={"name": "weather chat"}))["thread_id"]
    first = await client.runs.create(tid, "echo", input=ask("first", "one"))
    await gates["one"].reached()
    w = watch(client, [tid])
    watches.append(w)
    # the background refresh shows the held run without being asked
    await wait_until(lambda: _async("live: 1 running" in w.status.value), "a live render")
    assert "weather chat" in w.timeline_html.value  # the lane is named from the metadata

    second = await client.runs.create(
        tid, "echo", input=ask("second", "two"), multitask_strategy="interrupt"
    )
    await wait_for_status(client, tid, second["run_id"], "running")
    gates["two"].open()
    await w.wait_idle()

    assert w.status.value.startswith("idle: ")
    assert "1 interrupted" in w.status.value and "1 success" in w.status.value
    assert not w._tasks  # the live refresh ended with the runs
    html = w.html
    assert "<svg" in html and "weather chat" in html
    assert "done: second" in html and "second" in html
    assert "done: first" not in html  # the interrupted run never answered
    assert "<b>thread weather chat</b> (last 3 of 3 messages)" in html
    bundle = w._repr_mimebundle_()
    assert bundle["text/html"] == html
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "<nbruns watch of 1 threads>"
    assert (await client.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert capsys.readouterr() == ("", "")


async def test_every_thread_and_new_ones(client: Any, gates: Gates, watches: list[Watch]) -> None:
    w = watch(client)
    watches.append(w)
    await w.wait_idle()
    assert w.status.value.startswith("idle: no runs yet")
    gates["go"].open()
    threads = []
    for text in ("alpha", "beta"):
        tid = (await client.threads.create())["thread_id"]
        await client.runs.wait(tid, "echo", input=ask(text, "go"))
        threads.append(tid)
    assert "alpha" not in w.html  # idle: nothing re-read until asked
    w.refresh()
    await w.wait_idle()
    assert "idle: 2 success" in w.status.value
    for tid, text in zip(threads, ("alpha", "beta"), strict=True):
        assert f"<b>thread {tid[:8]}</b> (last 2 of 2 messages)" in w.html
        assert f"done: {text}" in w.html
    # the latest thread's messages come first
    assert w.html.index("done: beta") < w.html.index("done: alpha")


async def test_close_leaves_no_task(client: Any, gates: Gates) -> None:
    tid = (await client.threads.create())["thread_id"]
    run = await client.runs.create(tid, "echo", input=ask("hold on", "held"))
    await gates["held"].reached()
    w = watch(client, tid)
    await wait_until(lambda: _async("live:" in w.status.value), "a live render")
    tasks = set(w._tasks)
    assert tasks
    w.close()
    assert not w._tasks
    await asyncio.wait(tasks)
    assert all(t.cancelled() for t in tasks)
    assert w.status.value == "closed"
    w.refresh()  # a closed watch starts nothing
    assert not w._tasks
    gates["held"].open()
    await client.runs.join(tid, run["run_id"])


async def test_background_errors_go_to_the_status_line(
    make_server: Callable[[dict[str, Any]], nbruns.Server],
    gates: Gates,
    capsys: pytest.CaptureFixture[str],
) -> None:
    own = make_server({"echo": gated_echo(gates)}).client()
    tid = (await own.threads.create())["thread_id"]
    w = watch(own, [tid])
    await w.wait_idle()
    await own.aclose()  # every later read fails
    w.refresh()
    await wait_until(lambda: _async("refresh failed: " in w.status.value), "the error")
    await wait_until(lambda: _async(not w._tasks), "the refresh to end")
    assert capsys.readouterr() == ("", "")
    with pytest.raises(RuntimeError):  # in the foreground the error is raised
        await w.wait_idle()
    w.close()


async def test_highlight_and_recent_window(client: Any, gates: Gates) -> None:
    gates["go"].open()
    threads = [(await client.threads.create())["thread_id"] for _ in range(2)]
    for tid in threads:
        await client.runs.wait(tid, "echo", input=ask("hi", "go"))
    pictures = {}
    for options in ({}, {"highlight": threads[1]}, {"window": "recent"}):
        w = watch(client, threads, **options)
        await w.wait_idle()
        w.close()
        pictures[tuple(options)] = w.timeline_html.value
        assert w.timeline_html.value.count("<svg") == 1
    assert len(set(pictures.values())) == 3  # each option changes the picture
    with pytest.raises(ValueError, match=r"^window must be None or \"recent\", got 'all'$"):
        watch(client, window="all")  # type: ignore[arg-type]


class RecordingPublisher(DisplayPublisher):
    """IPython's display publisher keeping what it publishes (ipykernel's sends it on iopub)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self.published: list[tuple[dict[str, Any], Any, bool]] = []

    def publish(
        self, data: dict[str, Any], metadata: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        self.published.append((data, kwargs.get("transient"), bool(kwargs.get("update"))))


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingPublisher]:
    # the shell sets sys.ps1/ps2, which makes later code think it runs interactively
    # (langchain's pretty_print turns bold): monkeypatch puts them back as they were
    for prompt in ("ps1", "ps2"):
        monkeypatch.setattr(sys, prompt, getattr(sys, prompt, ""), raising=False)
    shell = InteractiveShell.instance()
    shell.display_pub = recording = RecordingPublisher(shell=shell)
    yield recording
    InteractiveShell.clear_instance()


async def test_saved_output_gets_the_last_picture(
    client: Any, gates: Gates, publisher: RecordingPublisher, watches: list[Watch]
) -> None:
    tid = (await client.threads.create())["thread_id"]
    await client.runs.create(tid, "echo", input=ask("save me", "late"))
    await gates["late"].reached()
    w = watch(client, tid)
    watches.append(w)
    display(w)  # type: ignore[no-untyped-call]  # as a notebook shows the last expression of a cell
    gates["late"].open()
    await w.wait_idle()
    published = publisher.published
    (first, transient, update), *updates = published
    assert not update and "done: save me" not in first["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in first
    assert updates, "the display was never updated"
    last, last_transient, last_update = updates[-1]
    assert last_update and last_transient == transient and transient["display_id"]
    assert "done: save me" in last["text/html"] and "idle: 1 success" in last["text/html"]
    assert (
        last["application/vnd.jupyter.widget-view+json"]
        == (first["application/vnd.jupyter.widget-view+json"])
    )


def test_only_the_async_client() -> None:
    sync = nbruns.Server(graphs={}).sync_client()
    with pytest.raises(TypeError, match=r"needs the async client: pass nbruns\.get_client\(\)"):
        watch(sync)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not str$"):
        watch("http://localhost:2024")  # type: ignore[arg-type]


async def _async(value: bool) -> bool:
    return value
