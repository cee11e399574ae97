"""An auth for the langgraph.json tests: only requests with `x-user: alice` get in."""

from __future__ import annotations

from langgraph_sdk import Auth

auth = Auth()


@auth.authenticate
async def authenticate(headers: dict[bytes, bytes]) -> str:
    if headers.get(b"x-user") != b"alice":
        raise Auth.exceptions.HTTPException(status_code=401, detail="who are you?")
    return "alice"
