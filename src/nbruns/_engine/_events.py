"""`stream_mode="events"`: LangChain's `astream_events` v2, as LangGraph's server streams it.

The graph runs under `astream_events`; its own `on_chain_stream` events carry the
chunks `astream` would have yielded, so every other mode (and what the run keeps)
comes from those, and each remaining event goes to readers as an `events` event.
Only runs that ask for `events` pay for LangChain's callback plumbing.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ._runstream import RunStream

__all__ = ["EVENTS", "astream_with_events"]

EVENTS = "events"
# LangGraph tags its internal runnables (channel writes, branches) this way; the
# reference server drops their events too
_HIDDEN_TAG = "langsmith:hidden"


def astream_with_events(
    graph: Any,
    graph_input: Any,
    config: Mapping[str, Any],
    *,
    run_id: str,
    stream: RunStream | None,
    **kwargs: Any,
) -> AsyncIterator[Any]:
    """The graph's `astream` parts, publishing every other callback event on the way.

    The run's id becomes the root run's id, so the graph's own events are known by it
    (and readers see the same ids in `metadata` and the root events, as on the reference).
    """
    config = {**config, "run_id": uuid.UUID(run_id)}
    graph_id = config.get("configurable", {}).get("graph_id")
    if graph_id and graph.name == "LangGraph":
        config["run_name"] = graph_id  # the root events carry the graph's id as their name
    events = graph.astream_events(graph_input, config, version="v2", **kwargs)
    return _split(events, run_id, stream)


async def _split(
    events: AsyncIterator[dict[str, Any]], run_id: str, stream: RunStream | None
) -> AsyncIterator[Any]:
    # aclosing: closing these parts early must close the graph's run too, right away
    async with contextlib.aclosing(events):  # type: ignore[type-var]
        async for event in events:
            if event["event"] == "on_chain_stream" and event["run_id"] == run_id:
                yield event["data"]["chunk"]
            elif stream is not None and stream.wanted:
                if _HIDDEN_TAG not in (event.get("tags") or ()):
                    stream.publish(EVENTS, EVENTS, event)
