"""The Playground on a user's own graphs, in a real JupyterLab clicked by Chromium.

The test writes a small notebook of its own into JupyterLab's root: three graphs of the
user's (a fast two-node chat graph, one whose second node raises, one whose model node
streams tokens), one Playground each. In the browser it:

- holds and double-texts the fast graph with each of the four strategies (hold the next
  run, Send, wait for the status to say "held", pick the strategy, Send again), checking
  the status line's words each time, then Release;
- selects a thread (the highlighted lane changes), zooms to it and back, and shows only it;
- sends to the failing graph: the status says why, the runs table's error column has it,
  and inspecting the run shows the traceback;
- holds the streaming graph *after* its model node: the live answer shows every token while
  the run is still held (so it cannot have ended), then Release ends it.

Screenshots go to `test-artifacts/own-graph-*.png`. Every wait is bounded (`WAIT`); nothing
is ordered by sleeping: the test waits for text and for SVG state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import ARTIFACTS, WAIT, open_and_run_all

pytestmark = pytest.mark.browser

ID = r"[0-9a-f]{8}"
ANSWER = "the answer grows one word at a time"

GRAPHS = f"""\
from typing import Annotated

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AnyMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

from nbruns import Playground, get_client


class Chat(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def chain(*nodes):
    builder = StateGraph(Chat)
    for node in nodes:
        builder.add_node(node.__name__, node)
    builder.add_edge(START, nodes[0].__name__)
    for a, b in zip(nodes, nodes[1:]):
        builder.add_edge(a.__name__, b.__name__)
    builder.add_edge(nodes[-1].__name__, END)
    return builder.compile()


def think(state):
    return {{}}


def answer(state):
    return {{"messages": [AIMessage(content="echo: " + state["messages"][-1].content)]}}


def explode(state):
    raise ValueError("node exploded")


async def model(state):
    llm = GenericFakeChatModel(messages=iter([AIMessage(content={ANSWER!r})]))
    return {{"messages": [await llm.ainvoke(state["messages"])]}}


client = get_client(
    graphs={{
        "mine": chain(think, answer),
        "boom": chain(think, explode),
        "words": chain(model, think),
    }}
)
"""

CELLS = [
    GRAPHS,
    'mine = Playground(client, graph="mine")\nmine',
    'boom = Playground(client, graph="boom")\nboom',
    'words = Playground(client, graph="words")\nwords',
]

WORDS = {
    "interrupt": rf"'nyc' sent with interrupt: run {ID} interrupted after \d+\.\d s, "
    rf"run {ID} started",
    "rollback": rf"'nyc' sent with rollback: run {ID} rolled back \(its steps deleted\), "
    rf"run {ID} started",
    "enqueue": rf"'nyc' sent with enqueue: run {ID} waits behind run {ID}",
    "reject": r"'nyc' rejected \(409\): Thread is already running a task\. Wait for it to "
    rf"finish or choose a different multitask strategy\. \(run {ID} is running\)",
}
HELD = (
    rf"'sf' sent with enqueue: run {ID} started, held before its first step "
    r"\(Release lets it go on\)"
)

# The timeline of one playground (its output element): lanes, dimmed lanes, bars, the caption.
SVG_JS = """(root) => {
    const svg = root.querySelector('.nbruns-timeline svg');
    if (!svg) return null;
    const q = (s) => [...svg.querySelectorAll(s)];
    return {
        labels: q('text.lane-label').map(t => t.lastChild.textContent.trim()),
        bold: q('text.lane-label[font-weight="bold"]').map(t => t.lastChild.textContent.trim()),
        lit: q('g.lane-runs:not(.dimmed)').map(g => g.dataset.threadId),
        bars: q('rect.run-bar').map(b => [...b.classList].find(c => c.startsWith('status-'))),
        windowed: svg.textContent.includes("(the window's start)"),
    };
}"""


def write_notebook(path: Path) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []}
    nb = {
        "cells": [{**cell, "source": source} for source in CELLS],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


class Widget:
    """One Playground's output in the page: its controls by label, its status and timeline."""

    def __init__(self, page: Any, cell_index: int) -> None:
        self.page = page
        self.root = page.locator(".jp-CodeCell").nth(cell_index).locator(".jp-OutputArea-output")

    def button(self, text: str) -> Any:
        return self.root.locator("button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$"))

    def checkbox(self, text: str) -> Any:
        return self.root.locator(".widget-checkbox", has_text=text).locator("input")

    def dropdown(self, text: str) -> Any:
        label = self.page.locator("label.widget-label", has_text=re.compile(rf"^\s*{text}\s*$"))
        return self.root.locator(".widget-dropdown").filter(has=label).locator("select")

    def status(self) -> str:
        return str(self.root.locator(".nbruns-status").inner_text()).strip()

    def wait_status(self, pattern: str) -> str:
        """Wait until the status line matches `pattern` (whole); return it."""
        self.page.wait_for_function(
            "([root, p]) => new RegExp('^(?:' + p + ')$')"
            ".test(root.querySelector('.nbruns-status').innerText.trim())",
            arg=[self.root.element_handle(), pattern],
            timeout=WAIT * 1000,
        )
        return self.status()

    def svg(self) -> dict[str, Any]:
        found: dict[str, Any] = self.page.evaluate(SVG_JS, self.root.element_handle())
        return found

    def wait_svg(self, test: str) -> dict[str, Any]:
        """Wait until `test` (JS over the svg summary `s`) holds; return the summary."""
        self.page.wait_for_function(
            f"(root) => {{ const s = ({SVG_JS})(root); return !!s && ({test}); }}",
            arg=self.root.element_handle(),
            timeout=WAIT * 1000,
        )
        return self.svg()

    def type_message(self, text: str) -> None:
        self.root.locator(".widget-text input").first.fill(text)

    def shot(self, name: str) -> None:
        self.root.scroll_into_view_if_needed()
        self.root.screenshot(path=str(ARTIFACTS / f"own-graph-{name}.png"))


def double_text(mine: Widget, strategy: str) -> None:
    mine.button("enqueue").click()
    mine.type_message("sf")
    mine.checkbox("hold the next run").check()
    mine.button("Send").click()
    mine.wait_status(HELD)
    assert not mine.checkbox("hold the next run").is_checked()  # one run, then it resets
    mine.button(strategy).click()
    mine.type_message("nyc")
    mine.button("Send").click()
    mine.wait_status(WORDS[strategy])
    mine.shot(strategy)
    mine.button("Release").click()
    mine.wait_status(r"released.*")
    mine.wait_svg("!s.bars.includes('status-running') && !s.bars.includes('status-pending')")


def test_own_graphs_in_jupyterlab(chromium: Any, jupyterlab: tuple[str, str, Path]) -> None:
    base, token, root = jupyterlab
    write_notebook(root / "own_graph.ipynb")
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1600})
    page.set_default_timeout(WAIT * 1000)
    try:
        open_and_run_all(page, base, token, "own_graph.ipynb")
        mine, boom, words = Widget(page, 1), Widget(page, 2), Widget(page, 3)
        mine.button("Send").wait_for(state="visible")
        words.button("Send").wait_for(state="visible")
        assert mine.root.locator(".widget-slider").first.is_hidden()  # no `sleep` key

        # hold and double-text, one thread per strategy
        for i, strategy in enumerate(["interrupt", "rollback", "enqueue", "reject"]):
            if i:
                mine.button("New thread").click()
                mine.wait_svg(f"s.labels.length === {i + 1}")
            double_text(mine, strategy)
        summary = mine.svg()
        assert summary["labels"] == ["thread 1", "thread 2", "thread 3", "thread 4"]
        assert sorted(summary["bars"]) == sorted(
            [
                *("status-interrupted", "status-success"),  # interrupt
                *("status-rolled_back", "status-success"),  # rollback
                *("status-success", "status-success"),  # enqueue
                "status-success",  # reject: the first run only (and a red cross)
            ]
        )
        assert summary["bold"] == ["thread 4"] and len(summary["lit"]) == 1
        last = summary["lit"][0]

        # select a thread: its lane is the highlighted one now
        mine.dropdown("thread").select_option(label="thread 1")
        picked = mine.wait_svg(f"s.lit.length === 1 && s.lit[0] !== '{last}'")
        assert picked["bold"] == ["thread 1"]
        mine.button("fit to thread").click()
        zoomed = mine.wait_svg("s.windowed")
        assert len(zoomed["bars"]) < len(summary["bars"])  # others' runs are outside the window
        mine.shot("zoomed")
        mine.checkbox("this thread only").check()
        only = mine.wait_svg("s.labels.length === 1")
        assert only["labels"] == ["thread 1"]
        mine.checkbox("this thread only").uncheck()
        mine.button("all").click()
        whole = mine.wait_svg("!s.windowed && s.labels.length === 4")
        assert len(whole["bars"]) == len(summary["bars"])

        # a failing node: the status says why, the runs table and inspect show it
        boom.type_message("go")
        boom.button("Send").click()
        boom.wait_status(rf"run {ID} failed: ValueError: node exploded")
        boom.wait_svg("s.bars.includes('status-error')")
        table = boom.root.locator(".nbruns-runs table")
        head = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        cells = [c.strip() for c in table.locator("tbody tr").first.locator("td").all_inner_texts()]
        row = dict(zip(head, cells, strict=True))
        assert row["status"] == "error" and row["error"] == "ValueError: node exploded", row
        inspect = boom.dropdown("inspect run")
        inspect.select_option(index=0)
        boom.root.locator(
            ".nbruns-inspect", has_text="Traceback (most recent call last)"
        ).wait_for()
        boom.shot("error")

        # live tokens: held after the model node, so the run cannot end before they are read
        words.dropdown("at").select_option(label="after model")
        words.checkbox("hold the next run").check()
        words.type_message("tell me")
        words.button("Send").click()
        words.wait_status(rf"'tell me' sent with enqueue: run {ID} started, held after model .*")
        live = words.root.locator(".nbruns-live")
        live.locator("pre", has_text=ANSWER).wait_for()
        assert "streaming" in live.inner_text()  # the run has not ended: it is held
        words.wait_svg("s.bars.length === 1 && s.bars[0] === 'status-running'")
        words.shot("tokens")
        words.button("Release").click()
        words.wait_svg("s.bars.length === 1 && s.bars[0] === 'status-success'")
        words.root.locator(".nbruns-live", has_text="done").wait_for()
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "own-graph-failure.png"), full_page=True)
        raise
    finally:
        page.close()
