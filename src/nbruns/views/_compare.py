"""`compare`: one arrival script under several multitask strategies, side by side.

`await nbruns.compare(client, arrivals, strategies=[...])` makes one fresh thread per
strategy (named after it), plays the script on each at the same time, waits for every
run to end, and reads the outcome back through the client: what happened to each
arrival, the runs, the timelines (one lane per strategy, on one clock) and each
thread's final messages. The result shows itself in a notebook as static HTML, so a
saved notebook shows it on GitHub and in nbconvert too. It never prints.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from langgraph_sdk.client import LangGraphClient

from ._compare_script import Arrival, Played, parse_script, play
from ._playground_setup import server_strategies
from ._read import fetch_events, fetch_runs
from ._timeline import TimelineSVG, build
from .frames import messages_frame_for, runs_to_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Comparison", "compare"]

StrategySpec = str | Mapping[str, Any]


class Comparison:
    """What `compare` found: `.outcomes`, `.runs`, `.messages`, `.timelines`, `.threads`.

    - `outcomes`: one row per arrival, one column per strategy: what became of it
      ("success", "interrupted", "merged into arrival 0: success", "rejected (409)").
    - `runs`: the runs frame (`runs_frame`'s columns) of every thread, with `strategy`
      (the column label) and `arrival` (the arrival that made the run) in front.
    - `messages`: the final messages of each thread, a (type, message) column pair
      per strategy.
    - `timelines`: a `TimelineSVG`, one lane per strategy on one clock.
    - `threads`: {label: thread_id}.
    """

    def __init__(
        self,
        played: list[Played],
        n_arrivals: int,
        runs: pd.DataFrame,
        messages: pd.DataFrame,
        timelines: TimelineSVG,
    ) -> None:
        self.played = played
        self.threads = {p.label: p.thread_id for p in played}
        self.n_arrivals = n_arrivals
        self.runs, self.messages, self.timelines = runs, messages, timelines
        self.outcomes = _outcomes(played, runs, n_arrivals)

    def __repr__(self) -> str:
        labels = ", ".join(self.threads)
        return f"<nbruns comparison of {self.n_arrivals} arrivals under {labels}>"

    def _repr_html_(self) -> str:
        shown = ["strategy", "arrival", "run_id", "status", "cancel_source"]
        shown += ["superseded_by", "merged_into"]  # short ids; nothing shown for none
        runs = self.runs[shown].copy()
        for column in ("run_id", "superseded_by", "merged_into"):
            runs[column] = runs[column].map(lambda v: v[:8] if isinstance(v, str) else "")
        head = html.escape(repr(self))
        return (
            f'<div class="nbruns-compare"><p><b>{head}</b></p>'
            f"{self.outcomes.to_html()}"
            f'<div style="overflow-x:auto">{self.timelines.svg}</div>'
            f"<p>final messages</p>{self.messages.to_html(na_rep='')}"
            f"<p>runs</p>{runs.to_html(index=False, na_rep='')}</div>"
        )


def _outcome(run: Mapping[str, Any], arrival_of: Mapping[str, int]) -> str:
    status = str(run.get("status"))
    carrier = run.get("merged_into")
    if isinstance(carrier, str) and carrier:
        into = arrival_of.get(carrier)
        where = f"arrival {into}" if into is not None else f"run {carrier[:8]}"
        return f"merged into {where}: {status}"
    source = run.get("cancel_source")
    if status in ("interrupted", "timeout") and isinstance(source, str) and source:
        return f"{status} ({source})"
    return status.replace("_", " ")


def _outcomes(played: list[Played], runs: pd.DataFrame, n: int) -> pd.DataFrame:
    import pandas as pd

    by_id = {str(r["run_id"]): r for r in runs.to_dict("records")}
    columns: dict[str, list[str]] = {}
    for p in played:
        arrival_of = {s.run["run_id"]: s.arrival for s in p.sent if s.run is not None}
        cells = ["not sent"] * n
        for sent in p.sent:
            if sent.run is None:
                status = (sent.refused or "?").split(":", 1)[0]
                cells[sent.arrival] = f"rejected ({status})"
                continue
            found = by_id.get(sent.run["run_id"])
            cells[sent.arrival] = "deleted" if found is None else _outcome(found, arrival_of)
        columns[p.label] = cells
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="arrival"))


def _label(spec: StrategySpec) -> tuple[str, str, dict[str, Any]]:
    """(label, strategy, policy options) of one `strategies` item."""
    if isinstance(spec, str):
        return spec, spec, {}
    as_json = getattr(spec, "as_json", None)  # an nbruns.Policy
    options = dict(as_json() if callable(as_json) else spec)
    strategy = options.pop("strategy", None)
    label = options.pop("label", None)
    if not isinstance(strategy, str):
        raise ValueError(
            f"a strategies item that is a dict needs 'strategy' (a name), got {dict(spec)!r}"
        )
    if label is None:
        label = " ".join([strategy, *(f"{k}={v}" for k, v in options.items())])
    return str(label), strategy, options


def _specs(
    strategies: Sequence[StrategySpec], offered: Sequence[str]
) -> list[tuple[str, str, dict[str, Any]]]:
    if isinstance(strategies, str | Mapping):
        strategies = [strategies]
    if not strategies:
        raise ValueError(f"strategies is empty; the server offers {', '.join(offered)}")
    specs = [_label(s) for s in strategies]
    for label, strategy, _ in specs:
        if strategy not in offered:
            raise ValueError(
                f"unknown strategy {strategy!r}; this server offers {', '.join(offered)}"
            )
        if [s[0] for s in specs].count(label) > 1:
            raise ValueError(f"strategy {label!r} is listed twice; give each a different label")
    return specs


def _transcript(frame: pd.DataFrame) -> pd.DataFrame:
    """(type, message) per message: tool calls as calls, tool results by tool name."""
    import pandas as pd

    rows = []
    for m in frame.itertuples():
        if m.tool_calls:
            text = "calls " + ", ".join(m.tool_calls)
        elif m.type == "tool":
            text = f"result of {m.name}"
        else:
            text = str(m.content)
        rows.append({"type": m.type, "message": text})
    return pd.DataFrame(rows, columns=["type", "message"], dtype=object)


async def compare(
    client: LangGraphClient,
    arrivals: Sequence[Mapping[str, Any] | str],
    *,
    strategies: Sequence[StrategySpec] | None = None,
    graph: str = "agent",
    policy: Mapping[str, Any] | None = None,
    step_timeout: float = 30.0,
    width: int = 720,
) -> Comparison:
    """Play one arrival script under each strategy, on a fresh thread each; compare them.

    `client`: an async SDK client (`nbruns.get_client()`, or `get_client(url=...)` of
    any LangGraph server: there, step arrivals need nbruns and raise `HoldsUnsupported`).
    `arrivals`: a list of dicts, each with `input` (a string is one human message,
    a dict is the graph's input) and at most one of `at` (seconds after the first
    arrival), `at_step` ("before:<node>" / "after:<node>": a step boundary of the
    run in flight, made exact with a hold; nbruns only), `before` / `after` (a
    node name); with none, right after the one before. Every arrival is sent with
    the strategy under test. `strategies`: names, or dicts / `nbruns.Policy`
    objects with `strategy`, policy options (`quiet_s`, `max_pending`, ...; they
    become the thread's `metadata={"multitask": ...}`) and an optional `label`;
    default: every strategy the server offers. `graph`: the graph (or assistant)
    id. `policy`: options for every thread. `step_timeout`: how long a step
    arrival waits for its boundary. Returns once every run it started has ended.

    Bad scripts raise ValueError naming the arrival, what is wrong and what is
    allowed; a request the server refuses other than with a 409 (the strategy's
    own answer, kept as "rejected") raises RuntimeError with its detail.
    """
    script: list[Arrival] = parse_script(arrivals)
    offered = await server_strategies(client)
    specs = _specs(offered if strategies is None else strategies, offered)
    played: list[Played] = []
    for label, strategy, options in specs:  # in order, so the lanes read top to bottom
        metadata: dict[str, Any] = {"name": label}
        if policy or options:
            metadata["multitask"] = {**(policy or {}), **options}
        thread = await client.threads.create(metadata=metadata)
        played.append(Played(label, strategy, thread["thread_id"]))
    jobs = [play(client, p, script, graph=graph, step_timeout=step_timeout) for p in played]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise failed[0]
    return await _read_back(client, played, len(script), width)


async def _read_back(
    client: LangGraphClient, played: list[Played], n: int, width: int
) -> Comparison:
    import pandas as pd

    ids = [p.thread_id for p in played]
    runs = await fetch_runs(client, ids)
    events = await fetch_events(client, ids, runs=runs)
    carriers = {e["run_id"]: e.get("into") for e in events if e.get("kind") == "merged"}
    for run in runs:  # a server that records merges only as events says the same thing
        if not run.get("merged_into") and carriers.get(run["run_id"]):
            run["merged_into"] = carriers[run["run_id"]]
    labels = {p.thread_id: p.label for p in played}
    picture = build(runs, events, now=datetime.now(UTC), width=width, thread_ids=ids, labels=labels)
    frame = runs_to_frame(runs)
    arrival_of = {s.run["run_id"]: s.arrival for p in played for s in p.sent if s.run}
    frame.insert(0, "arrival", frame["run_id"].map(arrival_of).astype("Int64"))
    frame.insert(0, "strategy", frame["thread_id"].map(labels))
    order = {p.label: i for i, p in enumerate(played)}
    frame = frame.sort_values("strategy", key=lambda s: s.map(order), kind="stable")
    transcripts = {
        p.label: _transcript(await messages_frame_for(client, p.thread_id)) for p in played
    }
    messages = pd.concat(transcripts, axis=1).astype(object).where(lambda f: f.notna(), "")
    return Comparison(played, n, frame.reset_index(drop=True), messages, picture)
