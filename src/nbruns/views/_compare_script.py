"""An arrival script for `compare`: checked once, then played on one thread per strategy.

An arrival is a dict: `input` (a string is one human message; a dict is the graph's
input as is) and at most one of when it arrives:

- `at`: seconds after the first arrival (the script's clock);
- `at_step`: "before:<node>" or "after:<node>" (a step boundary of the run in flight);
- `before` / `after`: a node name, the same as `at_step` "before:<node>" / "after:<node>".

With none, it arrives right after the one before. A step-boundary arrival is made
deterministic with a hold (`_holds`): armed before the previous arrival is sent, it
stops the run in flight at that boundary; the arrival is sent while the run waits
there, and then the hold is deleted, which lets the run go on.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from ._holds import create_hold, delete_hold, wait_held

__all__ = ["Arrival", "Played", "Sent", "parse_script", "play"]

_WHEN = ("at", "at_step", "before", "after")
_KEYS = ("input", *_WHEN)


@dataclass(frozen=True)
class Arrival:
    """One checked arrival: its input, and when (`at` seconds, or a step boundary)."""

    index: int
    input: dict[str, Any]
    at: float | None = None
    before: str | None = None  # a node name, "*" for any
    after: str | None = None

    @property
    def at_boundary(self) -> bool:
        return self.before is not None or self.after is not None

    def boundary(self) -> str:
        return f"before:{self.before}" if self.before is not None else f"after:{self.after}"


@dataclass
class Sent:
    """What happened to one arrival on one thread: its run, or the refusal."""

    arrival: int
    run: dict[str, Any] | None = None
    refused: str | None = None  # "409: Thread is already running a task. ..."


@dataclass
class Played:
    """One strategy's play of the script: its thread and each arrival's fate."""

    label: str
    strategy: str
    thread_id: str
    sent: list[Sent] = field(default_factory=list)


def _problem(index: int, what: str) -> ValueError:
    return ValueError(f"arrival {index}: {what}")


def _boundary(index: int, value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, str) and ":" in value:
        side, node = value.split(":", 1)
        if side in ("before", "after") and node:
            return (node, None) if side == "before" else (None, node)
    raise _problem(
        index, f"at_step must read 'before:<node>' or 'after:<node>' ('*': any node), got {value!r}"
    )


def _input(index: int, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"messages": [{"role": "human", "content": value}]}
    if isinstance(value, Mapping):
        return dict(value)
    raise _problem(index, f"'input' must be a string (one human message) or a dict, got {value!r}")


def parse_script(arrivals: Sequence[Mapping[str, Any] | str]) -> list[Arrival]:
    """Check an arrival script; a ValueError names the arrival, what is wrong, what is allowed."""
    if isinstance(arrivals, str | Mapping) or not isinstance(arrivals, Sequence):
        raise ValueError(
            'arrivals must be a list, like [{"at": 0, "input": "hi"}, {"at_step": '
            f'"after:agent", "input": "no, in nyc"}}], got {type(arrivals).__name__}'
        )
    if not arrivals:
        raise ValueError("arrivals is empty: give at least one arrival")
    script: list[Arrival] = []
    for i, item in enumerate(arrivals):
        item = {"input": item} if isinstance(item, str) else item
        if not isinstance(item, Mapping):
            raise _problem(i, f"expected a dict (or a string), got {item!r}")
        unknown = sorted(set(item) - set(_KEYS))
        if unknown:
            raise _problem(i, f"unknown key {unknown[0]!r}; the keys are {', '.join(_KEYS)}")
        if "input" not in item:
            raise _problem(i, "'input' is missing (a string, or the graph's input dict)")
        when = [k for k in _WHEN if k in item]
        if len(when) > 1:
            raise _problem(i, f"give at most one of {', '.join(_WHEN)}; got {', '.join(when)}")
        at, before, after = None, None, None
        if "at" in item:
            at = item["at"]
            if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
                raise _problem(i, f"'at' must be a number of seconds, got {at!r}")
            if at < 0:
                raise _problem(i, f"'at' must be 0 or more seconds after the first, got {at!r}")
            at = float(at)
        elif "at_step" in item:
            before, after = _boundary(i, item["at_step"])
        elif "before" in item or "after" in item:
            side = "before" if "before" in item else "after"
            before, after = _boundary(i, f"{side}:{item[side]}")
        if i == 0 and (before is not None or after is not None):
            raise _problem(
                0, "the first arrival cannot wait for a step boundary: no run is in flight yet"
            )
        script.append(Arrival(i, _input(i, item["input"]), at, before, after))
    return script


def _refusal(exc: httpx.HTTPStatusError) -> str:
    try:
        detail = exc.response.json().get("detail")
    except Exception:  # not JSON: the status line says enough
        detail = exc.response.reason_phrase
    return f"{exc.response.status_code}: {detail}"


async def _send(client: LangGraphClient, played: Played, graph: str, arrival: Arrival) -> None:
    try:
        run = await client.runs.create(  # type: ignore[call-overload]
            played.thread_id,
            graph,
            input=arrival.input,
            multitask_strategy=played.strategy,  # nbruns's four too: the SDK sends any string
        )
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 409:  # a 409 is the strategy's answer; others are not
            raise RuntimeError(
                f"{played.label}: arrival {arrival.index} was refused with {_refusal(exc)}"
            ) from exc
        played.sent.append(Sent(arrival.index, refused=_refusal(exc)))
        return
    played.sent.append(Sent(arrival.index, run=dict(run)))


async def _arm(client: LangGraphClient, played: Played, arrival: Arrival) -> str:
    """A hold that stops the run in flight where `arrival` is to come (caught once)."""
    try:
        hold = await create_hold(
            client, played.thread_id, before=arrival.before, after=arrival.after, times=1
        )
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 422:
            raise
        raise ValueError(
            f"{played.label}: arrival {arrival.index} waits for {arrival.boundary()!r}, "
            f"which the server refused: {_refusal(exc)}"
        ) from None
    return str(hold["hold_id"])


async def play(
    client: LangGraphClient,
    played: Played,
    script: Sequence[Arrival],
    *,
    graph: str,
    step_timeout: float,
) -> None:
    """Send the script's arrivals on `played.thread_id`; return once every run has ended."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    holds: dict[int, str] = {}  # arrival index -> the hold that waits for its boundary
    try:
        for k, arrival in enumerate(script):
            if arrival.at_boundary:
                try:
                    await wait_held(client, holds[arrival.index], timeout=step_timeout)
                except TimeoutError as exc:
                    raise TimeoutError(
                        f"{played.label}: arrival {arrival.index} waits for the run in flight "
                        f"to reach {arrival.boundary()!r}, and none did within {step_timeout} s "
                        "(did an earlier arrival end it, or does the graph have that node?)"
                    ) from exc
            elif arrival.at is not None:
                await asyncio.sleep(max(0.0, start + arrival.at - loop.time()))
            following = script[k + 1] if k + 1 < len(script) else None
            if following is not None and following.at_boundary:
                holds[following.index] = await _arm(client, played, following)
            await _send(client, played, graph, arrival)
            if arrival.index in holds:  # sent while the run waited: let it go on
                await delete_hold(client, holds.pop(arrival.index))
    finally:
        for hold_id in holds.values():  # never leave a run held
            try:
                await delete_hold(client, hold_id)
            except httpx.HTTPStatusError:
                pass
        await join_all(client, played)  # even after a failure: nothing left running


async def join_all(client: LangGraphClient, played: Played) -> None:
    """Wait until every run the script made on the thread has ended (rolled back: gone)."""
    for sent in played.sent:
        if sent.run is None:
            continue
        try:
            await client.runs.join(played.thread_id, sent.run["run_id"])
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 404:  # 404: a rollback deleted it, so it ended
                raise
