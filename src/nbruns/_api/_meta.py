"""The server's own endpoints: health, versions, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from ._declare import Api, Call, Endpoints, Reply
from ._http import json_response
from ._openapi import openapi_document
from ._shapes import Info, Ok
from ._wire import info_json

__all__ = ["endpoint"]

endpoint = Endpoints("meta")


@endpoint("GET", "/ok", "Health check", ok=Reply("The server is up", Ok))
async def ok(api: Api, call: Call[None, None]) -> Response:
    body: Ok = {"ok": True}
    return json_response(body)


@endpoint(
    "GET",
    "/info",
    "Server versions, flags and served graph ids",
    ok=Reply("Server information", Info),
)
async def info(api: Api, call: Call[None, None]) -> Response:
    body = info_json(api.ex.graphs.ids())
    # crons are served (`_crons`), as the reference's `flags.crons` says of its own
    return json_response({**body, "flags": {**body["flags"], "crons": True}})


@endpoint("GET", "/openapi.json", "This document", ok=Reply("OpenAPI 3.1 document", dict[str, Any]))
async def openapi(api: Api, call: Call[None, None]) -> Response:
    document = openapi_document(
        call.request.app.routes,
        graph_ids=api.ex.graphs.ids(),
        api_key_required=api.api_key_required,
    )
    return json_response(document)
