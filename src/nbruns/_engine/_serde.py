"""JSON for the wire: orjson plus the LangGraph and LangChain objects graphs return."""

from __future__ import annotations

import dataclasses
import datetime
import math
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pydantic_core

__all__ = [
    "dumps",
    "dumps_state",
    "find_nonfinite",
    "find_wide_int",
    "iso",
    "jsonable",
    "loads",
    "raw",
]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
# orjson encodes integers in this range only; JSON itself has no limit
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


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
    try:
        return orjson.dumps(obj, default=_default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        # integers beyond 64 bits: orjson refuses them, so they go out as pre-encoded
        # digits, exactly as they came in (only this rare body pays for the walk)
        return orjson.dumps(_exact_ints(obj), default=_default_exact, option=_OPTIONS)


def _exact_ints(obj: Any) -> Any:
    if isinstance(obj, int) and not _INT_MIN <= obj <= _INT_MAX:
        return orjson.Fragment(str(obj).encode())
    if isinstance(obj, dict):
        return {k: _exact_ints(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_exact_ints(v) for v in obj]
    return obj


def _default_exact(obj: Any) -> Any:
    return _exact_ints(_default(obj))


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
    """Parse JSON keeping every integer exact (orjson turns those beyond 64 bits into floats)."""
    return pydantic_core.from_json(data)


def jsonable(obj: Any) -> Any:
    """`obj` as plain JSON types (used where values are kept for later, like join bodies)."""
    return loads(dumps(obj))


def find_nonfinite(data: bytes) -> tuple[str, float] | None:
    """Where a JSON body holds a number no JSON encoder can give back, and that number.

    Numbers beyond a double's range (``1e400``) and the ``NaN``/``Infinity`` extensions
    parse as inf or nan; sent back they would silently become ``null``. orjson refuses
    them while parsing, which makes the common case (none) a ~2 µs check.
    """
    try:
        orjson.loads(data)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        value = pydantic_core.from_json(data)
    except ValueError:
        return None  # not JSON at all: the caller's own parse says so
    return _nonfinite_in(value, "")


def find_wide_int(value: Any, where: str) -> tuple[str, int] | None:
    """Where `value` holds an integer outside 64 bits (the range LangGraph's checkpoint
    serializer takes), and that integer."""
    return _find(value, where, lambda v: isinstance(v, int) and not _INT_MIN <= v <= _INT_MAX)


def _nonfinite_in(value: Any, where: str) -> tuple[str, float] | None:
    return _find(value, where, lambda v: isinstance(v, float) and not math.isfinite(v))


def _find(value: Any, where: str, hit: Callable[[Any], bool]) -> tuple[str, Any] | None:
    """The first value `hit` accepts in nested dicts and lists, with its dotted path."""
    if hit(value):
        return where or "body", value
    items: Any = ()
    if isinstance(value, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    for path, item in items:
        found = _find(item, path, hit)
        if found is not None:
            return found
    return None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.datetime.fromtimestamp(ts, datetime.UTC).isoformat()
