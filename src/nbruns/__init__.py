"""nbruns: LangGraph's double-texting run server, inside your Jupyter kernel.

Layout: one folder per layer, importing one way only, downwards
(tests/test_layering.py checks every import; docs/architecture.md draws it):

- `_core/`        pure and synchronous, standard library only: records, the run
                  lifecycle table, strategy decisions, the store, wire vocabulary, errors.
- `_persistence/` LangGraph's checkpoint savers with nbruns's extras; the SQLite store.
- `_engine/`      asyncio: the executor carries the core's decisions out and owns
                  every task; graph driving, run streams, the graph registry, JSON.
- `_api/`         HTTP: one declaration per endpoint mapped onto the engine (Starlette).
- `_compose`      the composition root: builds storage, engine and app for both modes.
- `_inprocess/`   the server on a loop in this process behind the SDK client: `get_client()`.
- `_served/`      `nbruns serve`: the same app over HTTP with uvicorn.
- `views/`        frames, timeline, compare, Playground: read through the SDK client
                  only, so they work against any LangGraph API server too.
- `policies`      an example `choose` hook (`by_message`) to copy; `Policy` builds the
                  multitask options a run, thread or assistant carries.
"""

import importlib as _importlib
import logging as _logging
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from . import policies as policies
    from . import testing as testing
    from . import views as views
    from ._core._policy import Policy
    from ._inprocess._get_client import default_server, get_client, get_sync_client
    from ._inprocess._server import ConfigError, Server
    from .views import (
        Comparison,
        Playground,
        TimelineSVG,
        Watch,
        compare,
        history_frame,
        messages_frame,
        messages_frame_for,
        render_timeline,
        restore,
        rolled_back_frame,
        runs_frame,
        timeline,
        timeline_frame,
        watch,
    )

# A library logs and lets the application choose where to (`nbruns serve` prints at
# INFO): without this, Python's last resort would print a failing run's traceback from
# the server's thread into whichever notebook cell happens to be running.
_logging.getLogger("nbruns").addHandler(_logging.NullHandler())

__all__ = [
    "Comparison",
    "ConfigError",
    "Playground",
    "Policy",
    "Server",
    "TimelineSVG",
    "Watch",
    "compare",
    "default_server",
    "get_client",
    "get_sync_client",
    "history_frame",
    "messages_frame",
    "messages_frame_for",
    "render_timeline",
    "restore",
    "rolled_back_frame",
    "runs_frame",
    "timeline",
    "timeline_frame",
    "watch",
]


# Every name is imported on first use: `import nbruns` stays cheap, which matters
# because pytest imports the package (for the plugin, `nbruns.testing._plugin`) in every
# session where nbruns is installed, nbruns used or not.
_HOMES = {
    "Policy": "._core._policy",
    **dict.fromkeys(("ConfigError", "Server"), "._inprocess._server"),
    **dict.fromkeys(("default_server", "get_client", "get_sync_client"), "._inprocess._get_client"),
}
_SUBPACKAGES = ("policies", "testing", "views")


def __getattr__(name: str) -> _Any:
    if name in _SUBPACKAGES:
        return _importlib.import_module(f".{name}", __name__)
    if name in __all__:
        # the views (ipywidgets for Playground, Watch and watch: on their first use too)
        home = _importlib.import_module(_HOMES.get(name, ".views"), __name__)
        value = getattr(home, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nbruns' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})
