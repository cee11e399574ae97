"""Search answers carry the pagination headers the JS SDK pages with (`useStream`'s thread
list, the Agent Chat UI's sidebar): `X-Pagination-Total` always, `X-Pagination-Next` (the
next page's offset) only when there is a next page."""

from __future__ import annotations

from typing import Any

import pytest

import nbruns


@pytest.fixture
async def http() -> Any:
    server = nbruns.Server()
    try:
        yield server.client().http.client
    finally:
        await server.aclose()


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/threads/search", lambda i: ("/threads", {"metadata": {"tag": "paged", "i": i}})),
        (
            "/assistants/search",
            lambda i: ("/assistants", {"graph_id": "agent", "metadata": {"tag": "paged", "i": i}}),
        ),
    ],
)
async def test_search_pages_carry_total_and_next(http: Any, path: str, make: Any) -> None:
    for i in range(5):
        created = await http.post(*make(i)[:1], json=make(i)[1])
        assert created.status_code == 200
    wanted = {"metadata": {"tag": "paged"}}

    first = await http.post(path, json={**wanted, "limit": 2, "offset": 0})
    assert len(first.json()) == 2
    assert first.headers["x-pagination-total"] == "5"
    assert first.headers["x-pagination-next"] == "2"

    last = await http.post(path, json={**wanted, "limit": 2, "offset": 4})
    assert len(last.json()) == 1
    assert last.headers["x-pagination-total"] == "5"
    assert "x-pagination-next" not in last.headers

    # the pages together are every match, once each
    pages = [
        (await http.post(path, json={**wanted, "limit": 2, "offset": o})).json() for o in (0, 2, 4)
    ]
    seen = [item["metadata"]["i"] for page in pages for item in page]
    assert sorted(seen) == [0, 1, 2, 3, 4]
