"""Durable threads: the store written through to SQLite, and recovery after a restart.

Assistants, threads, runs, the timeline, rollback tombstones and the final records
of rolled-back runs (for nbruns's own listing) live in
`nbruns_*` tables of the same SQLite file as LangGraph's checkpoints. Every
change is committed as it happens (WAL mode), so a killed process loses
nothing that had been acknowledged. A thread's `head` is not stored: it is a
cache of the checkpointer and is rebuilt from it on start. When the head changes,
the thread's `updated_at` and `state_updated_at` are stored, so a restart shows
them as they were.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._core._errors import InvalidInput
from .._core._records import AssistantRecord, Head, RunRecord, ThreadRecord, TimelineEvent
from .._core._store import MemoryStore
from ._crons import DurableCronTable
from ._kvstore import KvStore, StoreConfig, open_kvstore

__all__ = ["Durable", "DurableStore", "Unstorable", "open_durable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nbruns_assistants (assistant_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nbruns_assistant_versions (
    assistant_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (assistant_id, version)
);
CREATE TABLE IF NOT EXISTS nbruns_threads (thread_id TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nbruns_runs (
    run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nbruns_timeline (
    seq INTEGER PRIMARY KEY, thread_id TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS nbruns_rolled_back (run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nbruns_rolled_back_runs (
    run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, body TEXT NOT NULL
);
"""


class Unstorable(InvalidInput):
    """Raised by `DurableStore`, before it keeps anything, for a value that would not read
    back equal after a restart; the message names the record and where in it."""


# Bodies are JSON read back with `json.loads`, which gives back exactly what `json.dumps`
# wrote for JSON values: objects with string keys, arrays, strings (ASCII-escaped, so
# any string), integers of any width (up to Python's 4300 digits, as the API parses)
# and floats (written as their repr). Tuples are written as arrays and read back as
# lists, which is what the records hold after a restart.


def _dumps(record: Any, *, drop: tuple[str, ...] = ()) -> str:
    body = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    for name in drop:
        body.pop(name, None)
    if isinstance(record, RunRecord) and record.result is not None:
        body["result"] = _text(record.result, record)  # a join body: JSON bytes, kept as text
    return _json(body, record)


def _json(value: Any, record: Any) -> str:
    try:
        return json.dumps(value, default=_plain)
    except (TypeError, ValueError) as exc:
        where = _unstorable_at(value, "") or "a value"
        raise Unstorable(
            f"Cannot store {_name(record)}: {where} cannot be kept exactly ({exc}); "
            "nbruns stores JSON values only: objects with string keys, arrays, strings, "
            "numbers, true, false and null"
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):  # a read-only mapping reads back as an equal dict
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _text(data: bytes, record: Any) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        raise Unstorable(
            f"Cannot store {_name(record)}: its result is not UTF-8 JSON ({exc})"
        ) from None


def _name(record: Any) -> str:
    """What failed to store, for the message: "run <id>", "thread <id>", ..."""
    if isinstance(record, str):
        return record
    kind = type(record).__name__.removesuffix("Record").lower()
    key = next(k for k in ("run_id", "assistant_id", "thread_id") if hasattr(record, k))
    return f"{kind} {getattr(record, key)}"


def _unstorable_at(value: Any, where: str) -> str | None:
    """The path of the first value in `value` that JSON cannot carry back (failures only)."""
    if isinstance(value, str | bool | float) or value is None:
        return None
    if isinstance(value, int):
        try:
            str(value)
        except ValueError:  # beyond Python's digit limit for int -> str
            return where or "the value"
        return None
    items: Any
    if isinstance(value, Mapping):
        bad_keys = [k for k in value if not isinstance(k, str)]
        if bad_keys:
            return f"{where or 'the value'} (key {bad_keys[0]!r} is not a string)"
        items = ((f"{where}.{k}" if where else k, v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return f"{where or 'the value'} ({type(value).__name__})"
    return next((found for path, v in items if (found := _unstorable_at(v, path))), None)


class DurableStore(MemoryStore):
    """A `MemoryStore` whose every change is also committed to a SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._load()

    # -- loading -----------------------------------------------------------

    def _load(self) -> None:
        for (body,) in self._db.execute("SELECT body FROM nbruns_assistants"):
            assistant = AssistantRecord(**json.loads(body))
            self.assistants[assistant.assistant_id] = assistant
        for (body,) in self._db.execute("SELECT body FROM nbruns_assistant_versions"):
            MemoryStore.put_assistant_version(self, AssistantRecord(**json.loads(body)))
        for assistant in self.assistants.values():
            # a file written before versions were kept: its assistants' one version
            if assistant.version not in self.assistant_versions.get(assistant.assistant_id, {}):
                self.put_assistant_version(assistant)
        for (body,) in self._db.execute("SELECT body FROM nbruns_threads"):
            data = json.loads(body)
            record = ThreadRecord(**data, head=Head())
            self.threads[record.thread_id] = record
            self.thread_runs[record.thread_id] = []
            self.timelines[record.thread_id] = []
        for (body,) in self._db.execute("SELECT body FROM nbruns_runs ORDER BY seq"):
            data = json.loads(body)
            if data.get("result") is not None:
                data["result"] = data["result"].encode()
            run = RunRecord(**data)
            if run.thread_id in self.threads:
                self._add_run(run)
            self._seq = max(self._seq, run.seq, run.ended_seq or 0)
        for (body,) in self._db.execute("SELECT body FROM nbruns_timeline ORDER BY seq"):
            event = TimelineEvent(**json.loads(body))
            if event.thread_id in self.timelines:
                self.timelines[event.thread_id].append(event)
            self._seq = max(self._seq, event.seq)
        self.rolled_back = dict(self._db.execute("SELECT * FROM nbruns_rolled_back"))
        # in the order they were rolled back, as the memory store drops the oldest
        for (body,) in self._db.execute("SELECT body FROM nbruns_rolled_back_runs ORDER BY rowid"):
            run = RunRecord(**json.loads(body))
            if run.thread_id in self.threads:
                self.rolled_back_runs[run.run_id] = run

    def close(self) -> None:
        self._db.close()

    # -- write-through -----------------------------------------------------

    def _exec(self, sql: str, params: tuple[Any, ...]) -> None:
        self._db.execute(sql, params)

    # Each change is encoded before the memory store takes it: a value that cannot be
    # stored raises `Unstorable` with nothing kept, in memory or on disk.

    def put_assistant(self, record: AssistantRecord) -> AssistantRecord:
        body = _dumps(record)
        super().put_assistant(record)
        self._exec(
            "INSERT OR REPLACE INTO nbruns_assistants VALUES (?, ?)", (record.assistant_id, body)
        )
        return record

    def delete_assistant(self, assistant_id: str) -> None:
        super().delete_assistant(assistant_id)
        self._exec("DELETE FROM nbruns_assistants WHERE assistant_id = ?", (assistant_id,))
        self._exec("DELETE FROM nbruns_assistant_versions WHERE assistant_id = ?", (assistant_id,))

    def put_assistant_version(self, record: AssistantRecord) -> AssistantRecord:
        body = _dumps(record)
        super().put_assistant_version(record)
        self._exec(
            "INSERT OR REPLACE INTO nbruns_assistant_versions VALUES (?, ?, ?)",
            (record.assistant_id, record.version, body),
        )
        return record

    def create_thread(self, record: ThreadRecord, *, if_exists: str = "raise") -> ThreadRecord:
        body = _dumps(record, drop=("head",))
        created = super().create_thread(record, if_exists=if_exists)
        if created is record:
            self._save_thread(record, body)
        return created

    def replace_thread(self, thread_id: str, **changes: Any) -> ThreadRecord:
        if set(changes) <= {"head"}:
            return super().replace_thread(thread_id, **changes)  # only the cache
        body = _dumps(dataclasses.replace(self.get_thread(thread_id), **changes), drop=("head",))
        record = super().replace_thread(thread_id, **changes)
        self._save_thread(record, body)
        return record

    def _save_thread(self, record: ThreadRecord, body: str) -> None:
        self._exec("INSERT OR REPLACE INTO nbruns_threads VALUES (?, ?)", (record.thread_id, body))

    def delete_thread(self, thread_id: str) -> list[RunRecord]:
        runs = super().delete_thread(thread_id)
        tables = ("threads", "runs", "timeline", "rolled_back", "rolled_back_runs")
        for table in tables:
            self._exec(f"DELETE FROM nbruns_{table} WHERE thread_id = ?", (thread_id,))
        return runs

    def insert_run(self, run: RunRecord) -> RunRecord:
        body = _dumps(run)
        super().insert_run(run)
        self._save_run(run, body)
        return run

    def replace_run(self, run: RunRecord) -> RunRecord:
        body = _dumps(run)
        super().replace_run(run)
        self._save_run(run, body)
        return run

    def _save_run(self, run: RunRecord, body: str) -> None:
        self._exec(
            "INSERT OR REPLACE INTO nbruns_runs VALUES (?, ?, ?, ?)",
            (run.run_id, run.thread_id, run.seq, body),
        )

    def forget_run(self, run_id: str, *, rolled_back: bool = False) -> None:
        run = self.runs.get(run_id)
        super().forget_run(run_id, rolled_back=rolled_back)
        self._exec("DELETE FROM nbruns_runs WHERE run_id = ?", (run_id,))
        if run is not None and rolled_back:
            self._exec(
                "INSERT OR REPLACE INTO nbruns_rolled_back VALUES (?, ?)", (run_id, run.thread_id)
            )

    def keep_rolled_back(self, final: RunRecord) -> list[str]:
        body = _dumps(final)
        dropped = super().keep_rolled_back(final)
        self._exec(
            "INSERT OR REPLACE INTO nbruns_rolled_back_runs VALUES (?, ?, ?)",
            (final.run_id, final.thread_id, body),
        )
        for run_id in dropped:
            self._exec("DELETE FROM nbruns_rolled_back_runs WHERE run_id = ?", (run_id,))
        return dropped

    def record(
        self, kind: str, thread_id: str, run_id: str | None, *, at: float, **detail: Any
    ) -> None:
        _json(detail, f"a {kind!r} timeline event")  # the rest of an event is ids and numbers
        super().record(kind, thread_id, run_id, at=at, **detail)
        events = self.timelines.get(thread_id)
        if events:
            event = events[-1]
            self._exec(
                "INSERT OR REPLACE INTO nbruns_timeline VALUES (?, ?, ?)",
                (event.seq, thread_id, _dumps(event)),
            )


@dataclasses.dataclass
class Durable:
    """The two halves of a durable server: nbruns's tables and LangGraph's checkpoints."""

    store: DurableStore
    saver: Any  # NbrunsSqliteSaver
    conn: Any  # aiosqlite.Connection
    crons: DurableCronTable | None = None  # the crons' table (`_crons`), in the same file
    # LangGraph's SQLite store (`_kvstore`), in the same file on a connection of its own
    kvstore: KvStore | None = None

    async def aclose(self) -> None:
        if self.kvstore is not None:
            await self.kvstore.aclose()
        await self.conn.close()
        self.store.close()
        if self.crons is not None:
            self.crons.close()


async def open_durable(path: str | Path, store_config: StoreConfig | None = None) -> Durable:
    """Open (or create) a SQLite file for both halves, and the graphs' store
    (`store_config` configures it) in the same file; call on the server's loop."""
    import aiosqlite

    from ._checkpoints import NbrunsSqliteSaver

    store = DurableStore(path)
    # autocommit: the saver must never hold a write transaction open across awaits,
    # or the store's own writes to the same file wait on it ("database is locked")
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute("PRAGMA busy_timeout=5000")
    saver = NbrunsSqliteSaver(conn)
    await saver.setup()
    kvstore = open_kvstore(store_config, str(path))
    return Durable(
        store=store,
        saver=saver,
        conn=conn,
        crons=DurableCronTable(path),
        kvstore=kvstore,
    )
