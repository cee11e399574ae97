"""The Playground's "options" area: the selected thread's multitask policy (nbruns only).

Six fields (quiet_s, max_wait_s, max_pending with overflow, pending_ttl_s,
run_timeout_s); an empty field leaves the key unset, so the server's default (or
the assistant's policy) applies. Apply sends them with
`threads.update(metadata={"multitask": {...}})`; the server checks them, and a
422's detail (the key and what is allowed) goes to the status line as it is. The
area is shown only when the server is nbruns (other servers have no policies).
"""

from __future__ import annotations

from typing import Any

import httpx
import ipywidgets as w
from langgraph_sdk.client import LangGraphClient

from ._playground_words import http_detail, short

__all__ = ["NUMBER_KEYS", "OVERFLOW_OPTIONS", "PolicyOptions", "read_policy"]

NUMBER_KEYS = ("quiet_s", "max_wait_s", "max_pending", "pending_ttl_s", "run_timeout_s")
_HINTS = {
    "quiet_s": "debounce: quiet for (1.0)",
    "max_wait_s": "debounce: at most (10)",
    "max_pending": "waiting runs (no cap)",
    "pending_ttl_s": "wait at most (none)",
    "run_timeout_s": "run at most (none)",
}
OVERFLOW_OPTIONS: tuple[tuple[str, str], ...] = (
    ("default (reject_newest)", ""),
    ("reject_newest", "reject_newest"),
    ("drop_oldest", "drop_oldest"),
)


def _number(text: str) -> Any:
    """A field's value: empty -> None (unset), a number, else the text (the server says why)."""
    text = text.strip()
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def read_policy(fields: dict[str, str], overflow: str) -> dict[str, Any]:
    """The `multitask` dict the fields describe (unset keys left out)."""
    policy = {key: _number(fields.get(key, "")) for key in NUMBER_KEYS}
    policy["overflow"] = overflow or None
    return {k: v for k, v in policy.items() if v is not None}


class PolicyOptions:
    """The options widgets; `apply(client, thread_id)` sets the thread's policy."""

    def __init__(self) -> None:
        layout = w.Layout(width="260px")
        style = {"description_width": "100px"}
        self.fields = {
            key: w.Text(
                value="", placeholder=_HINTS[key], description=key, layout=layout, style=style
            )
            for key in NUMBER_KEYS
        }
        self.overflow = w.Dropdown(
            options=OVERFLOW_OPTIONS, value="", description="overflow", layout=layout, style=style
        )
        self.apply_button = w.Button(
            description="Apply to thread", icon="check", layout=w.Layout(width="auto")
        )
        f = self.fields
        grid = w.VBox(
            [
                w.HBox([f["quiet_s"], f["max_wait_s"]]),
                w.HBox([f["max_pending"], self.overflow]),
                w.HBox([f["pending_ttl_s"], f["run_timeout_s"]]),
                self.apply_button,
            ]
        )
        self.area = w.Accordion(
            children=[grid], titles=("options (this thread's multitask policy)",)
        )
        self.area.selected_index = None  # folded until wanted
        self.area.add_class("nbruns-options")
        self.area.layout.display = "none"  # shown once the server is known to be nbruns

    def policy(self) -> dict[str, Any]:
        """The `multitask` dict the fields describe now."""
        return read_policy({k: v.value for k, v in self.fields.items()}, self.overflow.value)

    def show(self, nbruns_server: bool) -> None:
        self.area.layout.display = None if nbruns_server else "none"

    async def apply(self, client: LangGraphClient, thread_id: str, name: str) -> str:
        """Set the thread's policy; the words for the status line (the 422 detail if refused)."""
        policy = self.policy()
        try:
            await client.threads.update(thread_id, metadata={"multitask": policy})
        except httpx.HTTPStatusError as exc:
            if exc.response.status_code != 422:
                raise
            return f"options not applied to {name} (422): {http_detail(exc)}"
        said = ", ".join(f"{k}={v}" for k, v in policy.items()) or "none set (the defaults)"
        return f"options for {name} (thread {short(thread_id)}): {said}"
