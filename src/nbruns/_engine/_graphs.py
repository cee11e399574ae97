"""Graphs nbruns can run, each bound to the server's checkpointer and store."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel
from langgraph.store.base import BaseStore

from .._core._errors import NotFound
from ._factories import GraphFactory

__all__ = ["GraphRegistry", "as_pregel"]


def as_pregel(graph_id: str, graph: Any) -> Pregel[Any, Any, Any, Any] | Callable[..., Any]:
    """Accept what a notebook builds: a compiled graph, an entrypoint, or a StateGraph;
    or, as LangGraph's server does, a graph factory (a function that makes the graph)."""
    if isinstance(graph, StateGraph):
        graph = graph.compile()
    if isinstance(graph, Pregel):
        return graph
    if not callable(graph):
        raise TypeError(
            f"graph {graph_id!r} is a {type(graph).__name__}; expected a compiled LangGraph "
            "graph (StateGraph(...).compile()), a StateGraph, an @entrypoint function, "
            "or a graph factory (a function taking the run's config that returns one)"
        )
    factory: Callable[..., Any] = graph
    return factory


class GraphRegistry:
    """graph id -> graph with nbruns's checkpointer attached (the user's one is replaced),
    and the server's store unless the graph was compiled with its own (kept in process;
    LangGraph's server refuses such a graph at start-up)."""

    def __init__(self, saver: BaseCheckpointSaver[Any], kvstore: BaseStore | None = None) -> None:
        self.saver = saver
        self.kvstore = kvstore
        self._graphs: dict[str, Pregel[Any, Any, Any, Any] | GraphFactory] = {}
        # graph id -> description for its system assistant (langgraph.json's graphs)
        self.descriptions: dict[str, str] = {}

    def register(self, graphs: Mapping[str, Any]) -> list[str]:
        """Add or replace graphs; return the ids that are new."""
        prepared = {gid: as_pregel(gid, g) for gid, g in graphs.items()}
        added = [gid for gid in prepared if gid not in self._graphs]
        for gid, graph in prepared.items():
            if isinstance(graph, Pregel):
                update: dict[str, Any] = {"checkpointer": self.saver}
                if graph.store is None:
                    update["store"] = self.kvstore
                self._graphs[gid] = graph.copy(update=update)
            else:  # made per use, each time with the checkpointer and store
                self._graphs[gid] = GraphFactory(gid, graph, self.saver, self.kvstore)
        return added

    def get(self, graph_id: str) -> Pregel[Any, Any, Any, Any] | GraphFactory:
        try:
            return self._graphs[graph_id]
        except KeyError:
            known = ", ".join(sorted(self._graphs)) or "none"
            raise NotFound(f"Graph {graph_id!r} not found. Registered graphs: {known}.") from None

    def __contains__(self, graph_id: object) -> bool:
        return graph_id in self._graphs

    def ids(self) -> list[str]:
        return sorted(self._graphs)

    def node_names(self) -> dict[str, list[str]]:
        """Each graph's nodes (not LangGraph's `__start__`); a factory that cannot be
        built here is left out."""
        names: dict[str, list[str]] = {}
        for gid, graph in self._graphs.items():
            try:
                nodes = list(graph.nodes)
            except Exception:  # a factory that needs what only a run has
                continue
            names[gid] = [n for n in nodes if not n.startswith("__")]
        return names

    def description(self, graph_id: str) -> str | None:
        return self.descriptions.get(graph_id)
