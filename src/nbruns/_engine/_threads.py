"""Threads and their checkpointed state: create, copy, delete, read and update.

Runs are the executor's; a thread only needs two things from it, handed in as
callables: stopping the thread's runs before it is deleted, and waking whoever
waits on a run the deletion forgets.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from .._core._errors import BadRequest, Conflict, InvalidInput, NotFound
from .._core._policy import policy_of
from .._core._records import AssistantRecord, Head, RunRecord, ThreadRecord
from .._core._store import MemoryStore
from .._core._types import CancelAction, CancelSource
from .._persistence._checkpoints import NbrunsSaver
from . import _serde
from ._graphs import GraphRegistry
from ._runspec import RunSpec, thread_config

__all__ = ["StopRuns", "Threads", "interrupt_json"]


def interrupt_json(interrupt: Any) -> dict[str, Any]:
    """An interrupt as the reference sends it: its id and value, and its response
    schema only when it has one."""
    out = {"id": interrupt.id, "value": _serde.jsonable(interrupt.value)}
    schema = getattr(interrupt, "response_schema", None)
    if schema is not None:
        out["response_schema"] = _serde.jsonable(schema)
    return out


class StopRuns(Protocol):
    """Stop these runs with this action, reason and source; return once they have stopped."""

    def __call__(
        self, runs: list[RunRecord], action: CancelAction, reason: str, source: CancelSource
    ) -> Awaitable[None]: ...


class Threads:
    """Thread and state operations over a store, the graphs and their checkpointer."""

    def __init__(
        self,
        store: MemoryStore,
        graphs: GraphRegistry,
        saver: NbrunsSaver,
        *,
        clock: Callable[[], float],
        stop_runs: StopRuns,
        wake_joiners: Callable[[str], None],
    ) -> None:
        self.store = store
        self.graphs = graphs
        self.saver = saver
        self.clock = clock
        self._stop_runs = stop_runs
        self._wake_joiners = wake_joiners

    def create(
        self,
        *,
        thread_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        if_exists: str = "raise",
        graph_id: str | None = None,
        temporary: bool = False,
    ) -> ThreadRecord:
        policy_of(metadata, where="thread")  # a bad metadata["multitask"]: 422, nothing made
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

    def for_run(
        self, thread_id: str | None, spec: RunSpec, assistant: AssistantRecord
    ) -> ThreadRecord:
        """The thread a run goes on: a temporary one, the named one (now bound to the
        assistant's graph if it had none), or a new one when `if_not_exists="create"`."""
        if thread_id is None:
            # the run's metadata too, as the reference: an auth handler's owner stamp
            return self.create(
                graph_id=assistant.graph_id, temporary=True, metadata=dict(spec.metadata)
            )
        existing = self.store.threads.get(thread_id)
        if existing is not None:
            if existing.graph_id is None:
                return self.store.replace_thread(
                    thread_id,
                    graph_id=assistant.graph_id,
                    metadata={
                        **existing.metadata,
                        "graph_id": assistant.graph_id,
                        "assistant_id": assistant.assistant_id,
                    },
                )
            return existing
        if spec.if_not_exists == "create":  # named after its graph and assistant, as above
            return self.create(
                thread_id=thread_id,
                graph_id=assistant.graph_id,
                metadata={"assistant_id": assistant.assistant_id, **spec.metadata},
            )
        raise NotFound("Thread or assistant not found.")

    def update(self, thread_id: str, metadata: Mapping[str, Any]) -> ThreadRecord:
        thread = self.store.get_thread(thread_id)
        policy_of(metadata, where="thread")  # a bad metadata["multitask"]: 422, unchanged
        return self.store.replace_thread(
            thread_id, metadata={**thread.metadata, **metadata}, updated_at=self.clock()
        )

    async def delete(self, thread_id: str) -> None:
        """Stop the thread's runs (awaited: no orphans keep running), then forget it all."""
        self.store.get_thread(thread_id)
        await self._stop_runs(
            self.store.active_runs(thread_id), "rollback", "thread deleted", "client"
        )
        if thread_id in self.store.threads:
            for run in self.store.delete_thread(thread_id):
                self._wake_joiners(run.run_id)
            await self.saver.adelete_thread(thread_id)

    async def copy(self, thread_id: str) -> ThreadRecord:
        source = self.store.get_thread(thread_id)
        copy = self.create(metadata=source.metadata, graph_id=source.graph_id)
        await self.saver.acopy_thread(thread_id, copy.thread_id)
        return self.store.replace_thread(copy.thread_id, head=source.head)

    def _graph_of(self, thread: ThreadRecord) -> Any:
        if thread.graph_id:
            return self.graphs.get(thread.graph_id)
        # the SDK's threads.create(graph_id=...) sends it as metadata, which the reference
        # reads as the thread's graph until a run binds one
        named = thread.metadata.get("graph_id")
        return self.graphs.get(named) if isinstance(named, str) and named in self.graphs else None

    async def get_state(
        self,
        thread_id: str,
        checkpoint_id: str | None = None,
        *,
        subgraphs: bool = False,
        checkpoint_ns: str = "",
    ) -> Any:
        """The state at a checkpoint (the last one by default); with `checkpoint_ns`, the
        state of the subgraph that checkpoints there, as a task's `checkpoint` names it."""
        thread = self.store.get_thread(thread_id)
        graph = self._graph_of(thread)
        if graph is None:
            return None
        config = thread_config(thread_id, checkpoint_id, checkpoint_ns)
        if checkpoint_id is not None and await self.saver.aget_tuple(config) is None:  # type: ignore[arg-type]
            raise NotFound(f"Checkpoint {checkpoint_id} not found in thread {thread_id}.")
        try:
            return await graph.aget_state(config, subgraphs=subgraphs)
        except ValueError as exc:  # LangGraph: no subgraph answers to that namespace
            if not checkpoint_ns:
                raise
            raise NotFound(
                f"No subgraph of thread {thread_id}'s graph checkpoints at namespace "
                f"{checkpoint_ns!r}: use a namespace a task's checkpoint names ({exc})"
            ) from None

    async def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        checkpoint_ns: str = "",
    ) -> list[Any]:
        thread = self.store.get_thread(thread_id)
        graph = self._graph_of(thread)
        if graph is None:
            return []
        return [
            s
            async for s in graph.aget_state_history(
                thread_config(thread_id, checkpoint_id, checkpoint_ns),
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
        if graph is None:  # 400 as on the reference: the request cannot apply here
            raise BadRequest(
                f"Thread {thread_id} has no graph yet (no run has been made on it), so "
                "nbruns does not know which graph's state schema the update is for: "
                "start a run on it first, or create it with a graph_id."
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
        await self.refresh_head(thread_id, graph)
        self.store.record("state_updated", thread_id, None, at=self.clock(), as_node=as_node)
        configurable: Mapping[str, Any] = config["configurable"]
        return configurable

    async def refresh_head_safely(self, thread_id: str, graph: Any, *, stamp: bool = True) -> Head:
        """Refresh the cached head; a broken checkpoint must not leave a run unfinished."""
        try:
            return await self.refresh_head(thread_id, graph, stamp=stamp)
        except Exception:  # the run still finishes; its thread shows the old head
            return self.store.threads[thread_id].head

    async def refresh_head(self, thread_id: str, graph: Any, *, stamp: bool = True) -> Head:
        """Read the thread's last checkpoint into its cached `head`.

        With `stamp` (a run or an update just changed the state) the thread's
        `updated_at` and `state_updated_at` become now; without it (rebuilding the
        cache after a restart) they stay as they were.
        """
        snapshot = await graph.aget_state(thread_config(thread_id))
        head = Head(
            # no checkpoint left (e.g. its only run rolled back): no values, as the reference
            values=_serde.dumps_state(snapshot.values)
            if snapshot.config.get("configurable", {}).get("checkpoint_id")
            else None,
            next=tuple(snapshot.next),
            interrupts={
                t.id: [interrupt_json(i) for i in t.interrupts]
                for t in snapshot.tasks
                if t.interrupts
            },
            checkpoint_id=(snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
        )
        if stamp:
            self.store.set_head(thread_id, head, at=self.clock())
        elif thread_id in self.store.threads:
            self.store.replace_thread(thread_id, head=head)
        return head
