"""The served app as langgraph.json's `http` section shapes it: route families switched
off, the project's own Starlette/FastAPI app around the API, CORS outermost.

As on LangGraph's server, the project's app is the outer one: its middleware wraps
every route and its routes are tried before the API's (so it may add routes or
shadow `/info`), except `/ok` and `/openapi.json`, which always answer as nbruns's.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route

from ._cors import CorsMiddleware, CorsPolicy

__all__ = ["ROUTE_FAMILIES", "assemble_app", "family_of"]

# langgraph.json's `http.disable_<family>` flags nbruns has routes for
ROUTE_FAMILIES = ("assistants", "threads", "runs", "store", "meta")
_META = {"/info", "/openapi.json", "/docs", "/metrics"}
_UNSHADOWABLE = ("/ok", "/openapi.json")


def family_of(path: str) -> str | None:
    """The `disable_*` family a route path belongs to, as the reference groups them
    (runs under a thread, and crons, are runs); None for `/ok` and nbruns's own."""
    parts = path.strip("/").split("/")
    head = parts[0]
    if head == "runs" or (head == "threads" and len(parts) > 2 and parts[2] == "runs"):
        return "runs"
    if head in ("assistants", "threads", "store"):
        return head
    if path in _META:
        return "meta"
    return None


def _kept(route: BaseRoute, disabled: Collection[str]) -> bool:
    path = getattr(route, "path", "")
    family = family_of(path)
    if family is not None:
        return family not in disabled
    # nbruns's own run listings would show what disabling threads or runs hides
    return not (path.startswith("/nbruns") and {"runs", "threads"} & set(disabled))


def assemble_app(
    api_app: Starlette,
    *,
    disabled: Collection[str] = (),
    custom_app: Starlette | None = None,
    cors: CorsPolicy | None = None,
) -> Starlette:
    """`api_app` with `disabled` families removed, inside `custom_app` if given, behind
    `cors` if given. Returns the app to serve (`custom_app` itself when given)."""
    unknown = set(disabled) - set(ROUTE_FAMILIES)
    if unknown:
        raise ValueError(f"no route family {sorted(unknown)}; known: {list(ROUTE_FAMILIES)}")
    if disabled:
        api_app.router.routes = [r for r in api_app.router.routes if _kept(r, disabled)]
    app = api_app
    if custom_app is not None:
        served = [p for p in _UNSHADOWABLE if any(_kept_path(r, p) for r in api_app.routes)]
        custom_app.router.routes = [
            *(Route(path, api_app) for path in served),
            *custom_app.router.routes,
            Mount("", app=api_app),
        ]
        app = custom_app
    if cors is not None:
        app.add_middleware(CorsMiddleware, policy=cors)
    return app


def _kept_path(route: BaseRoute, path: str) -> bool:
    return getattr(route, "path", None) == path
