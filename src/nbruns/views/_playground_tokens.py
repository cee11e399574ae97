"""The Playground's live answer: a run's message chunks, shown as they stream.

Runs are created with `stream_mode=["values", "messages-tuple"]` (and
resumable), and one background task per run follows
`client.runs.join_stream(..., "messages-tuple", last_event_id="0")`
(each part's data is `[message chunk, metadata]`). Chunks of one message share
its id and are appended in arrival order; a tool call shows as `→ name(args)`
and a tool result as one clipped line.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from langgraph_sdk.client import LangGraphClient

__all__ = ["LiveAnswer"]

_CLIP = 160
# Runs are created resumable, so joining "after event 0" replays what streamed before the
# join (a fast model may have streamed everything by then); nbruns numbers events from 1,
# LangGraph's server orders them as strings, larger than "0".
_FROM_START = "0"


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b.get("text", "") if isinstance(b, Mapping) else str(b)
            for b in content
            if not isinstance(b, Mapping) or b.get("type") == "text"
        )
    return ""


class LiveAnswer:
    """The text streamed by one run, message by message, and its HTML."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.parts: dict[str, list[str]] = {}  # message id -> its pieces, in arrival order
        self.kinds: dict[str, str] = {}
        self.chunks = 0
        self.done = False

    def add(self, chunk: Mapping[str, Any]) -> None:
        """Append one streamed message chunk (a dict as `messages-tuple` sends it)."""
        mid = str(chunk.get("id") or f"#{len(self.parts)}")
        kind = str(chunk.get("type") or "")
        pieces = self.parts.setdefault(mid, [])
        self.kinds.setdefault(mid, kind)
        self.chunks += 1
        if kind == "tool":
            text = _text_of(chunk.get("content"))
            pieces.append(text if len(text) <= _CLIP else text[: _CLIP - 1] + "…")
            return
        pieces.append(_text_of(chunk.get("content")))
        for call in chunk.get("tool_call_chunks") or ():
            if call.get("name"):
                pieces.append(f"→ {call['name']}({call.get('args') or ''})")

    @property
    def text(self) -> str:
        """Everything streamed so far: AI text as written, tool results marked."""
        lines = []
        for mid, pieces in self.parts.items():
            body = "".join(pieces).strip()
            if body:
                lines.append(f"[tool] {body}" if self.kinds.get(mid) == "tool" else body)
        return "\n".join(lines)

    def html(self) -> str:
        state = "done" if self.done else "streaming…"
        done = "true" if self.done else "false"
        body = html.escape(self.text) or (
            "(no tokens were streamed: see the messages below)"
            if self.done
            else "(waiting for tokens)"
        )
        return (
            f'<div class="nbruns-live" data-run-id="{self.run_id}" data-done="{done}">'
            f"<b>Live answer</b> <span>run {self.run_id[:8]}, {state}</span>"
            '<pre style="white-space:pre-wrap;margin:2px 0;padding:4px;background:#f8f9fa">'
            f"{body}</pre></div>"
        )

    async def follow(self, client: LangGraphClient, thread_id: str, on_change: Any) -> None:
        """Read the run's `messages-tuple` stream until it ends; call `on_change()` per chunk."""
        try:
            async for part in client.runs.join_stream(
                thread_id, self.run_id, stream_mode="messages-tuple", last_event_id=_FROM_START
            ):
                data = part.data
                if part.event.startswith("messages") and isinstance(data, list) and data:
                    if isinstance(data[0], Mapping):
                        self.add(data[0])
                        on_change()
        finally:
            self.done = True
            on_change()
