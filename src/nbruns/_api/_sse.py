"""Server-sent events framing: how a run's events go over HTTP."""

from __future__ import annotations

__all__ = ["sse_frame"]


def sse_frame(event: str, data: bytes, event_id: int | str | None = None) -> bytes:
    """One SSE frame; `event_id` is sent only for resumable streams (and thread streams)."""
    head = b"" if event_id is None else b"id: " + str(event_id).encode() + b"\n"
    return head + b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"
