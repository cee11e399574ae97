"""JSON for the wire: orjson plus the LangGraph and LangChain objects graphs return."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
import pydantic_core

__all__ = ["dumps", "dumps_state", "iso", "jsonable", "loads", "raw"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(obj: Any) -> Any:
    if isinstance(obj, orjson.Fragment):
        # pre-encoded JSON: only orjson can embed it, so make pydantic-core hand over
        raise TypeError("orjson.Fragment")
    # pydantic models: LangChain messages and documents
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        # Interrupt, Send and friends: shallow on purpose so nested objects come back here
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if hasattr(obj, "_asdict"):
        return obj._asdict()
    if isinstance(obj, Mapping):
        return dict(obj)
    if isinstance(obj, BaseException):
        return {"error": type(obj).__name__, "message": str(obj)}
    # anything else is shown, not dropped: a repr beats a 500
    return repr(obj)


def dumps(obj: Any) -> bytes:
    """JSON bytes of API bodies: plain data, where orjson is fastest."""
    return orjson.dumps(obj, default=_default, option=_OPTIONS)


def dumps_state(obj: Any) -> bytes:
    """JSON bytes of a graph's state. pydantic-core serializes LangChain messages in Rust,
    several times faster than `model_dump()` per message; orjson takes anything else."""
    try:
        return pydantic_core.to_json(obj, fallback=_default, inf_nan_mode="null")
    except (pydantic_core.PydanticSerializationError, TypeError, ValueError):
        return dumps(obj)


def raw(data: bytes) -> orjson.Fragment:
    """Already-encoded JSON, embedded as it is when the surrounding object is dumped."""
    return orjson.Fragment(data)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def jsonable(obj: Any) -> Any:
    """`obj` as plain JSON types (used where values are kept for later, like join bodies)."""
    return orjson.loads(dumps(obj))


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()
