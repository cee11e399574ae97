"""Graphs nbruns can run, each bound to the server's checkpointer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from .._core._errors import NotFound

__all__ = ["GraphRegistry", "as_pregel"]


def as_pregel(graph_id: str, graph: Any) -> Pregel[Any, Any, Any, Any]:
    """Accept what a notebook builds: a compiled graph, an entrypoint, or a StateGraph."""
    if isinstance(graph, StateGraph):
        graph = graph.compile()
    if not isinstance(graph, Pregel):
        raise TypeError(
            f"graph {graph_id!r} is a {type(graph).__name__}; expected a compiled LangGraph "
            "graph (StateGraph(...).compile()), a StateGraph, or an @entrypoint function"
        )
    return graph


class GraphRegistry:
    """graph id -> graph with nbruns's checkpointer attached (the user's one is replaced)."""

    def __init__(self, saver: BaseCheckpointSaver[Any]) -> None:
        self.saver = saver
        self._graphs: dict[str, Pregel[Any, Any, Any, Any]] = {}

    def register(self, graphs: Mapping[str, Any]) -> list[str]:
        """Add or replace graphs; return the ids that are new."""
        prepared = {gid: as_pregel(gid, g) for gid, g in graphs.items()}
        added = [gid for gid in prepared if gid not in self._graphs]
        for gid, graph in prepared.items():
            self._graphs[gid] = graph.copy(update={"checkpointer": self.saver})
        return added

    def get(self, graph_id: str) -> Pregel[Any, Any, Any, Any]:
        try:
            return self._graphs[graph_id]
        except KeyError:
            known = ", ".join(sorted(self._graphs)) or "none"
            raise NotFound(f"Graph {graph_id!r} not found. Registered graphs: {known}.") from None

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._graphs

    def ids(self) -> list[str]:
        return sorted(self._graphs)
