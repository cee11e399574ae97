"""The server loop's default executor, which remembers which run submitted each job."""

from __future__ import annotations

import concurrent.futures
import contextvars
from collections.abc import Callable
from typing import Any

__all__ = ["TrackingPool", "current_run"]

current_run: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "nbruns_current_run", default=None
)
"""The run whose task is running (set by the executor at the start of each run task)."""


class TrackingPool(concurrent.futures.ThreadPoolExecutor):
    """LangGraph runs sync nodes in the loop's default executor; recording which run
    submitted each job lets a cancelled run wait for them to return."""

    def __init__(self) -> None:
        super().__init__(thread_name_prefix="nbruns-node")
        # run id -> jobs; touched only from the loop thread (submit runs there)
        self.jobs: dict[str, list[concurrent.futures.Future[Any]]] = {}

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        future = super().submit(fn, *args, **kwargs)
        run_id = current_run.get()
        if run_id is not None:
            self.jobs.setdefault(run_id, []).append(future)
        return future
