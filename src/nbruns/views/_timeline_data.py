"""Runs and timeline events on one clock, ready to draw (the timeline picture's model).

Times become seconds since the first moment in the data. Runs the API no
longer has (rolled back) are rebuilt from their `created`, `started` and
`rolled_back` events; nothing else is made up: a run whose start is unknown
(servers without nbruns' fields) is drawn from created_at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ._read import parse_time

__all__ = ["Bar", "TimelineData"]


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
    steps: list[tuple[float, str]] = field(default_factory=list)
    end: float = 0.0  # `ended`, or "now" for a run still going
    row: int = 0  # its row within its thread's lane

    @property
    def begin(self) -> float:
        """Where the solid bar begins: when it started, else when it was created."""
        return self.started if self.started is not None else self.created

    @property
    def never_started(self) -> bool:
        return self.started is None and (self.start_known or self.status == "pending")


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
        self.runs: dict[str, Bar] = {}
        self.rejected: list[tuple[str, float, str | None]] = []  # (thread, at, strategy)
        for run in runs:
            created, started = self.t(run.get("created_at")), self.t(run.get("started_at"))
            self.runs[run["run_id"]] = Bar(
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
            )
        for e in sorted(events, key=lambda e: (self.t(e.get("at")) or 0.0, e.get("seq") or 0)):
            self._apply(e)
        latest = max((self.t(m) or 0.0 for m in known), default=0.0)
        self.now = max(latest, self.t(now) or 0.0) if now is not None else latest
        for bar in self.runs.values():
            bar.end = bar.ended if bar.ended is not None else max(self.now, bar.begin)

    def t(self, value: Any) -> float | None:
        moment = parse_time(value)
        return None if moment is None else (moment - self.t0).total_seconds()

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
            bar.steps.append((at, ", ".join(map(str, e.get("nodes") or ()))))
        elif kind in ("superseded", "cancelled"):
            bar.superseded_by = bar.superseded_by or e.get("by")
            bar.action, bar.reason = e.get("action"), bar.reason or e.get("reason")
        elif kind == "finished" and bar.ended is None:
            bar.ended = at
        elif kind == "rolled_back":
            bar.status, bar.ended = "rolled_back", at

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
