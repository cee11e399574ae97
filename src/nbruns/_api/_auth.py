"""LangGraph custom auth (a `langgraph_sdk.Auth` object), applied by the route guard.

`@auth.authenticate` runs on every request to a protected endpoint; its parameters
are given by name, as LangGraph documents (request, headers, authorization, path,
method, path_params, query_params, scope, scopes, user). An `HTTPException` it
raises is the answer, with its status, detail and headers; what it returns is the
user. Then the endpoint's rule (`_auth_rules`) asks the most specific `@auth.on`
handler about the resource and action, and enforces its answer: None/True allow,
False is a 403, a filter dict restricts what the request sees and touches.

The object is read duck-typed (its `_authenticate_handler`, `_handlers` and
`_global_handlers`, as LangGraph's server reads them): the API layer does not
import the SDK.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request

from .._core._authz import check_filter, filter_matches
from .._core._errors import NbrunsError

__all__ = [
    "AuthContext",
    "AuthRefused",
    "AuthUser",
    "Authorizer",
    "restrict",
    "visible",
]

# what `@auth.authenticate` may ask for, by parameter name
_INJECTED = (
    "request",
    "path",
    "method",
    "path_params",
    "query_params",
    "headers",
    "authorization",
    "scope",
    "scopes",
    "user",
)

# a failing handler is the server's bug: its traceback goes to the log, its message to the client
_log = logging.getLogger("nbruns.auth")


class AuthRefused(NbrunsError):
    """The answer an auth handler chose: its status, detail and headers."""

    def __init__(self, status_code: int, detail: str, headers: Mapping[str, str] | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.headers = dict(headers or {})


class AuthUser:
    """`ctx.user`: what `@auth.authenticate` returned, read as LangGraph reads it
    (`identity`, `is_authenticated`, `display_name`, `permissions`; by attribute or key)."""

    def __init__(self, raw: Any) -> None:
        if isinstance(raw, str):
            raw = {"identity": raw}
        mapping = isinstance(raw, Mapping)
        identity = raw.get("identity") if mapping else getattr(raw, "identity", None)
        if not isinstance(identity, str):
            raise AuthRefused(
                403,
                "The auth handler's @auth.authenticate must return a user: a string "
                "identity, a dict with an 'identity' string, or an object with an "
                f"'identity' attribute (got {type(raw).__name__})",
            )
        self._raw = raw
        self.identity = identity

    def _read(self, name: str, default: Any) -> Any:
        if isinstance(self._raw, Mapping):
            return self._raw.get(name, default)
        return getattr(self._raw, name, default)

    @property
    def is_authenticated(self) -> bool:
        return bool(self._read("is_authenticated", True))

    @property
    def display_name(self) -> str:
        return str(self._read("display_name", self.identity))

    @property
    def permissions(self) -> Sequence[str]:
        return list(self._read("permissions", []) or [])

    def dict(self) -> dict[str, Any]:
        extra = dict(self._raw) if isinstance(self._raw, Mapping) else {}
        return {
            **extra,
            "identity": self.identity,
            "is_authenticated": self.is_authenticated,
            "display_name": self.display_name,
        }

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        missing = object()
        found = self._read(name, missing)
        if found is missing:
            raise AttributeError(f"the user has no {name!r}")
        return found

    def __getitem__(self, key: str) -> Any:
        return self.dict()[key]

    def __contains__(self, key: object) -> bool:
        return key in self.dict()

    def __iter__(self) -> Iterator[str]:
        return iter(self.dict())

    def get(self, key: str, default: Any = None) -> Any:
        return self.dict().get(key, default)

    def __repr__(self) -> str:
        return f"AuthUser({self.identity!r})"


@dataclass(frozen=True, slots=True)
class AuthContext:
    """`ctx` as an `@auth.on` handler sees it (LangGraph's `Auth.types.AuthContext`)."""

    user: AuthUser
    permissions: Sequence[str]
    resource: str
    action: str


def _http_answer(exc: BaseException) -> AuthRefused | None:
    """An `HTTPException` (the SDK's or Starlette's) as the answer it asks for."""
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        return None
    detail = getattr(exc, "detail", None)
    headers = getattr(exc, "headers", None)
    return AuthRefused(status, str(detail) if detail is not None else str(exc), headers)


def _identify(result: Any) -> tuple[AuthUser, list[str]]:
    """The user and permissions from what `@auth.authenticate` returned."""
    if isinstance(result, tuple) and len(result) == 2:
        permissions, raw = result
    elif isinstance(result, Mapping):
        permissions, raw = result.get("permissions", []), result
    else:
        permissions, raw = getattr(result, "permissions", []), result
    return AuthUser(raw), list(permissions or [])


class Authorizer:
    """One `langgraph_sdk.Auth` object, ready to authenticate and authorize requests."""

    def __init__(self, auth: Any) -> None:
        authenticate = getattr(auth, "_authenticate_handler", None)
        if authenticate is None or not hasattr(auth, "_handlers"):
            raise ValueError(
                "auth: expected a langgraph_sdk.Auth object with an @auth.authenticate "
                f"handler (got a {type(auth).__name__}, with no authenticate handler)"
            )
        self._auth = auth
        self._authenticate: Callable[..., Any] = authenticate
        params = inspect.signature(authenticate).parameters
        unsupported = [n for n, p in params.items() if n not in _INJECTED and p.default is p.empty]
        if unsupported:
            raise ValueError(
                f"auth: @auth.authenticate asks for {', '.join(unsupported)}; "
                f"it may ask for: {', '.join(_INJECTED)}"
            )
        self._wanted = [n for n in params if n in _INJECTED]

    def _arguments(self, request: Request) -> dict[str, Any]:
        scope = request.scope
        raw_headers = dict(scope.get("headers", []))
        given: dict[str, Callable[[], Any]] = {
            "request": lambda: request,
            "path": lambda: scope["path"],
            "method": lambda: scope["method"],
            "path_params": lambda: dict(scope.get("path_params", {})),
            "query_params": lambda: QueryParams(scope.get("query_string", b"")),
            "headers": lambda: raw_headers,
            "authorization": lambda: request.headers.get("authorization"),
            "scope": lambda: scope,
            "scopes": lambda: [],
            "user": lambda: None,
        }
        return {name: given[name]() for name in self._wanted}

    async def authenticate(self, request: Request) -> AuthContext:
        """The request's user (as a context with no resource yet), or the handler's refusal."""
        args = self._arguments(request)
        try:
            if inspect.iscoroutinefunction(self._authenticate):
                result = await self._authenticate(**args)
            else:
                result = await run_in_threadpool(self._authenticate, **args)
        except Exception as exc:
            answer = _http_answer(exc)
            if answer is None:
                _log.exception("nbruns: @auth.authenticate raised")
                raise AuthRefused(
                    401, f"The auth handler failed: {type(exc).__name__}: {exc}"
                ) from exc
            raise answer from exc
        user, permissions = _identify(result)
        return AuthContext(user, permissions, "", "")

    def _handler(self, resource: str, action: str) -> Callable[..., Any] | None:
        handlers: Mapping[tuple[str, str], list[Callable[..., Any]]] = self._auth._handlers
        for key in ((resource, action), (resource, "*"), ("*", action), ("*", "*")):
            if key in handlers:
                return handlers[key][-1]  # the last registered wins, as in LangGraph
        global_handlers: list[Callable[..., Any]] = getattr(self._auth, "_global_handlers", [])
        return global_handlers[-1] if global_handlers else None

    async def authorize(
        self, who: AuthContext, resource: str, action: str, value: dict[str, Any]
    ) -> Mapping[str, Any] | None:
        """Ask the most specific handler; its filter, or None to allow everything.
        `value` is the handler's to change (create handlers add metadata to it)."""
        handler = self._handler(resource, action)
        if handler is None:
            return None
        ctx = AuthContext(who.user, who.permissions, resource, action)
        try:
            result: Any = handler(ctx=ctx, value=value)
            if inspect.isawaitable(result):
                result = await result
        except AssertionError as exc:
            raise AuthRefused(403, str(exc) or "Forbidden") from exc
        except Exception as exc:
            answer = _http_answer(exc)
            if answer is None:
                failed = f"{type(exc).__name__}: {exc}"
                _log.exception("nbruns: the auth handler for %s.%s raised", resource, action)
                raise AuthRefused(
                    403, f"The auth handler for {resource}.{action} failed: {failed}"
                ) from exc
            raise answer from exc
        if result is None or result is True:
            return None
        if result is False:
            raise AuthRefused(403, "Forbidden")
        if not isinstance(result, Mapping):
            raise AuthRefused(
                403,
                f"The auth handler for {resource}.{action} returned {type(result).__name__}; "
                "it must return None, True, False or a filter dict",
            )
        check_filter(result)
        return result or None


_FILTER_KEY = "nbruns.auth_filter"  # in the request's own scope: one per request


def restrict(request: Request, filters: Mapping[str, Any] | None) -> None:
    """Hand the endpoint the filter its search or listing must apply."""
    request.scope[_FILTER_KEY] = filters


def visible(request: Request) -> Callable[[Mapping[str, Any]], bool] | None:
    """The predicate on metadata an endpoint must apply to what it lists (None: all)."""
    filters = request.scope.get(_FILTER_KEY)
    if not filters:
        return None
    return lambda metadata: filter_matches(metadata, filters)
