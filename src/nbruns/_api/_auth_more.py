"""Authorization rules for assistants, crons, the store and thread-wide endpoints
(see `_auth_rules`), every rule in `ALL_RULES`, and `enforce`, which the guard calls.

Crons are filtered by their own metadata, as LangGraph's server does. The store's
handlers see `namespace`/`key` (and may change them: the endpoint uses what the
handler leaves), may refuse, and a filter they return restricts items by value.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from .._core._authz import filter_matches
from .._core._errors import NotFound
from ._auth import AuthContext, Authorizer, AuthRefused, restrict
from ._auth_rules import (
    RULES,
    Check,
    Rule,
    as_object,
    authorize_run,
    metadata_of,
    on_thread,
    refuse_hidden,
    rewrite_body,
)
from ._declare import Api, Endpoint

__all__ = ["ALL_RULES", "MORE_RULES", "enforce"]


# -- assistants -------------------------------------------------------------------------


def on_assistant(action: str) -> Rule:
    async def rule(c: Check) -> None:
        aid = c.path["assistant_id"]
        filters = await c.ask("assistants", action, {"assistant_id": aid})
        c.assistant(filters, aid, f"Assistant {aid} not found.")

    return rule


async def create_assistant(c: Check) -> None:
    body = await c.body()
    b = as_object(body)
    aid = b.get("assistant_id") or str(uuid.uuid4())
    keys = ("graph_id", "config", "context", "name")
    value = {"assistant_id": aid, **{k: b.get(k) for k in keys}, "metadata": metadata_of(b)}
    value["if_exists"] = b.get("if_exists") or "raise"
    filters = await c.ask("assistants", "create", value)
    refuse_hidden(filters, c.api.ex.store.assistants.get(str(aid)), f"Assistant {aid}")
    rewrite_body(c, body, assistant_id=aid, metadata=value["metadata"])


async def update_assistant(c: Check) -> None:
    body = await c.body()
    b, aid = as_object(body), c.path["assistant_id"]
    keys = ("graph_id", "config", "context", "name", "version")
    value = {"assistant_id": aid, **{k: b.get(k) for k in keys}, "metadata": metadata_of(b)}
    c.assistant(await c.ask("assistants", "update", value), aid, f"Assistant {aid} not found.")
    if "metadata" in b or value["metadata"]:
        rewrite_body(c, body, metadata=value["metadata"])


async def search_assistants(c: Check) -> None:
    b = as_object(await c.body())
    value = {k: b.get(k) for k in ("graph_id", "limit", "offset")}
    value["metadata"] = metadata_of(b)
    restrict(c.request, await c.ask("assistants", "search", value))


# -- crons ------------------------------------------------------------------------------


async def create_cron(c: Check) -> None:
    body = await c.body()
    b = body if isinstance(body, dict) else {}
    tid = c.path.get("thread_id")
    value = {
        "payload": b,
        "schedule": b.get("schedule"),
        "cron_id": None,
        "thread_id": tid,
        "user_id": c.who.user.identity,
        "end_time": b.get("end_time"),
        "metadata": metadata_of(b),
    }
    await c.ask("crons", "create", value)
    if tid is not None:  # a thread's cron runs on that thread: it must be the user's
        c.thread(await c.ask("threads", "read", {"thread_id": tid}))
    if isinstance(body, dict):
        c.replace_body({**body, "metadata": value["metadata"]})


def on_cron(action: str) -> Rule:
    async def rule(c: Check) -> None:
        cid = c.path["cron_id"]
        value: dict[str, Any] = {"cron_id": cid}
        if action == "update":
            body = await c.body()
            value.update(body if isinstance(body, dict) else {})
        filters = await c.ask("crons", action, value)
        cron = c.api.ex.crons.table.crons.get(cid)
        if filters and cron is not None and not filter_matches(cron.metadata, filters):
            raise NotFound(f"Cron '{cid}' not found.")

    return rule


async def search_crons(c: Check) -> None:
    body = await c.body()
    b = body if isinstance(body, dict) else {}
    value = {k: b.get(k) for k in ("assistant_id", "thread_id", "limit", "offset")}
    restrict(c.request, await c.ask("crons", "search", value))


# -- thread-wide ------------------------------------------------------------------------


async def prune_threads(c: Check) -> None:
    body = await c.body()
    ids = body.get("thread_ids") if isinstance(body, dict) else None
    ids = [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
    filters = await c.ask("threads", "delete", {"thread_ids": ids})
    for tid in ids:
        record = c.api.ex.store.threads.get(tid)
        if filters and record is not None and not filter_matches(record.metadata, filters):
            raise NotFound(f"Thread {tid} not found.")


# -- the store --------------------------------------------------------------------------


async def _item_allowed(c: Check, filters: Mapping[str, Any] | None, ns: Any, key: Any) -> None:
    """An existing item the filter does not match is answered as missing."""
    if not filters or not isinstance(ns, (list, tuple)) or not isinstance(key, str):
        return
    try:
        item = await c.api.ex.kvstore.aget(tuple(ns), key)
    except Exception:  # a namespace the store refuses: the endpoint answers that
        return
    if item is not None and not filter_matches(item.value, filters):
        raise NotFound("Item not found")


def store_item(action: str) -> Rule:
    """put/delete (body) and get (query): the handler may rewrite namespace and key."""

    async def rule(c: Check) -> None:
        body: Any = None
        if action == "get":
            q = c.request.query_params
            ns = tuple(q.get("namespace", "").split(".")) if q.get("namespace") else ()
            value: dict[str, Any] = {"namespace": ns, "key": q.get("key")}
        else:
            body = await c.body()
            b = body if isinstance(body, dict) else {}
            value = {"namespace": tuple(b.get("namespace") or ()), "key": b.get("key")}
            if action == "put":
                value.update(value=b.get("value"), index=b.get("index"))
        filters = await c.ask("store", action, value)
        await _item_allowed(c, filters, value["namespace"], value["key"])
        if action == "get":
            query = {**c.request.query_params, "key": value["key"] or ""}
            query["namespace"] = ".".join(value["namespace"])
            scope = {**c.request.scope, "query_string": urlencode(query).encode()}
            c.request = Request(scope, c.request.receive)
        elif isinstance(body, dict):
            changed = {"namespace": list(value["namespace"]), "key": value["key"]}
            if action == "put":
                changed.update(value=value["value"], index=value["index"])
            c.replace_body({**body, **changed})

    return rule


async def search_store(c: Check) -> None:
    body = await c.body()
    b = body if isinstance(body, dict) else {}
    value = {
        "namespace": tuple(b.get("namespace_prefix") or ()),
        "filter": b.get("filter"),
        "limit": b.get("limit", 10),
        "offset": b.get("offset", 0),
        "query": b.get("query"),
    }
    filters = await c.ask("store", "search", value)
    if isinstance(body, dict):
        given = value["filter"] if isinstance(value["filter"], Mapping) else {}
        combined = _both(given, filters or {})
        c.replace_body(
            {**body, "namespace_prefix": list(value["namespace"]), "filter": combined or None}
        )


def _ops(condition: Any) -> dict[str, Any]:
    if isinstance(condition, Mapping) and all(str(k).startswith("$") for k in condition):
        return dict(condition)
    return {"$eq": condition}


def _both(given: Mapping[str, Any], required: Mapping[str, Any]) -> dict[str, Any]:
    """The caller's store filter AND the handler's, in the store's own filter language
    (operators on one key all apply)."""
    merged = dict(given)
    for key, condition in required.items():
        if key not in merged:
            merged[key] = condition
            continue
        mine, theirs = _ops(merged[key]), _ops(condition)
        if "$eq" in mine and "$eq" in theirs and mine["$eq"] != theirs["$eq"]:
            # both cannot hold: a condition nothing satisfies
            merged[key] = {"$eq": theirs["$eq"], "$ne": theirs["$eq"]}
        else:
            merged[key] = {**mine, **theirs}
    return merged


async def list_namespaces(c: Check) -> None:
    body = await c.body()
    b = body if isinstance(body, dict) else {}
    value = {
        "namespace": tuple(b.get("prefix") or ()) or None,
        "suffix": tuple(b.get("suffix") or ()) or None,
        "max_depth": b.get("max_depth"),
        "limit": b.get("limit", 100),
        "offset": b.get("offset", 0),
    }
    await c.ask("store", "list_namespaces", value)
    if isinstance(body, dict) and value["namespace"] is not None:
        c.replace_body({**body, "prefix": list(value["namespace"])})


async def thread_command(c: Check) -> None:
    """`run.start` / `input.respond` start runs (`threads.create_run`); the rest read."""
    body = await c.body()
    command = as_object(body)
    params = as_object(command.get("params"))
    if command.get("method") not in ("run.start", "input.respond"):
        await on_thread("read")(c)
        return
    item = {**params, "if_not_exists": "create"}
    item["multitask_strategy"] = params.get("multitaskStrategy")
    await authorize_run(c, item, c.path["thread_id"])
    # the handler's metadata stamp (and the user handed to the graph) go with the run
    params.update(metadata=item["metadata"], config=item.get("config"))
    c.replace_body({**command, "params": params})


_THREAD = "/threads/{thread_id}"
_CRON = "/runs/crons/{cron_id}"
_ASSISTANT = "/assistants/{assistant_id}"


MORE_RULES: dict[tuple[str, str], Rule] = {
    # assistants
    ("POST", "/assistants"): create_assistant,
    ("POST", "/assistants/search"): search_assistants,
    ("POST", "/assistants/count"): search_assistants,
    ("GET", _ASSISTANT): on_assistant("read"),
    ("PATCH", _ASSISTANT): update_assistant,
    ("DELETE", _ASSISTANT): on_assistant("delete"),
    ("GET", _ASSISTANT + "/graph"): on_assistant("read"),
    ("GET", _ASSISTANT + "/schemas"): on_assistant("read"),
    ("GET", _ASSISTANT + "/subgraphs"): on_assistant("read"),
    ("POST", _ASSISTANT + "/versions"): on_assistant("read"),
    ("POST", _ASSISTANT + "/latest"): on_assistant("update"),
    # crons
    ("POST", _THREAD + "/runs/crons"): create_cron,
    ("POST", "/runs/crons"): create_cron,
    ("POST", "/runs/crons/search"): search_crons,
    ("POST", "/runs/crons/count"): search_crons,
    ("GET", _CRON): on_cron("read"),
    ("PATCH", _CRON): on_cron("update"),
    ("DELETE", _CRON): on_cron("delete"),
    ("GET", _THREAD + "/stream"): on_thread("read"),
    ("POST", _THREAD + "/commands"): thread_command,
    ("POST", _THREAD + "/stream/events"): on_thread("read"),
    ("POST", "/threads/prune"): prune_threads,
    ("PUT", "/store/items"): store_item("put"),
    ("GET", "/store/items"): store_item("get"),
    ("DELETE", "/store/items"): store_item("delete"),
    ("POST", "/store/items/search"): search_store,
    ("POST", "/store/namespaces"): list_namespaces,
    ("GET", _ASSISTANT + "/subgraphs/{namespace}"): on_assistant("read"),
}

# -- holds (nbruns's own): a hold changes how a thread's runs go, so it is an update ----


async def create_hold(c: Check) -> None:
    tid = as_object(await c.body()).get("thread_id")
    filters = await c.ask("threads", "update", {"thread_id": tid})
    record = c.api.ex.store.threads.get(tid) if isinstance(tid, str) else None
    if filters and record is not None and not filter_matches(record.metadata, filters):
        raise NotFound(f"Thread {tid} not found.")


def on_hold(action: str) -> Rule:
    """`threads.<action>` on the thread of the path's hold (404 as if no such hold)."""

    async def rule(c: Check) -> None:
        hid = c.path["hold_id"]
        hold = c.api.ex.holds.find(hid)
        tid = None if hold is None else hold.rule.thread_id
        filters = await c.ask("threads", action, {"thread_id": tid, "hold_id": hid})
        record = None if tid is None else c.api.ex.store.threads.get(tid)
        if filters and record is not None and not filter_matches(record.metadata, filters):
            raise NotFound(f"Hold {hid} not found.")

    return rule


_HOLD = "/nbruns/holds/{hold_id}"
HOLD_RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/nbruns/holds"): create_hold,
    ("GET", "/nbruns/holds"): RULES[("GET", "/nbruns/runs")],
    ("GET", _HOLD): on_hold("read"),
    ("GET", _HOLD + "/wait"): on_hold("read"),
    ("POST", _HOLD + "/release"): on_hold("update"),
    ("DELETE", _HOLD): on_hold("update"),
}

# -- rolled-back runs (nbruns's own): reading the thread, and updating its state ----------

_ROLLED_BACK = "/nbruns/threads/{thread_id}/rolled_back"
ROLLED_BACK_RULES: dict[tuple[str, str], Rule] = {
    ("GET", _ROLLED_BACK): on_thread("read"),
    ("POST", _ROLLED_BACK + "/{run_id}/restore"): on_thread("update", run=True),
}

ALL_RULES = {**RULES, **MORE_RULES, **HOLD_RULES, **ROLLED_BACK_RULES}
"""(method, path) -> how that endpoint is authorized: every rule."""


async def enforce(
    authorizer: Authorizer, who: AuthContext, api: Api, declared: Endpoint, request: Request
) -> Request:
    """Authorize `request` by its endpoint's rule; the request the endpoint must read."""
    rule = ALL_RULES.get((declared.method, declared.path))
    if rule is None:
        raise AuthRefused(
            403,
            f"{declared.method} {declared.path} has no authorization rule in nbruns, so it "
            "is refused while an auth handler is configured",
        )
    check = Check(authorizer, who, api, request)
    await rule(check)
    return check.request
