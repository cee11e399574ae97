"""What every API module shares: JSON responses, query parameters, bounded bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .._core._errors import InvalidInput, PayloadTooLarge
from .._core._types import CANCEL_ACTIONS
from .._engine import _serde
from .._engine._executor import Executor

__all__ = ["ApiBase", "error_response", "json_response", "query_action", "query_bool", "query_int"]


def json_response(
    data: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    # join bodies are kept encoded: send those bytes as they are
    content = data if isinstance(data, bytes) else _serde.dumps(data)
    return Response(
        content, status_code=status_code, media_type="application/json", headers=headers
    )


def error_response(status_code: int, detail: str) -> Response:
    return json_response({"detail": detail}, status_code)


def query_int(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(
            f"Invalid query parameter {name}: expected an integer, got {raw!r}"
        ) from None
    if value < minimum:
        raise InvalidInput(f"Invalid query parameter {name}: must be >= {minimum}, got {value}")
    return value


def query_bool(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    lowered = raw.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise InvalidInput(f"Invalid query parameter {name}: expected true or false, got {raw!r}")


def query_action(request: Request) -> str:
    action = request.query_params.get("action", "interrupt")
    if action not in CANCEL_ACTIONS:
        raise InvalidInput(
            f"Invalid cancel action {action!r}: use 'interrupt' (keep the run's completed "
            "steps) or 'rollback' (delete the run and its checkpoints)"
        )
    return action


class ApiBase:
    def __init__(self, executor: Executor, *, max_body_bytes: int | None) -> None:
        self.ex = executor
        self.max_body_bytes = max_body_bytes

    async def body(self, request: Request) -> bytes:
        if self.max_body_bytes is not None:
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise PayloadTooLarge(
                    f"Request body is {declared} bytes; this server accepts at most "
                    f"{self.max_body_bytes} bytes"
                )
        raw = await request.body()
        if self.max_body_bytes is not None and len(raw) > self.max_body_bytes:
            raise PayloadTooLarge(
                f"Request body is over {self.max_body_bytes} bytes, the most this server accepts"
            )
        return raw
