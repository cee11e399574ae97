"""`MemoryStore`: threads, runs, search, ordering, FIFO pending, timeline, hidden rollbacks."""

from __future__ import annotations

from typing import Any

import pytest

from nbruns._core._errors import Conflict, NotFound
from nbruns._core._records import AssistantRecord, Head, RunPhase, RunRecord, ThreadRecord
from nbruns._core._store import MemoryStore, matches


def thread(thread_id: str, at: float, **extra: Any) -> ThreadRecord:
    return ThreadRecord(
        thread_id=thread_id, created_at=at, updated_at=at, state_updated_at=at, **extra
    )


def make_run(
    store: MemoryStore,
    run_id: str,
    thread_id: str = "t1",
    phase: RunPhase = "pending",
    *,
    created_at: float = 10.0,
    scheduled_at: float | None = None,
    **extra: Any,
) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        thread_id=thread_id,
        assistant_id="a1",
        graph_id="g",
        seq=store.next_seq(),
        created_at=created_at,
        updated_at=created_at,
        scheduled_at=created_at if scheduled_at is None else scheduled_at,
        phase=phase,
        multitask_strategy="enqueue",
        **extra,
    )


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.create_thread(thread("t1", 1.0, metadata={"user": "ann", "nested": {"k": 1}}))
    s.create_thread(thread("t2", 2.0, metadata={"user": "bob"}))
    s.create_thread(thread("t3", 3.0, metadata={"user": "ann"}))
    return s


# -- threads ------------------------------------------------------------------


def test_get_thread_and_not_found(store: MemoryStore) -> None:
    assert store.get_thread("t1").metadata["user"] == "ann"
    with pytest.raises(NotFound, match="Thread nope not found"):
        store.get_thread("nope")


def test_create_thread_twice(store: MemoryStore) -> None:
    with pytest.raises(Conflict, match="t1 already exists"):
        store.create_thread(thread("t1", 9.0))
    same = store.create_thread(thread("t1", 9.0, metadata={"x": 1}), if_exists="do_nothing")
    assert same.created_at == 1.0
    assert same.metadata["user"] == "ann"


def test_replace_thread(store: MemoryStore) -> None:
    store.replace_thread("t1", metadata={"user": "zed"}, updated_at=50.0)
    assert store.get_thread("t1").metadata == {"user": "zed"}
    assert store.get_thread("t1").updated_at == 50.0
    with pytest.raises(NotFound):
        store.replace_thread("nope", updated_at=1.0)


def test_delete_thread_forgets_runs_and_timeline(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "r1"))
    store.insert_run(make_run(store, "r2", phase="success"))
    store.insert_run(make_run(store, "other", thread_id="t2"))
    store.record("created", "t1", "r1", at=1.0)
    runs = store.delete_thread("t1")
    assert [r.run_id for r in runs] == ["r1", "r2"]
    assert "r1" not in store.runs and "r2" not in store.runs
    assert "other" in store.runs
    with pytest.raises(NotFound):
        store.get_thread("t1")
    with pytest.raises(NotFound):
        store.timeline("t1")
    with pytest.raises(NotFound):
        store.delete_thread("t1")


def test_search_threads_newest_first_with_paging(store: MemoryStore) -> None:
    assert [t.thread_id for t in store.search_threads()] == ["t3", "t2", "t1"]
    assert [t.thread_id for t in store.search_threads(limit=2)] == ["t3", "t2"]
    assert [t.thread_id for t in store.search_threads(limit=2, offset=2)] == ["t1"]
    asc = store.search_threads(sort_order="asc")
    assert [t.thread_id for t in asc] == ["t1", "t2", "t3"]


def test_search_threads_filters(store: MemoryStore) -> None:
    assert [t.thread_id for t in store.search_threads(metadata={"user": "ann"})] == ["t3", "t1"]
    assert [t.thread_id for t in store.search_threads(metadata={"nested": {"k": 1}})] == ["t1"]
    assert store.search_threads(metadata={"user": "nobody"}) == []
    assert [t.thread_id for t in store.search_threads(ids=["t1", "t2"])] == ["t2", "t1"]
    store.insert_run(make_run(store, "r1", thread_id="t2", phase="running"))
    store.set_head("t3", Head(values=b'{"a": 1}', next=("b",)), at=5.0)
    assert [t.thread_id for t in store.search_threads(status="busy")] == ["t2"]
    assert [t.thread_id for t in store.search_threads(status="interrupted")] == ["t3"]
    assert [t.thread_id for t in store.search_threads(status="idle")] == ["t1"]
    assert [t.thread_id for t in store.search_threads(values={"a": 1})] == ["t3"]


def test_search_threads_hides_temporary(store: MemoryStore) -> None:
    store.create_thread(thread("tmp", 9.0, temporary=True))
    assert "tmp" not in [t.thread_id for t in store.search_threads()]
    assert store.get_thread("tmp").temporary


def test_set_head_updates_state_time(store: MemoryStore) -> None:
    store.set_head("t1", Head(values=b'{"v": 2}', next=("x",), checkpoint_id="c1"), at=77.0)
    t = store.get_thread("t1")
    assert t.head.values == b'{"v": 2}'
    assert t.head.next == ("x",)
    assert t.state_updated_at == 77.0
    store.set_head("gone", Head(), at=1.0)  # an unknown thread is ignored


def test_thread_status_from_runs(store: MemoryStore) -> None:
    assert store.thread_status("t1") == "idle"
    store.insert_run(make_run(store, "r1"))
    assert store.thread_status("t1") == "busy"


# -- runs ---------------------------------------------------------------------


def test_insert_run_needs_thread(store: MemoryStore) -> None:
    with pytest.raises(NotFound):
        store.insert_run(make_run(store, "r1", thread_id="nope"))


def test_list_runs_newest_first_paging_status(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "r1", phase="success", created_at=1.0))
    store.insert_run(make_run(store, "r2", phase="interrupted", created_at=2.0))
    store.insert_run(make_run(store, "r3", phase="running", created_at=3.0))
    store.insert_run(make_run(store, "r4", phase="pending", created_at=4.0))
    ids = lambda runs: [r.run_id for r in runs]  # noqa: E731
    assert ids(store.list_runs("t1")) == ["r4", "r3", "r2", "r1"]
    assert ids(store.list_runs("t1", limit=2)) == ["r4", "r3"]
    assert ids(store.list_runs("t1", limit=2, offset=1)) == ["r3", "r2"]
    assert ids(store.list_runs("t1", offset=4)) == []
    assert ids(store.list_runs("t1", status="pending")) == ["r4"]
    assert ids(store.list_runs("t1", status="success")) == ["r1"]
    assert ids(store.list_runs("t1", status="error")) == []
    assert ids(store.list_runs("t2")) == []
    with pytest.raises(NotFound):
        store.list_runs("nope")


def test_rolled_back_runs_are_hidden(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "ok", phase="success"))
    store.insert_run(make_run(store, "rb", phase="stopping", cancel_action="rollback"))
    store.insert_run(make_run(store, "gone", phase="rolled_back", cancel_action="rollback"))
    store.insert_run(make_run(store, "int", phase="stopping", cancel_action="interrupt"))
    for hidden in ("rb", "gone"):
        with pytest.raises(NotFound, match=f"Run {hidden} not found"):
            store.get_run("t1", hidden)
        assert store.find_run(hidden) is not None
    assert store.get_run("t1", "int").phase == "stopping"
    assert [r.run_id for r in store.list_runs("t1")] == ["int", "ok"]
    assert [r.run_id for r in store.list_runs("t1", status="interrupted")] == ["int"]


def test_get_run_checks_thread(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "r1"))
    assert store.get_run("t1", "r1").run_id == "r1"
    with pytest.raises(NotFound):
        store.get_run("t2", "r1")
    with pytest.raises(NotFound):
        store.get_run("t1", "nope")


def test_replace_and_forget_run(store: MemoryStore) -> None:
    r = store.insert_run(make_run(store, "r1"))
    from dataclasses import replace

    store.replace_run(replace(r, phase="running"))
    assert store.get_run("t1", "r1").phase == "running"
    store.forget_run("r1")
    assert store.find_run("r1") is None
    assert store.runs_of("t1") == []
    store.forget_run("r1")  # twice is fine
    with pytest.raises(NotFound):
        store.replace_run(r)


def test_inflight_and_holds_thread(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "done", phase="success"))
    store.insert_run(make_run(store, "p", phase="pending"))
    assert [r.run_id for r in store.inflight("t1")] == ["p"]
    assert not store.holds_thread("t1")
    store.insert_run(make_run(store, "s", phase="stopping", cancel_action="interrupt"))
    assert [r.run_id for r in store.inflight("t1")] == ["p"]  # stopping is not in flight
    assert store.holds_thread("t1")  # but it still holds the thread


def test_next_pending_fifo(store: MemoryStore) -> None:
    assert store.next_pending("t1") is None
    store.insert_run(make_run(store, "first", created_at=1.0))
    store.insert_run(make_run(store, "second", created_at=1.0))
    store.insert_run(make_run(store, "third", created_at=2.0))
    store.insert_run(make_run(store, "other-thread", thread_id="t2", created_at=0.0))
    assert store.next_pending("t1").run_id == "first"  # type: ignore[union-attr]


def test_next_pending_respects_scheduled_at(store: MemoryStore) -> None:
    store.insert_run(make_run(store, "delayed", created_at=1.0, scheduled_at=9.0))
    store.insert_run(make_run(store, "later", created_at=2.0))
    store.insert_run(make_run(store, "running", phase="running", created_at=0.0))
    assert store.next_pending("t1").run_id == "later"  # type: ignore[union-attr]


def test_indexes_follow_every_phase_change(store: MemoryStore) -> None:
    """inflight / next_pending / thread status come from indexes: they must agree with
    a full scan of the thread's runs after every kind of change."""
    from dataclasses import replace

    from nbruns._core._lifecycle import ACTIVE, INFLIGHT, thread_status

    def agrees() -> None:
        runs = store.runs_of("t1")
        assert [r.run_id for r in store.inflight("t1")] == [
            r.run_id for r in runs if r.phase in INFLIGHT
        ]
        pending = [r for r in runs if r.phase == "pending"]
        expected = min(pending, key=lambda r: (r.scheduled_at, r.seq), default=None)
        assert store.next_pending("t1") == expected
        assert store.thread_status("t1") == thread_status(runs, store.get_thread("t1").head)
        held = any(r.phase in ACTIVE and r.phase != "pending" for r in runs)
        assert store.holds_thread("t1") is held

    for i in range(30):  # a long history of finished runs, the last one an error
        store.insert_run(make_run(store, f"old{i}", phase="pending", created_at=float(i)))
        agrees()
        run = store.replace_run(replace(store.runs[f"old{i}"], phase="running"))
        agrees()
        phase = "error" if i == 29 else "success"
        store.replace_run(replace(run, phase=phase, ended_seq=store.next_seq()))
        agrees()
    assert store.thread_status("t1") == "error"
    store.insert_run(make_run(store, "a", created_at=50.0))
    store.insert_run(make_run(store, "b", created_at=40.0, scheduled_at=60.0))
    store.insert_run(make_run(store, "c", created_at=45.0))
    agrees()
    # a run that holds the thread, then lets it go
    store.insert_run(make_run(store, "d", created_at=70.0, scheduled_at=90.0))
    for phase in ("running", "stopping"):
        store.replace_run(replace(store.runs["d"], phase=phase))
        agrees()
        assert store.holds_thread("t1")
    store.replace_run(replace(store.runs["d"], phase="interrupted", ended_seq=store.next_seq()))
    agrees()
    assert not store.holds_thread("t1")
    store.forget_run("d")
    agrees()
    assert store.next_pending("t1").run_id == "c"  # type: ignore[union-attr]
    store.replace_run(replace(store.runs["c"], phase="interrupted", ended_seq=store.next_seq()))
    agrees()
    assert store.next_pending("t1").run_id == "a"  # type: ignore[union-attr]
    store.forget_run("a", rolled_back=True)
    agrees()
    assert store.next_pending("t1").run_id == "b"  # type: ignore[union-attr]
    store.forget_run("c")  # the last to end goes: the status falls back to the one before
    store.forget_run("b")
    agrees()
    assert store.thread_status("t1") == "error"
    store.forget_run("old29")
    agrees()
    assert store.thread_status("t1") == "idle"


# -- timeline -----------------------------------------------------------------


def test_timeline_in_order(store: MemoryStore) -> None:
    store.record("created", "t1", "r1", at=1.0, strategy="enqueue")
    store.record("created", "t2", "r2", at=2.0)
    store.record("started", "t1", "r1", at=3.0)
    store.record("created", "nope", "x", at=4.0)  # unknown thread: ignored
    t1 = store.timeline("t1")
    assert [(e.kind, e.run_id) for e in t1] == [("created", "r1"), ("started", "r1")]
    assert t1[0].detail == {"strategy": "enqueue"}
    assert t1[0].seq < t1[1].seq
    everything = store.timeline()
    assert [(e.thread_id, e.kind) for e in everything] == [
        ("t1", "created"),
        ("t2", "created"),
        ("t1", "started"),
    ]
    with pytest.raises(NotFound):
        store.timeline("nope")


# -- assistants ---------------------------------------------------------------


def test_assistants(store: MemoryStore) -> None:
    for i, gid in enumerate(["g1", "g2", "g1"]):
        store.put_assistant(
            AssistantRecord(
                assistant_id=f"a{i}",
                graph_id=gid,
                created_at=float(i),
                updated_at=float(i),
                metadata={"n": i},
                name=f"Name {i}",
            )
        )
    assert store.get_assistant("a1").graph_id == "g2"
    with pytest.raises(NotFound, match="Assistant zz not found"):
        store.get_assistant("zz")
    assert [a.assistant_id for a in store.search_assistants()] == ["a2", "a1", "a0"]
    assert [a.assistant_id for a in store.search_assistants(graph_id="g1")] == ["a2", "a0"]
    assert [a.assistant_id for a in store.search_assistants(metadata={"n": 1})] == ["a1"]
    assert [a.assistant_id for a in store.search_assistants(name="name 0")] == ["a0"]
    assert [a.assistant_id for a in store.search_assistants(limit=1, offset=1)] == ["a1"]
    store.delete_assistant("a1")
    with pytest.raises(NotFound):
        store.delete_assistant("a1")


@pytest.mark.parametrize(
    ("actual", "wanted", "result"),
    [
        ({"a": 1, "b": 2}, {"a": 1}, True),
        ({"a": 1}, {"a": 2}, False),
        ({"a": 1}, {"c": 1}, False),
        ({"a": {"x": 1, "y": 2}}, {"a": {"x": 1}}, True),
        ({"a": {"x": 1}}, {"a": {"x": 2}}, False),
        ("not a mapping", {"a": 1}, False),
        ({"a": 1}, {}, True),
    ],
)
def test_matches(actual: Any, wanted: dict[str, Any], result: bool) -> None:
    assert matches(actual, wanted) is result
