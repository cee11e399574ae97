"""Every row of `docs/compatibility.md` names the tests that pin it, and they exist.

A row's last column lists `path::test` (a bare `test_x.py` is under tests/conformance,
`::test` reuses the cell's previous file) and bad-input rows by their id in parentheses.
A renamed or deleted test, or a row without one, fails here rather than leaving the
document promising a check that no longer runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "compatibility.md"
BAD_INPUT = ROOT / "tests" / "api" / "test_bad_input.py"


def _rows() -> list[tuple[str, str]]:
    rows = []
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or cells[0] in ("#", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], cells[-1]))
    return rows


def _resolve(path: str) -> Path:
    for candidate in (ROOT / path, ROOT / "tests" / path, ROOT / "tests" / "conformance" / path):
        if candidate.is_file():
            return candidate
    raise AssertionError(f"no test file {path!r}")


def _pins(cell: str) -> list[tuple[Path, str | None]]:
    pins: list[tuple[Path, str | None]] = []
    current: Path | None = None
    for ref in re.findall(r"`([^`]+)`", cell):
        path, _, name = ref.partition("::")
        if path:
            if not path.endswith(".py"):
                continue
            current = _resolve(path)
        if current is None:
            continue
        pins.append((current, name.split("[", 1)[0] or None))
    # bad-input cases: `tests/api/test_bad_input.py` (`case-id`, ...); `*-x` are patterns
    for listed in re.findall(r"test_bad_input\.py` \(([^)]*)\)", cell):
        for case_id in re.findall(r"`([^`]+)`", listed):
            pins.append((BAD_INPUT, f"id~{case_id}" if "*" in case_id else f"id={case_id}"))
    return pins


ROWS = _rows()


def test_the_document_has_rows() -> None:
    assert len(ROWS) >= 40


@pytest.mark.parametrize(("row", "cell"), ROWS, ids=[r for r, _ in ROWS])
def test_each_row_is_pinned_by_tests_that_exist(row: str, cell: str) -> None:
    pins = _pins(cell)
    assert pins, f"row {row} names no test"
    for path, name in pins:
        text = path.read_text()
        if name is None:
            continue
        if name.startswith("id="):
            assert f'id="{name[3:]}"' in text, f"row {row}: no bad-input case {name[3:]!r}"
        elif name.startswith("id~"):
            pattern = re.escape(name[3:]).replace(r"\*", "[a-z0-9-]*")
            assert re.search(rf'id="{pattern}"', text), f"row {row}: no case like {name[3:]!r}"
        else:
            assert re.search(rf"^(async )?def {re.escape(name)}\(", text, re.M), (
                f"row {row}: {path.relative_to(ROOT)} has no {name}"
            )
