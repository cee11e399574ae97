"""Server endpoints."""

from __future__ import annotations

from .._prober import Prober

KEY = "server"
TITLE = "Server endpoints"
INTRO = "Plain GETs on the service endpoints."


async def probe(p: Prober) -> None:
    await p.call(KEY, "health", "GET", "/ok")
    await p.call(KEY, "info", "GET", "/info")
    r = await p.call(
        KEY,
        "openapi",
        "GET",
        "/openapi.json",
        show=lambda b: (
            {"openapi": b.get("openapi"), "paths": len(b.get("paths", {}))}
            if isinstance(b, dict)
            else b
        ),
        note="body abbreviated",
    )
    if r.status_code == 200:
        spec = r.json()
        lines = []
        for path, ops in spec.get("paths", {}).items():
            lines.append(f"{path}  [{', '.join(m.upper() for m in ops)}]")
        p.rec.fact(
            KEY,
            "Paths listed by `/openapi.json`:\n\n```text\n" + "\n".join(lines) + "\n```",
        )
    await p.call(
        KEY,
        "docs",
        "GET",
        "/docs",
        show=lambda b: (b[:80] + "…") if isinstance(b, str) else b,
        note="HTML (abbreviated)",
    )
    await p.call(KEY, "unknown path", "GET", "/no/such/path")
    await p.call(KEY, "wrong method", "DELETE", "/ok")
