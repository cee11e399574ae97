"""The store endpoints (`client.store.*`): items in LangGraph's `BaseStore`, the same
store every graph run is handed (`store: BaseStore`, `InjectedStore`, `get_store()`).

Handlers read the request, call the store, and shape its items; the store's own
errors become 4xx answers: a namespace it refuses (empty, or under the reserved root
"langgraph") a 400 as on LangGraph's server, a filter it cannot apply a 400.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, Literal

from langgraph.store.base import BaseStore, InvalidNamespaceError, Item, SearchItem
from langgraph.store.memory import InMemoryStore
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from starlette.responses import Response

from .._core._errors import BadRequest, InvalidInput
from .._engine import _serde
from ._declare import Api, Body, Call, Endpoints, Reply
from ._http import QueryBool, json_response
from ._requests import BodyModel, parse
from ._shapes import StoreItem, StoreItems, StoreNamespaces, StoreSearchItem

__all__ = ["endpoint"]

endpoint = Endpoints("store")

_LABEL = "a non-empty string without periods ('.') or NUL characters"
_NAMESPACE = Field(description=f"The namespace path: a list of labels, each {_LABEL}")
# bounds that keep every value within what the SQLite store can take (64-bit integers,
# dates before year 10000)
_MAX_ROWS = 10_000
_MAX_TTL_MINUTES = 525_600_000  # 1000 years


class StorePut(BodyModel):
    namespace: list[str] = _NAMESPACE
    key: str
    value: dict[str, Any] = Field(description="The item's data: a JSON object")
    index: Literal[False] | list[str] | None = Field(
        None, description="null: the store's default fields; false: not indexed; or field paths"
    )
    ttl: float | None = Field(
        None, gt=0, le=_MAX_TTL_MINUTES, description="Minutes until the item expires"
    )


class StoreDelete(BodyModel):
    namespace: list[str] = Field(default_factory=list, description=_NAMESPACE.description)
    key: str


class StoreSearch(BodyModel):
    namespace_prefix: list[str] | None = Field(None, description="Only items under this path")
    filter: dict[str, Any] | None = Field(
        None,
        description="Values to match, by key; or operators $eq, $ne, $gt, $gte, $lt, $lte",
    )
    limit: int = Field(10, ge=1, le=_MAX_ROWS)
    offset: int = Field(0, ge=0, le=2**62)
    query: str | None = Field(None, description="Natural-language query (an index is needed)")
    refresh_ttl: bool | None = None


class StoreListNamespaces(BodyModel):
    prefix: list[str] | None = None
    suffix: list[str] | None = None
    max_depth: int | None = Field(None, ge=1, le=_MAX_ROWS)
    limit: int = Field(100, ge=0, le=_MAX_ROWS)
    offset: int = Field(0, ge=0, le=2**62)


class StoreItemParams(BaseModel):
    model_config = ConfigDict(extra="ignore")

    namespace: Annotated[str, WithJsonSchema({"type": "string"})] = Field(
        "", description="The namespace's labels joined with '.'"
    )
    key: str | None = Field(None, description="The item's key (required)")
    refresh_ttl: QueryBool | None = Field(None, description="Restart the item's TTL")


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def _read_put(raw: bytes) -> StorePut:
    body = parse(StorePut, raw, "store item")
    if _LONG_DIGITS.search(raw):  # an integer wider than 64 bits has at least 19 digits
        found = _serde.find_wide_int(body.value, "value")
        if found is not None:
            raise InvalidInput(
                f"Invalid store item: {found[0]}: the integer does not fit in 64 bits, which "
                "is what the store keeps (from -2**63 to 2**64-1); send it as a string"
            )
    return body


def _labels(namespace: list[str] | None, what: str) -> tuple[str, ...]:
    for label in namespace or ():
        if not label or "." in label or "\x00" in label:
            raise InvalidInput(f"Invalid {what}: namespace label {label!r} must be {_LABEL}")
    return tuple(namespace or ())


def _iso(at: datetime.datetime) -> str:
    if at.tzinfo is None:  # the SQLite store reads its UTC timestamps back naive
        at = at.replace(tzinfo=datetime.UTC)
    return at.isoformat()


def _item_json(item: Item) -> StoreItem:
    return {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": _iso(item.created_at),
        "updated_at": _iso(item.updated_at),
    }


def _search_item_json(item: SearchItem) -> StoreSearchItem:
    return {**_item_json(item), "score": item.score}


_OPERATORS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte")


def _check_operators(filter: dict[str, Any] | None) -> None:
    """A 400 for an operator the store would refuse, even when no item is there to test
    (a field's condition is operators when one of its keys starts with "$")."""
    for condition in (filter or {}).values():
        if not isinstance(condition, dict):
            continue
        if not any(str(k).startswith("$") for k in condition):
            _check_operators(condition)  # a nested object's fields
            continue
        unknown = [k for k in condition if k not in _OPERATORS]
        if unknown:
            raise BadRequest(
                f"Unsupported operator: {unknown[0]} in filter; use any of {', '.join(_OPERATORS)}"
            )


def _refused(exc: InvalidNamespaceError) -> BadRequest:
    return BadRequest(str(exc))  # LangGraph's own words: empty, or the reserved root


def _keeps_ttl(store: BaseStore) -> bool:
    # nbruns's SQLite stores always have a TTL config; InMemoryStore keeps no TTLs
    return not isinstance(store, InMemoryStore) or store.supports_ttl


@endpoint(
    "PUT",
    "/store/items",
    "Store or replace an item",
    ok={204: Reply("Stored; no body")},
    body=Body(StorePut, _read_put, required=True),
    errors=(400,),
)
async def put_item(api: Api, call: Call[StorePut, None]) -> Response:
    body = await call.body()
    namespace = _labels(body.namespace, "store item")
    if body.ttl is not None and not _keeps_ttl(api.ex.kvstore):
        raise InvalidInput(
            "Invalid store item: ttl: this server's store keeps no TTLs (LangGraph's "
            "InMemoryStore); give langgraph.json a store.ttl section, or a SQLite file "
            "(path= or --db), or leave ttl out"
        )
    try:
        await api.ex.kvstore.aput(namespace, body.key, body.value, index=body.index, ttl=body.ttl)
    except InvalidNamespaceError as exc:
        raise _refused(exc) from None
    except NotImplementedError as exc:  # a custom store (store.path) without TTLs
        raise InvalidInput(f"Invalid store item: ttl: {exc}") from None
    return Response(status_code=204)


@endpoint(
    "GET",
    "/store/items",
    "Read an item (null when there is none)",
    ok=Reply("The item, or null", StoreItem | None),
    query=StoreItemParams,
    errors=(400, 422),
)
async def get_item(api: Api, call: Call[None, StoreItemParams]) -> Response:
    params = call.query
    namespace = _labels(params.namespace.split("."), "namespace")
    if not params.key:
        raise BadRequest("Key is required: give the item's key as the key query parameter")
    item = await api.ex.kvstore.aget(namespace, params.key, refresh_ttl=params.refresh_ttl)
    return json_response(None if item is None else _item_json(item))


@endpoint(
    "DELETE",
    "/store/items",
    "Delete an item (done too when there was none)",
    ok={204: Reply("Deleted; no body")},
    body=Body(StoreDelete, lambda raw: parse(StoreDelete, raw, "store item"), required=True),
)
async def delete_item(api: Api, call: Call[StoreDelete, None]) -> Response:
    body = await call.body()
    namespace = _labels(body.namespace, "store item")
    await api.ex.kvstore.adelete(namespace, body.key)
    return Response(status_code=204)


@endpoint(
    "POST",
    "/store/items/search",
    "Search items under a namespace prefix",
    ok=Reply("The items found", StoreItems),
    body=Body(StoreSearch, lambda raw: parse(StoreSearch, raw, "store search")),
    errors=(400,),
)
async def search_items(api: Api, call: Call[StoreSearch, None]) -> Response:
    body = await call.body()
    prefix = _labels(body.namespace_prefix, "store search")
    _check_operators(body.filter)
    try:
        items = await api.ex.kvstore.asearch(
            prefix,
            filter=body.filter,
            limit=body.limit,
            offset=body.offset,
            query=body.query,
            refresh_ttl=body.refresh_ttl,
        )
    except (ValueError, TypeError) as exc:  # the store's own words on a filter it cannot apply
        raise BadRequest(
            f"Cannot apply filter {body.filter!r:.200}: {exc}. Operators: $eq, $ne, $gt, $gte, "
            "$lt, $lte; $gt, $gte, $lt and $lte compare numbers"
        ) from None
    found: StoreItems = {"items": [_search_item_json(i) for i in items]}
    return json_response(found)


@endpoint(
    "POST",
    "/store/namespaces",
    "List namespaces",
    ok=Reply("The namespaces", StoreNamespaces),
    body=Body(
        StoreListNamespaces, lambda raw: parse(StoreListNamespaces, raw, "namespace listing")
    ),
)
async def list_namespaces(api: Api, call: Call[StoreListNamespaces, None]) -> Response:
    body = await call.body()
    prefix = _labels(body.prefix, "namespace listing") or None
    suffix = _labels(body.suffix, "namespace listing") or None
    found = await api.ex.kvstore.alist_namespaces(
        prefix=prefix,
        suffix=suffix,
        max_depth=body.max_depth,
        limit=body.limit,
        offset=body.offset,
    )
    listed: StoreNamespaces = {"namespaces": [list(n) for n in found]}
    return json_response(listed)
