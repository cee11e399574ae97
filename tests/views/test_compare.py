"""`compare`: one arrival script under several strategies, on a real in-process server.

Step-boundary arrivals are exact (holds), so which run ended how is asserted, not
guessed; no sleeps order anything.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import pandas as pd
import pytest

from nbruns.views._compare import Comparison, compare
from nbruns.views._compare_script import parse_script
from nbruns.views._holds import list_holds

SF, NYC, LA = "whats the weather in sf?", "whats the weather in nyc?", "and in la?"
AT_AGENT = [{"input": SF}, {"at_step": "after:agent", "input": NYC}]
FOUR = ["reject", "interrupt", "rollback", "enqueue"]


def humans(result: Comparison, label: str) -> list[str]:
    column = result.messages[label]
    return [m for t, m in zip(column["type"], column["message"], strict=True) if t == "human"]


async def test_the_four_strategies_side_by_side(client: Any, capsys: Any) -> None:
    result = await compare(client, AT_AGENT, strategies=FOUR)
    assert capsys.readouterr() == ("", "")  # it never prints
    assert list(result.threads) == FOUR
    assert result.outcomes.to_dict("list") == {
        "reject": ["success", "rejected (409)"],
        "interrupt": ["interrupted (superseded)", "success"],
        "rollback": ["rolled back", "success"],
        "enqueue": ["success", "success"],
    }
    runs = result.runs
    assert list(runs.columns[:2]) == ["strategy", "arrival"]
    assert "merged_into" in runs.columns and "cancel_source" in runs.columns
    assert runs["strategy"].tolist() == [
        "reject",
        *["interrupt"] * 2,
        *["rollback"] * 2,
        *["enqueue"] * 2,
    ]
    assert runs["status"].tolist() == [
        "success", "interrupted", "success", "rolled_back", "success", "success", "success",
    ]  # fmt: skip
    # the interrupted run was stopped after its first step, held there: it had written sf
    assert humans(result, "reject") == [SF]
    assert humans(result, "interrupt") == [SF, NYC]
    assert humans(result, "rollback") == [NYC]
    assert humans(result, "enqueue") == [SF, NYC]
    last_ai = result.messages[("enqueue", "message")].tolist()
    assert last_ai[-1].startswith("It's") and "New York" in last_ai[-1]
    # every run has ended: nothing is left running behind the cell
    for thread_id in result.threads.values():
        assert all(r["status"] != "running" for r in await client.runs.list(thread_id))


async def test_the_timelines_have_one_lane_per_strategy(client: Any) -> None:
    result = await compare(client, AT_AGENT, strategies=["interrupt", "enqueue"])
    root = ET.fromstring(result.timelines.svg)
    svg_text = "{http://www.w3.org/2000/svg}text"
    lanes = [e for e in root.iter(svg_text) if "lane-label" in (e.get("class") or "")]
    labels = [next(iter(e)).tail for e in lanes]  # after the tooltip
    assert labels == ["interrupt", "enqueue"]
    assert result.timelines.n_runs == 4
    page = result._repr_html_()
    assert page.startswith('<div class="nbruns-compare">') and "<svg" in page
    assert "final messages" in page and "runs</p>" in page
    assert repr(result) == "<nbruns comparison of 2 arrivals under interrupt, enqueue>"
    assert re.search(r"<td>[0-9a-f]{8}</td>", page)  # short run ids in the runs table


async def test_latest_keeps_only_the_newest_waiting_run(client: Any) -> None:
    script = [
        {"input": SF},
        {"after": "agent", "input": NYC},
        {"after": "tools", "input": LA},
    ]
    result = await compare(client, script, strategies=["latest", "enqueue"])
    assert result.outcomes.to_dict("list") == {
        "latest": ["success", "interrupted (replaced)", "success"],
        "enqueue": ["success", "success", "success"],
    }
    replaced = result.runs[(result.runs["strategy"] == "latest") & (result.runs["arrival"] == 1)]
    newest = result.runs[(result.runs["strategy"] == "latest") & (result.runs["arrival"] == 2)]
    assert replaced["cancel_source"].item() == "replaced"
    assert replaced["superseded_by"].item() == newest["run_id"].item()
    assert humans(result, "latest") == [SF, LA]
    assert humans(result, "enqueue") == [SF, NYC, LA]


async def test_timed_arrivals_and_a_policy_per_strategy(client: Any) -> None:
    script = [SF, {"at": 0.0, "input": {"messages": [{"role": "human", "content": NYC}]}}]
    capped = {"strategy": "enqueue", "max_pending": 5}
    result = await compare(client, script, strategies=["enqueue", capped], policy={"quiet_s": 0.5})
    assert list(result.threads) == ["enqueue", "enqueue max_pending=5"]
    thread = await client.threads.get(result.threads["enqueue max_pending=5"])
    assert thread["metadata"]["multitask"] == {"quiet_s": 0.5, "max_pending": 5}
    assert thread["metadata"]["name"] == "enqueue max_pending=5"
    assert result.outcomes["enqueue"].tolist() == ["success", "success"]


async def test_a_boundary_that_never_comes_is_named(client: Any) -> None:
    # reject: arrival 1 makes no run, and the only run has passed its one tools step
    script = [{"input": SF}, {"after": "tools", "input": NYC}, {"after": "tools", "input": LA}]
    with pytest.raises(
        TimeoutError,
        match=r"^reject: arrival 2 waits for the run in flight to reach 'after:tools'",
    ):
        await compare(client, script, strategies=["reject"], step_timeout=0.2)
    (thread,) = await client.threads.search(metadata={"name": "reject"})
    assert await list_holds(client, thread["thread_id"]) == []  # disarmed
    script = [{"input": SF}, {"before": "no_such_node", "input": NYC}]
    with pytest.raises(ValueError, match=r"^enqueue: arrival 1 waits for 'before:no_such_node', "):
        await compare(client, script, strategies=["enqueue"])


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("hi", r"^arrivals must be a list"),
        ([], r"^arrivals is empty"),
        (
            [{"input": "a", "when": 1}],
            r"^arrival 0: unknown key 'when'; the keys are input, at, at_step, before, after$",
        ),
        ([{"at": 0}], r"^arrival 0: 'input' is missing"),
        (
            [{"input": "a"}, {"input": "b", "at": 1, "after": "agent"}],
            r"^arrival 1: give at most one of at, at_step, before, after; got at, after$",
        ),
        ([{"input": "a", "at": -1}], r"^arrival 0: 'at' must be 0 or more seconds"),
        (
            [{"input": "a", "at": "soon"}],
            r"^arrival 0: 'at' must be a number of seconds, got 'soon'$",
        ),
        (
            [{"input": "a", "after": "agent"}],
            r"^arrival 0: the first arrival cannot wait for a step boundary",
        ),
        (
            [{"input": "a"}, {"input": "b", "at_step": "agent"}],
            r"^arrival 1: at_step must read 'before:<node>' or 'after:<node>'",
        ),
        (
            [{"input": 3}],
            r"^arrival 0: 'input' must be a string \(one human message\) or a dict, got 3$",
        ),
    ],
)
def test_bad_scripts_say_what_is_wrong(script: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_script(script)


async def test_bad_strategies_are_refused_before_anything_is_made(client: Any) -> None:
    with pytest.raises(
        ValueError, match=r"^unknown strategy 'fastest'; this server offers reject, interrupt"
    ):
        await compare(client, [SF], strategies=["enqueue", "fastest"])
    with pytest.raises(ValueError, match=r"^strategy 'enqueue' is listed twice"):
        await compare(client, [SF], strategies=["enqueue", "enqueue"])
    with pytest.raises(ValueError, match=r"needs 'strategy'"):
        await compare(client, [SF], strategies=[{"max_pending": 1}])
    assert await client.threads.search() == []


def test_strings_are_one_human_message() -> None:
    (first, second) = parse_script(["hi", {"before": "tools", "input": {"x": 1}}])
    assert first.input == {"messages": [{"role": "human", "content": "hi"}]}
    assert (second.before, second.after, second.input) == ("tools", None, {"x": 1})
    assert second.boundary() == "before:tools" and second.at_boundary


def test_outcomes_name_merges_by_arrival() -> None:
    from nbruns.views._compare import _outcome

    arrival_of = {"r1": 0}
    assert (
        _outcome({"status": "success", "merged_into": "r1"}, arrival_of)
        == "merged into arrival 0: success"
    )
    assert (
        _outcome({"status": "timeout", "cancel_source": "pending_ttl"}, {})
        == "timeout (pending_ttl)"
    )
    assert _outcome({"status": "rolled_back"}, {}) == "rolled back"
    assert isinstance(pd.DataFrame(), pd.DataFrame)


async def test_merged_runs_are_drawn_as_arrivals_into_their_carrier(client: Any) -> None:
    script = [{"input": SF}, {"after": "agent", "input": NYC}, {"after": "tools", "input": LA}]
    result = await compare(client, script, strategies=["steer", "collect", "latest"])
    assert result.outcomes.to_dict("list") == {
        # nyc arrives while the model's tool call is open: both go in after the tool step
        "steer": ["success", "merged into arrival 0: success", "merged into arrival 0: success"],
        "collect": ["success", "success", "merged into arrival 1: success"],
        "latest": ["success", "interrupted (replaced)", "success"],
    }
    assert humans(result, "steer") == [SF, NYC, LA]
    assert humans(result, "collect") == [SF, NYC, LA]
    root = ET.fromstring(result.timelines.svg)
    drawn = [e for e in root.iter() if "run-bar" in (e.get("class") or "").split()]
    merged = [e for e in root.iter() if "merged-run" in (e.get("class") or "").split()]
    # 1 + 2 + 3 bars: the merged runs never ran on their own
    assert len(drawn) == 6 and len(merged) == 3
    merged_ids = {e.get("data-run-id") for e in merged}
    runs = result.runs.set_index("run_id")
    assert merged_ids == set(runs.index[runs["merged_into"].notna()])
    assert "merged into" in result._repr_html_()


async def test_other_servers_play_timed_scripts_and_say_why_steps_need_nbruns(
    client: Any,
) -> None:
    import httpx
    from langgraph_sdk.client import LangGraphClient

    from nbruns.views._holds import HoldsUnsupported
    from tests.views.test_frames import PlainServer

    transport = PlainServer(client.http.client._transport)
    async with LangGraphClient(
        httpx.AsyncClient(transport=transport, base_url="http://x")
    ) as plain:
        result = await compare(plain, [SF, {"at": 0, "input": NYC}], strategies=["enqueue"])
        assert result.outcomes["enqueue"].tolist() == ["success", "success"]
        assert result.runs["merged_into"].isna().all()
        assert humans(result, "enqueue") == [SF, NYC]
        with pytest.raises(
            HoldsUnsupported, match=r"^holds \(step breakpoints\) need an nbruns server"
        ):
            await compare(plain, AT_AGENT, strategies=["enqueue"])


async def test_a_restored_rollback_is_marked_on_the_timeline(client: Any) -> None:
    import nbruns

    result = await compare(client, AT_AGENT, strategies=["rollback"])
    thread_id = result.threads["rollback"]
    gone = result.runs.loc[result.runs["status"] == "rolled_back", "run_id"].item()
    assert "restored-mark" not in result.timelines.svg
    await client.http.post(f"/nbruns/threads/{thread_id}/rolled_back/{gone}/restore", json=None)
    root = ET.fromstring((await nbruns.timeline(client, [thread_id])).svg)
    marks = [e for e in root.iter() if "restored-mark" in (e.get("class") or "").split()]
    assert len(marks) == 1
    title = next(iter(marks[0])).text or ""
    assert title.startswith("restored at +") and f"run {gone}'s state put back" in title
