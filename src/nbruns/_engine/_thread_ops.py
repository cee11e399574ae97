"""Assistants, threads and their checkpointed state: the executor's non-run half.

`Executor` inherits these; they share its store, graphs, saver and clock. Runs
(scheduling, cancelling, finalizing) stay in `_executor.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from .._core._errors import Conflict, InvalidInput, NotFound
from .._core._records import AssistantRecord, Head, RunRecord, ThreadRecord
from .._core._store import MemoryStore
from . import _serde
from ._graphs import GraphRegistry
from ._runspec import assistant_id_for_graph, thread_config

__all__ = ["ThreadOps"]


class ThreadOps:
    """Assistant and thread operations; needs `_stop_all` from the executor."""

    store: MemoryStore
    graphs: GraphRegistry
    saver: Any
    clock: Callable[[], float]

    async def _stop_all(self, runs: list[RunRecord], action: str, reason: str) -> None:
        raise NotImplementedError

    def _wake_joiners(self, run_id: str, last_values: Any = None) -> None:
        raise NotImplementedError

    # -- assistants ----------------------------------------------------------

    def _put_system_assistant(self, graph_id: str) -> None:
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

    def resolve_assistant(self, assistant_id: str) -> AssistantRecord:
        if assistant_id in self.graphs and assistant_id not in self.store.assistants:
            graph_id, assistant_id = assistant_id, assistant_id_for_graph(assistant_id)
            if assistant_id not in self.store.assistants:
                # its system assistant was deleted: a graph id must keep working
                self._put_system_assistant(graph_id)
        return self.store.get_assistant(assistant_id)

    def create_assistant(
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

    def update_assistant(self, assistant_id: str, **changes: Any) -> AssistantRecord:
        current = self.resolve_assistant(assistant_id)
        if "graph_id" in changes and changes["graph_id"] is not None:
            self.graphs.get(changes["graph_id"])
        fields = {k: v for k, v in changes.items() if v is not None}
        if "metadata" in fields:
            fields["metadata"] = {**current.metadata, **fields["metadata"]}
        updated = replace(current, **fields, updated_at=self.clock(), version=current.version + 1)
        return self.store.put_assistant(updated)

    # -- threads -------------------------------------------------------------

    def create_thread(
        self,
        *,
        thread_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        if_exists: str = "raise",
        graph_id: str | None = None,
        temporary: bool = False,
    ) -> ThreadRecord:
        now = self.clock()
        record = ThreadRecord(
            thread_id=thread_id or str(uuid.uuid4()),
            created_at=now,
            updated_at=now,
            state_updated_at=now,
            metadata={**(metadata or {}), **({"graph_id": graph_id} if graph_id else {})},
            graph_id=graph_id,
            temporary=temporary,
        )
        return self.store.create_thread(record, if_exists=if_exists)

    def update_thread(self, thread_id: str, metadata: Mapping[str, Any]) -> ThreadRecord:
        thread = self.store.get_thread(thread_id)
        return self.store.replace_thread(
            thread_id, metadata={**thread.metadata, **metadata}, updated_at=self.clock()
        )

    async def delete_thread(self, thread_id: str) -> None:
        """Stop the thread's runs (awaited: no orphans keep running), then forget it all."""
        self.store.get_thread(thread_id)
        await self._stop_all(
            self.store.active_runs(thread_id),
            "rollback",
            "thread deleted",
        )
        if thread_id in self.store.threads:
            for run in self.store.delete_thread(thread_id):
                self._wake_joiners(run.run_id)
            await self.saver.adelete_thread(thread_id)

    async def copy_thread(self, thread_id: str) -> ThreadRecord:
        source = self.store.get_thread(thread_id)
        copy = self.create_thread(metadata=source.metadata, graph_id=source.graph_id)
        await self.saver.acopy_thread(thread_id, copy.thread_id)
        return self.store.replace_thread(copy.thread_id, head=source.head)

    def _graph_of(self, thread: ThreadRecord) -> Any:
        return self.graphs.get(thread.graph_id) if thread.graph_id else None

    async def get_state(
        self, thread_id: str, checkpoint_id: str | None = None, *, subgraphs: bool = False
    ) -> Any:
        thread = self.store.get_thread(thread_id)
        graph = self._graph_of(thread)
        if graph is None:
            return None
        config = thread_config(thread_id, checkpoint_id)
        if checkpoint_id is not None and await self.saver.aget_tuple(config) is None:
            raise NotFound(f"Checkpoint {checkpoint_id} not found in thread {thread_id}.")
        return await graph.aget_state(config, subgraphs=subgraphs)

    async def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
    ) -> list[Any]:
        thread = self.store.get_thread(thread_id)
        graph = self._graph_of(thread)
        if graph is None:
            return []
        return [
            s
            async for s in graph.aget_state_history(
                thread_config(thread_id, checkpoint_id),
                limit=limit,
                before=thread_config(thread_id, before) if before else None,
                filter=dict(metadata) if metadata else None,
            )
        ]

    async def update_state(
        self,
        thread_id: str,
        values: Any,
        *,
        as_node: str | None = None,
        checkpoint_id: str | None = None,
    ) -> Mapping[str, Any]:
        thread = self.store.get_thread(thread_id)
        if self.store.active_runs(thread_id):
            raise Conflict(
                f"Thread {thread_id} has in-flight runs; update its state once they finish "
                "(join them) or cancel them."
            )
        graph = self._graph_of(thread)
        if graph is None:
            raise Conflict(
                f"Thread {thread_id} has no graph yet: start a run on it first, so nbruns "
                "knows which graph's state schema to apply the update to."
            )
        try:
            config = await graph.aupdate_state(
                thread_config(thread_id, checkpoint_id), values, as_node=as_node
            )
        except Exception as exc:  # InvalidUpdateError and friends: the update is at fault
            raise InvalidInput(
                f"update_state failed: {type(exc).__name__}: {exc}. Check that values match "
                f"the graph's state schema and that as_node names one of its nodes."
            ) from exc
        await self._refresh_head(thread_id, graph)
        self.store.record("state_updated", thread_id, None, at=self.clock(), as_node=as_node)
        configurable: Mapping[str, Any] = config["configurable"]
        return configurable

    async def _safe_refresh_head(self, thread_id: str, graph: Any) -> Head:
        """Refresh the cached head; a broken checkpoint must not leave a run unfinished."""
        try:
            return await self._refresh_head(thread_id, graph)
        except Exception:  # the run still finishes; its thread shows the old head
            return self.store.threads[thread_id].head

    async def _refresh_head(self, thread_id: str, graph: Any) -> Head:
        snapshot = await graph.aget_state(thread_config(thread_id))
        head = Head(
            # no checkpoint left (e.g. its only run rolled back): no values, as the reference
            values=_serde.dumps_state(snapshot.values)
            if snapshot.config.get("configurable", {}).get("checkpoint_id")
            else None,
            next=tuple(snapshot.next),
            interrupts={
                t.id: [_serde.jsonable(i) for i in t.interrupts]
                for t in snapshot.tasks
                if t.interrupts
            },
            checkpoint_id=(snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
        )
        self.store.set_head(thread_id, head, at=self.clock())
        return head
