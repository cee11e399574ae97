"""The public API is explicit: __all__ lists exactly the public names."""

from __future__ import annotations

import nbruns


def test_all_is_sorted_and_complete() -> None:
    public = sorted(
        {n for n in dir(nbruns) if not n.startswith("_") and not _is_module(n)}
        | {"Playground", "Watch", "watch"}
    )
    assert nbruns.__all__ == sorted(nbruns.__all__)
    assert sorted(nbruns.__all__) == public


def _is_module(name: str) -> bool:
    import types

    return isinstance(getattr(nbruns, name), types.ModuleType)


def test_every_public_name_is_documented() -> None:
    for name in nbruns.__all__:
        assert getattr(nbruns, name).__doc__, f"nbruns.{name} has no docstring"


def test_playground_is_imported_lazily() -> None:
    import sys

    assert nbruns.Playground.__name__ == "Playground"
    assert "nbruns.views.widgets" in sys.modules


def test_views_subpackage_is_explicit_too() -> None:
    import types

    import nbruns.views as views

    public = {
        n
        for n in dir(views)
        if not n.startswith("_") and not isinstance(getattr(views, n), types.ModuleType)
    }
    assert views.__all__ == sorted(views.__all__)
    assert set(views.__all__) == public | {"Playground", "Watch", "watch"}
    # the top level re-exports the views people reach for, as the same objects; the
    # timeline's helpers (fit_to_*, thread_labels) stay in nbruns.views
    helpers = {"fit_to_recent", "fit_to_thread", "thread_labels"}
    assert set(nbruns.__all__) >= set(views.__all__) - helpers
    for name in set(views.__all__) - helpers:
        assert getattr(nbruns, name) is getattr(views, name)


def test_the_nbruns_command_points_at_the_cli() -> None:
    from importlib.metadata import entry_points

    from nbruns._served._cli import main

    (script,) = entry_points(group="console_scripts", name="nbruns")
    assert script.load() is main
