"""nbruns.testing's public names are explicit and documented, and importing it is light."""

from __future__ import annotations

import subprocess
import sys
import types

import nbruns.testing as testing


def test_all_is_complete() -> None:
    public = {
        n
        for n in dir(testing)
        if not n.startswith("_") and not isinstance(getattr(testing, n), types.ModuleType)
    }
    assert len(testing.__all__) == len(public)  # sorted by ruff (RUF022): constants first
    assert set(testing.__all__) == public


def test_every_public_name_is_documented() -> None:
    for name in set(testing.__all__) - {"SANITIZE_PATH"}:
        assert getattr(testing, name).__doc__, f"nbruns.testing.{name} has no docstring"
    assert testing.__doc__ and "pause(" in testing.__doc__ and "wait_idle(" in testing.__doc__


def test_importing_it_loads_neither_pandas_nor_pytest() -> None:
    code = (
        "import sys, nbruns.testing; "
        "print(sorted(m for m in ('pandas', 'pytest', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
