"""`langgraph.json`'s `http`, `auth` and `store` sections, checked key by key."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette

from .._api._assemble import ROUTE_FAMILIES
from .._api._cors import CorsPolicy
from .._core._errors import NbrunsError
from ._imports import import_attr
from ._where import Where

__all__ = ["Http", "load_auth", "load_http", "load_store"]

# http keys whose every value nbruns honours by having nothing to switch off
_NOTHING_TO_DISABLE = {
    "disable_mcp": "nbruns serves no /mcp routes",
    "disable_a2a": "nbruns serves no /a2a routes",
    "disable_ui": "nbruns serves no /ui routes",
    "disable_webhooks": "nbruns sends no webhooks",
}
# http keys honoured only at their default (False or absent): key -> why not otherwise
_DEFAULT_ONLY = {
    "disable_event_streaming": "nbruns cannot switch its event streams off apart from runs "
    "(use disable_runs)",
    "enable_custom_route_auth": "nbruns's auth guards the API's routes only, not http.app's",
    "configurable_headers": "nbruns copies no request headers into a run's configurable",
    "mount_prefix": "nbruns serves the API at the root path",
}
_CORS_LISTS = ("allow_origins", "allow_methods", "allow_headers", "expose_headers")


@dataclass(frozen=True)
class Http:
    app: Starlette | None = None
    disabled: frozenset[str] = frozenset()
    cors: CorsPolicy | None = None


def _flag(section: Mapping[str, Any], key: str, where: Where) -> bool:
    value = section.get(key, False)
    if not isinstance(value, bool):
        raise where.error(f"http.{key}", f"{value!r}: expected true or false")
    return value


def load_http(section: Any, where: Where) -> Http:
    if section is None:
        return Http()
    if not isinstance(section, Mapping):
        raise where.error("http", "expected an object")
    families = {f"disable_{family}": family for family in ROUTE_FAMILIES}
    known = {"app", "cors", "logging_headers", "middleware_order"}
    known |= set(families) | set(_NOTHING_TO_DISABLE) | set(_DEFAULT_ONLY)
    unknown = sorted(set(section) - known)
    if unknown:
        raise where.error(f"http.{unknown[0]}", f"not an http key; nbruns reads {sorted(known)}")
    for key in _NOTHING_TO_DISABLE:
        _flag(section, key, where)  # accepted either way: nothing to switch off
    for key, why in _DEFAULT_ONLY.items():
        if section.get(key) not in (None, False):
            raise where.error(f"http.{key}", f"{section[key]!r} is not supported: {why}")
    order = section.get("middleware_order")
    if order not in (None, "middleware_first"):
        raise where.error(
            "http.middleware_order",
            f"{order!r}: nbruns runs http.app's middleware before auth ('middleware_first')",
        )
    disabled = frozenset(f for key, f in families.items() if _flag(section, key, where))
    app = None
    if section.get("app") is not None:
        if not isinstance(section["app"], str):
            raise where.error("http.app", "expected './path/to/file.py:app'")
        app = import_attr(section["app"], "http.app", where)
        if not isinstance(app, Starlette):
            raise where.error(
                "http.app",
                f"{section['app']!r} is a {type(app).__name__}; expected a Starlette or "
                "FastAPI application",
            )
    # logging_headers: which headers logs leave out; nbruns logs no request headers
    return Http(app=app, disabled=disabled, cors=_cors(section.get("cors"), where))


def _cors(section: Any, where: Where) -> CorsPolicy | None:
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise where.error("http.cors", "expected an object")
    known = (*_CORS_LISTS, "allow_credentials", "allow_origin_regex", "max_age")
    unknown = sorted(set(section) - set(known))
    if unknown:
        raise where.error(f"http.cors.{unknown[0]}", f"not a CORS key; allowed: {list(known)}")
    kwargs: dict[str, Any] = {}
    for key in _CORS_LISTS:
        if key in section:
            value = section[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise where.error(f"http.cors.{key}", "expected a list of strings")
            kwargs[key] = tuple(value)
    if "allow_credentials" in section:
        if not isinstance(section["allow_credentials"], bool):
            raise where.error("http.cors.allow_credentials", "expected true or false")
        kwargs["allow_credentials"] = section["allow_credentials"]
    if section.get("allow_origin_regex") is not None:
        regex = section["allow_origin_regex"]
        try:
            re.compile(regex)
        except (re.error, TypeError) as exc:
            raise where.error("http.cors.allow_origin_regex", f"{regex!r}: {exc}") from None
        kwargs["allow_origin_regex"] = regex
    if "max_age" in section:
        age = section["max_age"]
        if not isinstance(age, int) or isinstance(age, bool) or age < 0:
            raise where.error("http.cors.max_age", "expected a number of seconds (>= 0)")
        kwargs["max_age"] = age
    return CorsPolicy(**kwargs)


# auth keys: path loads the Auth object; the rest are accepted or refused with a reason
_AUTH_KEYS = {"path", "disable_studio_auth", "allow_langsmith_api_keys", "openapi", "cache"}


def load_auth(section: Any, where: Where) -> Any:
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise where.error("auth", 'expected {"path": "./auth.py:auth"}')
    unknown = sorted(set(section) - _AUTH_KEYS)
    if unknown:
        raise where.error(f"auth.{unknown[0]}", f"not an auth key; allowed: {sorted(_AUTH_KEYS)}")
    # disable_studio_auth: nbruns lets no request around the handler (there is no Studio
    # API-key path), which is what `true` asks for and stricter than `false`.
    # cache: nbruns authenticates every request; no cached identity can go stale.
    if section.get("allow_langsmith_api_keys") not in (None, False):
        raise where.error(
            "auth.allow_langsmith_api_keys",
            "nbruns cannot check LangSmith API keys; remove it (your handler sees every request)",
        )
    if section.get("openapi"):
        raise where.error(
            "auth.openapi",
            "nbruns's /openapi.json does not carry custom security schemes; remove it",
        )
    path = section.get("path")
    if path is None:
        return None
    if not isinstance(path, str):
        raise where.error("auth.path", "expected './path/to/auth.py:auth'")
    auth = import_attr(path, "auth.path", where)
    if not any(
        c.__name__ == "Auth" and c.__module__.startswith("langgraph_sdk")
        for c in type(auth).__mro__
    ):
        raise where.error(
            "auth.path", f"{path!r} is a {type(auth).__name__}; expected a langgraph_sdk.Auth()"
        )
    return auth


def load_store(section: Any, where: Where) -> Any:
    if section is None:
        return None
    from .._persistence._kvstore import StoreConfig

    try:
        return StoreConfig.from_json(section, base_dir=where.base)
    except NbrunsError as exc:
        raise where.error("store", exc.detail.removeprefix("store: ")) from None
