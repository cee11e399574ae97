"""Durable crons: the cron table written through to the server's SQLite file.

Crons live in `nbruns_crons`, beside the other `nbruns_*` tables. Each change is
committed as it happens (WAL, as the store's), so after a restart every cron is
there with its next run date, and the scheduler fires what fell due meanwhile
once, then goes on from the schedule.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from .._core._crons import CronRecord, CronTable
from .._core._errors import InvalidInput

__all__ = ["DurableCronTable"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nbruns_crons (
    cron_id TEXT PRIMARY KEY, thread_id TEXT, body TEXT NOT NULL
);
"""


class DurableCronTable(CronTable):
    """A `CronTable` whose every change is also committed to a SQLite file."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._db = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self.load(
            CronRecord(**json.loads(body))
            for (body,) in self._db.execute("SELECT body FROM nbruns_crons")
        )

    def close(self) -> None:
        self._db.close()

    def put(self, record: CronRecord) -> CronRecord:
        body = _encode(record)  # before memory changes: a value that cannot be kept changes nothing
        super().put(record)
        self._db.execute(
            "INSERT OR REPLACE INTO nbruns_crons VALUES (?, ?, ?)",
            (record.cron_id, record.thread_id, body),
        )
        return record

    def delete(self, cron_id: str) -> None:
        super().delete(cron_id)
        self._db.execute("DELETE FROM nbruns_crons WHERE cron_id = ?", (cron_id,))


def _encode(record: CronRecord) -> str:
    body = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    try:
        return json.dumps(body, default=dict)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"Cannot store cron {record.cron_id}: a value cannot be kept exactly ({exc}); "
            "nbruns stores JSON values only"
        ) from None
