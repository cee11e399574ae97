"""Where the nbval sanitize rules shipped with nbruns are (package data)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["SANITIZE_PATH"]

# An absolute path, for `pytest --nbval --nbval-sanitize-with`.
SANITIZE_PATH = str(Path(__file__).with_name("nbval-sanitize.cfg").resolve())
