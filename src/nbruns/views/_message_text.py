"""Message parts as text: content flattened, tool calls written as calls.

Messages come as the API sends them (dicts) or as LangChain objects; content
may be a string or a list of blocks (text, tool_use, image, ...).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["call_text", "content_text", "field", "messages_of"]


def field(obj: Any, key: str) -> Any:
    """`obj[key]` of a dict, `obj.key` of a message object; None when absent."""
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def call_text(name: Any, args: Any) -> str:
    """A tool call written as a call: `search(q="sf", n=2)` (args may be JSON text)."""
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except ValueError:
            return f"{name}({args})"
    if isinstance(args, Mapping):
        inner = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    else:
        inner = "" if args is None else json.dumps(args, ensure_ascii=False)
    return f"{name}({inner})"


def _call_keys(calls: Sequence[Any]) -> set[Any]:
    """What identifies a message's tool calls: their ids and their `call_text`."""
    keys: set[Any] = set()
    for c in calls:
        keys.add(field(c, "id"))
        keys.add(call_text(field(c, "name"), field(c, "args")))
    keys.discard(None)
    return keys


def content_text(content: Any, calls: Sequence[Any] = ()) -> str:
    """Message content as text: list content flattened, tool_use blocks as calls.

    A `tool_use` block that repeats one of the message's `calls` (Anthropic-style
    messages carry each call twice: in content and in tool_calls) is left out:
    the tool_calls column shows it.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return str(content)
    shown_elsewhere = _call_keys(calls)
    parts = []
    for block in content:
        kind = field(block, "type") if not isinstance(block, str) else "text"
        if isinstance(block, str):
            parts.append(block)
        elif kind == "text":
            parts.append(str(field(block, "text") or ""))
        elif kind == "tool_use":
            call = call_text(field(block, "name"), field(block, "input"))
            if field(block, "id") not in shown_elsewhere and call not in shown_elsewhere:
                parts.append("tool_use:" + call)
        else:
            parts.append(f"[{kind}]")
    return "\n".join(p for p in parts if p)


def messages_of(state_or_values: Any) -> list[Any]:
    """The `messages` of a thread state, of its values, or a list of messages itself."""
    found = state_or_values
    if isinstance(found, Mapping) and "values" in found:
        found = found["values"]
    if isinstance(found, Mapping):
        found = found.get("messages")
    return list(found) if isinstance(found, list | tuple) else []
