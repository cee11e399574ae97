"""CORS for `nbruns serve`: which browser pages may call the API, and what they may read.

Pages on loopback origins (`http://localhost:*`, `http://127.0.0.1:*`, `http://[::1]:*`)
are allowed by default, so a chat UI on the same machine works out of the box; any
other origin only when configured (langgraph.json's `http.cors`, `--cors-origin`).
A request from an origin not allowed gets no CORS headers at all (its preflight a
400 saying why), so the browser keeps the answer from the page.

Starlette's CORSMiddleware is not used: it adds its expose/credentials headers to
answers for any origin, and its failed preflights still carry the allowed methods.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["LOOPBACK_ORIGINS", "CorsMiddleware", "CorsPolicy"]

LOOPBACK_ORIGINS = r"https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?"
# what the JS SDK reads from answers (list pagination, the run a create made)
ALWAYS_EXPOSED = ("x-pagination-total", "x-pagination-next", "content-location")
ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass(frozen=True, slots=True)
class CorsPolicy:
    """langgraph.json's `http.cors` keys, with nbruns's defaults for the ones not given."""

    allow_origins: tuple[str, ...] = ()  # "*": every origin
    allow_origin_regex: str | None = None
    allow_loopback: bool = True
    allow_methods: tuple[str, ...] = ("*",)
    allow_headers: tuple[str, ...] = ("*",)
    allow_credentials: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age: int = 600
    _patterns: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        patterns = [LOOPBACK_ORIGINS] if self.allow_loopback else []
        if self.allow_origin_regex is not None:
            patterns.append(self.allow_origin_regex)
        object.__setattr__(self, "_patterns", tuple(re.compile(p) for p in patterns))

    def allows(self, origin: str) -> bool:
        if "*" in self.allow_origins or origin in self.allow_origins:
            return True
        return any(p.fullmatch(origin) for p in self._patterns)

    def with_origins(self, origins: Collection[str]) -> CorsPolicy:
        """This policy, also allowing `origins` (the command line's `--cors-origin`)."""
        merged = tuple(dict.fromkeys((*self.allow_origins, *origins)))
        return CorsPolicy(
            allow_origins=merged,
            allow_origin_regex=self.allow_origin_regex,
            allow_loopback=self.allow_loopback,
            allow_methods=self.allow_methods,
            allow_headers=self.allow_headers,
            allow_credentials=self.allow_credentials,
            expose_headers=self.expose_headers,
            max_age=self.max_age,
        )

    @property
    def methods(self) -> tuple[str, ...]:
        return ALL_METHODS if "*" in self.allow_methods else self.allow_methods

    @property
    def exposed(self) -> str:
        return ", ".join(dict.fromkeys((*ALWAYS_EXPOSED, *self.expose_headers)))


class CorsMiddleware:
    """Answers preflights for allowed origins and marks their other answers readable."""

    def __init__(self, app: ASGIApp, *, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # most requests (SDK clients, curl) send no Origin: find that out cheaply
        raw = next((v for k, v in scope["headers"] if k == b"origin"), None)
        if raw is None:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = raw.decode("latin-1")
        allowed = self.policy.allows(origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self._preflight(origin, allowed, headers, send)
            return
        if not allowed:
            await self.app(scope, receive, _vary_on_origin(send))
            return

        async def send_readable(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["access-control-allow-origin"] = origin
                out["access-control-expose-headers"] = self.policy.exposed
                if self.policy.allow_credentials:
                    out["access-control-allow-credentials"] = "true"
                out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_readable)

    async def _preflight(self, origin: str, allowed: bool, headers: Headers, send: Send) -> None:
        policy = self.policy
        method = headers["access-control-request-method"].upper()
        wanted = headers.get("access-control-request-headers", "")
        problem = None
        if not allowed:
            problem = (
                f"origin {origin} is not allowed: this server allows loopback pages "
                "(http://localhost:*, http://127.0.0.1:*) and the origins in langgraph.json's "
                "http.cors or --cors-origin"
            )
        elif method not in policy.methods:
            problem = f"method {method} is not allowed; allowed: {', '.join(policy.methods)}"
        elif "*" not in policy.allow_headers:
            allowed_headers = {h.lower() for h in policy.allow_headers} | _SAFELISTED
            extra = [h.strip() for h in wanted.lower().split(",") if h.strip()]
            refused = [h for h in extra if h not in allowed_headers]
            if refused:
                problem = f"headers {', '.join(refused)} are not allowed"
        out: list[tuple[bytes, bytes]] = [(b"vary", b"Origin")]
        if problem is None:
            out += [
                (b"access-control-allow-origin", origin.encode()),
                (b"access-control-allow-methods", ", ".join(policy.methods).encode()),
                (b"access-control-max-age", str(policy.max_age).encode()),
            ]
            if wanted:
                out.append((b"access-control-allow-headers", wanted.encode()))
            if policy.allow_credentials:
                out.append((b"access-control-allow-credentials", b"true"))
            if "access-control-request-private-network" in headers:
                # an allowed public page calling this loopback server (Chrome's
                # Private Network Access), as `langgraph dev` allows
                out.append((b"access-control-allow-private-network", b"true"))
        # a refusal is an error like any other nbruns error: JSON with a `detail`
        body = (
            b""
            if problem is None
            else json.dumps({"detail": f"CORS preflight refused: {problem}"}).encode()
        )
        kind = b"text/plain; charset=utf-8" if problem is None else b"application/json"
        out += [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
        status = 200 if problem is None else 400
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})


_SAFELISTED = {"accept", "accept-language", "content-language", "content-type"}


def _vary_on_origin(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return sending
