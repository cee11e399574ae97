"""A failed run's account for people: its traceback kept, and one log record.

The SDK reads only `error_body` (`_drive`), as on the reference; nbruns also keeps
the traceback (GET /nbruns/runs shows it) and logs each failure at ERROR on the
`nbruns` logger's tree, so a failing node is never silent.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping

from .._core._records import RunRecord
from ._drive import error_body

__all__ = ["TRACEBACK_KEPT", "failure_body", "log_failure"]

logger = logging.getLogger(__name__)  # nbruns._engine._failures: under "nbruns"

TRACEBACK_KEPT = 20_000
"""A failed run keeps at most this many characters of its traceback: the last ones,
where the node's own frames and the error are."""


def failure_body(exc: BaseException, *, timed_out: str | None = None) -> dict[str, str]:
    """`error_body` and the formatted traceback (at most `TRACEBACK_KEPT` characters).
    For a run a time limit cut short, `timed_out` is the message (it names the limit)."""
    body = error_body(exc)
    if timed_out:
        body["message"] = timed_out
    text = "".join(traceback.format_exception(exc))
    if len(text) > TRACEBACK_KEPT:
        cut = "[earlier lines cut]\n"
        text = cut + text[len(text) - TRACEBACK_KEPT + len(cut) :]
    body["traceback"] = text
    return body


def log_failure(run: RunRecord, failure: Mapping[str, str], exc: BaseException) -> None:
    """One ERROR record for a run that ended `error` or `timeout`, with its traceback."""
    logger.error(
        "run %s on thread %s (graph %r) %s: %s: %s",
        run.run_id,
        run.thread_id,
        run.graph_id,
        "timed out" if run.cancel_source == "run_timeout" else "failed",
        failure["error"],
        failure["message"],
        exc_info=exc,
    )
