"""Holds: keeping a run at a step boundary until someone lets it go on (pure part).

A hold names a thread and a boundary (`before` a node, or `after` one; `"*"` is any
node). A run on that thread that reaches a matching boundary waits there, reading
`running`, with the steps it finished checkpointed, until the hold is released or
deleted. The Playground's "hold the next run" and `nbruns.testing.pause` are both
holds. This module decides what a request means and which boundary a hold matches;
the engine (`_engine/_holds.py`) does the waiting.

A run's boundaries, for a graph with steps s1, s2, ... sN:

    start  (after: ()      before: s1's nodes)   its input is checkpointed
    ...    (after: sK's    before: sK+1's)
    end    (after: sN's    before: ())           it is about to end
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._errors import InvalidInput

__all__ = ["ANY_NODE", "Boundary", "HoldRule", "check_hold", "matches"]

ANY_NODE = "*"


@dataclass(frozen=True, slots=True)
class Boundary:
    """Where a run is between two of its steps."""

    after: tuple[str, ...]  # the nodes of the step it just finished (empty at its start)
    before: tuple[str, ...]  # the nodes of its next step (empty at its end)


@dataclass(frozen=True, slots=True)
class HoldRule:
    """What a hold catches. Exactly one of `before` and `after` is set."""

    hold_id: str
    thread_id: str
    before: str | None
    after: str | None
    times: int | None  # None: until deleted; else disarmed after that many hits
    new_runs_only: bool  # only runs created after the hold
    created_seq: int  # the store's sequence number when it was made
    created_at: float


def matches(
    rule: HoldRule, boundary: Boundary, run_created_seq: int, *, named_only: bool = False
) -> bool:
    """Whether a run created at `run_created_seq`, at `boundary`, is caught by `rule`.

    `named_only`: only a rule naming the last of `boundary.before`'s nodes (another
    node of a step whose boundary was already checked: `"*"` and `after` rules, and
    rules naming the step's other nodes, had their turn).
    """
    if rule.new_runs_only and run_created_seq < rule.created_seq:
        return False
    if named_only:
        return bool(boundary.before) and rule.before == boundary.before[-1]
    nodes, name = (
        (boundary.before, rule.before) if rule.before is not None else (boundary.after, rule.after)
    )
    return bool(nodes) and (name == ANY_NODE or name in nodes)


def check_hold(
    before: str | None,
    after: str | None,
    times: int | None,
    nodes_by_graph: Mapping[str, Sequence[str]],
) -> tuple[str | None, str | None]:
    """The (before, after) a request means, or `InvalidInput` naming what is wrong.

    Neither given means before any node (the run's next boundary: for a run not yet
    started, before its first step). A node must be one some graph has.
    """
    if before is not None and after is not None:
        raise InvalidInput(
            "Invalid hold: give either 'before' or 'after' (a node name, or '*' for any "
            "node), not both"
        )
    if before is None and after is None:
        before = ANY_NODE
    if times is not None and times < 1:
        raise InvalidInput(f"Invalid hold: 'times' must be 1 or more, or null; got {times}")
    node = before if before is not None else after
    if node != ANY_NODE and not any(node in nodes for nodes in nodes_by_graph.values()):
        where = "; ".join(
            f"{graph}: {', '.join(nodes) or '(none)'}" for graph, nodes in nodes_by_graph.items()
        )
        key = "before" if before is not None else "after"
        raise InvalidInput(
            f"Invalid hold: no graph has a node {node!r} ('{key}'); the graphs' nodes are "
            f"{where or '(no graphs)'}; or use '*' for any node"
        )
    return before, after
