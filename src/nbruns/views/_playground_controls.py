"""The Playground's widgets, made and laid out in one place (no behaviour here)."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as w

from ._playground_boundaries import boundary_options
from ._playground_options import PolicyOptions

__all__ = ["Controls"]


def _button(text: str, icon: str = "", style: str = "") -> w.Button:
    return w.Button(description=text, icon=icon, button_style=style, layout=w.Layout(width="auto"))


class Controls:
    """Every widget of a Playground; `box` lays them out, top to bottom."""

    def __init__(self, strategies: Sequence[str]) -> None:
        self.thread_picker = w.Dropdown(options=[], description="thread")
        self.new_thread_button = _button("New thread", "plus")
        self.clear_button = _button("Clear", "eraser")
        self.message = w.Text(
            value="whats the weather in sf?", description="message", layout=w.Layout(width="420px")
        )
        self.send_button = _button("Send", "paper-plane", "primary")
        self.strategy = w.ToggleButtons(
            options=tuple(strategies), value="enqueue", description="strategy"
        )
        self.sleep = w.FloatSlider(value=3.0, min=0.0, max=10.0, step=0.5, description="sleep (s)")
        self.sleep.layout.display = "none"  # shown once the graph's input has a `sleep` key
        self.hold = w.Checkbox(value=False, description="hold the next run", indent=False)
        self.hold_at = w.Dropdown(options=boundary_options([]), description="at")
        self.release_button = _button("Release", "play")
        self.options = PolicyOptions()  # the thread's multitask policy (nbruns only)
        self.status = w.HTML(value="")
        self.live_html = w.HTML(value="")
        self.this_thread_only = w.Checkbox(
            value=False, description="this thread only", indent=False
        )
        self.fit_thread_button = _button("fit to thread", "search-plus")
        self.fit_recent_button = _button("fit to recent", "clock-o")
        self.fit_all_button = _button("all", "arrows-h")
        self.timeline_html = w.HTML(layout=w.Layout(width="100%"))
        self.runs_html = w.HTML()
        self.inspect_picker = w.Dropdown(
            options=[], description="inspect run", layout=w.Layout(width="480px")
        )
        self.inspect_html = w.HTML()
        self.messages_html = w.HTML()
        for widget, name in (
            (self.status, "status"),
            (self.live_html, "live-area"),
            (self.timeline_html, "timeline"),
            (self.runs_html, "runs"),
            (self.inspect_html, "inspect-area"),
            (self.messages_html, "messages"),
        ):
            widget.add_class(f"nbruns-{name}")  # names a browser (or a test) can find
        self.box = w.VBox(
            [
                w.HBox([self.thread_picker, self.new_thread_button, self.clear_button]),
                w.HBox([self.message, self.send_button]),
                self.strategy,
                self.options.area,
                self.sleep,
                w.HBox([self.hold, self.hold_at, self.release_button]),
                self.status,
                self.live_html,
                w.HBox(
                    [
                        self.this_thread_only,
                        self.fit_thread_button,
                        self.fit_recent_button,
                        self.fit_all_button,
                    ]
                ),
                self.timeline_html,
                self.runs_html,
                self.inspect_picker,
                self.inspect_html,
                self.messages_html,
            ]
        )
