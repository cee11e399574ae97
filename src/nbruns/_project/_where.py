"""Where a langgraph.json problem is: the error it raises, and the file it is about."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

__all__ = ["ConfigError", "Where"]


class ConfigError(ValueError):
    """A `langgraph.json` nbruns cannot honour: the message names the key and what is allowed."""


@dataclass(frozen=True)
class Where:
    """The config file, for messages and for the paths in it."""

    path: Path
    modules: dict[Path, ModuleType] = field(default_factory=dict)  # one import per file

    @property
    def base(self) -> Path:
        return self.path.parent

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path.name}: {key}: {problem}")
