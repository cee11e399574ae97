"""LangGraph custom auth honoured: real `langgraph_sdk.Auth` handlers, through the SDK,
in process and over HTTP (`mode`); `protected`, `owner` and `mode` are in conftest."""

from __future__ import annotations

import operator
import uuid
from typing import Annotated, Any, TypedDict

import httpx
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph_sdk import Auth

from nbruns._api._app import ENDPOINTS
from nbruns._api._auth_more import ALL_RULES as RULES
from nbruns._api._auth_rules import OPEN
from tests.helpers import wait_for_status

ALICE, BOB = "token-alice", "token-bob"


class GateState(TypedDict, total=False):
    gate: str
    log: Annotated[list[str], operator.add]


def gated(gates: Any) -> Any:
    async def step(state: GateState) -> dict[str, Any]:
        if state.get("gate"):
            await gates[state["gate"]].passage()
        return {"log": ["done"]}

    return StateGraph(GateState).add_node("step", step).add_edge(START, "step").compile()


def _status(exc: BaseException) -> int:
    return int(exc.response.status_code)  # type: ignore[attr-defined]


def snapshot(store: Any) -> dict[str, Any]:
    """What exists, as the server's store has it (whatever any client may see)."""
    return {
        "threads": {t.thread_id: dict(t.metadata) for t in store.threads.values()},
        "runs": {r.run_id: r.phase for r in store.runs.values()},
        "assistants": {a.assistant_id: dict(a.metadata) for a in store.assistants.values()},
    }


def test_every_endpoint_has_a_rule() -> None:
    declared = {(e.method, e.path) for e in ENDPOINTS}
    uncovered = sorted(f"{m} {p}" for m, p in declared - set(RULES) - OPEN)
    assert uncovered == [], "endpoints with no authorization rule (refused 403 under auth)"
    assert sorted(set(RULES) - declared) == [], "rules for endpoints nbruns does not declare"


# -- an auth that lets nothing through --------------------------------------------------


def refusing_auth(how: str) -> Auth:
    """`admin` may do anything (to set up); every other caller is refused: by
    `authenticate` (401) or, authenticated, by `@auth.on` (403)."""
    auth = Auth()

    @auth.authenticate
    async def authenticate(headers: dict[bytes, bytes]) -> str:
        token = headers.get(b"authorization", b"").decode()
        if token == "Bearer admin" or (how == "forbidden" and token == "Bearer eve"):
            return token.removeprefix("Bearer ")
        raise Auth.exceptions.HTTPException(status_code=401, detail="Who are you?")

    @auth.on
    async def only_admin(ctx: Auth.types.AuthContext, value: Any) -> bool:
        return bool(ctx.user.identity == "admin")

    return auth


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


_RUN_BODY = {"assistant_id": "gated", "input": {}}


def _body(method: str, path: str) -> Any:
    if method in ("GET", "DELETE"):
        return None
    if path.endswith("/batch"):
        return [_RUN_BODY]
    if path.endswith(("/runs", "/wait", "/stream")) and "/runs" in path:
        return _RUN_BODY
    if path == "/assistants":
        return {"graph_id": "gated"}
    return {"metadata": {"touched": True}}


@pytest.mark.parametrize("how", ["unauthenticated", "forbidden"])
async def test_an_auth_that_refuses_everything_lets_nothing_through(
    protected: Any, gates: Any, how: str
) -> None:
    server = protected(refusing_auth(how), {"gated": gated(gates)})
    admin = server.connect("admin")
    thread = await admin.threads.create(metadata={"mine": True})
    run = await admin.runs.create(thread["thread_id"], "gated", input={})
    await admin.runs.join(thread["thread_id"], run["run_id"])
    assistant = await admin.assistants.create("gated", metadata={"mine": True})
    ids = {
        "thread_id": thread["thread_id"],
        "run_id": run["run_id"],
        "assistant_id": assistant["assistant_id"],
        "checkpoint_id": str(uuid.uuid4()),
        "cron_id": str(uuid.uuid4()),
        "namespace": "sub",
    }
    before = snapshot(server.store)
    eve = server.connect("eve").http.client
    expected = 401 if how == "unauthenticated" else 403
    answers = {}
    for e in ENDPOINTS:
        if (e.method, e.path) in OPEN:
            continue
        body = _body(e.method, e.path)
        response = await eve.request(e.method, _fill(e.path, ids), json=body)
        answers[f"{e.method} {e.path}"] = (response.status_code, response.json()["detail"])
    wanted = "Who are you?" if how == "unauthenticated" else "Forbidden"
    assert {k: v for k, v in answers.items() if v != (expected, wanted)} == {}
    assert snapshot(server.store) == before
    assert (await eve.get("/ok")).status_code == 200  # meta routes stay open, as on LangGraph


async def test_no_or_bad_credentials_are_401_and_change_nothing(
    protected: Any, owner: Auth
) -> None:
    server = protected(owner)
    before = snapshot(server.store)
    for token in (None, "token-mallory"):
        client = server.connect(token)
        with pytest.raises(Exception) as caught:
            await client.threads.create(metadata={"owner": "alice"})
        assert _status(caught.value) == 401
        assert caught.value.response.json() == {"detail": "Invalid token"}  # type: ignore[attr-defined]
        with pytest.raises(Exception) as caught:
            await client.threads.search()
        assert _status(caught.value) == 401
    assert snapshot(server.store) == before


# -- per-user ownership (LangGraph's documented example) ---------------------------------


async def test_create_stamps_the_owner_and_a_user_cannot_claim_another(
    protected: Any, owner: Auth
) -> None:
    server = protected(owner)
    alice, bob = server.connect(ALICE), server.connect(BOB)
    mine = await alice.threads.create(metadata={"topic": "x"})
    assert mine["metadata"] == {"topic": "x", "owner": "alice"}
    spoofed = await bob.threads.create(metadata={"owner": "alice"})
    assert spoofed["metadata"]["owner"] == "bob"
    assistant = await alice.assistants.create("agent", metadata={"k": 1})
    assert assistant["metadata"] == {"k": 1, "owner": "alice"}
    assert server.store.get_thread(mine["thread_id"]).metadata["owner"] == "alice"
    # creating over another user's id does not reveal or take it
    with pytest.raises(Exception) as caught:
        await bob.threads.create(thread_id=mine["thread_id"], if_exists="do_nothing")
    assert _status(caught.value) == 409
    assert server.store.get_thread(mine["thread_id"]).metadata["owner"] == "alice"


async def test_a_user_cannot_see_or_touch_another_users_threads_runs_assistants(
    protected: Any, owner: Auth, gates: Any
) -> None:
    server = protected(owner, {"gated": gated(gates)})
    alice, bob = server.connect(ALICE), server.connect(BOB)
    thread = await alice.threads.create()
    tid = thread["thread_id"]
    done = await alice.runs.wait(tid, "gated", input={})
    assert done["log"] == ["done"]
    running = await alice.runs.create(tid, "gated", input={"gate": "hold"})
    await gates["hold"].reached()
    rid = running["run_id"]
    assistant = await alice.assistants.create("gated")
    aid = assistant["assistant_id"]
    own = await bob.threads.create()
    before = snapshot(server.store)

    hidden = {
        "threads.get": lambda: bob.threads.get(tid),
        "threads.update": lambda: bob.threads.update(tid, metadata={"owner": "bob"}),
        "threads.copy": lambda: bob.threads.copy(tid),
        "threads.get_state": lambda: bob.threads.get_state(tid),
        "threads.get_history": lambda: bob.threads.get_history(tid),
        "threads.update_state": lambda: bob.threads.update_state(tid, {"log": ["x"]}),
        "threads.delete": lambda: bob.threads.delete(tid),
        "threads.prune": lambda: bob.threads.prune([tid]),
        "runs.list": lambda: bob.runs.list(tid),
        "runs.get": lambda: bob.runs.get(tid, rid),
        "runs.join": lambda: bob.runs.join(tid, rid),
        "runs.cancel": lambda: bob.runs.cancel(tid, rid),
        "runs.delete": lambda: bob.runs.delete(tid, rid),
        "runs.create": lambda: bob.runs.create(tid, "gated", input={}),
        "runs.wait": lambda: bob.runs.wait(tid, "gated", input={}),
        "runs.cancel_many": lambda: bob.runs.cancel_many(thread_id=tid, run_ids=[rid]),
        "assistants.get": lambda: bob.assistants.get(aid),
        "assistants.update": lambda: bob.assistants.update(aid, metadata={"owner": "bob"}),
        "assistants.delete": lambda: bob.assistants.delete(aid),
        "assistants.get_schemas": lambda: bob.assistants.get_schemas(aid),
        "runs.on_alices_assistant": lambda: bob.runs.create(own["thread_id"], aid, input={}),
    }
    answers = {}
    for name, call in hidden.items():
        try:
            await call()
            answers[name] = 200
        except httpx.HTTPStatusError as exc:
            answers[name] = exc.response.status_code
    assert {k: v for k, v in answers.items() if v != 404} == {}
    with pytest.raises(httpx.HTTPStatusError) as caught:
        async for _ in bob.runs.join_stream(tid, rid):
            pass
    assert _status(caught.value) == 404
    with pytest.raises(httpx.HTTPStatusError) as caught:
        async for _ in await bob.threads.join_stream(tid):
            pass
    assert _status(caught.value) == 404
    with pytest.raises(httpx.HTTPStatusError) as caught:
        async for _ in bob.runs.stream(tid, "gated", input={}):
            pass
    assert _status(caught.value) == 404
    # listings are filtered inside the search: counts, limits and offsets stay right
    assert [t["thread_id"] for t in await bob.threads.search()] == [own["thread_id"]]
    assert await bob.threads.count() == 1
    assert await bob.threads.search(offset=1) == []
    assert await bob.assistants.search() == []
    assert await bob.assistants.count() == 0
    with pytest.raises(httpx.HTTPStatusError) as caught:  # nothing of bob's is running
        await bob.runs.cancel_many(status="running")  # and alice's run is not reached
    assert _status(caught.value) == 404
    assert snapshot(server.store) == before

    # alice still sees and controls all of it
    assert (await alice.runs.get(tid, rid))["status"] == "running"
    assert [t["thread_id"] for t in await alice.threads.search()] == [tid]
    assert await alice.threads.count() == 1
    assert (await alice.threads.get(tid))["metadata"]["owner"] == "alice"
    assert (await alice.assistants.get(aid))["metadata"]["owner"] == "alice"
    gates["hold"].open()
    await alice.runs.join(tid, rid)
    await wait_for_status(alice, tid, rid, "success")


async def test_search_pages_within_the_users_own_threads(protected: Any, owner: Auth) -> None:
    server = protected(owner)
    alice, bob = server.connect(ALICE), server.connect(BOB)
    bobs = [(await bob.threads.create())["thread_id"] for _ in range(2)]
    for _ in range(3):
        await alice.threads.create()
    newest_first = list(reversed(bobs))
    page = await bob.threads.search(limit=1, offset=1)
    assert [t["thread_id"] for t in page] == newest_first[1:]
    assert await bob.threads.count() == 2
    assert await alice.threads.count() == 3


async def test_the_most_specific_handler_answers(protected: Any) -> None:
    auth = Auth()
    seen: list[tuple[str, str, str]] = []

    @auth.authenticate
    async def authenticate(authorization: str | None, path: str, method: str) -> dict[str, Any]:
        seen.append(("authenticate", method, path))
        return {"identity": (authorization or "anon").removeprefix("Bearer ")}

    @auth.on
    async def deny(ctx: Auth.types.AuthContext, value: Any) -> bool:
        return False

    @auth.on.threads
    async def threads(ctx: Auth.types.AuthContext, value: Any) -> None:
        seen.append((ctx.resource, ctx.action, ctx.user.identity))

    @auth.on.threads.create
    async def create(ctx: Auth.types.AuthContext, value: Any) -> None:
        seen.append((ctx.resource, ctx.action, ctx.user.identity))
        value["metadata"]["stamped"] = ctx.user.identity

    server = protected(auth)
    client = server.connect("carol")
    thread = await client.threads.create()
    assert thread["metadata"] == {"stamped": "carol"}
    await client.threads.get(thread["thread_id"])
    with pytest.raises(Exception) as caught:
        await client.assistants.search()
    assert _status(caught.value) == 403
    assert ("authenticate", "POST", "/threads") in seen
    assert ("threads", "create", "carol") in seen
    assert ("threads", "read", "carol") in seen


# -- crons and the store -----------------------------------------------------------------


async def test_a_user_cannot_see_or_touch_another_users_crons(
    protected: Any, owner: Auth, gates: Any
) -> None:
    server = protected(owner, {"gated": gated(gates)})
    alice, bob = server.connect(ALICE), server.connect(BOB)
    thread = await alice.threads.create()
    cron = await alice.crons.create("gated", schedule="0 0 1 1 *", metadata={"k": 1})
    on_thread = await alice.crons.create_for_thread(
        thread["thread_id"], "gated", schedule="0 0 1 1 *"
    )
    assert await alice.crons.count() == 2
    assert await bob.crons.search() == []
    assert await bob.crons.count() == 0
    answers = {}
    for name, call in {
        "crons.update": lambda: bob.crons.update(cron["cron_id"], schedule="* * * * *"),
        "crons.delete": lambda: bob.crons.delete(on_thread["cron_id"]),
        "crons.create_for_thread": lambda: bob.crons.create_for_thread(
            thread["thread_id"], "gated", schedule="0 0 1 1 *"
        ),
    }.items():
        try:
            await call()
            answers[name] = 200
        except httpx.HTTPStatusError as exc:
            answers[name] = exc.response.status_code
    assert answers == {"crons.update": 404, "crons.delete": 404, "crons.create_for_thread": 404}
    mine = {c["cron_id"]: c for c in await alice.crons.search()}
    assert set(mine) == {cron["cron_id"], on_thread["cron_id"]}
    assert mine[cron["cron_id"]]["schedule"] == "0 0 1 1 *"
    assert mine[cron["cron_id"]]["metadata"] == {"k": 1, "owner": "alice"}


def namespace_auth(*, store: bool = True) -> Auth:
    """LangGraph's documented store isolation: the namespace starts with the user."""
    auth = Auth()

    @auth.authenticate
    async def authenticate(authorization: str | None) -> str:
        return {"Bearer token-alice": "alice", "Bearer token-bob": "bob"}[authorization or ""]

    if store:

        @auth.on.store()
        async def authorize_store(ctx: Auth.types.AuthContext, value: Any) -> None:
            namespace = tuple(value["namespace"] or ())
            assert namespace[:1] == (ctx.user.identity,), "Not authorized"

    return auth


async def test_a_user_cannot_reach_another_users_store_items(protected: Any) -> None:
    server = protected(namespace_auth())
    alice, bob = server.connect(ALICE), server.connect(BOB)
    await alice.store.put_item(["alice", "notes"], "n1", {"text": "secret"})
    assert (await alice.store.get_item(["alice", "notes"], "n1"))["value"] == {"text": "secret"}
    refused = {
        "put_item": lambda: bob.store.put_item(["alice", "notes"], "n1", {"text": "mine now"}),
        "get_item": lambda: bob.store.get_item(["alice", "notes"], "n1"),
        "delete_item": lambda: bob.store.delete_item(["alice", "notes"], "n1"),
        "search_items": lambda: bob.store.search_items(["alice"]),
        "list_namespaces": lambda: bob.store.list_namespaces(prefix=["alice"]),
        "list_everything": lambda: bob.store.list_namespaces(),
    }
    answers = {}
    for name, call in refused.items():
        try:
            await call()
            answers[name] = (200, "")
        except httpx.HTTPStatusError as exc:
            # (pytest rewrites the handler's assert: its message comes first)
            detail = exc.response.json()["detail"].split("\n")[0]
            answers[name] = (exc.response.status_code, detail)
    assert answers == {name: (403, "Not authorized") for name in refused}
    assert (await alice.store.get_item(["alice", "notes"], "n1"))["value"] == {"text": "secret"}
    await bob.store.put_item(["bob"], "b1", {"text": "bob's"})
    assert [i["key"] for i in (await bob.store.search_items(["bob"]))["items"]] == ["b1"]


async def test_a_store_handler_may_rewrite_the_namespace(protected: Any) -> None:
    auth = namespace_auth(store=False)

    @auth.on.store()
    async def scope_to_user(ctx: Auth.types.AuthContext, value: Any) -> None:
        value["namespace"] = (ctx.user.identity, *(value["namespace"] or ()))

    server = protected(auth)
    alice, bob = server.connect(ALICE), server.connect(BOB)
    await alice.store.put_item(["notes"], "n1", {"text": "alice's"})
    await bob.store.put_item(["notes"], "n1", {"text": "bob's"})
    assert (await alice.store.get_item(["notes"], "n1"))["value"] == {"text": "alice's"}
    assert (await bob.store.get_item(["notes"], "n1"))["value"] == {"text": "bob's"}
    found = (await bob.store.search_items(["notes"]))["items"]
    assert [(i["namespace"], i["value"]) for i in found] == [(["bob", "notes"], {"text": "bob's"})]
    await bob.store.delete_item(["notes"], "n1")
    assert (await alice.store.get_item(["notes"], "n1"))["value"] == {"text": "alice's"}


async def test_a_thread_a_run_creates_belongs_to_the_user(
    protected: Any, owner: Auth, gates: Any
) -> None:
    server = protected(owner, {"gated": gated(gates)})
    alice, bob = server.connect(ALICE), server.connect(BOB)
    tid = str(uuid.uuid4())
    done = await alice.runs.wait(tid, "gated", input={}, if_not_exists="create")
    assert done["log"] == ["done"]
    assert (await alice.threads.get(tid))["metadata"]["owner"] == "alice"
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await bob.threads.get(tid)
    assert _status(caught.value) == 404
    kept = await alice.runs.create(None, "gated", input={}, on_completion="keep")
    await alice.runs.join(kept["thread_id"], kept["run_id"])
    assert (await alice.runs.get(kept["thread_id"], kept["run_id"]))["status"] == "success"
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await bob.runs.get(kept["thread_id"], kept["run_id"])
    assert _status(caught.value) == 404


async def test_the_graph_sees_the_authenticated_user(protected: Any, owner: Auth) -> None:
    class Seen(TypedDict, total=False):
        who: str
        permissions: list[str]

    def read_user(state: Seen, config: RunnableConfig) -> dict[str, Any]:
        configurable = config["configurable"]
        assert (
            configurable["langgraph_auth_user"]["identity"]
            == configurable["langgraph_auth_user_id"]
        )
        return {
            "who": configurable["langgraph_auth_user_id"],
            "permissions": configurable["langgraph_auth_permissions"],
        }

    graph = StateGraph(Seen).add_node("read", read_user).add_edge(START, "read").compile()
    server = protected(owner, {"whoami": graph})
    alice = server.connect(ALICE)
    thread = await alice.threads.create()
    spoof = {"configurable": {"langgraph_auth_user_id": "bob"}}
    done = await alice.runs.wait(thread["thread_id"], "whoami", input={}, config=spoof)
    assert done == {"who": "alice", "permissions": ["read", "write"]}


async def test_a_run_with_context_still_hands_the_graph_its_user(
    protected: Any, owner: Auth
) -> None:
    from dataclasses import dataclass

    from langgraph.runtime import Runtime

    @dataclass
    class Ctx:
        greeting: str = ""

    class Seen(TypedDict, total=False):
        said: str

    def read(state: Seen, config: RunnableConfig, runtime: Runtime[Ctx]) -> dict[str, Any]:
        user = config["configurable"]["langgraph_auth_user_id"]
        return {"said": f"{runtime.context.greeting} {user}"}

    graph = (
        StateGraph(Seen, context_schema=Ctx)
        .add_node("read", read)
        .add_edge(START, "read")
        .compile()
    )
    server = protected(owner, {"ctx": graph})
    alice = server.connect(ALICE)
    thread = await alice.threads.create()
    # the guard's user keys in `configurable` are not the client's: no 400 for context
    done = await alice.runs.wait(thread["thread_id"], "ctx", input={}, context={"greeting": "hi"})
    assert done == {"said": "hi alice"}
    # what the client itself sends beside context is still refused, as on the reference
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await alice.runs.wait(
            thread["thread_id"],
            "ctx",
            input={},
            context={"greeting": "hi"},
            config={"configurable": {"x": 1}},
        )
    assert refused.value.response.status_code == 400


async def test_a_graph_factory_is_given_the_authenticated_user(protected: Any, owner: Auth) -> None:
    from langgraph_sdk.runtime import ServerRuntime

    class Seen(TypedDict, total=False):
        who: str
        permissions: list[str]

    made_for: list[tuple[str, Any]] = []

    def make(runtime: ServerRuntime) -> Any:  # a factory: called per run with the runtime
        user = runtime.user
        made_for.append((runtime.access_context, user))
        # (a graph made once for schemas and names is made for no one: no user there)
        who = user.identity if user is not None else ""
        permissions = list(user.permissions) if user is not None else []

        def answer(state: Seen) -> dict[str, Any]:
            return {"who": who, "permissions": permissions}

        return StateGraph(Seen).add_node("answer", answer).add_edge(START, "answer").compile()

    server = protected(owner, {"made": make})
    alice = server.connect(ALICE)
    thread = await alice.threads.create()
    done = await alice.runs.wait(thread["thread_id"], "made", input={})
    assert done == {"who": "alice", "permissions": ["read", "write"]}
    runs = [user for access, user in made_for if access == "threads.create_run"]
    assert runs and runs[-1]["identity"] == "alice" and runs[-1].is_authenticated


async def test_authenticate_gets_what_it_asks_for_and_its_refusal_is_the_answer(
    protected: Any,
) -> None:
    auth = Auth()
    got: list[dict[str, Any]] = []

    @auth.authenticate
    def authenticate(  # a sync handler runs in a worker thread, as on LangGraph
        request: Any, headers: dict[bytes, bytes], path: str, method: str, query_params: Any
    ) -> str:
        got.append(
            {
                "url_path": request.url.path,
                "header": headers.get(b"x-user"),
                "path": path,
                "method": method,
                "query": dict(query_params),
            }
        )
        if headers.get(b"x-user") != b"dora":
            raise Auth.exceptions.HTTPException(
                status_code=401, detail="Sign in", headers={"WWW-Authenticate": "Bearer"}
            )
        return "dora"

    server = protected(auth)
    http = server.connect(None).http.client
    refused = await http.get("/threads/" + str(uuid.uuid4()) + "/runs", params={"limit": "3"})
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Sign in"}
    assert refused.headers["www-authenticate"] == "Bearer"
    assert got[-1]["method"] == "GET" and got[-1]["query"] == {"limit": "3"}
    assert got[-1]["path"] == got[-1]["url_path"] and got[-1]["path"].endswith("/runs")
    created = await http.post("/threads", json={}, headers={"x-user": "dora"})
    assert created.status_code == 200
    assert got[-1] == {
        "url_path": "/threads",
        "header": b"dora",
        "path": "/threads",
        "method": "POST",
        "query": {},
    }


async def test_a_misconfigured_handler_fails_closed_with_a_detail(protected: Any) -> None:
    auth = Auth()

    @auth.authenticate
    async def authenticate() -> str:
        return "erin"

    @auth.on.threads.search
    async def unknown_operator(ctx: Auth.types.AuthContext, value: Any) -> dict[str, Any]:
        return {"owner": {"$ne": "erin"}}

    @auth.on.threads.create
    async def not_a_filter(ctx: Auth.types.AuthContext, value: Any) -> Any:
        return "yes"

    server = protected(auth)
    http = server.connect(None).http.client
    search = await http.post("/threads/search", json={})
    assert search.status_code == 403
    assert "'owner'" in search.json()["detail"] and "$ne" in search.json()["detail"]
    create = await http.post("/threads", json={})
    assert create.status_code == 403
    assert "must return None, True, False or a filter dict" in create.json()["detail"]
    assert server.store.threads == {}


async def test_nbruns_views_list_only_the_users_runs(
    protected: Any, owner: Auth, gates: Any
) -> None:
    server = protected(owner, {"gated": gated(gates)})
    alice, bob = server.connect(ALICE), server.connect(BOB)
    thread = await alice.threads.create()
    await alice.runs.wait(thread["thread_id"], "gated", input={})
    assert len((await alice.http.client.get("/nbruns/runs")).json()) == 1
    assert (await bob.http.client.get("/nbruns/runs")).json() == []
    assert (await bob.http.client.get("/nbruns/timeline")).json() == []
    other = await bob.http.client.get("/nbruns/timeline", params={"thread_id": thread["thread_id"]})
    assert other.status_code == 404


async def test_a_store_filter_hides_items_whose_value_does_not_match(protected: Any) -> None:
    auth = namespace_auth(store=False)

    @auth.on.store()
    async def own_items(ctx: Auth.types.AuthContext, value: Any) -> dict[str, Any]:
        return {"owner": ctx.user.identity}

    server = protected(auth)
    alice, bob = server.connect(ALICE), server.connect(BOB)
    await alice.store.put_item(["shared"], "a", {"owner": "alice", "text": "alice's"})
    await bob.store.put_item(["shared"], "b", {"owner": "bob", "text": "bob's"})
    assert [i["key"] for i in (await bob.store.search_items(["shared"]))["items"]] == ["b"]
    caller_filter = await bob.store.search_items(["shared"], filter={"owner": "alice"})
    assert caller_filter["items"] == []  # the caller's and the handler's conditions both hold
    by_text = await bob.store.search_items(["shared"], filter={"text": "bob's"})
    assert [i["key"] for i in by_text["items"]] == ["b"]
    assert (await alice.store.search_items(["shared"], filter={"text": "bob's"}))["items"] == []
    answers = {}
    for name, call in {
        "get_item": lambda: bob.store.get_item(["shared"], "a"),
        "put_item": lambda: bob.store.put_item(["shared"], "a", {"owner": "bob"}),
        "delete_item": lambda: bob.store.delete_item(["shared"], "a"),
    }.items():
        try:
            await call()
            answers[name] = 200
        except httpx.HTTPStatusError as exc:
            answers[name] = exc.response.status_code
    assert answers == {"get_item": 404, "put_item": 404, "delete_item": 404}
    item = await alice.store.get_item(["shared"], "a")
    assert item["value"] == {"owner": "alice", "text": "alice's"}
