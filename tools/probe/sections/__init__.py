"""One module per section of the document, in document (and probing) order.

Each module has `KEY` (the section's key in the `Recorder`), `TITLE`, `INTRO` (Markdown
shown under the title) and `async def probe(p: Prober)`, which records into section `KEY`.
Most probes wait for a state with `Prober`'s bounded waits. Some sleep, as they always
have: where the timing is what is observed (a cancel 1.3 s into a join_stream, a thread
2.5 s after a rollback), and in `join`, 0.2 s for a join to reach the server before the
cancel it is meant to see.
"""

from __future__ import annotations

from types import ModuleType

from . import (
    assistants,
    badinput,
    cancel,
    failure,
    hitl,
    join,
    multitask,
    options,
    runs,
    server,
    stream,
    threads,
)

SECTIONS: tuple[ModuleType, ...] = (
    server,
    assistants,
    threads,
    runs,
    join,
    stream,
    cancel,
    options,
    hitl,
    failure,
    multitask,
    badinput,
)
