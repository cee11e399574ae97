"""How an endpoint is declared: once, on its handler.

Each resource module keeps an `Endpoints` registry and decorates its handlers:

    endpoint = Endpoints("assistants")

    @endpoint(
        "PATCH", "/assistants/{assistant_id}", "Update an assistant",
        ok=Reply("The updated assistant", Assistant),
        body=json_body(AssistantPatch, "assistant update"),
        errors=(404,),
    )
    async def patch(api: Api, call: Call[AssistantPatch, None]) -> Response:
        changes = await call.body()  # read and validated as declared
        ...

`create_app` makes each declaration a route, `openapi_document` an operation.
Both read the same `Endpoint`, so the server and its document cannot disagree.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._engine._executor import Executor
from ._http import read_body, read_query
from ._requests import BodyModel, parse

__all__ = [
    "Api",
    "Body",
    "Call",
    "Endpoint",
    "EndpointRoute",
    "Endpoints",
    "Handler",
    "Reply",
    "json_body",
]

B = TypeVar("B")
Q = TypeVar("Q")
M = TypeVar("M", bound=BodyModel)


@dataclass(frozen=True)
class Api:
    """What every handler may use: the executor, and how the app was set up."""

    ex: Executor
    max_body_bytes: int | None
    api_key_required: bool


class Call(Generic[B, Q]):
    """One request to a declared endpoint. Its query and body are read as the endpoint
    declares them, when the handler first asks: so the handler decides which check
    answers first (joining an unknown run is a 404 even with a bad flag, say)."""

    def __init__(self, request: Request, declared: Endpoint, max_body_bytes: int | None):
        self.request = request
        self._declared = declared
        self._max_body_bytes = max_body_bytes

    @property
    def path(self) -> Mapping[str, str]:
        """The path parameters (thread and run ids already checked to be UUIDs)."""
        return self.request.path_params

    @functools.cached_property
    def query(self) -> Q:
        """The query string as the declared query model; a 422 names a bad parameter."""
        model = self._declared.query
        if model is None:
            raise TypeError(f"{self._declared.path} declares no query model")
        return cast(Q, read_query(model, self.request))

    async def body(self) -> B:
        """The body read as declared: a 413 over the size limit, a 422 when invalid."""
        body = self._declared.body
        if body is None:
            raise TypeError(f"{self._declared.path} declares no body")
        return cast(B, body.read(await read_body(self.request, self._max_body_bytes)))


Handler = Callable[[Api, Call[Any, Any]], Awaitable[Response]]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Reply:
    """A successful answer: what it means, the shape of its body, the headers it sets."""

    description: str
    shape: Any = None  # a `_shapes` type, list[...] of one, or None for no body
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description
    optional_headers: Mapping[str, str] = field(default_factory=dict)  # sent only sometimes


@dataclass(frozen=True)
class Body:
    """A request body: its shape for the document, and how its raw bytes are read."""

    shape: Any
    read: Callable[[bytes], Any]
    required: bool = False


def json_body(model: type[M], what: str, *, required: bool = False) -> Body:
    """A JSON object body validated by `model`; `what` names it in 422 details."""
    return Body(model, lambda raw: parse(model, raw, what), required)


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One method on one path, everything about it in one place."""

    method: str
    path: str  # Starlette's syntax, with the reference server's parameter names
    handler: Handler
    summary: str
    tag: str
    ok: Mapping[int, Reply]  # status -> answer
    errors: tuple[int, ...] = ()  # besides the ones every id, body and key can cause
    body: Body | None = None
    query: type[BaseModel] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)  # request headers read


class Endpoints:
    """A resource module's endpoints, in the order they were declared."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.declared: list[Endpoint] = []

    def __call__(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        ok: Reply | Mapping[int, Reply],
        errors: tuple[int, ...] = (),
        body: Body | None = None,
        query: type[BaseModel] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Callable[[H], H]:
        """Declare the decorated handler as serving `method` `path` (stackable)."""

        def declare(handler: H) -> H:
            self.declared.append(
                Endpoint(
                    method,
                    path,
                    handler,
                    summary,
                    self.tag,
                    {200: ok} if isinstance(ok, Reply) else ok,
                    errors,
                    body,
                    query,
                    headers or {},
                )
            )
            return handler

        return declare


class EndpointRoute(Route):
    """A Starlette route that remembers its declaration, for the OpenAPI document."""

    def __init__(self, declared: Endpoint, endpoint: Callable[[Request], Awaitable[Response]]):
        super().__init__(declared.path, endpoint, methods=[declared.method])
        self.declared = declared
