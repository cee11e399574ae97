"""Lane labels: a thread's name from its metadata, else its short id.

Threads carry no name in the LangGraph API; people put one in the metadata
(`{"name": "weather in sf"}`). `thread_labels` finds it; the timeline falls
back to the first 8 characters of the id and cuts long labels to fit its
margin (the tooltip keeps the whole text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["LABEL_KEYS", "thread_labels"]

# metadata keys that name a thread, most specific first
LABEL_KEYS = ("name", "title", "label", "thread_name", "display_name", "description")


def thread_labels(threads: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """`{thread_id: label}` from each thread's metadata: the first non-empty string
    under `name`, `title`, `label`, `thread_name`, `display_name` or `description`.
    Threads without one are left out (the timeline shows their short id).
    """
    labels: dict[str, str] = {}
    for thread in threads:
        metadata = thread.get("metadata")
        if not isinstance(metadata, Mapping) or "thread_id" not in thread:
            continue
        for key in LABEL_KEYS:
            value = metadata.get(key)
            if isinstance(value, str) and value.strip():
                labels[str(thread["thread_id"])] = " ".join(value.split())
                break
    return labels
