"""The long-term memory store (LangGraph's `BaseStore`): built from langgraph.json's
`store` section, kept in memory or in the server's SQLite file.

nbruns writes no store of its own. In memory it is LangGraph's `InMemoryStore`, as on
LangGraph's dev server; with a SQLite file (`path=`, `--db`) it is LangGraph's
`SqliteStore` (`ThreadedSqliteStore` says why not its `AsyncSqliteStore`), in the
same file as the checkpoints and nbruns's tables, on a connection of its own (WAL).
`InMemoryStore` keeps no TTLs, so a `ttl` section in memory is honoured by the SQLite
store on an in-memory database. Anything of the section nbruns cannot honour offline is
refused by `StoreConfig.from_json`, naming the key.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from langgraph.store.base import BaseStore, IndexConfig, Op, Result, TTLConfig
from langgraph.store.memory import InMemoryStore
from langgraph.store.sqlite import SqliteStore

from .._core._errors import InvalidInput

__all__ = ["KvStore", "StoreConfig", "ThreadedSqliteStore", "open_kvstore"]

_TTL_KEYS = ("refresh_on_read", "default_ttl", "sweep_interval_minutes")
_INDEX_KEYS = ("dims", "embed", "fields")
# minutes between sweeps of expired items when the section does not say
_DEFAULT_SWEEP_MINUTES = 5.0


def _refuse(key: str, problem: str) -> InvalidInput:
    return InvalidInput(f"store.{key}: {problem}")


def _unknown(section: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in section if k not in allowed)
    if unknown:
        raise InvalidInput(
            f"{where}: unknown key(s) {', '.join(repr(k) for k in unknown)}; nbruns reads "
            + ", ".join(allowed)
        )


def _minutes(section: Mapping[str, Any], key: str) -> float | None:
    value = section.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _refuse(f"ttl.{key}", f"must be a number of minutes (got {value!r:.60})")
    if value <= 0:
        raise _refuse(f"ttl.{key}", f"must be more than 0 minutes (got {value!r})")
    return float(value)


def _load(spec: str, base_dir: Path, key: str) -> Any:
    """Load `"./file.py:name"` (relative to langgraph.json's folder) for `store.<key>`."""
    file_part, _, name = spec.rpartition(":")
    if not file_part.endswith(".py") or not name:
        raise _refuse(key, f'{spec!r}: give it as "./file.py:name"')
    file = (base_dir / file_part).resolve()
    if not file.is_file():
        raise _refuse(key, f"{spec!r}: no file {file}")
    module_name = f"nbruns_store_{key.replace('.', '_')}_{abs(hash(str(file)))}"
    module_spec = importlib.util.spec_from_file_location(module_name, file)
    if module_spec is None or module_spec.loader is None:
        raise _refuse(key, f"{spec!r}: {file} cannot be imported")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    module_spec.loader.exec_module(module)
    try:
        return getattr(module, name)
    except AttributeError:
        raise _refuse(key, f"{spec!r}: {file.name} defines no {name!r}") from None


def _custom(spec: Any, base_dir: Path) -> BaseStore:
    """langgraph.json's `store.path`: a `BaseStore`, or a function of no arguments making one."""
    if not isinstance(spec, str):
        raise _refuse("path", f'must be "./file.py:name" (got {spec!r:.60})')
    found = _load(spec, base_dir, "path")
    if callable(found) and not isinstance(found, BaseStore):
        found = found()
    if not isinstance(found, BaseStore):
        raise _refuse(
            "path",
            f"{spec!r} is a {type(found).__name__}; nbruns takes a BaseStore, or a function "
            "of no arguments returning one",
        )
    return found


def _embeddings(embed: Any, base_dir: Path) -> Any:
    from langgraph.store.base import ensure_embeddings

    if isinstance(embed, str):
        if ".py:" not in embed:
            raise _refuse(
                "index.embed",
                f"{embed!r} needs the network (a hosted embeddings model), which nbruns does "
                'not use; give a local function or Embeddings object as "./file.py:name"',
            )
        embed = _load(embed, base_dir, "index.embed")
    if not callable(embed) and not hasattr(embed, "embed_documents"):
        raise _refuse(
            "index.embed",
            f"{type(embed).__name__} is neither a LangChain Embeddings nor a function from "
            "a list of texts to a list of vectors",
        )
    return ensure_embeddings(embed)


def _index(section: Any, base_dir: Path) -> IndexConfig:
    if not isinstance(section, Mapping):
        raise _refuse("index", f"must be an object with {', '.join(_INDEX_KEYS)}")
    _unknown(section, _INDEX_KEYS, "store.index")
    dims = section.get("dims")
    if isinstance(dims, bool) or not isinstance(dims, int) or dims < 1:
        raise _refuse("index.dims", f"must be a whole number of dimensions (got {dims!r:.60})")
    if section.get("embed") is None:
        raise _refuse("index.embed", 'is required: "./file.py:name" of a local embeddings model')
    fields = section.get("fields")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) and f for f in fields)
    ):
        raise _refuse("index.fields", f"must be a list of field paths (got {fields!r:.60})")
    config: IndexConfig = {"dims": dims, "embed": _embeddings(section["embed"], base_dir)}
    if fields is not None:
        config["fields"] = fields
    return config


def _ttl(section: Any) -> TTLConfig:
    if not isinstance(section, Mapping):
        raise _refuse("ttl", f"must be an object with {', '.join(_TTL_KEYS)}")
    _unknown(section, _TTL_KEYS, "store.ttl")
    config: TTLConfig = {}
    refresh = section.get("refresh_on_read")
    if refresh is not None:
        if not isinstance(refresh, bool):
            raise _refuse("ttl.refresh_on_read", f"must be true or false (got {refresh!r:.60})")
        config["refresh_on_read"] = refresh
    if (default_ttl := _minutes(section, "default_ttl")) is not None:
        config["default_ttl"] = default_ttl
    if (sweep := _minutes(section, "sweep_interval_minutes")) is not None:
        config["sweep_interval_minutes"] = sweep  # type: ignore[typeddict-item]  # int in the hint, float works
    return config


@dataclass(frozen=True, slots=True)
class StoreConfig:
    """langgraph.json's `store` section, checked; the default keeps a plain memory store."""

    index: IndexConfig | None = None
    ttl: TTLConfig | None = None
    # `path`: the user's own store, used instead of nbruns's (never closed by nbruns)
    custom: BaseStore | None = None
    source: Mapping[str, Any] = field(default_factory=dict)  # the section as given

    @classmethod
    def from_json(
        cls, section: Mapping[str, Any] | None, *, base_dir: str | os.PathLike[str] = "."
    ) -> StoreConfig:
        """Read the section (`index`: dims, embed, fields; `ttl`: refresh_on_read,
        default_ttl, sweep_interval_minutes); `base_dir` is where "./file.py" paths start
        (langgraph.json's folder). Raises `InvalidInput` naming the key it cannot honour."""
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise InvalidInput("store: must be an object with index, ttl and/or path")
        _unknown(section, ("index", "ttl", "path"), "store")
        base = Path(base_dir)
        if section.get("path") is not None:
            # LangGraph's server ignores index and ttl for a custom store: nbruns says so
            ignored = [k for k in ("index", "ttl") if section.get(k) is not None]
            if ignored:
                raise _refuse(
                    ignored[0],
                    "applies to nbruns's own stores, and store.path replaces them with a "
                    f"custom store used as it is: remove store.{ignored[0]} or store.path",
                )
            return cls(custom=_custom(section["path"], base), source=dict(section))
        index = None if section.get("index") is None else _index(section["index"], base)
        ttl = None if section.get("ttl") is None else _ttl(section["ttl"])
        return cls(index=index, ttl=ttl, source=dict(section))


class ThreadedSqliteStore(SqliteStore):
    """LangGraph's `SqliteStore`, its batches run in a worker thread.

    Each batch is one transaction that takes the write lock first (`BEGIN IMMEDIATE`,
    waiting out the busy timeout) and ends in that thread. So it never holds a lock
    across an await: nbruns's own tables are written on the loop's thread, and would
    wait forever on a transaction that needs the loop to commit (as `AsyncSqliteStore`'s
    do), and a read that refreshes a TTL never fails to upgrade its lock.
    """

    @contextlib.contextmanager
    def _cursor(self, *, transaction: bool = True) -> Iterator[sqlite3.Cursor]:
        if not self.is_setup:
            self.setup()
        with self.lock:
            cursor = self.conn.cursor()
            try:
                if transaction:
                    cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                if transaction:
                    cursor.execute("COMMIT")
            except BaseException:
                if transaction and self.conn.in_transaction:
                    self.conn.rollback()
                raise
            finally:
                cursor.close()

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))


@dataclass
class KvStore:
    """The server's `BaseStore` and what must be closed with it."""

    store: BaseStore
    conn: sqlite3.Connection | None = None  # a SQLite store's own connection

    async def aclose(self) -> None:
        if isinstance(self.store, SqliteStore):
            # told to stop, the sweeper's thread ends at once (or after the sweep under way)
            self.store.stop_ttl_sweeper(timeout=5.0)
        if self.conn is not None:
            self.conn.close()


def open_kvstore(config: StoreConfig | None = None, path: str | None = None) -> KvStore:
    """The store for `config`: LangGraph's SQLite store in `path` (a file) if given, or
    in memory when the config has TTLs (`InMemoryStore` keeps none); else its
    `InMemoryStore`. A SQLite store sweeps expired items at once, then every
    `sweep_interval_minutes` (5 by default) on a thread of its own."""
    config = config or StoreConfig()
    if config.custom is not None:
        return KvStore(config.custom)
    if path is None and config.ttl is None:
        return KvStore(InMemoryStore(index=config.index))
    if config.index is not None and not hasattr(sqlite3.Connection, "enable_load_extension"):
        raise _refuse(
            "index",
            "a vector index in LangGraph's SQLite store (used with a SQLite file, or for "
            "store.ttl) needs the sqlite-vec extension, and this Python's sqlite3 module "
            "cannot load extensions; use a Python built with them, or drop store.ttl and "
            "the SQLite file to index in memory",
        )
    conn = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None)
    try:
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")
        # a sweeper always runs, so an item's own `ttl` expires even with no section
        ttl: dict[str, Any] = dict(config.ttl or {})
        ttl.setdefault("sweep_interval_minutes", _DEFAULT_SWEEP_MINUTES)
        store = ThreadedSqliteStore(conn, index=config.index, ttl=cast(TTLConfig, ttl))
        store.setup()
        store.sweep_ttl()  # what expired while no server ran is gone before any read
        store.start_ttl_sweeper()
    except BaseException:
        conn.close()
        raise
    return KvStore(store, conn=conn)
