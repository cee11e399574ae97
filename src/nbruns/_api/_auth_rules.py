"""What each endpoint asks of LangGraph's auth handlers, and how their answers are enforced.

One rule per endpoint (method and path), in one table. With auth configured, the
guard authenticates, then runs the endpoint's rule: it builds the handler's `value`
as LangGraph's server does, asks the most specific `@auth.on` handler, and enforces
the answer here, in one place:

- a resource named in the path (thread, assistant) that the filter does not match
  answers 404, as if it did not exist (as the reference answers);
- create bodies are rewritten with the handler's changes to `value["metadata"]`;
- searches, counts and listings are handed the filter (`_auth.restrict`) and apply
  it inside the search, so limit, offset and count stay right.

Runs are authorized through their thread (`threads.create_run`, `threads.read`, ...),
as LangGraph documents. This module has the machinery and the thread and run rules;
`_auth_more` those of assistants, crons, the store and thread-wide endpoints,
`ALL_RULES`, and `enforce`. An endpoint without a rule is refused (fail closed).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.types import Message

from .._core._authz import filter_matches
from .._core._errors import Conflict, NotFound
from .._engine import _serde
from ._auth import AuthContext, Authorizer, restrict
from ._declare import Api
from ._http import read_body

__all__ = [
    "OPEN",
    "RULES",
    "Check",
    "Rule",
    "as_object",
    "metadata_of",
    "on_thread",
    "refuse_hidden",
    "rewrite_body",
]


class Check:
    """One request being authorized: asks the handlers, reads and rewrites the body."""

    def __init__(self, authorizer: Authorizer, who: AuthContext, api: Api, request: Request):
        self._authorizer = authorizer
        self.who = who
        self.api = api
        self.request = request
        self.path: Mapping[str, str] = request.path_params

    async def ask(
        self, resource: str, action: str, value: dict[str, Any]
    ) -> Mapping[str, Any] | None:
        return await self._authorizer.authorize(self.who, resource, action, value)

    async def body(self) -> Any:
        """The JSON body, or None when it is not JSON (the endpoint answers that 422)."""
        raw = await read_body(self.request, self.api.max_body_bytes)
        try:
            return _serde.loads(raw) if raw else {}
        except ValueError:
            return None

    def replace_body(self, body: Any) -> None:
        """The endpoint reads `body` instead of what was sent (the handler changed it)."""
        raw, original = _serde.dumps(body), self.request
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await original.receive()  # then the client's disconnect, as before

        self.request = Request(original.scope, receive)

    def thread(self, filters: Mapping[str, Any] | None, detail: str | None = None) -> None:
        """404 when the path's thread exists but the filter does not match it."""
        tid = self.path["thread_id"]
        record = self.api.ex.store.threads.get(tid)
        if filters and record is not None and not filter_matches(record.metadata, filters):
            raise NotFound(detail or f"Thread {tid} not found.")

    def assistant(self, filters: Mapping[str, Any] | None, aid: str, detail: str) -> None:
        """404 when the assistant `aid` names exists but the filter does not match it."""
        if not filters:
            return
        try:
            record = self.api.ex.resolve_assistant(aid)
        except NotFound:
            return  # the endpoint answers for an unknown assistant
        if not filter_matches(record.metadata, filters):
            raise NotFound(detail)


Rule = Callable[[Check], Awaitable[None]]


def as_object(body: Any) -> dict[str, Any]:
    return body if isinstance(body, dict) else {}


def metadata_of(body: Mapping[str, Any]) -> dict[str, Any]:
    given = body.get("metadata")
    return dict(given) if isinstance(given, Mapping) else {}


def refuse_hidden(filters: Mapping[str, Any] | None, existing: Any, what: str) -> None:
    """A create naming an id that exists but is not the user's (its metadata does not
    match the filter): 409, as for any existing one, and nothing of it is shown."""
    if filters and existing is not None and not filter_matches(existing.metadata, filters):
        raise Conflict(f"{what} already exists.")


def rewrite_body(check: Check, body: Any, **changes: Any) -> None:
    if isinstance(body, dict):
        check.replace_body({**body, **changes})


# -- threads ----------------------------------------------------------------------------


def on_thread(action: str, *, run: bool = False) -> Rule:
    """`threads.<action>` on the path's thread (and run)."""

    async def rule(c: Check) -> None:
        value: dict[str, Any] = {"thread_id": c.path["thread_id"]}
        if run:
            value["run_id"] = c.path["run_id"]
        c.thread(await c.ask("threads", action, value))

    return rule


async def create_thread(c: Check) -> None:
    body = await c.body()
    b = as_object(body)
    tid = b.get("thread_id") or str(uuid.uuid4())  # the handler sees the id it will get
    value = {
        "thread_id": tid,
        "metadata": metadata_of(b),
        "if_exists": b.get("if_exists") or "raise",
    }
    filters = await c.ask("threads", "create", value)
    refuse_hidden(filters, c.api.ex.store.threads.get(str(tid)), f"Thread {tid}")
    rewrite_body(c, body, thread_id=tid, metadata=value["metadata"])


async def update_thread(c: Check) -> None:
    body = await c.body()
    value = {"thread_id": c.path["thread_id"], "metadata": metadata_of(as_object(body))}
    c.thread(await c.ask("threads", "update", value))
    rewrite_body(c, body, metadata=value["metadata"])


async def copy_thread(c: Check) -> None:
    c.thread(await c.ask("threads", "read", {"thread_id": c.path["thread_id"]}))
    await c.ask("threads", "create", {"thread_id": str(uuid.uuid4())})  # may it create?


async def search_threads(c: Check) -> None:
    b = as_object(await c.body())
    value = {k: b.get(k) for k in ("status", "limit", "offset", "ids")}
    value.update(metadata=metadata_of(b), values=b.get("values") or {})
    restrict(c.request, await c.ask("threads", "search", value))


async def list_runs(c: Check) -> None:
    value = {"thread_id": c.path["thread_id"], "metadata": {}}
    c.thread(await c.ask("threads", "search", value))


# -- runs: authorized through their thread ----------------------------------------------

_NO_THREAD = "Thread or assistant not found."
_RUN_KWARGS = ("input", "command", "config", "context", "stream_mode")


async def authorize_run(c: Check, item: dict[str, Any], thread_id: str | None) -> None:
    value = {
        "thread_id": thread_id,
        "assistant_id": item.get("assistant_id"),
        "run_id": None,
        "status": "pending",
        "metadata": metadata_of(item),
        "prevent_insert_if_inflight": True,
        "multitask_strategy": item.get("multitask_strategy") or "enqueue",
        "if_not_exists": item.get("if_not_exists") or "reject",
        "after_seconds": item.get("after_seconds") or 0,
        "kwargs": {k: item.get(k) for k in _RUN_KWARGS},
    }
    filters = await c.ask("threads", "create_run", value)
    if thread_id is not None:
        c.thread(filters, _NO_THREAD)
    aid = item.get("assistant_id")
    if isinstance(aid, str):
        # the run's assistant must be readable too (system assistants excepted)
        try:
            assistant = c.api.ex.resolve_assistant(aid)
        except NotFound:
            assistant = None
        if assistant is not None and assistant.metadata.get("created_by") != "system":
            readable = await c.ask("assistants", "read", {"assistant_id": assistant.assistant_id})
            c.assistant(readable, aid, _NO_THREAD)
    item["metadata"] = value["metadata"]
    _hand_the_user_to_the_graph(c, item)  # beside `context` too: those keys are not the client's


def _hand_the_user_to_the_graph(c: Check, item: dict[str, Any]) -> None:
    """`config["configurable"]["langgraph_auth_user"]` and friends, as the reference
    gives a run's graph (the user as a dict here); what the client sent is replaced."""
    config = as_object(item.get("config"))
    configurable = config.get("configurable")
    item["config"] = {
        **config,
        "configurable": {
            **(configurable if isinstance(configurable, dict) else {}),
            "langgraph_auth_user": c.who.user.dict(),
            "langgraph_auth_user_id": c.who.user.identity,
            "langgraph_auth_permissions": list(c.who.permissions),
        },
    }


async def create_run(c: Check) -> None:
    body = await c.body()
    if isinstance(body, dict):
        await authorize_run(c, body, c.path.get("thread_id"))
        c.replace_body(body)
    else:
        await authorize_run(c, {}, c.path.get("thread_id"))


async def create_batch(c: Check) -> None:
    body = await c.body()
    if isinstance(body, list):
        for item in body:
            await authorize_run(c, item if isinstance(item, dict) else {}, None)
        c.replace_body(body)
    else:
        await authorize_run(c, {}, None)


async def cancel_run(c: Check) -> None:
    value = {
        "thread_id": c.path["thread_id"],
        "run_id": c.path["run_id"],
        "action": c.request.query_params.get("action") or "interrupt",
    }
    c.thread(await c.ask("threads", "update", value))


async def cancel_many(c: Check) -> None:
    b = as_object(await c.body())
    value = {
        "thread_id": b.get("thread_id"),
        "action": c.request.query_params.get("action") or "interrupt",
        "metadata": {"run_ids": b.get("run_ids"), "status": b.get("status")},
    }
    filters = await c.ask("threads", "update", value)
    tid = b.get("thread_id")
    if isinstance(tid, str):
        record = c.api.ex.store.threads.get(tid)
        if filters and record is not None and not filter_matches(record.metadata, filters):
            raise NotFound(f"Thread {tid} not found.")
    restrict(c.request, filters)


# -- nbruns's own views -----------------------------------------------------------------


async def nbruns_view(c: Check) -> None:
    """/nbruns/*: a thread's (threads.read) or every visible thread's (threads.search)."""
    tid = c.request.query_params.get("thread_id")
    if tid:
        filters = await c.ask("threads", "read", {"thread_id": tid})
        record = c.api.ex.store.threads.get(tid)
        if filters and record is not None and not filter_matches(record.metadata, filters):
            raise NotFound(f"Thread {tid} not found.")
    else:
        restrict(c.request, await c.ask("threads", "search", {}))


_THREAD = "/threads/{thread_id}"
_RUNS = _THREAD + "/runs"
_RUN = _RUNS + "/{run_id}"

OPEN = frozenset({("GET", "/ok"), ("GET", "/info"), ("GET", "/openapi.json")})
"""Served to anyone, as the reference serves its meta routes: they show no user data."""

RULES: dict[tuple[str, str], Rule] = {
    # threads
    ("POST", "/threads"): create_thread,
    ("POST", "/threads/search"): search_threads,
    ("POST", "/threads/count"): search_threads,
    ("GET", _THREAD): on_thread("read"),
    ("PATCH", _THREAD): update_thread,
    ("DELETE", _THREAD): on_thread("delete"),
    ("POST", _THREAD + "/copy"): copy_thread,
    ("GET", _THREAD + "/state"): on_thread("read"),
    ("POST", _THREAD + "/state"): on_thread("update"),
    ("POST", _THREAD + "/state/checkpoint"): on_thread("read"),
    ("GET", _THREAD + "/state/{checkpoint_id}"): on_thread("read"),
    ("GET", _THREAD + "/history"): on_thread("read"),
    ("POST", _THREAD + "/history"): on_thread("read"),
    # runs
    ("POST", _RUNS): create_run,
    ("POST", _RUNS + "/wait"): create_run,
    ("POST", _RUNS + "/stream"): create_run,
    ("POST", "/runs"): create_run,
    ("POST", "/runs/wait"): create_run,
    ("POST", "/runs/stream"): create_run,
    ("POST", "/runs/batch"): create_batch,
    ("GET", _RUNS): list_runs,
    ("GET", _RUN): on_thread("read", run=True),
    ("GET", _RUN + "/join"): on_thread("read", run=True),
    ("GET", _RUN + "/stream"): on_thread("read", run=True),
    ("DELETE", _RUN): on_thread("delete", run=True),
    ("POST", _RUN + "/cancel"): cancel_run,
    ("POST", "/runs/cancel"): cancel_many,
    # nbruns's own
    ("GET", "/nbruns/timeline"): nbruns_view,
    ("GET", "/nbruns/runs"): nbruns_view,
}
"""(method, path) -> how that thread or run endpoint is authorized."""
