"""Assistants."""

from __future__ import annotations

import uuid
from typing import Any

from .._prober import Prober

KEY = "assistants"
TITLE = "Assistants"
INTRO = (
    "`langgraph dev` registers one system assistant per graph in `langgraph.json` "
    "(here six: slow, fail, hitl, dyn, blocking, chat), with `metadata.created_by = "
    '"system"`. A graph id is accepted as `assistant_id` in run payloads, but not in '
    "`/assistants/{id}` paths."
)


async def probe(p: Prober) -> None:
    aid = await _create(p)
    await _get(p, aid)
    await _search(p)


async def _create(p: Prober) -> str:
    """Create by graph id and with an id; duplicates under each `if_exists`."""
    await p.call(KEY, "create by graph id", "POST", "/assistants", json_body={"graph_id": "slow"})
    aid = str(uuid.uuid4())
    body = {"graph_id": "slow", "assistant_id": aid, "if_exists": "raise"}
    await p.call(KEY, "create with id", "POST", "/assistants", json_body=body)
    await p.call(KEY, "duplicate, if_exists=raise", "POST", "/assistants", json_body=body)
    await p.call(
        KEY,
        "duplicate, if_exists omitted",
        "POST",
        "/assistants",
        json_body={"graph_id": "slow", "assistant_id": aid},
    )
    await p.call(
        KEY,
        "duplicate, if_exists=do_nothing",
        "POST",
        "/assistants",
        json_body={**body, "if_exists": "do_nothing", "name": "other"},
        note="returns the existing assistant unchanged",
    )
    await p.call(
        KEY,
        "duplicate, do_nothing, other graph",
        "POST",
        "/assistants",
        json_body={"graph_id": "fail", "assistant_id": aid, "if_exists": "do_nothing"},
    )
    await p.call(KEY, "unknown graph", "POST", "/assistants", json_body={"graph_id": "nope"})
    await p.sdk(
        KEY,
        "unknown graph (SDK)",
        "assistants.create(graph_id='nope')",
        p.client.assistants.create(graph_id="nope"),
    )
    await p.sdk(
        KEY,
        "duplicate (SDK)",
        "assistants.create('slow', assistant_id=<existing>, if_exists='raise')",
        p.client.assistants.create(graph_id="slow", assistant_id=aid, if_exists="raise"),
    )
    return aid


async def _get(p: Prober, aid: str) -> None:
    await p.call(KEY, "get by uuid", "GET", f"/assistants/{aid}")
    await p.call(KEY, "get by graph id", "GET", "/assistants/slow")
    await p.call(KEY, "get unknown uuid", "GET", f"/assistants/{uuid.uuid4()}")
    await p.call(KEY, "get unknown name", "GET", "/assistants/nope")


async def _search(p: Prober) -> None:
    """Search and count, over six more assistants of graph `hitl` tagged "bulk"."""
    for i in range(6):
        await p.http.post(
            "/assistants", json={"graph_id": "hitl", "metadata": {"probe": "bulk", "i": i}}
        )

    def summarize(b: Any) -> Any:
        if isinstance(b, list):
            return {"len": len(b), "first": b[0] if b else None}
        return b

    await p.call(
        KEY,
        "search, empty body",
        "POST",
        "/assistants/search",
        json_body={},
        show=summarize,
        all_headers=True,
        note=f"{(await p.http.post('/assistants/count', json={})).json()} assistants exist "
        "at this point; body shown as {len, first}",
    )
    await p.call(KEY, "search, no body", "POST", "/assistants/search", show=summarize)
    await p.sdk(
        KEY,
        "search (SDK defaults)",
        "assistants.search()",
        p.client.assistants.search(),
        show=lambda v: {"len": len(v)},
    )
    await p.call(
        KEY,
        "search by graph_id",
        "POST",
        "/assistants/search",
        json_body={"graph_id": "hitl", "limit": 100},
        show=lambda b: {"len": len(b), "graph_ids": sorted({a["graph_id"] for a in b})},
    )
    await p.call(
        KEY,
        "search by metadata",
        "POST",
        "/assistants/search",
        json_body={"metadata": {"created_by": "system"}, "limit": 100},
        show=lambda b: {"len": len(b), "graph_ids": sorted(a["graph_id"] for a in b)},
    )
    await p.call(
        KEY,
        "search limit/offset",
        "POST",
        "/assistants/search",
        json_body={"metadata": {"probe": "bulk"}, "limit": 2, "offset": 1},
        show=lambda b: [a["metadata"].get("i") for a in b],
        note="body shown as metadata.i of each result",
    )
    await p.call(
        KEY,
        "search sort asc",
        "POST",
        "/assistants/search",
        json_body={"metadata": {"probe": "bulk"}, "sort_by": "created_at", "sort_order": "asc"},
        show=lambda b: [a["metadata"].get("i") for a in b],
        note="body shown as metadata.i of each result",
    )
    await p.call(
        KEY,
        "search default order",
        "POST",
        "/assistants/search",
        json_body={"metadata": {"probe": "bulk"}},
        show=lambda b: [a["metadata"].get("i") for a in b],
        note="body shown as metadata.i of each result",
    )
    await p.call(
        KEY,
        "search select",
        "POST",
        "/assistants/search",
        json_body={"select": ["assistant_id", "graph_id"], "limit": 1},
    )
    await p.call(KEY, "search unknown key", "POST", "/assistants/search", json_body={"bogus": 1})
    await p.call(KEY, "count", "POST", "/assistants/count", json_body={})
    await p.call(KEY, "count by graph", "POST", "/assistants/count", json_body={"graph_id": "hitl"})
