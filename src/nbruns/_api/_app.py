"""The HTTP API: LangGraph API server routes mapped onto the executor.

One implementation serves both the in-process client (through the bridge
transport) and `nbruns serve` (through uvicorn), so the two cannot drift.
Handlers validate, call the executor, and shape JSON; they decide nothing.

Each resource module declares its endpoints on their handlers (`_declare`);
this module turns them into routes behind one guard: the API key, the ids in
the path, and nbruns errors answered as `{"detail": ...}`.
"""

from __future__ import annotations

import hmac
import logging

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._core._errors import InvalidInput, NbrunsError, Unauthorized
from .._engine._executor import Executor
from .._engine._runspec import is_uuid
from . import (
    _assistants,
    _crons,
    _extensions,
    _holds,
    _meta,
    _rolled_back,
    _runs,
    _store,
    _thread_commands,
    _thread_streams,
    _threads,
)
from ._auth import Authorizer, AuthRefused
from ._auth_more import enforce
from ._auth_rules import OPEN
from ._declare import Api, Call, Endpoint, EndpointRoute
from ._http import error_response, json_response
from ._thread_socket import thread_socket_route

__all__ = ["ENDPOINTS", "create_app"]

logger = logging.getLogger(__name__)

ENDPOINTS: tuple[Endpoint, ...] = (
    *_runs.endpoint.declared,  # the hot paths first: Starlette tries routes in order
    *_meta.endpoint.declared,
    *_assistants.endpoint.declared,
    *_threads.endpoint.declared,
    *_thread_streams.endpoint.declared,
    *_thread_commands.endpoint.declared,
    *_crons.endpoint.declared,
    *_store.endpoint.declared,
    *_extensions.endpoint.declared,
    *_holds.endpoint.declared,
    *_rolled_back.endpoint.declared,
)
"""Every endpoint nbruns serves, in the order its routes are tried."""

# path parameter -> what it names; each must be a UUID
_ID_PARAMS = {"thread_id": "thread", "run_id": "run", "cron_id": "cron"}


def _check_ids(request: Request) -> None:
    for param, what in _ID_PARAMS.items():
        value = request.path_params.get(param)
        if value is not None and not is_uuid(value):
            raise InvalidInput(f"Invalid {what} ID: must be a UUID (got {value!r:.60})")


def _route(
    declared: Endpoint, api: Api, api_key: str | None, authorizer: Authorizer | None
) -> EndpointRoute:
    """The declared handler behind the guard: the API key, the auth handler's
    authentication, the path ids and the endpoint's authorization rule are checked
    first, and nbruns errors become `{"detail"}` responses."""
    expected = None if api_key is None else api_key.encode()
    protected = authorizer is not None and (declared.method, declared.path) not in OPEN

    async def endpoint(request: Request) -> Response:
        try:
            if expected is not None:
                given = request.headers.get("x-api-key", "")
                if not hmac.compare_digest(given.encode(), expected):
                    raise Unauthorized(
                        "Missing or wrong x-api-key header: this server was started with --api-key"
                    )
            who = await authorizer.authenticate(request) if protected and authorizer else None
            _check_ids(request)
            if who is not None and authorizer is not None:
                request = await enforce(authorizer, who, api, declared, request)
            call: Call[object, object] = Call(request, declared, api.max_body_bytes)
            return await declared.handler(api, call)
        except AuthRefused as exc:
            return json_response({"detail": exc.detail}, exc.status_code, exc.headers)
        except NbrunsError as exc:
            return error_response(exc.status_code, exc.detail)

    return EndpointRoute(declared, endpoint)


def create_app(
    executor: Executor,
    *,
    api_key: str | None = None,
    max_body_bytes: int | None = None,
    extra_routes: list[Route] | None = None,
    auth: object | None = None,
) -> Starlette:
    """The app over `executor`. `auth` is a `langgraph_sdk.Auth` object (LangGraph's
    custom auth): with it every endpoint but /ok, /info and /openapi.json is
    authenticated and authorized by its rule (`_auth_rules`), in process too."""
    authorizer = None if auth is None else Authorizer(auth)
    api = Api(executor, max_body_bytes=max_body_bytes, api_key_required=api_key is not None)
    routes: list[Route] = [_route(e, api, api_key, authorizer) for e in ENDPOINTS]
    routes.extend(extra_routes or [])  # served, and listed in the document as undescribed

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(
            404, f"Not found: {request.method} {request.url.path} is not an nbruns route"
        )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        # the path exists with other methods; to a client this method's route is just absent
        # the router that matched the path: routes may have been removed since (disabled)
        router_routes = getattr(request.scope.get("router"), "routes", routes)
        served = _methods_at(router_routes, request.scope["path"])
        return error_response(
            404,
            f"nbruns does not serve {request.method} {request.url.path} "
            f"(it serves {', '.join(served) or 'other methods'} there)",
        )

    async def crashed(request: Request, exc: Exception) -> Response:
        # only for a crash outside the routes (_AnswerCrashes answers theirs): Starlette
        # re-raises it after this answer, and the server then closes the connection
        return _crash_response(exc)

    # the SDK's thread stream over WebSocket (only a served app ever receives one)
    socket = thread_socket_route(api, api_key, auth_configured=authorizer is not None)
    return Starlette(
        routes=[*routes, socket],
        middleware=[Middleware(_AnswerCrashes)],
        exception_handlers={404: not_found, 405: not_allowed, Exception: crashed},
    )


def _methods_at(routes: list[BaseRoute], path: str) -> list[str]:
    """The methods the routes serve at `path` (HEAD goes without saying)."""
    methods = {
        m
        for r in routes
        if isinstance(r, Route) and r.path_regex.match(path)
        for m in r.methods or ()
        if m != "HEAD"
    }
    return sorted(methods)


def _crash_response(exc: BaseException) -> Response:
    return error_response(500, f"nbruns failed unexpectedly: {type(exc).__name__}: {exc}")


class _AnswerCrashes:
    """Answer a route's unexpected exception with a 500 `{"detail"}`, log it, and end
    there.

    Starlette's handler for `Exception` answers and then re-raises, and uvicorn closes
    a connection whose request raised: a keep-alive client's next request then fails.
    A crash after the answer began (a stream) still propagates: that answer is cut.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            if started:
                raise
            logger.error(
                "%s %s failed unexpectedly", scope.get("method"), scope.get("path"), exc_info=exc
            )
            await _crash_response(exc)(scope, receive, send)
