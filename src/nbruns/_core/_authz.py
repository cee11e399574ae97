"""Authorization filters: does a resource's metadata match what an auth handler returned?

A LangGraph `@auth.on` handler may answer with a filter restricting what the request
sees and touches, by the resources' metadata, as LangGraph documents it:

    {"owner": "alice"}                       equal
    {"owner": {"$eq": "alice"}}              equal
    {"participants": {"$contains": "bob"}}   a list holding the value (or all of a list)
    {"$or": [f1, f2]}, {"$and": [f1, f2]}    two or more filters, nested two levels at most

Keys are ANDed. Anything else is refused (`InvalidFilter`) rather than read as
"matches": a filter nbruns does not understand must not let a request through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import NbrunsError

__all__ = ["InvalidFilter", "check_filter", "filter_matches"]

_MAX_DEPTH = 2
_OPERATORS = ("$eq", "$contains")


class InvalidFilter(NbrunsError):
    """An auth handler returned a filter nbruns cannot apply: the server's own
    configuration is wrong. Refused as 403 (the reference answers 500): the request
    fails closed, and nbruns answers no 5xx for anything a client sends."""

    status_code = 403


def _refuse(why: str) -> InvalidFilter:
    return InvalidFilter(
        f"The auth handler returned an invalid filter: {why}. A filter maps metadata keys "
        "to a value, {'$eq': value} or {'$contains': value}, and may combine filters with "
        "'$or' / '$and' (lists of at least 2 filters, nested at most 2 levels)"
    )


def check_filter(filters: Mapping[str, Any], depth: int = 0) -> None:
    """Raise `InvalidFilter` unless `filters` is a filter `filter_matches` can apply."""
    if not isinstance(filters, Mapping):
        raise _refuse(f"expected a dict, got {type(filters).__name__}")
    if depth > _MAX_DEPTH:
        raise _refuse("operators nested too deep")
    for key, value in filters.items():
        if key in ("$or", "$and"):
            if not isinstance(value, list) or len(value) < 2:
                raise _refuse(f"{key} needs a list of at least 2 filters")
            for group in value:
                check_filter(group, depth + 1)
        elif key.startswith("$"):
            raise _refuse(f"unknown operator {key!r}")
        elif isinstance(value, Mapping):
            if len(value) != 1 or next(iter(value)) not in _OPERATORS:
                raise _refuse(f"key {key!r} has {dict(value)!r}; the operators are $eq, $contains")


def _contains(held: Any, wanted: Any) -> bool:
    if not isinstance(held, list):
        return False
    if isinstance(wanted, list):
        return all(item in held for item in wanted)
    return wanted in held


def filter_matches(metadata: Mapping[str, Any], filters: Mapping[str, Any] | None) -> bool:
    """Whether `metadata` satisfies `filters` (None or empty: everything does).
    Call `check_filter` first: this assumes a well-formed filter."""
    if not filters:
        return True
    for key, value in filters.items():
        if key == "$or":
            if not any(filter_matches(metadata, group) for group in value):
                return False
        elif key == "$and":
            if not all(filter_matches(metadata, group) for group in value):
                return False
        elif key not in metadata:
            return False
        elif isinstance(value, Mapping):
            op, operand = next(iter(value.items()))
            if op == "$eq" and metadata[key] != operand:
                return False
            if op == "$contains" and not _contains(metadata[key], operand):
                return False
        elif metadata[key] != value:
            return False
    return True
