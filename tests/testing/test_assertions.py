"""`assert_runs` and `assert_messages`: passes pass, and a failure shows expected and actual
side by side, differing cells marked, missing and extra rows named."""

from __future__ import annotations

import re
from typing import Any

import pytest

from nbruns.testing import assert_messages, assert_runs
from nbruns.views.frames import messages_frame, runs_to_frame, timeline_to_frame

R0, R1, R2 = (f"{i}0000000-0000-4000-8000-000000000000" for i in range(3))


def _run(run_id: str, status: str, strategy: str, **more: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "thread_id": "t",
        "status": status,
        "multitask_strategy": strategy,
        "created_at": f"2026-01-01T00:00:0{run_id[0]}+00:00",
        **more,
    }


RUNS = runs_to_frame(
    [
        _run(R0, "interrupted", "enqueue", superseded_by=R1, cancel_source="superseded"),
        _run(R1, "success", "interrupt"),
    ]
)


def test_matching_runs_pass() -> None:
    assert_runs(
        RUNS,
        [
            {"status": "interrupted", "superseded_by": 1, "cancel_source": "superseded"},
            {"status": "success", "multitask_strategy": "interrupt", "superseded_by": None},
        ],
    )
    assert_runs(RUNS, [{"run_id": R0}, {"status": re.compile("^succ")}])
    assert_runs(RUNS.to_dict("records"), [{"status": "interrupted"}, {"status": "success"}])


def test_a_differing_cell_is_marked_beside_what_was_expected() -> None:
    with pytest.raises(AssertionError) as err:
        assert_runs(
            RUNS,
            [
                {"status": "interrupted", "superseded_by": 1},
                {"status": "error", "superseded_by": None},
            ],
        )
    assert str(err.value).splitlines() == [
        "assert_runs: 1 of 2 rows differ (2 expected, 2 found; differing cells marked !)",
        "expected                       |  actual",
        "#  status       superseded_by  |  status       superseded_by",
        "0  interrupted  #1             |  interrupted  #1",
        "1  error        None           |  !success     None           <- differs",
    ]


def test_missing_and_extra_rows_are_named() -> None:
    with pytest.raises(AssertionError) as err:
        assert_runs(RUNS, [{"status": "interrupted"}])
    assert str(err.value).splitlines()[-2:] == [
        "0  interrupted        |  interrupted",
        "1  (no row expected)  |  success      <- extra",
    ]
    with pytest.raises(AssertionError) as err:
        assert_runs(RUNS, [{"status": "interrupted"}, {"status": "success"}, {"status": "success"}])
    message = str(err.value)
    assert "3 expected, 2 found" in message
    assert message.splitlines()[-1] == "2  success      |  (missing)    <- missing"


def test_no_runs_expected_shows_the_statuses_found() -> None:
    with pytest.raises(AssertionError, match=r"0  \(no row expected\)  \|  interrupted  <- extra"):
        assert_runs(RUNS, [])
    assert_runs(runs_to_frame([]), [])


def test_a_column_the_frame_lacks_is_a_usage_error_listing_its_columns() -> None:
    with pytest.raises(ValueError, match=r"no column 'strategy' in the frame; its columns are "):
        assert_runs(RUNS, [{"strategy": "enqueue"}])


def test_a_timeline_frame_is_checked_event_by_event() -> None:
    events = timeline_to_frame(
        [
            {"seq": 1, "at": "2026-01-01T00:00:00+00:00", "run_id": R0, "kind": "created"},
            {"seq": 2, "at": "2026-01-01T00:00:01+00:00", "run_id": R0, "kind": "started"},
            {
                "seq": 3,
                "at": "2026-01-01T00:00:02+00:00",
                "run_id": R0,
                "kind": "step",
                "nodes": ["a"],
            },
        ]
    )
    assert_runs(
        events, [{"kind": "created"}, {"kind": "started"}, {"kind": "step", "nodes": ["a"]}]
    )
    with pytest.raises(AssertionError, match="!started"):
        assert_runs(events, [{"kind": "created"}, {"kind": "step"}, {"kind": "step"}])


MESSAGES = messages_frame(
    [
        {"type": "human", "content": "whats the weather in sf?", "id": "h1"},
        {
            "type": "ai",
            "content": "",
            "id": "a1",
            "tool_calls": [{"name": "get_weather", "args": {"city": "sf"}, "id": "c1"}],
        },
        {"type": "tool", "content": "It's 60 degrees and foggy.", "tool_call_id": "c1"},
        {"type": "ai", "content": "It is 60 degrees and foggy in SF.", "id": "a2"},
    ]
)


def test_matching_messages_pass() -> None:
    assert_messages(
        MESSAGES,
        [
            ("human", "whats the weather in sf?"),
            {"type": "ai", "tool_calls": ['get_weather(city="sf")']},
            ("tool", re.compile(r"\d+ degrees")),
            ("ai", re.compile("foggy")),
        ],
    )


def test_differing_messages_show_both_sides() -> None:
    with pytest.raises(AssertionError) as err:
        assert_messages(
            MESSAGES,
            [
                ("human", "whats the weather in nyc?"),
                ("ai", ""),
                ("tool", re.compile("sunny")),
            ],
        )
    assert str(err.value).splitlines() == [
        "assert_messages: 3 of 4 rows differ (3 expected, 4 found; differing cells marked !)",
        "expected                                         |  actual",
        "#  type               content                    |  type   content",
        "0  human              whats the weather in nyc?  |  human  !whats the weather in sf?"
        "          <- differs",
        "1  ai                                            |  ai",
        "2  tool               /sunny/                    |  tool   !It's 60 degrees and foggy."
        "        <- differs",
        "3  (no row expected)                             |  ai     It is 60 degrees and foggy"
        " in SF.  <- extra",
    ]
