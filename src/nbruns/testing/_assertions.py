"""Assertions that read like the timeline: a thread's runs or messages, row by row.

    assert_runs(await nbruns.runs_frame(client, tid), [
        {"status": "interrupted", "superseded_by": 1},   # superseded by the run in row 1
        {"status": "success", "multitask_strategy": "interrupt"},
    ])
    assert_messages(await nbruns.messages_frame_for(client, tid), [
        ("human", "whats the weather in sf?"),
        ("ai", re.compile("sunny")),
    ])

They take frames (or lists of row dicts), not clients, so they are plain functions
with either client. Each expected row names only the columns it checks; a value is
compared with `==`, except a compiled regex (`re.search` on the text) and, in the
columns that hold a run id, an int (the run in that row of the frame). A failure
raises `AssertionError` with expected and actual side by side, the differing cells
marked `!`, and missing or extra rows named.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["assert_messages", "assert_runs"]

_RUN_ID_COLUMNS = frozenset({"superseded_by", "merged_into", "run_id", "by"})
_MISSING = object()


def _rows(frame: Any) -> list[dict[str, Any]]:
    if hasattr(frame, "to_dict"):
        return [dict(r) for r in frame.to_dict("records")]
    return [dict(r) for r in frame]


def _columns(frame: Any, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if hasattr(frame, "columns"):
        return [str(c) for c in frame.columns]
    return list(dict.fromkeys(k for r in rows for k in r))


def _plain(value: Any) -> Any:
    """None for pandas' and numpy's missing values (NaN, NaT, NA), else the value."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in {"NaTType", "NAType"}:
        return None
    return value


def _matches(expected: Any, actual: Any, column: str, run_ids: list[Any]) -> bool:
    if isinstance(expected, re.Pattern):
        return actual is not None and expected.search(str(actual)) is not None
    if column in _RUN_ID_COLUMNS and isinstance(expected, int) and not isinstance(expected, bool):
        return 0 <= expected < len(run_ids) and actual == run_ids[expected]
    if isinstance(actual, tuple) and isinstance(expected, list):
        return list(actual) == expected
    return bool(expected == actual)


def _show(value: Any, column: str, run_ids: list[Any]) -> str:
    if value is _MISSING:
        return ""
    if isinstance(value, re.Pattern):
        return f"/{value.pattern}/"
    if column in _RUN_ID_COLUMNS and isinstance(value, int) and not isinstance(value, bool):
        return f"#{value}"  # an expected row number
    if column in _RUN_ID_COLUMNS and value is not None and value in run_ids:
        return f"#{run_ids.index(value)}"
    text = "None" if value is None else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _table(lines: list[list[str]]) -> list[str]:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]


def _compare(
    what: str, frame: Any, expected: Sequence[Mapping[str, Any]], shown: Sequence[str]
) -> None:
    rows = _rows(frame)
    columns = _columns(frame, rows)
    checked = list(dict.fromkeys(k for e in expected for k in e))
    checked = checked or [c for c in shown if c in columns] or columns[:1]
    unknown = [c for c in checked if c not in columns]
    if unknown:
        raise ValueError(
            f"{what}: no column {', '.join(map(repr, unknown))} in the frame; its columns "
            f"are {', '.join(columns)}"
        )
    run_ids = [r.get("run_id") for r in rows] if "run_id" in columns else []
    left: list[list[str]] = [["#", *checked]]
    right: list[list[str]] = [[*checked, ""]]
    wrong = 0
    for i in range(max(len(rows), len(expected))):
        want = expected[i] if i < len(expected) else None
        got = {c: _plain(rows[i].get(c)) for c in checked} if i < len(rows) else None
        if want is None:
            left.append([str(i), "(no row expected)", *[""] * (len(checked) - 1)])
        else:
            left.append([str(i), *[_show(want.get(c, _MISSING), c, run_ids) for c in checked]])
        if got is None:
            right.append(["(missing)", *[""] * (len(checked) - 1), "<- missing"])
            wrong += 1
            continue
        cells, bad = [], False
        for c in checked:
            cell = _show(got[c], c, run_ids)
            if want is not None and c in want and not _matches(want[c], got[c], c, run_ids):
                cell, bad = "!" + cell, True
            cells.append(cell)
        bad = bad or want is None
        wrong += bad
        right.append([*cells, "<- extra" if want is None else ("<- differs" if bad else "")])
    if not wrong:
        return
    lines = [f"{a}  |  {b}".rstrip() for a, b in zip(_table(left), _table(right), strict=True)]
    width = len(_table(left)[0])
    head = f"{'expected'.ljust(width)}  |  actual"
    raise AssertionError(
        f"{what}: {wrong} of {max(len(rows), len(expected))} rows differ "
        f"({len(expected)} expected, {len(rows)} found; differing cells marked !)\n"
        + "\n".join([head, *lines])
    )


def assert_runs(frame: Any, expected: Sequence[Mapping[str, Any]]) -> None:
    """Check a runs frame (`nbruns.runs_frame(client, thread_id)`; or a timeline frame,
    one row per event) row by row, in its order: creation order for runs.

    Each dict of `expected` names the columns it checks: `status`,
    `multitask_strategy`, `cancel_reason`, `cancel_source`, `superseded_by` and
    `merged_into` (an int: the run in that row), `error` (a regex fits), ... Extra or
    missing rows fail.
    """
    _compare("assert_runs", frame, list(expected), ("status",))


def _message_row(item: Mapping[str, Any] | Iterable[Any]) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    kind, content = item
    return {"type": kind, "content": content}


def assert_messages(frame: Any, expected: Sequence[Mapping[str, Any] | tuple[str, Any]]) -> None:
    """Check a messages frame (`nbruns.messages_frame_for(client, thread_id)` or
    `messages_frame(state)`) message by message.

    Each item is `(type, content)` (type `human`, `ai`, `tool`, ...; content a str
    compared exactly, or a compiled regex searched in it) or a dict of columns
    (`{"type": "ai", "tool_calls": ["get_weather({'city': 'sf'})"]}`).
    """
    _compare("assert_messages", frame, [_message_row(i) for i in expected], ("type", "content"))
