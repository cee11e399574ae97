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

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._core._errors import InvalidInput, NbrunsError, Unauthorized
from .._engine._executor import Executor
from .._engine._runspec import is_uuid
from . import _assistants, _extensions, _meta, _runs, _threads
from ._declare import Api, Call, Endpoint, EndpointRoute
from ._http import error_response

__all__ = ["ENDPOINTS", "create_app"]

ENDPOINTS: tuple[Endpoint, ...] = (
    *_runs.endpoint.declared,  # the hot paths first: Starlette tries routes in order
    *_meta.endpoint.declared,
    *_assistants.endpoint.declared,
    *_threads.endpoint.declared,
    *_extensions.endpoint.declared,
)
"""Every endpoint nbruns serves, in the order its routes are tried."""

# path parameter -> what it names; each must be a UUID
_ID_PARAMS = {"thread_id": "thread", "run_id": "run"}


def _check_ids(request: Request) -> None:
    for param, what in _ID_PARAMS.items():
        value = request.path_params.get(param)
        if value is not None and not is_uuid(value):
            raise InvalidInput(f"Invalid {what} ID: must be a UUID (got {value!r:.60})")


def _route(declared: Endpoint, api: Api, api_key: str | None) -> EndpointRoute:
    """The declared handler behind the guard: the API key and path ids are checked first,
    and nbruns errors become `{"detail"}` responses."""
    expected = None if api_key is None else api_key.encode()

    async def endpoint(request: Request) -> Response:
        try:
            if expected is not None:
                given = request.headers.get("x-api-key", "")
                if not hmac.compare_digest(given.encode(), expected):
                    raise Unauthorized(
                        "Missing or wrong x-api-key header: this server was started with --api-key"
                    )
            _check_ids(request)
            call: Call[object, object] = Call(request, declared, api.max_body_bytes)
            return await declared.handler(api, call)
        except NbrunsError as exc:
            return error_response(exc.status_code, exc.detail)

    return EndpointRoute(declared, endpoint)


def create_app(
    executor: Executor,
    *,
    api_key: str | None = None,
    max_body_bytes: int | None = None,
    extra_routes: list[Route] | None = None,
) -> Starlette:
    api = Api(executor, max_body_bytes=max_body_bytes, api_key_required=api_key is not None)
    routes: list[Route] = [_route(e, api, api_key) for e in ENDPOINTS]
    routes.extend(extra_routes or [])  # served, and listed in the document as undescribed

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(
            404, f"Not found: {request.method} {request.url.path} is not an nbruns route"
        )

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(405, f"Method {request.method} is not allowed on {request.url.path}")

    async def crashed(request: Request, exc: Exception) -> Response:
        return error_response(500, f"nbruns failed unexpectedly: {type(exc).__name__}: {exc}")

    return Starlette(
        routes=routes,
        exception_handlers={404: not_found, 405: not_allowed, Exception: crashed},
    )
