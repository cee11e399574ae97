"""Assistants: the system one each graph gets, and the ones clients create."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .._core._errors import Conflict, InvalidInput, NotFound
from .._core._records import AssistantRecord
from .._core._store import MemoryStore
from ._graphs import GraphRegistry
from ._runspec import assistant_id_for_graph, is_uuid

__all__ = ["Assistants"]


class Assistants:
    """Assistant operations over a store and the registered graphs."""

    def __init__(
        self, store: MemoryStore, graphs: GraphRegistry, *, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.graphs = graphs
        self.clock = clock

    def put_system(self, graph_id: str) -> None:
        """The assistant every served graph has, with an id derived from the graph id."""
        now = self.clock()
        self.store.put_assistant(
            AssistantRecord(
                assistant_id=assistant_id_for_graph(graph_id),
                graph_id=graph_id,
                created_at=now,
                updated_at=now,
                metadata={"created_by": "system"},
                name=graph_id,
            )
        )

    def resolve(self, assistant_id: str) -> AssistantRecord:
        """The assistant an id names; a graph id names its system assistant."""
        if assistant_id in self.graphs and assistant_id not in self.store.assistants:
            graph_id, assistant_id = assistant_id, assistant_id_for_graph(assistant_id)
            if assistant_id not in self.store.assistants:
                # its system assistant was deleted: a graph id must keep working
                self.put_system(graph_id)
        return self.store.get_assistant(assistant_id)

    def for_run(self, assistant_id: str) -> AssistantRecord:
        """The assistant a run names, or the error the reference answers for it."""
        try:
            return self.resolve(assistant_id)
        except NotFound:
            if not is_uuid(assistant_id):
                graphs = ", ".join(repr(g) for g in self.graphs.ids())
                raise InvalidInput(
                    f"Invalid assistant: {assistant_id!r}. Must be either an assistant UUID "
                    f"or one of the registered graph ids: {graphs}"
                ) from None
            raise NotFound("Thread or assistant not found.") from None

    def create(
        self,
        graph_id: str,
        *,
        assistant_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        if_exists: str = "raise",
        name: str | None = None,
        description: str | None = None,
    ) -> AssistantRecord:
        self.graphs.get(graph_id)
        assistant_id = assistant_id or str(uuid.uuid4())
        existing = self.store.assistants.get(assistant_id)
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise Conflict(f"Assistant {assistant_id} already exists.")
        now = self.clock()
        return self.store.put_assistant(
            AssistantRecord(
                assistant_id=assistant_id,
                graph_id=graph_id,
                created_at=now,
                updated_at=now,
                config=dict(config or {}),
                context=dict(context or {}),
                metadata=dict(metadata or {}),
                name=name or graph_id,
                description=description,
            )
        )

    def update(self, assistant_id: str, **changes: Any) -> AssistantRecord:
        current = self.resolve(assistant_id)
        if "graph_id" in changes and changes["graph_id"] is not None:
            self.graphs.get(changes["graph_id"])
        fields = {k: v for k, v in changes.items() if v is not None}
        if "metadata" in fields:
            fields["metadata"] = {**current.metadata, **fields["metadata"]}
        updated = replace(current, **fields, updated_at=self.clock(), version=current.version + 1)
        return self.store.put_assistant(updated)
