"""What the benchmark scripts share: units, percentiles, versions, the report table."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version


def ms(seconds: float) -> float:
    return seconds * 1000.0


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def log(msg: str) -> None:
    print(f"  .. {msg}", file=sys.stderr, flush=True)


def dist_versions(dists: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for dist in dists:
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "?"
    return out


def table(rows: list[list[str]], baseline: str) -> str:
    """Rows of (figure, nbruns, <baseline>, ratio, target, verdict), aligned."""
    header = ["figure", "nbruns", baseline, "ratio", "target", "verdict"]
    all_rows = [header, *rows]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    right = {1, 2, 3}

    def fmt(r: list[str]) -> str:
        cells = (
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        return "  ".join(cells).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep, *(fmt(r) for r in rows)])
