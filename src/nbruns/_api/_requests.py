"""Request bodies, validated with pydantic (query strings are in `_params`).

Every model ignores unknown keys (newer SDKs send more) but checks the type
and allowed values of every key nbruns reads. A failure becomes a 422 whose
detail names the field, what was wrong and what is allowed.

The OpenAPI document's request schemas are these models' own: where a
validator is stricter than a field's type, the field says so with
`WithJsonSchema`, next to the validator.
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StrictInt,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from .._core._errors import InvalidInput
from .._core._types import (
    SUPPORTED_STREAM_MODES,
    IfNotExists,
    NbrunsStrategy,
    OnCompletion,
    StreamMode,
    ThreadStatus,
)
from .._engine import _serde
from .._engine._runspec import is_uuid

__all__ = [
    "MODE_SCHEMA",
    "AssistantCreate",
    "AssistantPatch",
    "AssistantSearch",
    "AssistantSortBy",
    "AssistantVersionChange",
    "AssistantVersionsSearch",
    "BodyModel",
    "BulkCancelStatus",
    "CancelMany",
    "CommandBody",
    "CronCount",
    "CronCreate",
    "CronPatch",
    "CronSearch",
    "CronSelectField",
    "CronSortBy",
    "DisconnectMode",
    "Durability",
    "HistoryQuery",
    "HoldCreate",
    "OnConflictBehavior",
    "RunBatch",
    "RunCreate",
    "SortOrder",
    "StateCheckpointQuery",
    "StateUpdate",
    "ThreadCreate",
    "ThreadPatch",
    "ThreadPrune",
    "ThreadSearch",
    "ThreadSortBy",
    "describe",
    "parse",
    "refuse_nonfinite",
]

Json = dict[str, Any]
Breakpoints = Literal["*"] | list[str] | None

# The rest of the SDK's request vocabulary (`langgraph_sdk.schema`), spelled as it does;
# tests/test_literals.py holds each to the SDK's.
DisconnectMode = Literal["cancel", "continue"]
Durability = Literal["sync", "async", "exit"]
OnConflictBehavior = Literal["raise", "do_nothing"]
SortOrder = Literal["asc", "desc"]
# the SDK also offers "state_updated_at"; nbruns answers it with a 422 for now (a known gap,
# kept by a refactor that changes no behaviour: see tests/test_literals.py)
ThreadSortBy = Literal["thread_id", "status", "created_at", "updated_at"]
AssistantSortBy = Literal["assistant_id", "graph_id", "name", "created_at", "updated_at"]
BulkCancelStatus = Literal["pending", "running", "all"]


# the stream modes nbruns supports, as a schema: what the validator below accepts
MODE_SCHEMA = {"type": "string", "enum": list(SUPPORTED_STREAM_MODES)}


class BodyModel(BaseModel):
    """A JSON object body (see `parse`)."""

    model_config = ConfigDict(extra="ignore")
    # Fields whose values reach LangGraph's checkpoints. Its serializer (msgpack) takes
    # integers of 64 bits at most, so wider ones are refused here rather than failing the
    # run later; everywhere else nbruns stores and returns them exactly.
    checkpointed: ClassVar[tuple[str, ...]] = ()


M = TypeVar("M", bound=BodyModel)


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


def _refuse_wide_ints(body: BodyModel, what: str) -> None:
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


class CommandBody(BodyModel):
    resume: Any = None
    update: Any = None
    goto: Any = None


class RunCreate(BodyModel):
    checkpointed = ("input", "command", "metadata", "config")

    assistant_id: str
    input: Json | list[Any] | str | int | float | bool | None = None
    command: CommandBody | None = None
    # validate_default: the default goes through the validator too (a list, not a str)
    stream_mode: Annotated[
        StreamMode | list[StreamMode],
        WithJsonSchema({"anyOf": [MODE_SCHEMA, {"type": "array", "items": MODE_SCHEMA}]}),
    ] = Field("values", validate_default=True)
    stream_subgraphs: bool = False
    stream_resumable: bool = False
    metadata: Json | None = None
    config: Json | None = None
    context: Json | None = None
    checkpoint_id: str | None = None
    checkpoint: Json | None = None
    interrupt_before: Breakpoints = None
    interrupt_after: Breakpoints = None
    webhook: Annotated[
        str | None, WithJsonSchema({"type": "null", "description": "webhooks are not supported"})
    ] = None
    multitask_strategy: NbrunsStrategy | None = None
    if_not_exists: IfNotExists | None = None
    on_completion: OnCompletion | None = None
    on_disconnect: DisconnectMode | None = None
    after_seconds: float | None = Field(default=None, ge=0)
    feedback_keys: list[str] | None = None
    durability: Durability | None = None
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


class RunBatch(RootModel[list[RunCreate]]):
    """Runs to create together: all of them, or none when one is refused."""


class ThreadCreate(BodyModel):
    thread_id: Annotated[
        str | None,
        WithJsonSchema({"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}),
    ] = None

    @field_validator("thread_id")
    @classmethod
    def _thread_uuid(cls, value: str | None) -> str | None:
        if value is not None and not is_uuid(value):
            raise ValueError("thread IDs must be UUIDs, as on LangGraph's server")
        return value

    metadata: Json | None = None
    if_exists: OnConflictBehavior | None = None
    graph_id: str | None = None


class ThreadPatch(BodyModel):
    metadata: Json = Field(default_factory=dict)


class ThreadSearch(BodyModel):
    metadata: Json | None = None
    values: Json | None = None
    ids: list[str] | None = None
    status: ThreadStatus | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: ThreadSortBy | None = None
    sort_order: SortOrder | None = None


class AssistantCreate(BodyModel):
    checkpointed = ("config",)  # its metadata and configurable go into every run's checkpoints

    graph_id: str
    assistant_id: Annotated[
        str | None,
        WithJsonSchema({"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}),
    ] = None

    @field_validator("assistant_id")
    @classmethod
    def _assistant_uuid(cls, value: str | None) -> str | None:
        # a graph id ("agent") as an assistant id would take the graph's name over
        if value is not None and not is_uuid(value):
            raise ValueError("Invalid assistant ID: must be a UUID, as on LangGraph's server")
        return value

    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    if_exists: OnConflictBehavior | None = None
    name: str | None = None
    description: str | None = None


class AssistantPatch(BodyModel):
    checkpointed = ("config",)

    graph_id: str | None = None
    config: Json | None = None
    context: Json | None = None
    metadata: Json | None = None
    name: str | None = None
    description: str | None = None


class AssistantSearch(BodyModel):
    graph_id: str | None = None
    name: str | None = None
    metadata: Json | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: AssistantSortBy | None = None
    sort_order: SortOrder | None = None


class StateUpdate(BodyModel):
    checkpointed = ("values",)

    values: Json | list[Any] | None = None
    as_node: str | None = None
    checkpoint_id: str | None = None
    checkpoint: Json | None = None


class StateCheckpointQuery(BodyModel):
    checkpoint: Json = Field(default_factory=dict)
    subgraphs: bool = False


class HistoryQuery(BodyModel):
    limit: int = Field(default=10, ge=1, le=10000)
    before: str | Json | None = None
    metadata: Json | None = None
    checkpoint: Json | None = None


class CancelMany(BodyModel):
    thread_id: str | None = None
    run_ids: list[str] | None = None
    status: BulkCancelStatus | None = None


class AssistantVersionsSearch(BodyModel):
    metadata: Json | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class AssistantVersionChange(BodyModel):
    version: StrictInt = Field(ge=1, description="The version to make the assistant's latest")


# -- crons (`_crons`): the reference's CronCreate, ThreadCronCreate, CronPatch, CronSearch


CronSortBy = Literal[
    "cron_id", "assistant_id", "thread_id", "next_run_date", "end_time", "created_at", "updated_at"
]
CronSelectField = Literal[
    "cron_id",
    "assistant_id",
    "thread_id",
    "on_run_completed",
    "end_time",
    "schedule",
    "timezone",
    "created_at",
    "updated_at",
    "user_id",
    "payload",
    "next_run_date",
    "metadata",
    "enabled",
]
_DATE_TIME = WithJsonSchema(
    {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
)


def _date_time(value: str | None) -> str | None:
    if value is not None:
        try:
            datetime.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                "must be an ISO 8601 date-time, e.g. '2030-01-01T00:00:00+00:00'"
            ) from None
    return value


class _CronRun(BodyModel):
    """What a cron's runs are made of (every field but the schedule's may change)."""

    checkpointed = ("input", "metadata", "config")

    timezone: str | None = None
    end_time: Annotated[str | None, _DATE_TIME] = None
    input: Json | list[Any] | str | int | float | bool | None = None
    metadata: Json | None = None
    config: Json | None = None
    context: Json | None = None
    webhook: Annotated[
        str | None, WithJsonSchema({"type": "null", "description": "webhooks are not supported"})
    ] = None
    interrupt_before: Breakpoints = None
    interrupt_after: Breakpoints = None
    on_run_completed: OnCompletion | None = None
    multitask_strategy: NbrunsStrategy | None = None
    enabled: bool | None = None
    stream_mode: Annotated[
        StreamMode | list[StreamMode] | None,
        WithJsonSchema(
            {"anyOf": [MODE_SCHEMA, {"type": "array", "items": MODE_SCHEMA}, {"type": "null"}]}
        ),
    ] = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    durability: Durability | None = None
    checkpoint_during: bool | None = None

    _end_time = field_validator("end_time")(_date_time)

    @field_validator("stream_mode")
    @classmethod
    def _supported_modes(cls, value: str | list[str] | None) -> list[str] | str | None:
        return None if value is None else RunCreate._supported_modes(value)

    @field_validator("webhook")
    @classmethod
    def _no_webhooks(cls, value: str | None) -> None:
        return RunCreate._no_webhooks(value)


class CronCreate(_CronRun):
    assistant_id: str
    schedule: str


class CronPatch(_CronRun):
    schedule: str | None = None


class CronSearch(BodyModel):
    assistant_id: str | None = None
    thread_id: str | None = None
    enabled: bool | None = None
    metadata: Json | None = None
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)
    sort_by: CronSortBy | None = None
    sort_order: SortOrder | None = None
    select: list[CronSelectField] | None = None


class CronCount(BodyModel):
    assistant_id: str | None = None
    thread_id: str | None = None
    metadata: Json | None = None


class ThreadPrune(BodyModel):
    """POST /threads/prune. Ids are checked one by one, like the reference."""

    thread_ids: Annotated[
        list[str],
        WithJsonSchema({"type": "array", "items": {"type": "string", "format": "uuid"}}),
    ]
    strategy: Literal["delete", "keep_latest"] = "delete"

    @field_validator("thread_ids")
    @classmethod
    def _uuids(cls, value: list[str]) -> list[str]:
        for thread_id in value:
            if not is_uuid(thread_id):
                raise ValueError(f"Invalid thread ID: must be a UUID (got {thread_id!r:.60})")
        return value


class HoldCreate(BodyModel):
    """POST /nbruns/holds: keep a run of a thread at a step boundary until released."""

    thread_id: Annotated[str, Field(description="The thread whose runs the hold catches")]
    before: str | None = Field(
        None, description="Hold before a step running this node ('*': any node)"
    )
    after: str | None = Field(
        None, description="Hold after a step that ran this node ('*': any node)"
    )
    times: StrictInt | None = Field(
        None, description="Disarm after catching this many times (null: until deleted)"
    )
    new_runs_only: bool = Field(False, description="Catch only runs created after the hold")

    @field_validator("thread_id")
    @classmethod
    def _uuid(cls, value: str) -> str:
        if not is_uuid(value):
            raise ValueError(f"Invalid thread ID: must be a UUID (got {value!r:.60})")
        return value
