"""Double-text the weather agent at every step boundary, under every strategy.

This is an ordinary pytest file, as a user of nbruns writes one: `pip install nbruns`
brings the pytest plugin, whose `nbruns_client` fixture is an SDK client of a fresh
in-process server (closed after the test, which fails if a run was left going), and
which runs these `async def` tests itself. `clock="virtual"` makes the agent's slow
tool (30 s a call) take no time. Run it with `pytest examples/`.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from weather_agent import build_agent

import nbruns
from nbruns.testing import assert_messages, assert_runs, pause, wait_idle

pytestmark = pytest.mark.nbruns(clock="virtual")

SF = {"messages": [{"role": "user", "content": "what's the weather in sf?"}]}
NYC = {"messages": [{"role": "user", "content": "what about nyc?"}]}

# where the first run is when "what about nyc?" arrives
BOUNDARIES = {
    "before the model": {"before": "agent"},
    "before the tool": {"before": "tools"},  # the model has asked for the weather
    "after the tool": {"after": "tools"},  # the tool has answered
}
STRATEGIES = [
    *("reject", "enqueue", "interrupt", "rollback"),  # LangGraph's four
    *("steer", "collect", "debounce", "latest"),  # nbruns's four more
]

BOTH_ANSWERED = (["success", "success"], ["sf", "nyc"], 0)
ONLY_NYC = (["interrupted", "success"], ["nyc"], 0)
# strategy -> boundary -> (run statuses, the cities answered, tool calls left unanswered)
EXPECTED: dict[str, dict[str, tuple[list[str], list[str], int]]] = {
    "reject": dict.fromkeys(BOUNDARIES, (["success"], ["sf"], 0)),
    "enqueue": dict.fromkeys(BOUNDARIES, BOTH_ANSWERED),
    "interrupt": {
        "before the model": ONLY_NYC,
        # the interrupted run's tool call stays in the thread with no answer: a real
        # model provider refuses such a history, so this agent needs a fix for interrupt
        "before the tool": (["interrupted", "success"], ["nyc"], 1),
        "after the tool": ONLY_NYC,
    },
    "rollback": dict.fromkeys(BOUNDARIES, (["rolled_back", "success"], ["nyc"], 0)),
    # the new message goes into the running run (after the tool's answer when it
    # arrives before the tool); the second run follows the first: one answer
    "steer": dict.fromkeys(BOUNDARIES, (["success", "success"], ["nyc"], 0)),
    "collect": dict.fromkeys(BOUNDARIES, BOTH_ANSWERED),
    "debounce": dict.fromkeys(BOUNDARIES, BOTH_ANSWERED),
    "latest": dict.fromkeys(BOUNDARIES, BOTH_ANSWERED),
}


@pytest.fixture
def nbruns_graphs() -> dict[str, Any]:
    return {"weather": build_agent()}


async def double_text(client: Any, strategy: str, boundary: str) -> str:
    """Ask about sf; once the run is at `boundary`, ask about nyc with `strategy`."""
    thread_id = (await client.threads.create())["thread_id"]
    async with await pause(client, thread_id, times=1, **BOUNDARIES[boundary]) as bp:
        await client.runs.create(thread_id, "weather", input=SF)
        await bp.reached()
        try:
            await client.runs.create(thread_id, "weather", input=NYC, multitask_strategy=strategy)
        except httpx.HTTPStatusError as refused:
            assert (strategy, refused.response.status_code) == ("reject", 409)
    await wait_idle(client, thread_id)
    return str(thread_id)


def outcome(runs: Any, messages: list[dict[str, Any]]) -> tuple[list[str], list[str], int]:
    answered = [
        m["content"].removeprefix("It's always sunny in ").rstrip(".")
        for m in messages
        if m["type"] == "ai" and m["content"]
    ]
    asked = {c["id"] for m in messages if m["type"] == "ai" for c in m.get("tool_calls") or []}
    answered_calls = {m["tool_call_id"] for m in messages if m["type"] == "tool"}
    return list(runs["status"]), answered, len(asked - answered_calls)


@pytest.mark.parametrize("boundary", list(BOUNDARIES))
@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_double_text(nbruns_client: Any, strategy: str, boundary: str) -> None:
    thread_id = await double_text(nbruns_client, strategy, boundary)
    runs = await nbruns.runs_frame(nbruns_client, thread_id)
    state = await nbruns_client.threads.get_state(thread_id)
    assert outcome(runs, state["values"]["messages"]) == EXPECTED[strategy][boundary]


async def test_interrupt_before_the_tool_reads_like_the_timeline(nbruns_client: Any) -> None:
    thread_id = await double_text(nbruns_client, "interrupt", "before the tool")
    assert_runs(
        await nbruns.runs_frame(nbruns_client, thread_id),
        [
            {"status": "interrupted", "superseded_by": 1},
            {"status": "success", "multitask_strategy": "interrupt"},
        ],
    )
    assert_messages(
        await nbruns.messages_frame_for(nbruns_client, thread_id),
        [
            ("human", "what's the weather in sf?"),
            ("ai", ""),  # asks for the weather in sf; never answered
            ("human", "what about nyc?"),
            ("ai", ""),
            ("tool", re.compile("sunny in nyc")),
            ("ai", "It's always sunny in nyc."),
        ],
    )
