"""The Store on every target: a graph's `store: BaseStore` and `client.store.*`, with the
same answers and status codes as LangGraph's server (and, where nbruns differs on
purpose, each side's answer pinned). Each test works under a namespace of its own: the
servers live for the whole session."""

from __future__ import annotations

import uuid
from typing import Any

import pytest


def ns() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


async def test_memory_agent_reads_across_threads(drv: Any) -> None:
    user = ns()
    first = await drv.thread()
    out = await drv.client.runs.wait(first, "memory", input={"user": user, "remember": "tea"})
    assert out["memories"] == ["tea"]
    second = await drv.thread()
    out = await drv.client.runs.wait(second, "memory", input={"user": user})
    assert out["memories"] == ["tea"]
    item = await drv.client.store.get_item(["memories", user], key="tea")
    assert item is not None and item["value"] == {"text": "tea"}
    assert set(item) == {"namespace", "key", "value", "created_at", "updated_at"}
    await drv.client.store.put_item(["memories", user], key="jazz", value={"text": "jazz"})
    out = await drv.client.runs.wait(second, "memory", input={"user": user})
    assert out["memories"] == ["jazz", "tea"]


async def test_items_search_and_namespaces(drv: Any) -> None:
    root = ns()
    store = drv.client.store
    await store.put_item([root, "a"], key="1", value={"tag": "x", "n": 1})
    await store.put_item([root, "b"], key="2", value={"tag": "y", "n": 2})
    await store.put_item([root, "b"], key="3", value={"tag": "x", "n": 3}, index=False)
    await store.put_item([root, "b"], key="4", value={"tag": "x", "n": 4}, index=["tag"])

    assert await store.get_item([root, "a"], key="missing") is None
    item = await store.get_item([root, "a"], key="1", refresh_ttl=True)
    assert (item["namespace"], item["key"]) == ([root, "a"], "1")
    assert item["value"] == {"tag": "x", "n": 1}

    found = (await store.search_items([root]))["items"]
    assert [i["key"] for i in found] == ["1", "2", "3", "4"]
    assert all(i["score"] is None for i in found)
    assert set(found[0]) == {"namespace", "key", "value", "created_at", "updated_at", "score"}
    found = (await store.search_items([root], filter={"tag": "x"}))["items"]
    assert [i["key"] for i in found] == ["1", "3", "4"]
    found = (await store.search_items([root, "b"], filter={"n": {"$lt": 3}, "tag": "y"}))["items"]
    assert [i["key"] for i in found] == ["2"]
    found = (await store.search_items([root], limit=2, offset=1))["items"]
    assert [i["key"] for i in found] == ["2", "3"]

    listed = await store.list_namespaces(prefix=[root])
    assert listed == {"namespaces": [[root, "a"], [root, "b"]]}
    assert await store.list_namespaces(prefix=[root], max_depth=1) == {"namespaces": [[root]]}
    assert await store.list_namespaces(prefix=[root], suffix=["b"]) == {"namespaces": [[root, "b"]]}
    assert await store.list_namespaces(prefix=[root], limit=1, offset=1) == {
        "namespaces": [[root, "b"]]
    }

    await store.delete_item([root, "a"], key="1")
    await store.delete_item([root, "a"], key="1")  # nothing to delete: done all the same
    assert await store.get_item([root, "a"], key="1") is None
    # LangGraph's InMemoryStore (the reference's, and nbruns's by default) still lists a
    # namespace whose last item was deleted
    listed = await store.list_namespaces(prefix=[root])
    assert listed == {"namespaces": [[root, "a"], [root, "b"]]}


def _detail(resp: Any) -> str:
    # the reference answers its namespace checks with a plain-text body, nbruns with JSON
    if resp.headers.get("content-type", "").startswith("application/json"):
        body = resp.json()
        return str(body.get("detail") or body.get("error"))
    return str(resp.text)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/store/items", {"params": {"namespace": "a.b"}}, 400),  # no key
        ("GET", "/store/items", {"params": {"key": "k"}}, 422),  # no namespace: label ''
        ("GET", "/store/items", {"params": {"namespace": "a..b", "key": "k"}}, 422),
        ("PUT", "/store/items", {"json": {"namespace": [], "key": "k", "value": {}}}, 400),
        (
            "PUT",
            "/store/items",
            {"json": {"namespace": ["langgraph"], "key": "k", "value": {}}},
            400,
        ),
        ("PUT", "/store/items", {"json": {"namespace": ["a.b"], "key": "k", "value": {}}}, 422),
        ("PUT", "/store/items", {"json": {"namespace": ["a", ""], "key": "k", "value": {}}}, 422),
        ("PUT", "/store/items", {"json": {"namespace": ["a"], "key": "k", "value": [1]}}, 422),
        ("PUT", "/store/items", {"json": {"namespace": ["a"], "value": {}}}, 422),
        (
            "PUT",
            "/store/items",
            {"json": {"namespace": ["a"], "key": "k", "value": {}, "index": True}},
            422,
        ),
        ("PUT", "/store/items", {"content": b"{"}, 422),
        ("DELETE", "/store/items", {"json": {"namespace": ["a"]}}, 422),
        ("POST", "/store/namespaces", {"json": {"prefix": ["a.b"]}}, 422),
        ("POST", "/store/items/search", {"json": {"namespace_prefix": ["a.b"]}}, 422),
    ],
)
async def test_bad_store_requests(
    drv: Any, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    resp = await drv.http.request(method, path, **kwargs)
    assert resp.status_code == status, resp.text
    assert _detail(resp).strip()


async def test_reserved_and_empty_namespaces_change_nothing(drv: Any) -> None:
    resp = await drv.http.put(
        "/store/items", json={"namespace": ["langgraph", "x"], "key": "k", "value": {}}
    )
    assert resp.status_code == 400
    assert "langgraph" in resp.json()["detail"]
    resp = await drv.http.get("/store/items", params={"namespace": "langgraph.x", "key": "k"})
    assert resp.status_code == 200 and resp.json() is None


async def test_deliberate_differences(drv: Any) -> None:
    root = ns()
    store = drv.client.store
    await store.put_item([root], key="n", value={"n": 1})
    await store.put_item([root], key="none", value={})

    # an item's own ttl, on the default (in-memory) store: the reference answers 204 and
    # keeps the item forever; nbruns refuses it, saying how to get a store that keeps TTLs
    resp = await drv.http.put(
        "/store/items", json={"namespace": [root], "key": "t", "value": {}, "ttl": 5}
    )
    if drv.is_reference:
        assert resp.status_code == 204
    else:
        assert resp.status_code == 422 and "store.ttl" in resp.json()["detail"]

    # limit 0: the reference reads it as the default (10); nbruns refuses it
    resp = await drv.http.post("/store/items/search", json={"namespace_prefix": [root], "limit": 0})
    if drv.is_reference:
        assert resp.status_code == 200 and len(resp.json()["items"]) >= 2
    else:
        assert resp.status_code == 422 and "limit" in resp.json()["detail"]

    if drv.is_reference:
        return  # the rest answers 500 and drops the connection on the reference
    # $gt over an item without that field: the reference fails (500); nbruns answers 400
    resp = await drv.http.post(
        "/store/items/search", json={"namespace_prefix": [root], "filter": {"n": {"$gt": 0}}}
    )
    assert resp.status_code == 400 and "$gt" in resp.json()["detail"]
    # no namespace_prefix: the reference fails (500); nbruns searches everything
    resp = await drv.http.post("/store/items/search", json={"filter": {"n": 1}, "limit": 100})
    assert resp.status_code == 200
    assert {(i["namespace"][0], i["key"]) for i in resp.json()["items"]} >= {(root, "n")}
