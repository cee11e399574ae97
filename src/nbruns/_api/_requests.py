"""Request bodies and query strings, validated with pydantic.

Every model ignores unknown keys (newer SDKs send more) but checks the type
and allowed values of every key nbruns reads. A failure becomes a 422 whose
detail names the field, what was wrong and what is allowed.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .._core._errors import InvalidInput
from .._core._types import SUPPORTED_STREAM_MODES, StreamMode
from .._engine import _serde
from .._engine._runspec import is_uuid

__all__ = [
    "AssistantCreate",
    "AssistantPatch",
    "AssistantSearch",
    "CancelMany",
    "CommandBody",
    "HistoryQuery",
    "RunCreate",
    "StateCheckpointQuery",
    "StateUpdate",
    "ThreadCreate",
    "ThreadPatch",
    "ThreadSearch",
    "describe",
    "parse",
    "refuse_nonfinite",
]

Json = dict[str, Any]
Breakpoints = Literal["*"] | list[str] | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # Fields whose values reach LangGraph's checkpoints. Its serializer (msgpack) takes
    # integers of 64 bits at most, so wider ones are refused here rather than failing the
    # run later; everywhere else nbruns stores and returns them exactly.
    checkpointed: ClassVar[tuple[str, ...]] = ()


M = TypeVar("M", bound=_Body)


def describe(error: ValidationError, what: str) -> str:
    """One readable sentence per problem: where, what was wrong, what is allowed."""
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "body"
        if item["type"] == "json_invalid":
            problems.append(f"the body is not valid JSON ({item['msg']}); send a JSON object")
            continue
        if item["type"] == "model_type" or (item["type"] == "dict_type" and where == "body"):
            problems.append("the body must be a JSON object")
            continue
        got = item.get("input")
        shown = "" if item["type"] == "missing" else f" (got {got!r:.80})"
        problems.append(f"{where}: {item['msg']}{shown}")
    return f"Invalid {what}: " + "; ".join(problems)


def refuse_nonfinite(raw: bytes, what: str) -> None:
    """A 422 naming the field that holds a number JSON cannot carry back (see `find_nonfinite`)."""
    found = _serde.find_nonfinite(raw)
    if found is not None:
        where, number = found
        raise InvalidInput(
            f"Invalid {what}: {where}: the number reads as {number}; numbers must fit a "
            "64-bit float (at most about 1.8e308 in size), and NaN and Infinity are not JSON"
        )


def parse(model: type[M], raw: bytes, what: str) -> M:
    """Validate a raw JSON body; an empty body means an empty object."""
    raw = raw or b"{}"
    refuse_nonfinite(raw, what)
    try:
        body = model.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput(describe(exc, what)) from None
    except UnicodeDecodeError:
        raise InvalidInput(f"Invalid {what}: the body is not valid UTF-8 JSON") from None
    # an integer wider than 64 bits has at least 19 digits: most bodies skip the walk
    if body.checkpointed and _LONG_DIGITS.search(raw):
        _refuse_wide_ints(body, what)
    return body


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def _refuse_wide_ints(body: _Body, what: str) -> None:
    for name in body.checkpointed:
        value = getattr(body, name)
        if isinstance(value, BaseModel):
            value = value.model_dump()
        found = _serde.find_wide_int(value, name)
        if found is not None:
            where, number = found
            digits = str(number)
            shown = digits if len(digits) <= 40 else f"{digits[:20]}… ({len(digits)} digits)"
            raise InvalidInput(
                f"Invalid {what}: {where}: {shown} does "
                "not fit in 64 bits, and LangGraph's checkpoints store integers from -2**63 "
                "to 2**64-1 only; send it as a string"
            )


class CommandBody(_Body):
    resume: Any = None
    update: Any = None
    goto: Any = None


class RunCreate(_Body):
    checkpointed = ("input", "command", "metadata", "config")

    assistant_id: str
    input: Json | list[Any] | str | int | float | bool | None = None
    command: CommandBody | None = None
    # validate_default: the default goes through the validator too (a list, not a str)
    stream_mode: StreamMode | list[StreamMode] = Field("values", validate_default=True)
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    metadata: Json | None = None
    config: Json | None = None
    context: Json | None = None
    checkpoint_id: str | None = None
    checkpoint: Json | None = None
    interrupt_before: Breakpoints = None
    interrupt_after: Breakpoints = None
    webhook: str | None = None
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    after_seconds: float | None = Field(default=None, ge=0)
    feedback_keys: list[str] | None = None
    durability: Literal["sync", "async", "exit"] | None = None
    checkpoint_during: bool | None = None

    @field_validator("stream_mode")
    @classmethod
    def _supported_modes(cls, value: str | list[str]) -> list[str]:
        modes = [value] if isinstance(value, str) else list(value)
        unsupported = [m for m in modes if m not in SUPPORTED_STREAM_MODES]
        if unsupported:
            raise ValueError(
                f"stream mode {unsupported[0]!r} is not supported by nbruns; use any of "
                + ", ".join(repr(m) for m in SUPPORTED_STREAM_MODES)
            )
        return modes or ["values"]

    @field_validator("webhook")
    @classmethod
    def _no_webhooks(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError("webhooks are not supported by nbruns; leave webhook unset")
        return None


class ThreadCreate(_Body):
    thread_id: str | None = None

    @field_validator("thread_id")
    @classmethod
    def _thread_uuid(cls, value: str | None) -> str | None:
        if value is not None and not is_uuid(value):
            raise ValueError("thread IDs must be UUIDs, as on LangGraph's server")
        return value

    metadata: Json | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    graph_id: str | None = None


class ThreadPatch(_Body):
    metadata: Json = Field(default_factory=dict)


class ThreadSearch(_Body):
    metadata: Json | None = None
    values: Json | None = None
    ids: list[str] | None = None
    status: Literal["idle", "busy", "interrupted", "error"] | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["thread_id", "status", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None


class AssistantCreate(_Body):
    checkpointed = ("config",)  # its metadata and configurable go into every run's checkpoints

    graph_id: str
    assistant_id: str | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    if_exists: Literal["raise", "do_nothing"] | None = None
    name: str | None = None
    description: str | None = None


class AssistantPatch(_Body):
    checkpointed = ("config",)

    graph_id: str | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    name: str | None = None
    description: str | None = None


class AssistantSearch(_Body):
    graph_id: str | None = None
    name: str | None = None
    metadata: Json | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"] | None = None
    sort_order: Literal["asc", "desc"] | None = None


class StateUpdate(_Body):
    checkpointed = ("values",)

    values: Json | list[Any] | None = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: Json | None = None


class StateCheckpointQuery(_Body):
    checkpoint: Json = Field(default_factory=dict)
    subgraphs: bool = False


class HistoryQuery(_Body):
    limit: int = Field(default=10, ge=1, le=10000)
    before: str | Json | None = None
    metadata: Json | None = None
    checkpoint: Json | None = None


class CancelMany(_Body):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: Literal["pending", "running", "all"] | None = None
