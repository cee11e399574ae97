"""Runs and timeline events on one clock, ready to draw (the timeline picture's model).

Times become seconds since the first moment in the data. Rolled-back runs
come as run dicts with status `rolled_back` (nbruns lists them) or are rebuilt
from their `created`, `started` and `rolled_back` events; either way each is
one bar. A run merged into another (steer, collect, debounce: its `merged_into`,
or a `merged` event) never ran on its own: it is kept as an arrival that points
into its carrier, not as a bar. Nothing else is made up: a run whose start is
unknown (servers without nbruns' fields) is drawn from created_at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._read import parse_time

__all__ = ["Bar", "Hold", "TimelineData", "Wait", "error_summary"]


@dataclass
class Hold:
    """A stop of a run at a step boundary: from `at` until `released` (None: still held)."""

    at: float
    hold_id: str
    after: list[str]
    before: list[str]
    released: float | None = None

    def describe(self) -> str:
        """'held before tools (hold 1a2b3c4d)' or 'held after agent (...)'."""
        where = (
            f"before {', '.join(self.before)}"
            if self.before
            else f"after {', '.join(self.after)}"
            if self.after
            else "at a step boundary"
        )
        return f"held {where} (hold {self.hold_id[:8]})"


@dataclass
class Wait:
    """A debounce wait: from `at`, quiet until `until`, never later than `deadline`."""

    at: float
    until: float | None
    deadline: float | None


@dataclass
class Bar:
    """One run as drawn: times in seconds since the picture's first moment."""

    run_id: str
    thread_id: str
    status: str
    strategy: str | None = None
    created: float = 0.0
    started: float | None = None
    ended: float | None = None  # None while it is still going (or never said)
    superseded_by: str | None = None
    action: str | None = None
    reason: str | None = None
    start_known: bool = False  # True when "no start" means it never started
    steps: list[tuple[float, list[str]]] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    held_now: Hold | None = None  # the run's `held` field: held at this moment
    error: str | None = None  # "ValueError: node exploded"
    error_type: str | None = None
    end: float = 0.0  # `ended`, or "now" for a run still going
    row: int = 0  # its row within its thread's lane
    cancel_source: str | None = None  # replaced, dropped, pending_ttl, run_timeout, ...
    merged_into: str | None = None  # its carrier: it is drawn as an arrival, not a bar
    merged_at: float | None = None  # when its input went into the carrier
    merge_how: str | None = None  # steer, collect or debounce
    waits: list[Wait] = field(default_factory=list)  # debounce waits for quiet
    restored: list[tuple[float, str | None]] = field(default_factory=list)  # (at, checkpoint)
    carries: list[str] = field(default_factory=list)  # the runs merged into it

    @property
    def begin(self) -> float:
        """Where the solid bar begins: when it started, else when it was created."""
        return self.started if self.started is not None else self.created

    @property
    def merged(self) -> bool:
        return self.merged_into is not None

    @property
    def reach(self) -> float:
        """The right-most time drawn for it (its bar's end, or a later mark)."""
        marks = [self.merged_at or 0.0, *(t for t, _ in self.restored)]
        marks += [w.until or w.at for w in self.waits]
        return max([self.end, *marks])

    @property
    def never_started(self) -> bool:
        return self.started is None and (self.start_known or self.status == "pending")


def error_summary(error: Any) -> tuple[str | None, str | None]:
    """(type, "Type: first line of the message") of a run's `error` field, or (None, None).

    Without a message, the traceback's last line says what went wrong.
    """
    if not isinstance(error, Mapping):
        return None, None
    kind = str(error.get("error") or "") or None
    message = str(error.get("message") or "").strip()
    if not message:
        lines = [s for s in str(error.get("traceback") or "").splitlines() if s.strip()]
        message = lines[-1].strip() if lines else ""
    message = message.splitlines()[0] if message else ""
    if kind and message.startswith(f"{kind}:"):  # the traceback's line names it already
        message = message[len(kind) + 1 :].strip()
    if len(message) > 200:
        message = message[:199] + "…"
    text = ": ".join(p for p in (kind, message) if p)
    return kind, text or None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _names(value: Any) -> list[str]:
    return [str(n) for n in value] if isinstance(value, list | tuple) else []


class TimelineData:
    """`runs` (wire dicts by run id, plus rebuilt rolled-back ones), rejections, threads."""

    def __init__(
        self,
        runs: Sequence[Mapping[str, Any]],
        events: Sequence[Mapping[str, Any]],
        now: datetime | None,
    ) -> None:
        keys = ("created_at", "started_at", "ended_at")
        moments = [parse_time(r.get(k)) for r in runs for k in keys]
        moments += [parse_time(e.get("at")) for e in events]
        known = [m for m in moments if m is not None]
        self.t0 = min(known) if known else datetime(1970, 1, 1, tzinfo=UTC)
        self._seconds: dict[str, float | None] = {}
        self.runs: dict[str, Bar] = {}
        self.rejected: list[tuple[str, float, str | None]] = []  # (thread, at, strategy)
        for run in runs:
            self._add_run(run)
        for e in sorted(events, key=lambda e: (self.t(e.get("at")) or 0.0, e.get("seq") or 0)):
            self._apply(e)
        latest = max((self.t(m) or 0.0 for m in known), default=0.0)
        self.now = max(latest, self.t(now) or 0.0) if now is not None else latest
        for bar in self.runs.values():
            bar.end = bar.ended if bar.ended is not None else max(self.now, bar.begin)
            if bar.merged:  # it never ran: it ends where its input went into the carrier
                carrier = self.runs.get(bar.merged_into or "")
                if bar.merged_at is None and carrier is not None:
                    bar.merged_at = carrier.started
                bar.merged_at = max(bar.created, bar.merged_at or bar.created)
                bar.started, bar.end = None, bar.merged_at
                if carrier is not None:
                    carrier.carries.append(bar.run_id)

    def t(self, value: Any) -> float | None:
        """Seconds since the picture's first moment (None for no time)."""
        if isinstance(value, str) and value in self._seconds:
            return self._seconds[value]  # the same stamps come back often: parse each once
        moment = parse_time(value)
        seconds = None if moment is None else (moment - self.t0).total_seconds()
        if isinstance(value, str):
            self._seconds[value] = seconds
        return seconds

    def _add_run(self, run: Mapping[str, Any]) -> None:
        created, started = self.t(run.get("created_at")), self.t(run.get("started_at"))
        bar = self.runs[run["run_id"]] = Bar(
            run["run_id"],
            str(run.get("thread_id")),
            str(run.get("status")),
            run.get("multitask_strategy"),
            created if created is not None else started or 0.0,
            started,
            self.t(run.get("ended_at")),
            run.get("superseded_by"),
            reason=run.get("cancel_reason"),
            start_known="started_at" in run,
            cancel_source=run.get("cancel_source"),
            merged_into=run.get("merged_into") or None,
        )
        bar.error_type, bar.error = error_summary(run.get("error"))
        held = run.get("held")
        if isinstance(held, Mapping):
            bar.held_now = Hold(
                self.t(held.get("since")) or 0.0,
                str(held.get("hold_id") or ""),
                _names(held.get("after")),
                _names(held.get("before")),
            )

    def _apply(self, e: Mapping[str, Any]) -> None:
        kind, run_id, at = e.get("kind"), e.get("run_id"), self.t(e.get("at")) or 0.0
        if kind == "rejected":
            self.rejected.append((str(e.get("thread_id")), at, e.get("strategy")))
            return
        bar = self.runs.get(run_id) if run_id is not None else None
        if bar is None and kind == "created" and run_id is not None:
            # not among the runs: drawn only if the timeline says it was rolled back
            bar = self.runs[run_id] = Bar(
                run_id, str(e.get("thread_id")), "unknown", created=at, start_known=True
            )
        if bar is None:
            return
        if kind == "created":
            bar.strategy = bar.strategy or e.get("strategy")
        elif kind == "started" and bar.started is None:
            bar.started = at
        elif kind == "step":
            bar.steps.append((at, _names(e.get("nodes"))))
        elif kind in ("superseded", "cancelled"):
            bar.superseded_by = bar.superseded_by or e.get("by")
            bar.action, bar.reason = e.get("action"), bar.reason or e.get("reason")
        elif kind == "finished" and bar.ended is None:
            bar.ended = at
        elif kind == "rolled_back":
            bar.status = "rolled_back"
            bar.ended = bar.ended if bar.ended is not None else at
        elif kind == "held":
            hold_id = str(e.get("hold_id") or "")
            after, before = _names(e.get("after")), _names(e.get("before"))
            bar.holds.append(Hold(at, hold_id, after, before))
        elif kind == "merged":
            bar.merged_into = bar.merged_into or _text(e.get("into"))
            bar.merged_at, bar.merge_how = at, _text(e.get("how"))
        elif kind == "debounce_wait":
            bar.waits.append(Wait(at, self.t(e.get("until")), self.t(e.get("deadline"))))
        elif kind == "replaced":
            bar.superseded_by = bar.superseded_by or _text(e.get("by"))
            bar.action, bar.cancel_source = "replaced", bar.cancel_source or "replaced"
        elif kind == "dropped":
            bar.action, bar.cancel_source = "dropped", bar.cancel_source or "dropped"
            bar.reason = bar.reason or _text(e.get("reason"))
        elif kind == "restored":
            bar.restored.append((at, _text(e.get("checkpoint_id"))))
        elif kind == "released":
            for hold in reversed(bar.holds):
                if hold.released is None and hold.hold_id == str(e.get("hold_id") or ""):
                    hold.released = at
                    break

    def bars(self) -> list[Bar]:
        """The runs to draw, by creation time."""
        drawn = [b for b in self.runs.values() if b.status != "unknown"]
        return sorted(drawn, key=lambda b: (b.created, b.run_id))

    def threads(self) -> list[str]:
        """Thread ids in order of their first run or rejection."""
        first: dict[str, float] = {}
        for bar in self.bars():
            first.setdefault(bar.thread_id, bar.created)
        for thread_id, at, _ in self.rejected:
            first[thread_id] = min(first.get(thread_id, at), at)
        return sorted(first, key=lambda t: (first[t], t))
