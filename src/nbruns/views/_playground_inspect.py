"""Inspect one run in the Playground: its input, its thread's state, its messages, its error.

Read through the SDK client: the input from the run's `kwargs.input`, the state
from `threads.get_state`, the messages from the thread's messages frame rows
with that `run_id`, the error (and traceback) from the run's `error` on nbruns.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from .frames import messages_frame_for

__all__ = ["inspect_html"]

_PRE = '<pre style="white-space:pre-wrap;max-height:240px;overflow:auto;margin:2px 0">'
_CLIP = 4000


def _json(value: Any) -> str:
    text = json.dumps(value, indent=1, default=str, ensure_ascii=False)
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def _block(title: str, body: str) -> str:
    return f"<p style='margin:6px 0 0'><b>{title}</b></p>{_PRE}{html.escape(body)}</pre>"


async def _state(client: LangGraphClient, thread_id: str) -> str:
    try:
        state = await client.threads.get_state(thread_id)
    except httpx.HTTPStatusError as exc:
        return f"(not available: {exc.response.status_code})"
    return _json(state.get("values"))


async def _messages(client: LangGraphClient, thread_id: str, run_id: str) -> str:
    frame = await messages_frame_for(client, thread_id)
    rows = frame[frame["run_id"] == run_id] if not frame.empty else frame
    if rows.empty:
        return "(none: the run wrote no messages that the thread still has)"
    return "\n".join(
        f"{r.type}: {r.content}" + (f"  [{', '.join(r.tool_calls)}]" if r.tool_calls else "")
        for r in rows.itertuples()
    )


def _error(run: Mapping[str, Any]) -> str | None:
    """The error line, then the traceback (its last frames are the graph's)."""
    error = run.get("error")
    if not isinstance(error, Mapping):
        return None
    head = f"{error.get('error') or 'Error'}: {error.get('message') or ''}"
    trace = error.get("traceback")
    return f"{head}\n\n{trace}" if trace else head


async def inspect_html(client: LangGraphClient, run: Mapping[str, Any]) -> str:
    """HTML for one run (a wire dict): status, input, state, messages and error."""
    thread_id, run_id = run["thread_id"], run["run_id"]
    kwargs = run.get("kwargs") if isinstance(run.get("kwargs"), Mapping) else {}
    status = run.get("status", "?")
    parts = [
        f'<div class="nbruns-inspect" data-run-id="{run_id}">',
        f"<p style='margin:0'><b>run {run_id[:8]}</b> on thread {thread_id[:8]}: {status}</p>",
    ]
    if (error := _error(run)) is not None:
        parts.append(_block("Error", error))
    parts.append(_block("Input", _json((kwargs or {}).get("input"))))
    parts.append(_block("Messages of this run", await _messages(client, thread_id, run_id)))
    parts.append(_block("Thread state now", await _state(client, thread_id)))
    parts.append("</div>")
    return "".join(parts)
