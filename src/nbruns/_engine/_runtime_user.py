"""The user a graph factory's `ServerRuntime` carries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

__all__ = ["RuntimeUser", "user_in"]


class RuntimeUser(Mapping[str, Any]):
    """The authenticated user, read from the run's config: the auth guard puts it there
    as a plain dict (`configurable.langgraph_auth_user`, so it survives checkpoints).
    It answers as `langgraph_sdk.auth.types.BaseUser` does: by attribute and by key."""

    def __init__(self, data: Mapping[str, Any], permissions: Sequence[str]) -> None:
        self._data = dict(data)
        self._permissions = list(permissions)

    @property
    def identity(self) -> str:
        return str(self._data["identity"])

    @property
    def is_authenticated(self) -> bool:
        return bool(self._data.get("is_authenticated", True))

    @property
    def display_name(self) -> str:
        return str(self._data.get("display_name") or self.identity)

    @property
    def permissions(self) -> Sequence[str]:
        return list(self._permissions)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"RuntimeUser(identity={self.identity!r})"


def user_in(config: Mapping[str, Any]) -> RuntimeUser | None:
    """The user the auth guard handed this config, or None (no auth configured)."""
    configurable = config.get("configurable") or {}
    data = configurable.get("langgraph_auth_user")
    if not isinstance(data, Mapping) or "identity" not in data:
        return None
    return RuntimeUser(data, configurable.get("langgraph_auth_permissions") or ())
