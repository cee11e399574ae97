"""Test your own agent's double-texting, deterministically: breakpoints, idleness, assertions.

Hold a run of any graph at a step boundary, with no change to the graph's code, then
double-text it there::

    import nbruns
    from nbruns import get_client
    from nbruns.testing import assert_runs, pause, wait_idle

    client = get_client(graphs={"agent": my_graph})
    tid = (await client.threads.create())["thread_id"]
    async with await pause(client, tid, before="tools", times=1) as bp:
        first = await client.runs.create(tid, "agent", input=question)
        hit = await bp.reached()             # first waits before "tools", `running`
        await client.runs.create(tid, "agent", input=follow_up,
                                 multitask_strategy="interrupt")
    await wait_idle(client, tid)
    assert_runs(await nbruns.runs_frame(client, tid), [
        {"status": "interrupted", "superseded_by": 1},
        {"status": "success", "multitask_strategy": "interrupt"},
    ])

- `pause(client, thread_id, before=..., after=..., times=..., new_runs_only=...)`
  makes a `Breakpoint` (set it before a run starts or while one goes): `before="tools"`
  holds a run before a step running node `tools`, `after="agent"` after a step that ran
  `agent`, `"*"` at any node. `await bp.reached()` returns the held run (a `Hit`),
  `await bp.release()` lets it go on, `await bp.remove()` (or leaving `async with`)
  disarms it. A held run reads `running`, its finished steps checkpointed, and answers
  cancels and every multitask strategy as a run busy in that step would. Breakpoints
  are the server's holds (the Playground's too): they need an nbruns server, in process
  or `nbruns serve`; elsewhere `BreakpointsUnsupported`.
- `wait_idle(client, thread_ids=None, timeout=30.0)` returns once no run of those
  threads is pending or running (any LangGraph server); `RunsStillGoing` lists the
  runs left, and says when a breakpoint holds one.
- `assert_runs(frame, expected)` and `assert_messages(frame, expected)` compare a runs
  or messages frame with the rows you expect, failing with both side by side.
- `SANITIZE_PATH` is the nbval sanitize file for notebooks that use nbruns:
  ``pytest --nbval --nbval-sanitize-with "$(python -m nbruns.testing sanitize-path)"``.

Everything goes through the official SDK client (the async one; the assertions take
frames, so they work with either).
"""

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from ._assertions import assert_messages, assert_runs
    from ._breakpoints import Breakpoint, BreakpointsUnsupported, Hit, pause
    from ._idle import RunsStillGoing, wait_idle
    from ._sanitize import SANITIZE_PATH

__all__ = [
    "SANITIZE_PATH",
    "Breakpoint",
    "BreakpointsUnsupported",
    "Hit",
    "RunsStillGoing",
    "assert_messages",
    "assert_runs",
    "pause",
    "wait_idle",
]

# Imported on first use: pytest imports this package for the plugin (`_plugin`) in every
# session where nbruns is installed, and that must cost nothing when nbruns goes unused.
_HOMES = {
    "SANITIZE_PATH": "._sanitize",
    "assert_messages": "._assertions",
    "assert_runs": "._assertions",
    "Breakpoint": "._breakpoints",
    "BreakpointsUnsupported": "._breakpoints",
    "Hit": "._breakpoints",
    "pause": "._breakpoints",
    "RunsStillGoing": "._idle",
    "wait_idle": "._idle",
}


def __getattr__(name: str) -> _Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'nbruns.testing' has no attribute {name!r}")
    value = getattr(_importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
