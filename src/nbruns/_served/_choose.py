"""`nbruns serve --choose module:function` (or `NBRUNS_CHOOSE`): the server's choose hook.

langgraph.json has no place for it (nbruns refuses top-level keys it cannot honour,
and LangGraph's server knows no such key), so it comes from the command line or the
environment. The spec is read as langgraph.json's graph paths are: `package.module:attr`,
or `./file.py:attr` from the current directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._engine._policies import Choose, checked_hook
from .._project._imports import import_attr
from .._project._where import ConfigError, Where

__all__ = ["CHOOSE_ENV", "load_choose"]

CHOOSE_ENV = "NBRUNS_CHOOSE"


def load_choose(flag: str | None) -> tuple[Choose | None, str | None]:
    """The hook `--choose` (else `NBRUNS_CHOOSE`) names, and that spec; (None, None) for
    none. A spec that does not import to a plain function stops start-up, saying why."""
    spec = flag or os.environ.get(CHOOSE_ENV) or None
    if spec is None:
        return None, None
    source = "--choose" if flag else CHOOSE_ENV
    where = Where(Path.cwd() / "nbruns serve")  # messages read "nbruns serve: --choose: ..."
    try:
        return checked_hook(import_attr(spec, source, where)), spec
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    except TypeError as exc:
        raise SystemExit(f"nbruns serve: {source}: {spec!r}: {exc}") from None
