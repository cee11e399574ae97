"""Threads."""

from __future__ import annotations

import uuid
from typing import Any

from .._prober import Prober

KEY = "threads"
TITLE = "Threads"
INTRO = "Thread CRUD, search, copy and the state/history endpoints."


async def probe(p: Prober) -> None:
    fresh, fresh_keys = await _create(p)
    t1 = await _after_a_run(p, fresh_keys)
    hist = await _history_defaults(p, t1)
    await _history_at_checkpoint(p, t1, hist)
    await _update_state(p, t1, fresh)
    await _update_state_while_busy(p)
    await _copy(p, t1)
    ids = await _search(p)
    await _delete(p, ids[0])


def _steps(b: Any) -> Any:
    """A history body shown as the list of its metadata.step."""
    return [(h["metadata"] or {}).get("step") for h in b] if isinstance(b, list) else b


def _ns(b: Any) -> Any:
    """A search body shown as the metadata.n of each result."""
    return [t["metadata"]["n"] for t in b] if isinstance(b, list) else b


async def _create(p: Prober) -> tuple[str, list[str]]:
    """Create (with and without a body or an id, duplicates), then read a brand-new thread
    and unknown ones; returns the new thread and its keys."""
    r = await p.call(KEY, "create, empty body", "POST", "/threads", json_body={})
    fresh = r.json()["thread_id"]
    await p.call(KEY, "create, no body", "POST", "/threads")
    fixed = str(uuid.uuid4())
    await p.call(
        KEY,
        "create with thread_id",
        "POST",
        "/threads",
        json_body={"thread_id": fixed, "metadata": {"k": "v"}},
    )
    await p.call(
        KEY, "duplicate, if_exists omitted", "POST", "/threads", json_body={"thread_id": fixed}
    )
    await p.call(
        KEY,
        "duplicate, if_exists=raise",
        "POST",
        "/threads",
        json_body={"thread_id": fixed, "if_exists": "raise"},
    )
    await p.call(
        KEY,
        "duplicate, if_exists=do_nothing",
        "POST",
        "/threads",
        json_body={"thread_id": fixed, "if_exists": "do_nothing", "metadata": {"k": "other"}},
    )
    await p.sdk(
        KEY,
        "duplicate (SDK)",
        "threads.create(thread_id=<existing>)",
        p.client.threads.create(thread_id=fixed),
    )
    fresh_keys = list((await p.call(KEY, "get fresh", "GET", f"/threads/{fresh}")).json())
    await p.call(KEY, "get_state, brand new thread", "GET", f"/threads/{fresh}/state")
    await p.sdk(
        KEY,
        "get_state, brand new (SDK)",
        "threads.get_state(<new thread>)",
        p.client.threads.get_state(fresh),
    )
    await p.call(KEY, "history, brand new", "GET", f"/threads/{fresh}/history")
    await p.call(KEY, "history POST, brand new", "POST", f"/threads/{fresh}/history", json_body={})
    await p.call(KEY, "get unknown", "GET", f"/threads/{uuid.uuid4()}")
    await p.call(KEY, "get_state unknown", "GET", f"/threads/{uuid.uuid4()}/state")
    await p.call(KEY, "history unknown", "GET", f"/threads/{uuid.uuid4()}/history")
    return fresh, fresh_keys


async def _after_a_run(p: Prober, fresh_keys: list[str]) -> str:
    """A thread after one finished run: its keys, `include`, metadata updates; returns it."""
    t1 = await p.new_thread(metadata={"owner": "probe"})
    await p.client.runs.wait(
        t1, "slow", input={"delay": 0, "messages": [{"role": "user", "content": "hi"}]}
    )
    await p.idle(t1)
    after_keys = list((await p.call(KEY, "get after a run", "GET", f"/threads/{t1}")).json())
    p.rec.fact(
        KEY,
        f"A thread that never ran has keys `{fresh_keys}` (`values` is null); "
        "after a run it has "
        f"`{after_keys}`: keys added `{[k for k in after_keys if k not in fresh_keys]}`.",
    )
    await p.call(
        KEY,
        "get after a run, include",
        "GET",
        f"/threads/{t1}",
        params={"include": "ttl"},
        show=lambda b: sorted(b) if isinstance(b, dict) else b,
        note="body shown as its key list",
    )
    await p.call(
        KEY, "update metadata", "PATCH", f"/threads/{t1}", json_body={"metadata": {"a": 1}}
    )
    await p.call(
        KEY,
        "update metadata again",
        "PATCH",
        f"/threads/{t1}",
        json_body={"metadata": {"b": 2, "owner": None}},
        show=lambda b: {"metadata": b.get("metadata")} if isinstance(b, dict) else b,
        note="body abbreviated to metadata: keys are merged; null is stored, not deleted",
    )
    await p.call(
        KEY, "update unknown", "PATCH", f"/threads/{uuid.uuid4()}", json_body={"metadata": {}}
    )
    await p.call(KEY, "get_state after a run", "GET", f"/threads/{t1}/state")
    return t1


async def _history_defaults(p: Prober, t1: str) -> list[dict[str, Any]]:
    """Two more runs on `t1` (> 10 checkpoints), then history's default limits; returns the
    whole history, newest first."""
    for _ in range(2):
        await p.client.runs.wait(t1, "slow", input={"delay": 0})
    await p.idle(t1)
    r = await p.http.post(f"/threads/{t1}/history", json={"limit": 100})
    hist: list[dict[str, Any]] = r.json()
    p.rec.fact(
        KEY,
        f"A `slow` run (3 nodes) writes 5 checkpoints (steps -1…3); after 3 runs the "
        f"thread has {len(hist)} checkpoints in total.",
    )
    hist_get = await p.call(
        KEY,
        "history, default (GET)",
        "GET",
        f"/threads/{t1}/history",
        show=lambda b: {"len": len(b), "first": b[0]},
        note="body shown as {len, first}: newest first",
    )
    hist_post = await p.call(
        KEY,
        "history, default (POST {})",
        "POST",
        f"/threads/{t1}/history",
        json_body={},
        show=lambda b: {"len": len(b)},
    )
    hist_sdk = await p.sdk(
        KEY,
        "history (SDK default)",
        "threads.get_history(t)",
        p.client.threads.get_history(t1),
        show=lambda v: {"len": len(v)},
    )
    p.rec.fact(
        KEY,
        f"History default limit: the server returns {len(hist_get.json())} entry for GET "
        "without "
        f"`limit` and {len(hist_post.json())} for POST `{{}}`; the SDK's `get_history` sends "
        f"`limit=10` and got {len(hist_sdk)}. Entries are newest first.",
    )
    return hist


async def _history_at_checkpoint(p: Prober, t1: str, hist: list[dict[str, Any]]) -> None:
    """History `before`/metadata/limit, and state at the 5th newest checkpoint."""
    target = hist[4]
    ck = target["checkpoint"]["checkpoint_id"]
    await p.call(
        KEY,
        "history before",
        "POST",
        f"/threads/{t1}/history",
        json_body={"limit": 3, "before": {"configurable": {"checkpoint_id": ck}}},
        show=_steps,
        note=f"`before` = the 5th newest checkpoint (step {target['metadata'].get('step')}); "
        "body shown as metadata.step list",
    )
    await p.call(
        KEY,
        "history metadata filter",
        "POST",
        f"/threads/{t1}/history",
        json_body={"metadata": {"step": 1}, "limit": 100},
        show=_steps,
        note="body shown as metadata.step list",
    )
    await p.call(
        KEY,
        "history GET limit",
        "GET",
        f"/threads/{t1}/history",
        params={"limit": 2},
        show=_steps,
        note="body shown as metadata.step list",
    )
    await p.call(KEY, "get_state at checkpoint", "GET", f"/threads/{t1}/state/{ck}")
    await p.call(
        KEY,
        "get_state at checkpoint (POST)",
        "POST",
        f"/threads/{t1}/state/checkpoint",
        json_body={"checkpoint": {"checkpoint_id": ck}},
        show=lambda b: (
            {"next": b.get("next"), "step": (b.get("metadata") or {}).get("step")}
            if isinstance(b, dict)
            else b
        ),
        note="body abbreviated",
    )
    await p.call(
        KEY,
        "get_state unknown checkpoint",
        "GET",
        f"/threads/{t1}/state/{uuid.uuid4()}",
    )
    await p.sdk(
        KEY,
        "get_state checkpoint_id (SDK)",
        "threads.get_state(t, checkpoint_id=<5th newest>)",
        p.client.threads.get_state(t1, checkpoint_id=ck),
        show=lambda v: {"next": v["next"], "step": v["metadata"]["step"]},
    )


async def _update_state(p: Prober, t1: str, fresh: str) -> None:
    """update_state, with `as_node`, an unknown node, and on a thread that never ran."""
    await p.call(
        KEY,
        "update_state",
        "POST",
        f"/threads/{t1}/state",
        json_body={"values": {"log": ["manual"]}},
    )
    await p.call(
        KEY,
        "state after update_state",
        "GET",
        f"/threads/{t1}/state",
        show=lambda b: {
            "next": b["next"],
            "metadata": b["metadata"],
            "log_tail": b["values"]["log"][-2:],
        },
        note="body abbreviated",
    )
    await p.call(
        KEY,
        "update_state as_node",
        "POST",
        f"/threads/{t1}/state",
        json_body={"values": {"log": ["as-a"]}, "as_node": "a"},
    )
    await p.call(
        KEY,
        "state after as_node=a",
        "GET",
        f"/threads/{t1}/state",
        show=lambda b: {"next": b["next"], "metadata": b["metadata"]},
        note="body abbreviated",
    )
    await p.call(
        KEY,
        "update_state unknown as_node",
        "POST",
        f"/threads/{t1}/state",
        json_body={"values": {"log": ["x"]}, "as_node": "nope"},
    )
    await p.call(
        KEY,
        "update_state on brand new thread",
        "POST",
        f"/threads/{fresh}/state",
        json_body={"values": {"log": ["x"]}},
    )


async def _update_state_while_busy(p: Prober) -> None:
    """update_state (raw and SDK) and PATCH while a run is in flight."""
    t_upd = await p.new_thread()
    await p.client.runs.wait(t_upd, "slow", input={})
    await p.idle(t_upd)
    busy = await p.create_run(t_upd, "slow", input={"delay": 1})
    await p.wait_run(t_upd, busy["run_id"], {"running"})
    await p.call(
        KEY,
        "update_state during a run",
        "POST",
        f"/threads/{t_upd}/state",
        json_body={"values": {"log": ["x"]}},
    )
    await p.sdk(
        KEY,
        "update_state during a run (SDK)",
        "threads.update_state(t, {...})",
        p.client.threads.update_state(t_upd, {"log": ["x"]}),
    )
    await p.call(
        KEY,
        "PATCH while a run is in flight",
        "PATCH",
        f"/threads/{t_upd}",
        json_body={"metadata": {"while": "busy"}},
        show=lambda b: {"status": b.get("status"), "metadata": b.get("metadata")},
        note="PATCH is allowed while busy; body abbreviated",
    )
    await p.client.runs.join(t_upd, busy["run_id"])


async def _copy(p: Prober, t1: str) -> None:
    r = await p.call(KEY, "copy", "POST", f"/threads/{t1}/copy")
    if r.status_code == 200:
        cid = r.json()["thread_id"]
        await p.call(
            KEY,
            "copy: get_state of copy",
            "GET",
            f"/threads/{cid}/state",
            show=lambda b: {
                "values.log": b["values"].get("log"),
                "next": b["next"],
                "checkpoint_ns": b["checkpoint"]["checkpoint_ns"],
            },
            note="body abbreviated",
        )
        await p.call(
            KEY,
            "copy: history length",
            "POST",
            f"/threads/{cid}/history",
            json_body={"limit": 100},
            show=lambda b: {"len": len(b)},
        )
        await p.call(
            KEY,
            "copy: runs of copy",
            "GET",
            f"/threads/{cid}/runs",
            show=lambda b: {"len": len(b)},
        )
    await p.call(KEY, "copy unknown", "POST", f"/threads/{uuid.uuid4()}/copy")


async def _search(p: Prober) -> list[str]:
    """Twelve threads tagged for this probe, one of them busy, searched; returns them."""
    tag = uuid.uuid4().hex[:8]
    ids = []
    for i in range(12):
        ids.append(await p.new_thread(metadata={"probe": tag, "n": i}))
    bt = ids[5]
    r5 = await p.create_run(bt, "slow", input={"delay": 1})
    await p.wait_run(bt, r5["run_id"], {"running"})
    await _search_queries(p, tag, ids)
    await p.client.runs.join(bt, r5["run_id"])
    return ids


async def _search_queries(p: Prober, tag: str, ids: list[str]) -> None:
    await p.call(
        KEY,
        "search, metadata only",
        "POST",
        "/threads/search",
        json_body={"metadata": {"probe": tag}},
        show=_ns,
        all_headers=True,
        note="12 matching threads; body shown as metadata.n of each result",
    )
    await p.sdk(
        KEY,
        "search (SDK)",
        "threads.search(metadata={probe})",
        p.client.threads.search(metadata={"probe": tag}),
        show=lambda v: {"len": len(v)},
    )
    await p.call(
        KEY,
        "search limit/offset",
        "POST",
        "/threads/search",
        json_body={"metadata": {"probe": tag}, "limit": 3, "offset": 2},
        show=_ns,
    )
    await p.call(
        KEY,
        "search sort asc",
        "POST",
        "/threads/search",
        json_body={
            "metadata": {"probe": tag},
            "sort_by": "created_at",
            "sort_order": "asc",
            "limit": 20,
        },
        show=_ns,
    )
    await p.call(
        KEY,
        "search status=busy",
        "POST",
        "/threads/search",
        json_body={"metadata": {"probe": tag}, "status": "busy"},
        show=_ns,
    )
    await p.call(
        KEY,
        "search status=idle",
        "POST",
        "/threads/search",
        json_body={"metadata": {"probe": tag}, "status": "idle", "limit": 20},
        show=lambda b: {"len": len(b)} if isinstance(b, list) else b,
    )
    await p.call(
        KEY,
        "search status bogus",
        "POST",
        "/threads/search",
        json_body={"status": "bogus"},
    )
    await p.call(
        KEY,
        "search sort_by bogus",
        "POST",
        "/threads/search",
        json_body={"sort_by": "bogus"},
    )
    await p.call(
        KEY,
        "search ids",
        "POST",
        "/threads/search",
        json_body={"ids": ids[:2]},
        show=_ns,
    )
    await p.call(
        KEY,
        "search select",
        "POST",
        "/threads/search",
        json_body={"metadata": {"probe": tag}, "select": ["thread_id", "status"], "limit": 1},
    )
    await p.call(KEY, "count", "POST", "/threads/count", json_body={"metadata": {"probe": tag}})


async def _delete(p: Prober, dt: str) -> None:
    await p.call(KEY, "delete", "DELETE", f"/threads/{dt}")
    await p.call(KEY, "get deleted", "GET", f"/threads/{dt}")
    await p.call(KEY, "delete again", "DELETE", f"/threads/{dt}")
    await p.sdk(
        KEY,
        "delete unknown (SDK)",
        "threads.delete(<unknown>)",
        p.client.threads.delete(str(uuid.uuid4())),
    )
