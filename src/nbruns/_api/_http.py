"""What every API module shares: JSON responses, query parameters, bounded bodies."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import core_schema
from starlette.requests import Request
from starlette.responses import Response

from .._core._errors import InvalidInput, PayloadTooLarge
from .._core._types import CANCEL_ACTIONS, CancelAction
from .._engine import _serde
from ._shapes import Error

__all__ = [
    "AtLeast",
    "QueryAction",
    "QueryBool",
    "error_response",
    "json_response",
    "parse_bool",
    "parse_int",
    "read_body",
    "read_query",
]

Q = TypeVar("Q", bound=BaseModel)


def json_response(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # join bodies are kept encoded: send those bytes as they are
    content = data if isinstance(data, bytes) else _serde.dumps(data)
    return Response(
        content, status_code=status_code, media_type="application/json", headers=headers
    )


# sent with every search page; `X-Pagination-Next` only when there is a next page
PAGE_HEADERS = {"X-Pagination-Total": "How many match in all (every page)"}
PAGE_NEXT_HEADER = {"X-Pagination-Next": "The next page's offset; sent only when there is one"}


def page_of(found: list[Any], offset: int, limit: int) -> tuple[list[Any], dict[str, str]]:
    """One page of a search's matches, and the headers the JS SDK pages with."""
    headers = {"X-Pagination-Total": str(len(found))}
    if offset + limit < len(found):
        headers["X-Pagination-Next"] = str(offset + limit)
    return found[offset : offset + limit], headers


def error_response(status_code: int, detail: str) -> Response:
    body: Error = {"detail": detail}
    return json_response(body, status_code)


async def read_body(request: Request, max_bytes: int | None) -> bytes:
    """The raw body, refused with a 413 when over `max_bytes` (None: no limit)."""
    if max_bytes is not None:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise PayloadTooLarge(
                f"Request body is {declared} bytes; this server accepts at most {max_bytes} bytes"
            )
    raw = await request.body()
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(
            f"Request body is over {max_bytes} bytes, the most this server accepts"
        )
    return raw


# -- query parameters ------------------------------------------------------------------
#
# A query model is a pydantic model whose fields use the types below. Their
# validators raise `InvalidInput` themselves (pydantic lets it through), so the
# first bad parameter, in field order, answers with a message that names it and
# says what it accepts.


def parse_int(name: str, raw: str, *, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            f"Invalid query parameter {name}: expected an integer, got {raw!r}"
        ) from None
    if minimum is not None and value < minimum:
        raise _too_small(name, minimum, value)
    return value


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidInput(f"Invalid query parameter {name}: expected true or false, got {raw!r}")


def _too_small(name: str, minimum: int, value: int) -> InvalidInput:
    return InvalidInput(f"Invalid query parameter {name}: must be >= {minimum}, got {value}")


@dataclass(frozen=True)
class AtLeast:
    """Makes an `int` field a query parameter of at least `minimum`: parsed with nbruns's
    messages, and documented with its minimum."""

    minimum: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.with_info_before_validator_function(self._parse, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "minimum": self.minimum}

    def _parse(self, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, str):
            return raw  # a default
        return parse_int(info.field_name or "", raw, minimum=self.minimum)


def _bool_param(raw: Any, info: ValidationInfo) -> Any:
    return parse_bool(info.field_name or "", raw) if isinstance(raw, str) else raw


def _action_param(raw: Any) -> Any:
    if raw not in CANCEL_ACTIONS:
        raise InvalidInput(
            f"Invalid cancel action {raw!r}: use 'interrupt' (keep the run's completed "
            "steps) or 'rollback' (delete the run and its checkpoints)"
        )
    return raw


QueryBool = Annotated[bool, BeforeValidator(_bool_param)]
QueryAction = Annotated[CancelAction, BeforeValidator(_action_param)]


def read_query(model: type[Q], request: Request) -> Q:
    """The query string as `model`; a list field takes every value of a repeated name."""
    params = request.query_params
    raw: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in params:
            many = get_origin(field.annotation) is list
            raw[name] = params.getlist(name) if many else params[name]
    try:
        return model.model_validate(raw)
    except ValidationError as exc:  # a plain type's check; the ones above raise their own
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(p) for p in problem["loc"])
        raise InvalidInput(
            f"Invalid query parameter {name}: {problem['msg']} (got {problem['input']!r:.80})"
        ) from None
