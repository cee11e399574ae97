"""Errors raised inside nbruns, and the HTTP status each one becomes.

    NbrunsError
    ├── NotFound            (404) an id names nothing: thread, run, assistant, graph
    ├── Conflict            (409) the request is valid but the thread's state forbids it
    ├── InvalidInput        (422) a field has a wrong value or type; says what is allowed
    │   └── BadRequest      (400) the request is contradictory (e.g. resume without thread)
    ├── PayloadTooLarge     (413) the body is over the served limit
    ├── Unauthorized        (401) served mode with --api-key and a wrong or missing key
    └── InvalidTransition   a run was asked to move to a status its lifecycle forbids;
                            a bug in nbruns if it ever reaches a user

Clients never see these classes: the API layer turns them into responses with
`{"detail": message}` bodies, and the official SDK turns those into
`httpx.HTTPStatusError` subclasses (`langgraph_sdk.errors.NotFoundError`, ...).
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Conflict",
    "InvalidInput",
    "InvalidTransition",
    "NbrunsError",
    "NotFound",
    "PayloadTooLarge",
    "Unauthorized",
]


class NbrunsError(Exception):
    """Base class of every error nbruns raises on purpose."""

    status_code = 500

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(NbrunsError):
    """Raised by stores and the executor when an id names nothing."""

    status_code = 404


class Conflict(NbrunsError):
    """Raised when a thread's runs forbid the request (reject strategy, update_state)."""

    status_code = 409


class InvalidInput(NbrunsError):
    """Raised by request validation; the message names the field and what is allowed."""

    status_code = 422


class BadRequest(InvalidInput):
    """Raised for requests whose fields are each valid but do not fit together."""

    status_code = 400


class PayloadTooLarge(NbrunsError):
    """Raised by the served app when a body is larger than its configured limit."""

    status_code = 413


class Unauthorized(NbrunsError):
    """Raised by the served app when --api-key is set and x-api-key does not match."""

    status_code = 401


class InvalidTransition(NbrunsError):
    """Raised by the run lifecycle when a status change is not in its table."""

    status_code = 500
