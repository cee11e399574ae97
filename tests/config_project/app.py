"""The project's own HTTP app (langgraph.json `http.app`), served around the API."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LIFESPAN: list[str] = []


async def hello(request: Request) -> JSONResponse:
    return JSONResponse({"hello": os.environ["NBRUNS_PROJECT_GREETING"], "lifespan": LIFESPAN})


async def shadowed_ok(request: Request) -> JSONResponse:
    return JSONResponse({"shadowed": True})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    LIFESPAN.append("started")
    yield
    LIFESPAN.append("stopped")


app = Starlette(
    routes=[Route("/hello", hello), Route("/ok", shadowed_ok)],  # /ok stays nbruns's
    lifespan=lifespan,
)
