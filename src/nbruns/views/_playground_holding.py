"""The Playground's holds: arm one for the next run, say when it holds, release them all.

Holds are nbruns's (`views/_holds.py`); against another server arming one says
so in the status line and nothing is sent.
"""

from __future__ import annotations

import html

import httpx
import ipywidgets as w
from langgraph_sdk.client import LangGraphClient

from ._holds import HoldsUnsupported, create_hold, delete_hold, get_hold, wait_held
from ._playground_tasks import BackgroundTasks
from ._playground_words import boundary_words, http_detail, short

__all__ = ["HoldControl"]

_HELD_WAIT = 5.0  # seconds the status waits to say a run is held (then "to be held" stays)


class HoldControl(BackgroundTasks):
    """Arms and releases a playground's holds; `holds` maps hold id -> boundary words."""

    client: LangGraphClient
    hold: w.Checkbox
    status: w.HTML

    def __init__(self) -> None:
        super().__init__()
        self.holds: dict[str, str] = {}  # armed by this playground and not released yet

    async def release(self) -> str:
        """Release every hold this playground armed; say (and return) which runs went on."""
        released: list[str] = []
        for hold_id, where in list(self.holds.items()):
            try:
                hold = await get_hold(self.client, hold_id)
                await delete_hold(self.client, hold_id)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:  # 404: already gone
                    raise
            else:
                released += [f"run {short(h.get('run_id'))} (held {where})" for h in hold["held"]]
            self.holds.pop(hold_id, None)
        self.say("released " + ", ".join(released) if released else "released: nothing was held")
        self._kick()
        return str(self.status.value)

    async def wait_held(self, within: float = 10.0) -> str:
        """Wait until a run waits at each hold this playground armed; say so, return the words.

        Raises TimeoutError (naming the hold) if one catches no run within `within` s.
        """
        for hold_id in list(self.holds):
            await wait_held(self.client, hold_id, timeout=within)
        self.say(str(self.status.value).replace(", to be held ", ", held ", 1))
        self._kick()
        return str(self.status.value)

    async def _arm(self, thread_id: str, boundary: tuple[str | None, str | None]) -> str | None:
        """Arm a one-run hold for the thread's next run; None (and why, said) if refused."""
        before, after = boundary
        try:
            hold = await create_hold(
                self.client, thread_id, before=before, after=after, times=1, new_runs_only=True
            )
        except HoldsUnsupported as exc:
            self.say(f"not sent: {exc}")
            return None
        except httpx.HTTPStatusError as exc:
            code = exc.response.status_code
            self.say(f"not sent: the hold was refused ({code}): {http_detail(exc)}")
            return None
        hold_id = str(hold["hold_id"])
        self.holds[hold_id] = boundary_words(before, after)
        self.hold.value = False  # "hold the next run": one run, then the control resets
        return hold_id

    async def _disarm(self, hold_id: str) -> None:
        await delete_hold(self.client, hold_id)
        self.holds.pop(hold_id, None)

    async def _say_held(self, hold_id: str, words: str) -> None:
        """Once the run is held, say so (unless the status has moved on to something else)."""
        try:
            await wait_held(self.client, hold_id, timeout=_HELD_WAIT)
        except TimeoutError:  # not held (yet): the words "to be held" stay true
            return
        if self.status.value == html.escape(words, quote=False):
            self.say(words.replace(", to be held ", ", held ", 1))
            self._kick()
