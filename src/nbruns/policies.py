"""Example choose hooks: a run's multitask strategy picked from what the new message says.

A server's choose hook is asked for a new run's strategy when neither the call
(`multitask_strategy=`) nor the run's policy (`metadata={"multitask": {...}}` on
the call, its thread or its assistant) names one:

    client = nbruns.get_client(graphs={...}, choose=nbruns.policies.by_message)

or `nbruns serve --choose nbruns.policies:by_message` (or `NBRUNS_CHOOSE=...`).
A hook gets `(new_input, thread)`: the run's input as the client sent it, and its
thread as `threads.get` shows it; it returns a strategy name, or None for "enqueue".
It runs as the run is created, on the server's loop: keep it a plain, quick function.

`by_message` is an example to read and copy, not a rule nbruns applies by itself:
a few English openings are a crude signal, and your own hook may look at anything
(the thread's status, its last messages, who the user is).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["ADDITIONS", "CORRECTIONS", "by_message", "last_human_text"]

CORRECTIONS = ("actually", "no,", "no ", "wait", "sorry", "correction")
"""Openings of a message that corrects the turn in progress: throw that turn away."""

ADDITIONS = ("also", "and ", "plus", "btw", "oh and")
"""Openings of a message that adds to the question being answered: steer it in."""

_HUMAN_ROLES = ("human", "user")


def by_message(new_input: Any, thread: Mapping[str, Any] | None = None) -> str | None:
    """A strategy from the opening words of the new input's last human message.

    - a correction ("actually", "no,", "wait", "sorry", ...): "interrupt", so the
      running turn stops and the corrected question is answered instead;
    - an addition ("also", "and ", "plus", "btw", "oh and"): "steer", so the running
      turn takes it in at its next safe step;
    - anything else: "enqueue", answered after the turn in progress;
    - None when the input has no human message text (the server then enqueues).

    `thread` is not looked at here; a hook of your own might, e.g. to enqueue
    everything while the thread is idle.
    """
    text = last_human_text(new_input)
    if not text:
        return None
    opening = text.strip().lower()
    if _opens_with(opening, CORRECTIONS):
        return "interrupt"
    if _opens_with(opening, ADDITIONS):
        return "steer"
    return "enqueue"


def last_human_text(new_input: Any) -> str | None:
    """The text of the last human message in a graph input (`{"messages": [...]}`):
    message dicts (`role` or `type` "human"/"user"), LangChain messages, or plain
    strings, with string or content-block (`{"type": "text", "text": ...}`) content."""
    if not isinstance(new_input, Mapping):
        return None
    messages = new_input.get("messages")
    if isinstance(messages, str | Mapping) or not isinstance(messages, Sequence):
        messages = [messages] if messages is not None else []
    for message in reversed(messages):
        if isinstance(message, str):
            return message
        if isinstance(message, Mapping):
            kind, content = message.get("role") or message.get("type"), message.get("content")
        else:  # a LangChain message object
            kind, content = getattr(message, "type", None), getattr(message, "content", None)
        if kind in _HUMAN_ROLES:
            return _text_of(content)
    return None


def _text_of(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts: list[str] = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "".join(parts) or None
    return None


def _opens_with(text: str, openings: Sequence[str]) -> bool:
    """Whether `text` opens with one of `openings` as whole words ("wait" opens "wait,
    I meant", not "waiting"); an opening that ends in a space or comma also matches
    the word alone ("no")."""
    for opening in openings:
        word = opening.rstrip(" ,")
        if text == word:
            return True
        if not text.startswith(opening):
            continue
        rest = text[len(opening) :]
        if not opening[-1].isalnum() or not rest or not rest[0].isalnum():
            return True
    return False
