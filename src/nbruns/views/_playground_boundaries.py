"""Where a Playground hold stops a run: the boundary dropdown, parsing `hold=`, the graph's nodes.

A hold (nbruns only, `views/_holds.py`) keeps a thread's next run at a step
boundary until released, so a fast graph can be double-texted on purpose. The
Playground arms one per send (`times=1`, `new_runs_only=True`) and the Release
button deletes every hold it armed, which lets their held runs go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from langgraph_sdk.client import LangGraphClient

__all__ = ["FIRST_STEP", "HoldSpec", "boundary_options", "graph_nodes", "parse_hold"]

FIRST_STEP = "before:*"
HoldSpec = bool | str | None


def parse_hold(spec: HoldSpec) -> tuple[str | None, str | None] | None:
    """(before, after) for a hold spec: True or "*" = before the first step; False/None = none.

    Strings read "before:<node>" or "after:<node>" ("*" for any node).
    """
    if spec is None or spec is False:
        return None
    if spec is True or spec in ("*", "before", FIRST_STEP):
        return "*", None
    if isinstance(spec, str) and ":" in spec:
        side, node = spec.split(":", 1)
        if side == "before" and node:
            return node, None
        if side == "after" and node:
            return None, node
    raise ValueError(f"hold={spec!r}: use True, 'before:<node>' or 'after:<node>'")


def boundary_options(nodes: Iterable[str]) -> list[tuple[str, str]]:
    """The boundary dropdown: before the first step, then before/after each node."""
    options = [("before its first step", FIRST_STEP)]
    for node in nodes:
        options += [(f"before {node}", f"before:{node}"), (f"after {node}", f"after:{node}")]
    return options


async def graph_nodes(client: LangGraphClient, graph: str) -> list[str]:
    """The graph's node names (no `__start__`/`__end__`), or [] if the server cannot say."""
    try:
        drawn = await client.assistants.get_graph(graph)
    except Exception:  # any server, any graph: no nodes means only "before its first step"
        return []
    nodes = drawn.get("nodes", []) if isinstance(drawn, Mapping) else []
    names = [str(n.get("id")) for n in nodes if isinstance(n, Mapping)]
    return [n for n in names if n not in ("__start__", "__end__", "None")]
