"""Graph factories: a function that makes the graph, called per use as LangGraph's server does.

A `langgraph.json` may name a function instead of a graph. LangGraph's server calls it
each time it needs the graph (every run, every state read or update, every schema or
drawing), handing it what it declares, by keyword: a parameter annotated
`ServerRuntime` (from `langgraph_sdk.runtime`) gets the runtime (why the graph is
wanted, the user, the store; a run's `context`), any other parameter gets the config
(the run's, the thread's for state reads, the assistant's for schemas). 0, 1 or 2
parameters. It may return a graph, a coroutine, or a (sync or async) context manager
that is held open while the graph is used.

`GraphFactory` stands where a compiled graph would: the methods the engine and the
API call build the graph for that call and delegate to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import threading
import typing
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Literal, get_args, get_origin

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from ._runtime_user import RuntimeUser, user_in

__all__ = ["GraphFactory"]

# Why the graph is wanted: langgraph_sdk.runtime.AccessContext's values
Access = Literal["threads.create_run", "threads.read", "threads.update", "assistants.read"]
RUN: Access = "threads.create_run"
READ: Access = "threads.read"
UPDATE: Access = "threads.update"
INTROSPECT: Access = "assistants.read"
_RUNTIME_NAMES = {"ServerRuntime", "_ExecutionRuntime", "_ReadRuntime"}


def _is_runtime(annotation: Any) -> bool:
    """A `ServerRuntime` annotation (bare, parametrized, a string, or inside Annotated)."""
    if isinstance(annotation, str):
        return annotation.split("[", 1)[0].rsplit(".", 1)[-1] in _RUNTIME_NAMES
    if getattr(annotation, "__name__", None) in _RUNTIME_NAMES:
        return True
    origin = get_origin(annotation)
    if origin is not None:
        if getattr(origin, "__name__", None) in _RUNTIME_NAMES:
            return True
        args = get_args(annotation)
        return bool(args) and _is_runtime(args[0])
    return False


def _parameters(graph_id: str, factory: Callable[..., Any]) -> tuple[str | None, str | None]:
    """(config parameter, runtime parameter) names; refuses what LangGraph refuses."""
    params = list(inspect.signature(factory).parameters.values())
    try:
        hints = typing.get_type_hints(factory)
    except Exception:  # unresolvable string annotations: read them as written
        hints = {}
    runtime = [p.name for p in params if _is_runtime(hints.get(p.name, p.annotation))]
    others = [p.name for p in params if p.name not in runtime]
    if len(params) > 2 or len(runtime) > 1 or len(others) > 1:
        raise TypeError(
            f"graph {graph_id!r}: a graph factory takes at most a config and a "
            f"ServerRuntime (0, 1 or 2 parameters); {factory.__qualname__} takes "
            f"{[p.name for p in params]}"
        )
    return (others[0] if others else None), (runtime[0] if runtime else None)


class GraphFactory:
    """A graph made per use by the user's factory, with the server's checkpointer and store."""

    def __init__(
        self,
        graph_id: str,
        factory: Callable[..., Any],
        saver: BaseCheckpointSaver[Any],
        store: Any = None,
    ) -> None:
        self.graph_id = graph_id
        self.factory = factory
        self.saver = saver
        self.store = store
        self._config_param, self._runtime_param = _parameters(graph_id, factory)
        self._introspected: Pregel[Any, Any, Any, Any] | None = None

    def _call(self, config: Mapping[str, Any] | None, access: Access, context: Any) -> Any:
        given = copy.deepcopy(dict(config or {}))
        given.setdefault("configurable", {})
        kwargs: dict[str, Any] = {}
        if self._config_param is not None:
            kwargs[self._config_param] = given
        if self._runtime_param is not None:
            kwargs[self._runtime_param] = self._runtime(access, context, user_in(given))
        return self.factory(**kwargs)

    def _runtime(self, access: Access, context: Any, user: RuntimeUser | None) -> Any:
        # the SDK's own runtime types, imported only for factories that ask for one
        from langgraph_sdk.runtime import _ExecutionRuntime, _ReadRuntime

        if access == RUN:
            return _ExecutionRuntime(
                access_context=RUN, user=user, store=self.store, context=copy.copy(context)
            )
        return _ReadRuntime(access_context=access, user=user, store=self.store)

    def _ready(self, made: Any) -> Pregel[Any, Any, Any, Any]:
        if isinstance(made, StateGraph):
            made = made.compile()
        if not isinstance(made, Pregel):
            raise TypeError(
                f"graph {self.graph_id!r}: its factory returned a {type(made).__name__}; "
                "expected a compiled graph, a StateGraph or an @entrypoint"
            )
        update: dict[str, Any] = {"checkpointer": self.saver}
        if self.store is not None:
            update["store"] = self.store
        if made.name == "LangGraph":
            update["name"] = self.graph_id
        return made.copy(update=update)

    @contextlib.asynccontextmanager
    async def build(
        self, config: Mapping[str, Any] | None, access: Access, context: Any = None
    ) -> AsyncIterator[Pregel[Any, Any, Any, Any]]:
        """The graph for one use, its factory's context (if any) held open around it."""
        made = self._call(config, access, context)
        if hasattr(made, "__aenter__") and hasattr(made, "__aexit__"):
            async with made as graph:
                yield self._ready(graph)
        elif hasattr(made, "__enter__") and hasattr(made, "__exit__"):
            with made as graph:
                yield self._ready(graph)
        else:
            yield self._ready(await made if inspect.isawaitable(made) else made)

    def build_now(self, config: Mapping[str, Any] | None = None) -> Pregel[Any, Any, Any, Any]:
        """The graph for a synchronous read (schemas, drawing): an async factory runs to
        completion on a loop of its own in a helper thread, since this thread may be
        running one."""
        made = self._call(config, INTROSPECT, None)
        if not (inspect.isawaitable(made) or hasattr(made, "__aenter__")):
            if hasattr(made, "__enter__") and hasattr(made, "__exit__"):
                with made as graph:
                    return self._ready(graph)
            return self._ready(made)
        built: list[Pregel[Any, Any, Any, Any]] = []
        failed: list[BaseException] = []

        async def enter() -> None:
            if inspect.isawaitable(made):
                built.append(self._ready(await made))
            else:
                async with made as graph:
                    built.append(self._ready(graph))

        def run() -> None:
            try:
                asyncio.run(enter())
            except BaseException as exc:
                failed.append(exc)

        helper = threading.Thread(target=run, name=f"nbruns-factory-{self.graph_id}")
        helper.start()
        helper.join()
        if failed:
            raise failed[0]
        return built[0]

    # -- what the engine calls on a graph ---------------------------------------------

    async def astream(self, input: Any, config: Any = None, **kwargs: Any) -> AsyncIterator[Any]:
        async with self.build(config, RUN, kwargs.get("context")) as graph:
            parts: Any = graph.astream(input, config, **kwargs)
            async with contextlib.aclosing(parts):
                async for part in parts:
                    yield part

    async def aget_state(self, config: Any, **kwargs: Any) -> Any:
        async with self.build(config, READ) as graph:
            return await graph.aget_state(config, **kwargs)

    async def aget_state_history(self, config: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with self.build(config, READ) as graph:
            async for snapshot in graph.aget_state_history(config, **kwargs):
                yield snapshot

    async def aupdate_state(self, config: Any, values: Any, *args: Any, **kwargs: Any) -> Any:
        async with self.build(config, UPDATE) as graph:
            return await graph.aupdate_state(config, values, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # schemas, drawings, subgraphs, name: asked of a graph made once for introspection
        # (LangGraph requires every graph a factory makes to have the same topology)
        if name.startswith("_"):
            raise AttributeError(name)
        if self._introspected is None:
            self._introspected = self.build_now()
        return getattr(self._introspected, name)

    def __repr__(self) -> str:
        return f"<GraphFactory {self.graph_id!r}: {self.factory.__qualname__}>"
