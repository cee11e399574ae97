"""Assistants: the system one each graph gets, and the ones clients create."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .._core._errors import BadRequest, Conflict, InvalidInput, NotFound
from .._core._policy import policy_of
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
        self._save(
            AssistantRecord(
                assistant_id=assistant_id_for_graph(graph_id),
                graph_id=graph_id,
                created_at=now,
                updated_at=now,
                metadata={"created_by": "system"},
                name=graph_id,
                description=self.graphs.description(graph_id),  # langgraph.json's, if any
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
        """Version 1 of a new assistant (or the existing one, with `if_exists="do_nothing"`)."""
        self.graphs.get(graph_id)
        if assistant_id is not None and not is_uuid(assistant_id):
            # a graph id ("agent") as an assistant id would take the graph's name over
            raise InvalidInput(f"Invalid assistant ID: must be a UUID (got {assistant_id!r:.60})")
        policy_of(metadata, where="assistant")  # a bad metadata["multitask"]: 422
        config, context = _in_step(config or {}, context)
        assistant_id = assistant_id or str(uuid.uuid4())
        existing = self.store.assistants.get(assistant_id)
        if existing is not None:
            if if_exists == "do_nothing":
                return existing
            raise Conflict(f"Assistant {assistant_id} already exists.")
        now = self.clock()
        return self._save(
            AssistantRecord(
                assistant_id=assistant_id,
                graph_id=graph_id,
                created_at=now,
                updated_at=now,
                config=config,
                context=context or {},
                metadata=dict(metadata or {}),
                name=name or "Untitled",  # the reference's default name
                description=description,
            )
        )

    def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
    ) -> AssistantRecord:
        """A new version from the latest one with `changes`; it becomes the one runs use."""
        current = self.resolve(assistant_id)
        if graph_id is not None:
            self.graphs.get(graph_id)
        policy_of(metadata, where="assistant")  # a bad metadata["multitask"]: 422
        config, context = _in_step(config or {}, context)
        version = self.store.latest_assistant_version(current.assistant_id) + 1
        return self._save(
            replace(
                current,
                graph_id=graph_id if graph_id is not None else current.graph_id,
                config=config or current.config,
                context=context if context is not None else current.context,
                metadata={**current.metadata, **(metadata or {})},
                name=name if name is not None else current.name,
                description=description if description is not None else current.description,
                updated_at=self.clock(),
                version=version,
            )
        )

    def versions(
        self,
        assistant_id: str,
        *,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[AssistantRecord]:
        """The assistant's versions, newest first."""
        current = self.resolve(assistant_id)
        return self.store.search_assistant_versions(
            current.assistant_id, metadata=metadata, limit=limit, offset=offset
        )

    def set_latest(self, assistant_id: str, version: int) -> AssistantRecord:
        """Make an earlier (or later) version the one runs use; no new version is made."""
        current = self.resolve(assistant_id)
        chosen = self.store.get_assistant_version(current.assistant_id, version)
        # all of that version, graph and context included (the reference keeps the
        # current graph_id and context, so runs would mix two versions)
        return self.store.put_assistant(
            replace(chosen, created_at=current.created_at, updated_at=self.clock())
        )

    def _save(self, record: AssistantRecord) -> AssistantRecord:
        self.store.put_assistant_version(record)
        return self.store.put_assistant(record)


def _in_step(
    config: Mapping[str, Any], context: Mapping[str, Any] | None
) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
    """The context a config's `configurable` gives, as the reference derives it.

    Unlike the reference, a context is not copied into `config["configurable"]`:
    the config reaches every run's checkpoints, where integers wider than 64 bits
    (which a context may hold) cannot go.
    """
    config = dict(config)
    configurable = config.get("configurable")
    if configurable and context:
        raise BadRequest(
            "Cannot specify both configurable and context. Prefer setting context alone: "
            "context (LangGraph 0.6 and later) replaces config['configurable']."
        )
    if configurable:
        return config, dict(configurable)
    return config, context
