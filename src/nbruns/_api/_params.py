"""Query strings, as pydantic models: what each endpoint reads from its URL.

An endpoint names its model in its declaration (`_declare`); the handler gets
it from `call.query`, and the OpenAPI document its parameters. The value types
(`AtLeast`, `QueryBool`, `QueryAction`) parse with nbruns's own messages.

Fields are checked in order and the first bad one answers: keep the order the
parameters were always checked in.
"""

from __future__ import annotations

from typing import Annotated, Any, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from .._core._types import RunStatus
from ._http import AtLeast, QueryAction, QueryBool, parse_bool, parse_int
from ._requests import MODE_SCHEMA

__all__ = [
    "CancelManyParams",
    "CancelParams",
    "GraphParams",
    "HistoryParams",
    "HoldWaitParams",
    "HoldsParams",
    "JoinStreamParams",
    "RunListParams",
    "RunsParams",
    "StateParams",
    "SubgraphParams",
    "TimelineParams",
]

_RUN_STATUS = {"type": "string", "enum": list(get_args(RunStatus))}


class _Params(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RunListParams(_Params):
    limit: Annotated[int, AtLeast(1)] = Field(10, description="Page size")
    offset: Annotated[int, AtLeast(0)] = Field(0, description="Rows to skip")
    # not checked: an unknown status matches no run
    status: Annotated[str | None, WithJsonSchema(_RUN_STATUS)] = Field(
        None, description="Only runs with this status"
    )


class CancelManyParams(_Params):
    action: QueryAction = Field(
        "interrupt",
        description="interrupt: keep the run's completed steps; "
        "rollback: delete the run and its checkpoints",
    )


class CancelParams(CancelManyParams):
    wait: QueryBool = Field(False, description="Answer once the run has stopped")


class JoinStreamParams(_Params):
    # not checked here: the reader takes what it knows (the SDK sends "" for none)
    stream_mode: Annotated[list[str], WithJsonSchema({"type": "array", "items": MODE_SCHEMA})] = (
        Field(default_factory=list, description="Only these stream modes (repeat the parameter)")
    )
    cancel_on_disconnect: QueryBool = Field(
        False, description="Cancel the run if this stream is closed"
    )


class StateParams(_Params):
    subgraphs: QueryBool = Field(False, description="Include subgraph states")


class HistoryParams(_Params):
    # the maximum is HistoryQuery's, checked there with its message
    limit: Annotated[int, AtLeast(1)] = Field(
        10, description="How many states", json_schema_extra={"maximum": 10000}
    )
    before: str | None = Field(None, description="Only checkpoints before this checkpoint id")


def _xray(raw: Any) -> Any:
    # "0" and "1" read as false and true, like the words; any other number is a depth
    if not isinstance(raw, str):
        return raw
    if raw.lower() in ("true", "false", "0", "1"):
        return parse_bool("xray", raw)
    return parse_int("xray", raw, minimum=0)


class GraphParams(_Params):
    xray: Annotated[
        bool | int,
        BeforeValidator(_xray),
        WithJsonSchema({"anyOf": [{"type": "boolean"}, {"type": "integer", "minimum": 0}]}),
    ] = Field(False, description="Include subgraphs (true, or how many levels deep)")


class TimelineParams(_Params):
    thread_id: str | None = Field(None, description="Only this thread's events")


class RunsParams(_Params):
    thread_id: str | None = Field(None, description="Only this thread's runs")


class SubgraphParams(_Params):
    recurse: QueryBool = Field(False, description="Include the subgraphs of subgraphs")


class HoldsParams(_Params):
    thread_id: str | None = Field(None, description="Only this thread's holds")


class HoldWaitParams(_Params):
    timeout: Annotated[float, Field(ge=0, le=300)] = Field(
        30.0, description="Answer after this many seconds if no run is held by then"
    )
